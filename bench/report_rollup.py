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
   later: a −1 row for the old interval and a +1 row for the new one; a person's batch service is
   85 % in batches of their own city and 15 % elsewhere in their province), then builds the rollup's
   facts and buckets (timed) — ``--facts``: ``rebuild`` runs ``muster.reports.facts.rebuild()`` (the
   product's row-by-row rebuild, ~8 min per million entries on this machine), ``bulk`` computes the
   same tables with pandas and bulk-loads them, ``check`` does both and compares every row of every
   table (``bulk_equals_rebuild``); the default checks on the exactness database and uses ``bulk`` for
   the size runs (so the 10M run loads in minutes);
2. times the root rollup (``muster.reports.rollup.rollup``) at 40 random cutoffs (to the minute, so
   mostly in the middle of someone's shift): median and 95th percentile of a first pass (each
   cutoff's buckets and window read for the first time after the load: the database's cache is cold
   for them) and of a second pass over the same cutoffs (``fast_median_ms``, the steady state);
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
import contextlib
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


def ancestor_at(units: list[tuple[int, str, int, int, str]], depth: int) -> Any:
    """Array indexed by unit id: the id of the unit's ancestor at ``depth`` (itself if that deep; 0 if
    the unit is shallower)."""
    import numpy as np

    by_path = {u[1]: u[0] for u in units}
    out = np.zeros(len(units) + 1, dtype=np.int64)
    for uid, path, d, _n, _c in units:
        if d >= depth:
            out[uid] = by_path[path[: 4 * depth]]
    return out


def local_batches(rng: Any, units: list[Any], entry_unit: Any, dep_unit: Any) -> Any:
    """A batch index for each entry: 85 % among the batches of the person's city (depth 3), the rest
    among those of the person's province — people serve near home, not across the country (with
    uniformly random batches a person of a national system would count under ~1,000 units)."""
    import numpy as np

    out = np.empty(len(entry_unit), dtype=np.int64)
    local = rng.random(len(entry_unit)) < 0.85
    for depth, chosen in ((3, local), (2, ~local)):
        anc = ancestor_at(units, depth)
        dep_group = anc[dep_unit]
        order = np.argsort(dep_group, kind="stable")
        sorted_groups = dep_group[order]
        group = anc[entry_unit[chosen]]
        lo = np.searchsorted(sorted_groups, group, side="left")
        hi = np.searchsorted(sorted_groups, group, side="right")
        assert (hi > lo).all(), "a city or province without batches"
        pick = lo + (rng.random(len(group)) * (hi - lo)).astype(np.int64)
        out[chosen] = order[pick]
    return out


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
    person = rng.integers(0, PEOPLE, size=n) + 1
    dep = local_batches(rng, units, person_unit[person - 1], dep_unit)
    length = rng.integers(2, 25, size=n) * 30  # 1 to 12 hours
    length = np.where(community, rng.integers(2, 13, size=n) * 30, length)
    offset = rng.integers(0, 7 * 48, size=n) * 30
    start = np.where(
        community,
        PERIOD_START + rng.integers(0, PERIOD_DAYS * 48, size=n) * 30,
        dep_start[dep] + np.minimum(offset, dep_days[dep] * 1440 - length),
    )
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
    with transaction.atomic(), bulk_mode([t[0] for t in tables]):
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


# ---------------------------------------------------------------- bulk-load mode


@contextlib.contextmanager
def sqlite_loading() -> Any:
    """SQLite's bulk-load settings for the load only: no rollback journal, no fsync, and a page cache
    that holds the unique indexes being filled (with the default 2 MB cache, the random-order inserts
    into the pairs' and people's unique indexes read and write a page of the multi-GB file per row:
    the 10M load ran for more than 45 minutes). The timed queries run with the product's settings
    (WAL, ``synchronous=NORMAL``, the default cache)."""
    from django.db import connection

    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-3000000", "temp_store=MEMORY"):
            cursor.execute(f"PRAGMA {pragma}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for pragma in (
                "cache_size=-2000",
                "temp_store=DEFAULT",
                "journal_mode=WAL",
                "synchronous=NORMAL",
            ):
                cursor.execute(f"PRAGMA {pragma}")


@contextlib.contextmanager
def bulk_mode(tables: list[str]) -> Any:
    """Load ``tables`` the way bulk loads are done: their secondary indexes, unique and foreign-key
    constraints are dropped first and recreated after (sorted index builds; one validating pass per
    foreign key instead of a trigger per row). The schema afterwards is exactly the migrated one."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            names = ", ".join(f"'{t}'" for t in tables)
            cursor.execute(
                "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), c.contype "
                f"FROM pg_constraint c WHERE c.conrelid::regclass::text IN ({names}) AND c.contype IN ('f', 'u')"
            )
            constraints = cursor.fetchall()
            cursor.execute(
                "SELECT tablename, indexname, indexdef FROM pg_indexes "
                f"WHERE tablename IN ({names}) AND indexname NOT IN "
                "(SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u'))"
            )
            indexes = cursor.fetchall()
            for table, name, _def, _t in constraints:
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            for _table, name, _def in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
        else:
            names = ", ".join(f"'{t}'" for t in tables)
            cursor.execute(
                f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({names})"
            )
            indexes = cursor.fetchall()
            for name, _sql in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
    yield
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for _table, _name, definition in indexes:
                cursor.execute(definition)
            for table, name, definition, _kind in sorted(constraints, key=lambda c: c[3] == "f"):
                cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        else:
            for _name, sql in indexes:
                cursor.execute(sql)
    print(
        f"  indexes and constraints rebuilt in {time.perf_counter() - t0:.1f} s (after the load)",
        file=sys.stderr,
        flush=True,
    )


# ---------------------------------------------------------------- the facts, vectorized


def zone_offset_minutes() -> int:
    """The bench zone's UTC offset, checked constant over the bench period (true for Asia/Shanghai)."""
    from zoneinfo import ZoneInfo

    from django.conf import settings

    tz = ZoneInfo(settings.TIME_ZONE)
    offsets = {
        int(
            datetime.fromtimestamp((PERIOD_START + d * 1440) * 60, UTC)
            .astimezone(tz)
            .utcoffset()
            .total_seconds()
        )  # type: ignore[union-attr]
        // 60
        for d in range(-2, PERIOD_DAYS + 3)
    }
    assert len(offsets) == 1, (
        f"{settings.TIME_ZONE} changes its offset in the bench period: use --facts rebuild"
    )
    return offsets.pop()


def bulk_facts(g: dict[str, Any], rows: dict[str, Any]) -> dict[str, int]:
    """The rollup's facts and buckets computed from the generated columns with pandas and bulk-loaded.

    The same rules as ``muster.reports.facts.rebuild()`` (which walks the ledger row by row in Python,
    about 8 minutes per million entries here); ``--facts check`` proves the two write identical tables.
    Needs a zone with a constant offset over the period (day = (minute + offset) // 1440).
    """
    import numpy as np
    import pandas as pd

    from muster.reports.models import (
        BatchFact,
        Bucket,
        CommunityFact,
        HourBucket,
        PairFact,
        PendingFact,
        PersonFact,
        SpanFact,
    )

    off = zone_offset_minutes()
    epoch_ordinal = 719163  # date(1970, 1, 1).toordinal()

    def day_of(m: Any) -> Any:
        return (m + off) // 1440 + epoch_ordinal

    units = g["units"]
    path_of = np.array([""] + [u[1] for u in units], dtype=object)
    anc = [ancestor_at(units, d) for d in range(1, 6)]
    person_unit = np.concatenate([[0], g["person_unit"]])
    counts: dict[str, int] = {}

    # batches
    active = np.nonzero(g["dep_status"] == "active")[0]
    b = pd.DataFrame(
        {"deployment_id": active + 1, "unit_id": g["dep_unit"][active], "start_m": g["dep_start"][active]}
    )
    b["path"] = path_of[b["unit_id"].to_numpy()]
    counts["batches"] = write_table(BatchFact, b[["deployment_id", "unit_id", "path", "start_m"]])

    # spans: every approved row (sign ±1) of a batch or of community service
    e = pd.DataFrame(
        {
            "row_id": rows["id"],
            "person_id": rows["person"],
            "dep": rows["dep"],
            "community": rows["community"],
            "sign": rows["sign"],
            "start_m": rows["start"],
            "end_m": rows["end"],
            "minutes": rows["minutes"],
        }
    )
    dep_unit = np.concatenate([[0], g["dep_unit"]])
    e["unit_id"] = np.where(
        e["community"], person_unit[e["person_id"].to_numpy()], dep_unit[e["dep"].to_numpy()]
    )
    e["path"] = path_of[e["unit_id"].to_numpy()]
    approved = e[e["sign"] != 0].copy()
    approved["day0"] = day_of(approved["start_m"].to_numpy())
    nxt = (approved["day0"].to_numpy() + 1 - epoch_ordinal) * 1440 - off  # the next local midnight
    end = approved["end_m"].to_numpy()
    approved["min0"] = np.minimum(end, nxt) - approved["start_m"].to_numpy()
    approved["min1"] = np.maximum(end - nxt, 0)
    cols = ["row_id", "unit_id", "path", "community", "sign", "start_m", "end_m", "day0", "min0", "min1"]
    counts["spans"] = write_table(SpanFact, approved[cols])

    # first live interval of each (batch, person) pair and of each person's community service
    net = approved.groupby(["dep", "person_id", "community", "start_m", "end_m"], sort=False)["sign"].sum()
    live = net[net > 0].reset_index()
    firsts = live.groupby(["dep", "person_id", "community"], sort=False)["start_m"].min().reset_index()
    firsts = firsts.rename(columns={"start_m": "first_m"})
    pairs = firsts[~firsts["community"]].copy()
    pairs["deployment_id"] = pairs["dep"]
    pairs["unit_id"] = dep_unit[pairs["dep"].to_numpy()]
    pairs["path"] = path_of[pairs["unit_id"].to_numpy()]
    counts["pairs"] = write_table(
        PairFact, pairs[["deployment_id", "person_id", "unit_id", "path", "first_m"]]
    )
    comm = firsts[firsts["community"]].copy()
    comm["unit_id"] = person_unit[comm["person_id"].to_numpy()]
    comm["path"] = path_of[comm["unit_id"].to_numpy()]
    counts["community_persons"] = write_table(
        CommunityFact, comm[["person_id", "unit_id", "path", "first_m"]]
    )

    # pending rows (sign 0, nothing refers to them in the generated ledger)
    pend = e[e["sign"] == 0]
    counts["pending"] = write_table(
        PendingFact,
        pend[["row_id", "unit_id", "path", "community", "start_m", "minutes"]],
    )

    # distinct people: a person's first pair under every ancestor (own=False) and the unit itself (own=True)
    pu = pairs["unit_id"].to_numpy()
    parts = []
    for level in anc:
        node = level[pu]
        keep = node > 0
        parts.append(
            pd.DataFrame(
                {
                    "person_id": pairs["person_id"].to_numpy()[keep],
                    "node_id": node[keep],
                    "own": False,
                    "first_m": pairs["first_m"].to_numpy()[keep],
                }
            )
        )
    parts.append(
        pd.DataFrame(
            {
                "person_id": pairs["person_id"].to_numpy(),
                "node_id": pu,
                "own": True,
                "first_m": pairs["first_m"].to_numpy(),
            }
        )
    )
    people = (
        pd.concat(parts).groupby(["person_id", "node_id", "own"], sort=False)["first_m"].min().reset_index()
    )
    counts["person_units"] = write_table(PersonFact, people[["person_id", "node_id", "own", "first_m"]])

    # buckets, with dense numpy sums (np.bincount; exact: every sum is an integer far below 2**53).
    # Day buckets: per (node, day) for every unit's subtree ("tree", via its ancestors at each level) and
    # for the unit alone ("own"); hour buckets: the same per (node, local hour) for the units down to
    # the hour depth. Events are (unit, local minute, figure, weight); an approved row gives its minutes
    # hour by hour (the day sums are the hours' sums) and its opening/closing at the minute before.
    from muster.reports.facts import FIGURES, hour_depth

    figs = list(FIGURES)
    limit = hour_depth()
    depth_of_unit = np.array([0] + [u[2] for u in units])
    n_nodes = len(units) + 1
    levels = np.stack(anc)  # [level, unit] -> ancestor at that level (0: none)
    top = np.nonzero((depth_of_unit <= limit) & (np.arange(n_nodes) > 0))[0]  # units with hour buckets
    compact = np.full(n_nodes, -1)
    compact[top] = np.arange(len(top))
    # a unit's own hour bucket is kept only above the hour depth (read when its children have theirs)
    compact_own = np.where(depth_of_unit < limit, compact, -1)
    lo_day = (PERIOD_START + off) // 1440 - 2  # local days (and hours) from here
    n_days = PERIOD_DAYS + 12
    n_hours = 24 * n_days
    day_tree = np.zeros((len(figs), n_nodes, n_days))
    day_own = np.zeros((len(figs), n_nodes, n_days))
    hour_tree = np.zeros((len(figs), len(top), n_hours))
    hour_own = np.zeros((len(figs), len(top), n_hours))

    def add(fig: str, unit: Any, local_m: Any, weight: Any = 1) -> None:
        """Add events at local minutes (hours: local_m // 60) of leaf units to every bucket they reach."""
        f = figs.index(fig)
        unit = np.asarray(unit, dtype=np.int64)
        hour = np.asarray(local_m, dtype=np.int64) // 60 - 24 * lo_day
        day = hour // 24
        w = np.broadcast_to(np.asarray(weight, dtype=np.float64), unit.shape)
        assert hour.min(initial=0) >= 0 and hour.max(initial=0) < n_hours, "event outside the bench calendar"
        day_own[f] += np.bincount(unit * n_days + day, weights=w, minlength=n_nodes * n_days).reshape(
            n_nodes, n_days
        )
        own_c = compact_own[unit]
        keep = own_c >= 0
        hour_own[f] += np.bincount(
            own_c[keep] * n_hours + hour[keep], weights=w[keep], minlength=len(top) * n_hours
        ).reshape(len(top), n_hours)
        for level in range(levels.shape[0]):
            node = levels[level][unit]
            has = node > 0
            day_tree[f] += np.bincount(
                node[has] * n_days + day[has], weights=w[has], minlength=n_nodes * n_days
            ).reshape(n_nodes, n_days)
            if level < limit:
                c = compact[node[has]]
                hour_tree[f] += np.bincount(
                    c * n_hours + hour[has], weights=w[has], minlength=len(top) * n_hours
                ).reshape(len(top), n_hours)

    add("batches", b["unit_id"], b["start_m"] + off)
    add("pairs", pairs["unit_id"], pairs["first_m"] + off)
    add("c_persons", comm["unit_id"], comm["first_m"] + off)
    add("p_rows", pend["unit_id"], pend["start_m"] + off)
    add("p_minutes", pend["unit_id"], pend["start_m"] + off, pend["minutes"])
    for community, prefix in ((False, ""), (True, "c_")):
        part = approved[approved["community"] == community]
        unit = part["unit_id"].to_numpy()
        sign = part["sign"].to_numpy()
        s_l = part["start_m"].to_numpy() + off
        e_l = part["end_m"].to_numpy() + off
        add(f"{prefix}opened", unit, s_l - 1, sign)
        add(f"{prefix}closed", unit, e_l - 1, sign)
        # each row cut at the local hours it overlaps, in slices (the pieces of 10M rows do not fit at once)
        for i in range(0, len(part), 2_000_000):
            sl = slice(i, i + 2_000_000)
            s0, e0 = s_l[sl], e_l[sl]
            h0 = s0 // 60
            n = (np.maximum(e0 - 1, s0) // 60 - h0 + 1).astype(np.int64)
            idx = np.repeat(np.arange(len(s0)), n)
            h = h0[idx] + (np.arange(len(idx)) - np.repeat(np.cumsum(n) - n, n))
            minutes = np.minimum(e0[idx], (h + 1) * 60) - np.maximum(s0[idx], h * 60)
            add(f"{prefix}minutes", unit[sl][idx], h * 60, sign[sl][idx] * minutes)
            del idx, h, minutes
    # distinct people: one per (node, own) at the person's first minute there
    p_node = people["node_id"].to_numpy()
    p_own = people["own"].to_numpy().astype(bool)
    p_hour = (people["first_m"].to_numpy() + off) // 60 - 24 * lo_day
    f = figs.index("persons")
    for own, target_d, target_h in ((True, day_own, hour_own), (False, day_tree, hour_tree)):
        sel = p_own == own
        node, hour = p_node[sel], p_hour[sel]
        target_d[f] += np.bincount(node * n_days + hour // 24, minlength=n_nodes * n_days).reshape(
            n_nodes, n_days
        )
        c = (compact_own if own else compact)[node]
        keep = c >= 0
        target_h[f] += np.bincount(c[keep] * n_hours + hour[keep], minlength=len(top) * n_hours).reshape(
            len(top), n_hours
        )

    def rows_of(dense: Any, own: bool, nodes: Any, hourly: bool) -> Any:
        nz = np.nonzero((dense != 0).any(axis=0))
        node, t = nodes[nz[0]], nz[1]
        out = {"node_id": node, "own": own}
        if hourly:
            out.update({"day": t // 24 + lo_day + epoch_ordinal, "slot": t % 24})
        else:
            out["day"] = t + lo_day + epoch_ordinal
        frame = pd.DataFrame(out)
        for k, name in enumerate(figs):
            frame[name] = dense[k][nz].astype(np.int64)
        return frame

    all_nodes = np.arange(n_nodes)
    buckets = pd.concat(
        [rows_of(day_own, True, all_nodes, False), rows_of(day_tree, False, all_nodes, False)]
    )
    counts["buckets"] = write_table(Bucket, buckets[["node_id", "own", "day", *figs]])
    del buckets
    hours = pd.concat([rows_of(hour_own, True, top, True), rows_of(hour_tree, False, top, True)])
    counts["hour_buckets"] = write_table(HourBucket, hours[["node_id", "own", "day", "slot", *figs]])
    return counts


def write_table(model: Any, df: Any) -> int:
    """Bulk-append a DataFrame whose columns are the table's column names (COPY on PostgreSQL)."""
    import io

    from django.db import connection

    t0 = time.perf_counter()
    table = model._meta.db_table
    cols = ", ".join(connection.ops.quote_name(c) for c in df.columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            step = 2_000_000
            for i in range(0, len(df), step):
                buf = io.StringIO()
                df.iloc[i : i + step].to_csv(buf, sep="\t", header=False, index=False)
                with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                    copy.write(buf.getvalue())
        else:
            marks = ", ".join(["%s"] * len(df.columns))
            values = [c.tolist() for _name, c in df.items()]
            data = list(zip(*values, strict=True))
            for i in range(0, len(data), 50_000):
                cursor.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", data[i : i + 50_000])
    print(
        f"  wrote {len(df)} rows to {table} in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True
    )
    return len(df)


def facts_models() -> tuple[Any, ...]:
    from muster.reports.models import BatchFact, CommunityFact, PairFact, PendingFact, PersonFact, SpanFact

    return (BatchFact, SpanFact, PairFact, CommunityFact, PendingFact, PersonFact)


def fact_tables() -> dict[str, list[tuple[Any, ...]]]:
    """Every fact and bucket row, without surrogate ids, sorted (to compare two builds)."""
    from django.db import connection

    from muster.reports.models import (
        BatchFact,
        Bucket,
        CommunityFact,
        HourBucket,
        PairFact,
        PendingFact,
        PersonFact,
        SpanFact,
    )

    out = {}
    for model in (BatchFact, SpanFact, PairFact, CommunityFact, PendingFact, PersonFact, Bucket, HourBucket):
        fields = [f.column for f in model._meta.concrete_fields if not (f.primary_key and f.name == "id")]
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(fields)} FROM {model._meta.db_table}")
            out[model.__name__] = sorted(
                tuple(int(v) if isinstance(v, bool) else v for v in r) for r in cursor.fetchall()
            )
    return out


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
    from django.db import connection, transaction

    from muster.orgs.models import Unit
    from muster.reports import facts
    from muster.reports.models import Bucket, HourBucket
    from muster.reports.rollup import rollup, rollup_straight

    out: dict[str, Any] = {"db": connection.vendor, "entries": args.entries}
    t0 = time.perf_counter()
    g = generate(args.entries, seed=args.seed, batches=args.batches)
    rows = ledger_rows(g)
    out["ledger_rows"] = len(rows["id"])
    out["generate_s"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    loading = sqlite_loading()
    loading.__enter__()
    if args.reuse and Unit.objects.exists():  # a database kept by an earlier run with --keep
        out["reused"] = True
    else:
        load(g, rows)
        out["load_s"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    if out.get("reused"):
        counts = {"buckets": Bucket.objects.count()}
    elif args.facts == "rebuild":
        counts = facts.rebuild(stdout=sys.stderr)
        out["rebuild_s"] = round(time.perf_counter() - t0, 1)
    else:
        from muster.reports.models import (
            BatchFact,
            Bucket,
            CommunityFact,
            HourBucket,
            PairFact,
            PendingFact,
            PersonFact,
            SpanFact,
        )

        fact_models = (
            BatchFact,
            SpanFact,
            PairFact,
            CommunityFact,
            PendingFact,
            PersonFact,
            Bucket,
            HourBucket,
        )
        with transaction.atomic(), bulk_mode([m._meta.db_table for m in fact_models]):
            counts = bulk_facts(g, rows)
            print(
                f"  facts computed and written in {time.perf_counter() - t0:.1f} s",
                file=sys.stderr,
                flush=True,
            )
        out["bulk_facts_s"] = round(time.perf_counter() - t0, 1)
        if args.facts == "check":  # the vectorized build and rebuild() must write the same tables
            bulk = fact_tables()
            t0 = time.perf_counter()
            facts.rebuild(stdout=sys.stderr)
            out["rebuild_s"] = round(time.perf_counter() - t0, 1)
            again = fact_tables()
            out["bulk_equals_rebuild"] = bulk == again
            out["bulk_vs_rebuild_differences"] = {
                name: len(set(rows_) ^ set(again[name]))
                for name, rows_ in bulk.items()
                if rows_ != again[name]
            }
    loading.__exit__(None, None, None)
    out["facts"] = counts
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # what autovacuum does to a loaded table: statistics, and
            # the visibility map that lets the rollup's index-only scans skip the heap
            for model in (Bucket, HourBucket, *facts_models()):
                cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
        cursor.execute("ANALYZE")
    out["analyze_s"] = round(time.perf_counter() - t0, 1)
    root = Unit.objects.get(depth=1)
    rng = random.Random(args.seed)
    tz_offset = 8 * 60
    cutoffs_m = [PERIOD_START + rng.randrange(0, PERIOD_DAYS * 1440) for _ in range(40)]
    cutoffs = [datetime.fromtimestamp(m * 60, UTC) for m in cutoffs_m]
    cold = []
    for c in cutoffs:  # first pass: each cutoff's day and hour read for the first time since the load
        t = time.perf_counter()
        rollup(root, c, pending=False)
        cold.append(time.perf_counter() - t)
    fast = []
    for c in cutoffs:  # the contract's figures (what the API and the CLI answer), cutoffs seen before
        t = time.perf_counter()
        rollup(root, c, pending=False)
        fast.append(time.perf_counter() - t)
    out["fast_first_pass_median_ms"] = round(_median_ms(cold), 2)
    out["fast_first_pass_p95_ms"] = round(sorted(cold)[int(len(cold) * 0.95) - 1] * 1000, 2)
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

    writers = list(Person.objects.filter(pk__gt=PEOPLE).select_related("unit")[: 3 * n])
    base = datetime(2022, 2, 1, 8, tzinfo=UTC)
    out: dict[str, Any] = {}
    depth = settings.MUSTER_ROLLUP_HOUR_DEPTH
    for label, enabled, hours, people in (
        ("with", True, depth, writers[:n]),
        ("without", False, depth, writers[n : 2 * n]),
        # the day buckets alone (what the hour buckets cost when recording)
        ("with_day_buckets_only", True, 0, writers[2 * n :]),
    ):
        settings.MUSTER_ROLLUP_MAINTENANCE = enabled
        settings.MUSTER_ROLLUP_HOUR_DEPTH = hours
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
    settings.MUSTER_ROLLUP_HOUR_DEPTH = depth
    from muster.reports import facts

    facts.rebuild()  # the rows written without (full) maintenance: a kept database stays exact
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
    tag = f"{entries}_x{exact}" if exact else str(entries)
    pg_url = args.pg_url + f"_{tag}"
    if db == "sqlite":
        f = Path(f"/tmp/muster_bench_rollup_{tag}.sqlite3")  # noqa: S108 (a scratch benchmark database)
        if not (args.reuse and f.exists()):
            for p in f.parent.glob(f.name + "*"):
                p.unlink()
        env["DATABASE_URL"] = f"sqlite:///{f}"
    else:
        name = urlsplit(pg_url).path.lstrip("/")
        if not args.reuse:
            pg_admin(args.pg_url, f"DROP DATABASE IF EXISTS {name}")
        with contextlib.suppress(Exception):  # exists already (--reuse)
            pg_admin(args.pg_url, f"CREATE DATABASE {name}")
        env["DATABASE_URL"] = pg_url
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
        "--facts",
        args.facts if args.facts != "auto" else ("check" if exact else "bulk"),
        *(["--reuse"] if args.reuse else []),
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    sys.stderr.write(proc.stderr[-3000:])
    try:
        result = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        result = {"db": db, "entries": entries, "error": proc.stdout[-2000:] + proc.stderr[-2000:]}
    result["wall_s"] = round(time.perf_counter() - t0, 1)
    result["load_avg_1min"] = round(os.getloadavg()[0], 1)
    if args.keep:
        return result
    if db == "sqlite":
        for p in Path("/tmp").glob(  # noqa: S108
            f"muster_bench_rollup_{tag}.sqlite3*"
        ):
            p.unlink()
    else:
        pg_admin(args.pg_url, f"DROP DATABASE IF EXISTS {urlsplit(pg_url).path.lstrip('/')}")
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
    ap.add_argument(
        "--facts",
        choices=["auto", "rebuild", "bulk", "check"],
        default="auto",
        help="how the facts are built: rebuild() (row by row), bulk (vectorized), check (both, compared); "
        "auto: check on the exactness database, bulk on the size runs",
    )
    ap.add_argument("--keep", action="store_true", help="keep the bench databases (for --reuse)")
    ap.add_argument(
        "--reuse",
        action="store_true",
        help="time the queries on the databases kept by an earlier --keep run (same sizes and seed) instead of "
        "loading them again",
    )
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
            f"(p95 {r.get('fast_p95_ms')}; first pass {r.get('fast_first_pass_median_ms')}), straight {r.get('straight_median_ms')} ms "
            f"(×{r.get('speedup_vs_straight')}), duckdb {r.get('duckdb_median_ms')} ms "
            f"(×{r.get('speedup_vs_duckdb')}), exact {r.get('exact_mismatches', '-')} / {r.get('exact_pairs', '-')}"
        )


def _child_args(args: argparse.Namespace) -> argparse.Namespace:
    args.entries = int(args.entries)
    return args


if __name__ == "__main__":
    main()
