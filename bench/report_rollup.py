# ruff: noqa: E501
"""Benchmark: the "截至…" rollup at national size, on SQLite and on PostgreSQL.

    .venv/bin/python bench/report_rollup.py [--entries 1000000,10000000] [--db sqlite,pg]
        [--exact 1000] [--exact-entries 100000] [--writes 300] [--pg-url URL]

For each database and each ledger size, in a fresh process against a fresh bench database (a file under
/tmp for SQLite; ``muster_bench_rollup`` on PostgreSQL, created and dropped here — never the dev
database):

1. generates the organization and the ledger with bulk inserts (PG: COPY; SQLite: executemany):
   5,000 units in a 5-level tree, 200,000 people, 400,000 batches over one year and N ledger rows
   (88 % batch service, 10 % community service, 1 % pending; 1 % of the approved entries corrected
   later: a −1 row for the old interval and a +1 row for the new one), then builds the rollup's facts
   and buckets with ``muster.reports.facts.rebuild()`` (timed);
2. times the root rollup (``muster.reports.rollup.rollup``) at 40 random cutoffs (to the minute, so
   mostly in the middle of someone's shift): median and 95th percentile;
3. times the baselines on the same data and cutoffs: the straight GROUP BY over the raw ledger
   (``rollup_straight``), and DuckDB (in-process, the same rows loaded into its own tables) running
   the same query; checks that all three agree on the root total;
4. on the exactness database (``--exact-entries`` rows, ``--exact-batches`` batches): fast path == straight query on every figure of
   every row for ``--exact`` random (unit, cutoff) pairs (cutoffs in the middle of shifts, on shift
   boundaries and after the late corrections);
5. records ``--writes`` entries through ``muster.mobilize.services.entry_record`` with and without the
   rollup maintenance, and reports entries/s.

Targets: root rollup ≤ 100 ms median on PostgreSQL, ≤ 300 ms on SQLite, not growing with the ledger
(compare the sizes); ≥ 20× faster than the straight query; faster than DuckDB.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

DEFAULT_PG = "postgresql://muster:muster@127.0.0.1:5432/muster_bench_rollup"
UNITS = 5000
PEOPLE = 200_000
BATCHES = 400_000
WRITERS = 2000  # people with no entries, for the recording benchmark
PERIOD_START = int(datetime(2021, 1, 1, tzinfo=UTC).timestamp()) // 60 - 8 * 60  # local midnight
PERIOD_DAYS = 365
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def path_step(n: int) -> str:
    out = ""
    for _ in range(4):
        n, r = divmod(n, 36)
        out = ALPHABET[r] + out
    return out


# ---------------------------------------------------------------- data


def make_units() -> list[tuple[int, str, int, int, str]]:
    """(id, path, depth, numchild, code): 1 root, 35 provinces, 350 cities, 1,400 counties, the rest
    offices (5,000 in all)."""
    rng = random.Random(1)
    units: list[list[Any]] = [[1, path_step(1), 1, 0, "CN"]]
    levels = [[0]]
    fan = [35, 10, 4]
    for depth, f in enumerate(fan, start=2):
        level = []
        for parent in levels[-1]:
            for i in range(1, f + 1):
                pid = len(units)
                units.append([pid + 1, units[parent][1] + path_step(i), depth, 0, f"U{pid + 1}"])
                units[parent][3] += 1
                level.append(pid)
        levels.append(level)
    counties = levels[-1]
    while len(units) < UNITS:
        parent = rng.choice(counties)
        units[parent][3] += 1
        pid = len(units)
        units.append([pid + 1, units[parent][1] + path_step(units[parent][3]), 5, 0, f"U{pid + 1}"])
    return [tuple(u) for u in units]  # type: ignore[misc]


def generate(n_entries: int, seed: int, batches: int = BATCHES) -> dict[str, Any]:
    import numpy as np

    BATCHES = batches

    rng = np.random.default_rng(seed)
    units = make_units()
    n_units = len(units)
    depth = np.array([u[2] for u in units])
    deep = np.nonzero(depth >= 3)[0] + 1  # unit ids
    person_unit = rng.choice(deep, size=PEOPLE + WRITERS)
    dep_unit = rng.choice(deep, size=BATCHES)
    dep_start = PERIOD_START + rng.integers(0, PERIOD_DAYS * 1440 - 3 * 1440, size=BATCHES) // 30 * 30
    dep_days = rng.integers(1, 8, size=BATCHES)
    dep_end = dep_start + dep_days * 1440
    dep_status = np.where(rng.random(BATCHES) < 0.01, "cancelled", "active")

    n = n_entries
    kind_r = rng.random(n)
    community = kind_r < 0.10
    pending = (kind_r >= 0.10) & (kind_r < 0.11)
    dep = rng.integers(0, BATCHES, size=n)
    length = rng.integers(2, 25, size=n) * 30  # 1 to 12 hours
    length = np.where(community, rng.integers(2, 13, size=n) * 30, length)
    offset = rng.integers(0, 7 * 48, size=n) * 30
    start = np.where(
        community,
        PERIOD_START + rng.integers(0, PERIOD_DAYS * 48, size=n) * 30,
        dep_start[dep] + np.minimum(offset, dep_days[dep] * 1440 - length),
    )
    person = rng.integers(0, PEOPLE, size=n) + 1
    dep_id = np.where(community, 0, dep + 1)
    sign = np.where(pending, 0, 1)
    # corrections of 1 % of the approved batch entries: −1 of the old interval, +1 of the new one
    corr = np.nonzero((~community) & (~pending) & (rng.random(n) < 0.01))[0]
    shift = rng.choice(np.array([-180, -60, -30, 30, 60, 120]), size=len(corr))
    return {
        "units": units,
        "n_units": n_units,
        "person_unit": person_unit,
        "dep_unit": dep_unit,
        "dep_start": dep_start,
        "dep_end": dep_end,
        "dep_status": dep_status,
        "start": start,
        "length": length,
        "person": person,
        "dep_id": dep_id,
        "community": community,
        "sign": sign,
        "corr": corr,
        "corr_shift": shift,
    }


def ledger_rows(g: dict[str, Any]) -> dict[str, Any]:
    """Columns of every ledger row (the entries, then the corrections' −1 and +1 rows)."""
    import numpy as np

    n = len(g["start"])
    corr, shift = g["corr"], g["corr_shift"]
    k = len(corr)
    ids = np.arange(1, n + 2 * k + 1)
    start = np.concatenate([g["start"], g["start"][corr], g["start"][corr] + shift])
    length = np.concatenate([g["length"], g["length"][corr], g["length"][corr]])
    person = np.concatenate([g["person"], g["person"][corr], g["person"][corr]])
    dep = np.concatenate([g["dep_id"], g["dep_id"][corr], g["dep_id"][corr]])
    community = np.concatenate([g["community"], np.zeros(2 * k, bool)])
    sign = np.concatenate([g["sign"], -np.ones(k, int), np.ones(k, int)])
    op = np.concatenate(
        [np.where(g["sign"] == 0, "record", "record"), np.full(k, "reverse"), np.full(k, "correct_approve")]
    )
    refers = np.concatenate([np.zeros(n, int), corr + 1, corr + 1])
    chain_idx = np.concatenate([np.arange(n), corr, corr])
    return {
        "id": ids,
        "start": start,
        "end": start + length,
        "minutes": length,
        "person": person,
        "dep": dep,
        "community": community,
        "sign": sign,
        "op": op,
        "refers": refers,
        "chain_idx": chain_idx,
    }


def _ts(minutes: Any, vendor: str) -> Any:
    import numpy as np

    text = (np.asarray(minutes, dtype="int64") * 60).astype("datetime64[s]").astype(str)
    text = np.char.replace(text, "T", " ")
    return np.char.add(text, "+00") if vendor == "postgresql" else text


def load(g: dict[str, Any], rows: dict[str, Any]) -> None:
    """Bulk-insert units, people, batches and the ledger into the current database."""
    from django.db import connection, transaction

    vendor = connection.vendor
    now = "2022-01-02 00:00:00" + ("+00" if vendor == "postgresql" else "")
    units = g["units"]
    person_unit = g["person_unit"]
    n_people = len(person_unit)
    chains = [uuid.UUID(int=i + 1) for i in range(len(g["start"]))]
    chain_text = [c.hex if vendor != "postgresql" else str(c) for c in chains]

    def unit_rows() -> Any:
        for uid, path, depth, numchild, code in units:
            yield (uid, path, depth, numchild, code, f"单位{uid}", "", "tax_office", True, now, now)

    pu = person_unit.tolist()

    def people_rows() -> Any:
        for i in range(n_people):
            yield (
                i + 1,
                f"P{i + 1:07d}",
                f"人员{i + 1}",
                "F",
                pu[i],
                "member",
                "active",
                "",
                "",
                now,
                now,
            )

    ds, de = _ts(g["dep_start"], vendor).tolist(), _ts(g["dep_end"], vendor).tolist()
    du, dst = g["dep_unit"].tolist(), g["dep_status"].tolist()

    def dep_rows() -> Any:
        for i in range(len(ds)):
            yield (
                i + 1,
                du[i],
                i + 1,
                f"D{i + 1}",
                "任务",
                "",
                ds[i],
                de[i],
                dst[i],
                "",
                now,
            )

    es, ee = _ts(rows["start"], vendor).tolist(), _ts(rows["end"], vendor).tolist()
    kind = ["community" if c else "dispatch" for c in rows["community"].tolist()]

    def entry_rows() -> Any:
        ids, person, dep, minutes, sign = (
            rows["id"].tolist(),
            rows["person"].tolist(),
            rows["dep"].tolist(),
            rows["minutes"].tolist(),
            rows["sign"].tolist(),
        )
        op, refers, chain_idx = rows["op"].tolist(), rows["refers"].tolist(), rows["chain_idx"].tolist()
        for i in range(len(ids)):
            yield (
                ids[i],
                chain_text[chain_idx[i]],
                person[i],
                dep[i] or None,
                kind[i],
                "import",
                es[i],
                ee[i],
                minutes[i],
                sign[i],
                op[i],
                refers[i] or None,
                "bench",
                "",
                "",
                "",
                now,
            )

    tables = [
        (
            "orgs_unit",
            "id, path, depth, numchild, code, name, short_name, kind, is_active, created_at, updated_at",
            unit_rows,
        ),
        (
            "orgs_person",
            "id, code, name, gender, unit_id, political_status, employment_status, phone_enc, id_number_enc, "
            "created_at, updated_at",
            people_rows,
        ),
        (
            "mobilize_deployment",
            'id, unit_id, seq, code, title, site, start, "end", status, note, created_at',
            dep_rows,
        ),
        (
            "mobilize_serviceentry",
            'id, chain, person_id, deployment_id, kind, source, start, "end", minutes, sign, op, refers_to_id, '
            "actor_name, reason, note, evidence, created_at",
            entry_rows,
        ),
    ]
    with transaction.atomic():
        with connection.cursor() as cursor:
            for table, cols, make in tables:
                t0 = time.perf_counter()
                if vendor == "postgresql":
                    with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                        for r in make():
                            copy.write_row(r)
                else:
                    marks = ", ".join(["%s"] * len(cols.split(",")))
                    batch: list[Any] = []
                    for r in make():
                        batch.append(r)
                        if len(batch) >= 20000:
                            cursor.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", batch)
                            batch = []
                    if batch:
                        cursor.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", batch)
                print(f"  loaded {table} in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
            if vendor == "postgresql":
                for table in ("orgs_unit", "orgs_person", "mobilize_deployment", "mobilize_serviceentry"):
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
                    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


# ---------------------------------------------------------------- DuckDB baseline


DUCK_SQL = """
WITH pairs AS (
  SELECT substr(u.path, 1, 8) AS rk, e.person AS person,
         SUM(CASE WHEN e.start_m < $t THEN e.sign ELSE 0 END) AS live,
         SUM(e.sign * (LEAST(e.end_m, $t) - e.start_m) * CAST(e.start_m < $t AS INTEGER)) AS mins
  FROM entries e JOIN deployments d ON d.id = e.dep JOIN units u ON u.id = d.unit
  WHERE e.sign <> 0 AND e.dep > 0
  GROUP BY 1, e.dep, e.person)
SELECT SUM(CASE WHEN live > 0 THEN 1 ELSE 0 END) AS pt, COUNT(DISTINCT CASE WHEN live > 0 THEN person END) AS persons,
       SUM(mins) AS mins FROM pairs
"""
DUCK_COMMUNITY = """
WITH per AS (
  SELECT e.person, SUM(CASE WHEN e.start_m < $t THEN e.sign ELSE 0 END) AS live,
         SUM(e.sign * (LEAST(e.end_m, $t) - e.start_m) * CAST(e.start_m < $t AS INTEGER)) AS mins
  FROM entries e WHERE e.sign <> 0 AND e.community GROUP BY e.person)
SELECT SUM(CASE WHEN live > 0 THEN 1 ELSE 0 END), SUM(mins) FROM per
"""
DUCK_BATCHES = "SELECT COUNT(*) FROM deployments WHERE status = 'active' AND start_m < $t"


def duck_setup(g: dict[str, Any], rows: dict[str, Any]) -> Any:
    import duckdb
    import pandas as pd

    con = duckdb.connect()
    units = pd.DataFrame({"id": [u[0] for u in g["units"]], "path": [u[1] for u in g["units"]]})
    deps = pd.DataFrame(
        {
            "id": range(1, len(g["dep_unit"]) + 1),
            "unit": g["dep_unit"],
            "start_m": g["dep_start"],
            "status": g["dep_status"],
        }
    )
    entries = pd.DataFrame(
        {
            "person": rows["person"],
            "dep": rows["dep"],
            "community": rows["community"],
            "sign": rows["sign"],
            "start_m": rows["start"],
            "end_m": rows["end"],
        }
    )
    for name, df in (("units", units), ("deployments", deps), ("entries", entries)):
        con.register(f"{name}_df", df)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}_df")
        con.unregister(f"{name}_df")
    return con


def duck_total(con: Any, t: int) -> dict[str, int]:
    pt, persons, mins = con.execute(DUCK_SQL, {"t": t}).fetchone()
    cp, cm = con.execute(DUCK_COMMUNITY, {"t": t}).fetchone()
    (b,) = con.execute(DUCK_BATCHES, {"t": t}).fetchone()
    return {
        "batches": int(b),
        "person_times": int(pt or 0),
        "persons": int(persons or 0),
        "minutes": int(mins or 0),
        "community_persons": int(cp or 0),
        "community_minutes": int(cm or 0),
    }


# ---------------------------------------------------------------- one run (child process)


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def child(args: argparse.Namespace) -> dict[str, Any]:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.db import connection

    from muster.orgs.models import Unit
    from muster.reports import facts
    from muster.reports.rollup import rollup, rollup_straight

    out: dict[str, Any] = {"db": connection.vendor, "entries": args.entries}
    t0 = time.perf_counter()
    g = generate(args.entries, seed=args.seed, batches=args.batches)
    rows = ledger_rows(g)
    out["ledger_rows"] = len(rows["id"])
    out["generate_s"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    load(g, rows)
    out["load_s"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    counts = facts.rebuild(stdout=sys.stderr)
    out["rebuild_s"] = round(time.perf_counter() - t0, 1)
    out["facts"] = counts
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    root = Unit.objects.get(depth=1)
    rng = random.Random(args.seed)
    tz_offset = 8 * 60
    cutoffs_m = [PERIOD_START + rng.randrange(0, PERIOD_DAYS * 1440) for _ in range(40)]
    cutoffs = [datetime.fromtimestamp(m * 60, UTC) for m in cutoffs_m]
    for c in cutoffs[:3]:
        rollup(root, c, pending=False)
    fast = []
    for c in cutoffs:  # the contract's figures (what the API and the CLI answer)
        t = time.perf_counter()
        rollup(root, c, pending=False)
        fast.append(time.perf_counter() - t)
    with_pending = []
    for c in cutoffs[:10]:  # the page's figures: pending entries shown apart
        t = time.perf_counter()
        rollup(root, c)
        with_pending.append(time.perf_counter() - t)
    out["fast_with_pending_median_ms"] = round(_median_ms(with_pending), 2)
    out["fast_median_ms"] = round(_median_ms(fast), 2)
    out["fast_p95_ms"] = round(sorted(fast)[int(len(fast) * 0.95) - 1] * 1000, 2)
    n_slow = args.straight_samples
    slow, agree = [], True
    for c in cutoffs[:n_slow]:
        t = time.perf_counter()
        s = rollup_straight(root, c, pending=False)
        slow.append(time.perf_counter() - t)
        f = rollup(root, c, pending=False)
        agree = agree and s.rows == f.rows and s.total == f.total
    out["straight_median_ms"] = round(_median_ms(slow), 1)
    out["fast_equals_straight_root"] = agree
    out["speedup_vs_straight"] = round(out["straight_median_ms"] / out["fast_median_ms"], 1)
    try:
        t0 = time.perf_counter()
        con = duck_setup(g, rows)
        out["duckdb_load_s"] = round(time.perf_counter() - t0, 1)
        duck_total(con, cutoffs_m[0])
        duck, dagree = [], True
        for c, m in zip(cutoffs[:n_slow], cutoffs_m[:n_slow], strict=True):
            t = time.perf_counter()
            d = duck_total(con, m)
            duck.append(time.perf_counter() - t)
            f = rollup(root, c, pending=False).total
            dagree = dagree and all(getattr(f, k) == v for k, v in d.items())
        out["duckdb_median_ms"] = round(_median_ms(duck), 1)
        out["fast_equals_duckdb_total"] = dagree
        out["speedup_vs_duckdb"] = round(out["duckdb_median_ms"] / out["fast_median_ms"], 1)
    except ImportError:
        out["duckdb"] = "not installed (pip install duckdb)"
    del tz_offset
    if args.exact:
        out.update(exactness(args.exact, rows, rng))
    if args.writes:
        out.update(writes(args.writes))
    return out


def exactness(n_pairs: int, rows: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    from muster.orgs.models import Unit
    from muster.reports.rollup import rollup, rollup_straight

    units = list(Unit.objects.all())
    starts, ends = rows["start"], rows["end"]
    corrected = [i for i, op in enumerate(rows["op"].tolist()) if op == "correct_approve"]
    bad = 0
    t0 = time.perf_counter()
    for _ in range(n_pairs):
        pick = rng.random()
        if pick < 0.4:  # the middle of a shift
            i = rng.randrange(len(starts))
            m = int(starts[i] + (ends[i] - starts[i]) // 2)
        elif pick < 0.6 and corrected:  # around a corrected interval
            i = rng.choice(corrected)
            m = int(starts[i] + rng.choice([-90, -1, 0, 1, 45, 90]))
        elif pick < 0.7:  # a shift boundary
            i = rng.randrange(len(starts))
            m = int(rng.choice([starts[i], ends[i]]))
        else:
            m = PERIOD_START + rng.randrange(0, PERIOD_DAYS * 1440)
        cut = datetime.fromtimestamp(m * 60, UTC)
        unit = rng.choice(units)
        f, s = rollup(unit, cut), rollup_straight(unit, cut)
        if f.rows != s.rows or f.total != s.total:
            bad += 1
            print(f"MISMATCH {unit.path} {cut}: {f.total} != {s.total}", file=sys.stderr)
    return {"exact_pairs": n_pairs, "exact_mismatches": bad, "exact_s": round(time.perf_counter() - t0, 1)}


def writes(n: int) -> dict[str, Any]:
    """Entries/s through ``entry_record``, with and without the rollup maintenance."""
    from datetime import timedelta

    from django.conf import settings
    from django.db import transaction

    from muster.mobilize import services as svc
    from muster.mobilize.models import EntryKind
    from muster.orgs.access import SYSTEM
    from muster.orgs.models import Person

    writers = list(Person.objects.filter(pk__gt=PEOPLE).select_related("unit")[: 2 * n])
    base = datetime(2022, 2, 1, 8, tzinfo=UTC)
    out: dict[str, Any] = {}
    for label, enabled, people in (("with", True, writers[:n]), ("without", False, writers[n:])):
        settings.MUSTER_ROLLUP_MAINTENANCE = enabled
        unit = people[0].unit
        with transaction.atomic():
            d = svc.deployment_dispatch(
                actor=SYSTEM,
                unit=unit,
                title="写入基准",
                start=base,
                end=base + timedelta(days=2),
                people=people,
            ).deployment
        t0 = time.perf_counter()
        for i, p in enumerate(people):
            start = base + timedelta(minutes=(i % 48) * 30)
            svc.entry_record(
                actor=SYSTEM,
                person=p,
                kind=EntryKind.DISPATCH,
                deployment=d,
                start=start,
                end=start + timedelta(hours=8),
            )
        out[f"entries_per_s_{label}_maintenance"] = round(len(people) / (time.perf_counter() - t0), 1)
    settings.MUSTER_ROLLUP_MAINTENANCE = True
    return out


# ---------------------------------------------------------------- the driver


def pg_admin(url: str, sql: str) -> None:
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql)


def run(db: str, entries: int, args: argparse.Namespace, *, exact: int, writes_n: int) -> dict[str, Any]:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="muster.settings", MUSTER_DB_CONN_MAX_AGE="0")
    if db == "sqlite":
        f = Path(f"/tmp/muster_bench_rollup_{entries}.sqlite3")  # noqa: S108 (a scratch benchmark database)
        for p in f.parent.glob(f.name + "*"):
            p.unlink()
        env["DATABASE_URL"] = f"sqlite:///{f}"
    else:
        name = urlsplit(args.pg_url).path.lstrip("/")
        pg_admin(args.pg_url, f"DROP DATABASE IF EXISTS {name}")
        pg_admin(args.pg_url, f"CREATE DATABASE {name}")
        env["DATABASE_URL"] = args.pg_url
    cmd = [
        sys.executable,
        __file__,
        "--child",
        "--entries",
        str(entries),
        "--exact",
        str(exact),
        "--writes",
        str(writes_n),
        "--straight-samples",
        str(args.straight_samples),
        "--seed",
        str(args.seed),
        "--batches",
        str(args.exact_batches if exact else BATCHES),
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    sys.stderr.write(proc.stderr[-3000:])
    try:
        result = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        result = {"db": db, "entries": entries, "error": proc.stdout[-2000:] + proc.stderr[-2000:]}
    result["wall_s"] = round(time.perf_counter() - t0, 1)
    if db == "sqlite":
        for p in Path("/tmp").glob(  # noqa: S108
            f"muster_bench_rollup_{entries}.sqlite3*"
        ):
            p.unlink()
    else:
        pg_admin(args.pg_url, f"DROP DATABASE IF EXISTS {urlsplit(args.pg_url).path.lstrip('/')}")
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--entries", default="1000000,10000000")
    ap.add_argument("--db", default="sqlite,pg")
    ap.add_argument("--exact", type=int, default=1000)
    ap.add_argument("--exact-entries", type=int, default=100_000)
    ap.add_argument("--writes", type=int, default=300)
    ap.add_argument("--straight-samples", type=int, default=3)
    ap.add_argument("--seed", type=int, default=4)
    ap.add_argument("--batches", type=int, default=BATCHES, help=argparse.SUPPRESS)
    ap.add_argument("--exact-batches", type=int, default=20_000, help="batches in the exactness database")
    ap.add_argument("--pg-url", default=os.environ.get("DATABASE_URL_PG", DEFAULT_PG))
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(_child_args(args))))
        return
    results = []
    for db in args.db.split(","):
        if args.exact:
            r = run(db, args.exact_entries, args, exact=args.exact, writes_n=args.writes)
            print(json.dumps(r), flush=True)
            results.append(r)
        for n in [int(x) for x in args.entries.split(",") if x]:
            r = run(db, n, args, exact=0, writes_n=0)
            print(json.dumps(r), flush=True)
            results.append(r)
    print("\nsummary")
    for r in results:
        print(
            f"{r.get('db'):>10} {r.get('entries'):>10,} rows: fast {r.get('fast_median_ms')} ms "
            f"(p95 {r.get('fast_p95_ms')}), straight {r.get('straight_median_ms')} ms "
            f"(×{r.get('speedup_vs_straight')}), duckdb {r.get('duckdb_median_ms')} ms "
            f"(×{r.get('speedup_vs_duckdb')}), exact {r.get('exact_mismatches', '-')} / {r.get('exact_pairs', '-')}"
        )


def _child_args(args: argparse.Namespace) -> argparse.Namespace:
    args.entries = int(args.entries)
    return args


if __name__ == "__main__":
    main()
