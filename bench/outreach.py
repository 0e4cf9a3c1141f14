"""Benchmark: the outreach resolution rate of the root as of any cutoff, on SQLite and PostgreSQL.

    .venv/bin/python bench/outreach.py [--visits 1000000] [--problems 100000] [--exact 1000]
        [--timings 40] [--straight-timings 5] [--db sqlite,pg] [--pg-url URL]

For each database, in a fresh process against a fresh bench database (a file under /tmp for SQLite;
``muster_bench_outreach`` on PostgreSQL, created and dropped here — never the dev database):

1. migrates, generates a 5,000-unit tree (1 root, 35 provinces, 350 cities, 1,400 counties, offices)
   and N visits and M problems over 2021 at random units (bulk inserts: ``muster.tabular.bulk.insert_many``,
   COPY on PostgreSQL, executemany on SQLite), each problem with its history:
   ~75 % resolved within 60 days, a tenth of those reopened later and half of those resolved again,
   ~5 % declared not solvable; then builds the day buckets (``muster.outreach.facts.rebuild``, timed);
2. times the registry path (``registry.answer("outreach.resolution_rate", root, cutoff)``, which reads
   the day buckets) at ``--timings`` random cutoffs: median and 95th percentile;
3. times the baseline, the straight query over the raw rows (``queries.resolution_rate_straight``: COUNT
   of problems raised and of problems whose last step by the cutoff left them resolved) at
   ``--straight-timings`` of the same cutoffs;
4. checks on ``--exact`` random (unit, cutoff) pairs that visits, problems raised, problems resolved
   and the rate from the buckets equal the straight COUNTs exactly.

Target (issue 25): ≤ 100 ms median for the root on both databases, exactly equal to the straight query.
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
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

UNITS = 5000
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DEFAULT_PG = "postgresql://muster:muster@127.0.0.1:5432/muster_bench_outreach"
START = date(2021, 1, 1)
DAYS = 365


def path_step(n: int) -> str:
    out = ""
    for _ in range(4):
        n, r = divmod(n, 36)
        out = ALPHABET[r] + out
    return out


def make_units() -> list[list[Any]]:
    rng = random.Random(1)
    units: list[list[Any]] = [[path_step(1), 1, 0, "CN"]]
    levels = [[0]]
    for depth, fan in enumerate([35, 10, 4], start=2):
        level = []
        for parent in levels[-1]:
            for i in range(1, fan + 1):
                units.append([units[parent][0] + path_step(i), depth, 0, f"U{len(units) + 1}"])
                units[parent][2] += 1
                level.append(len(units) - 1)
        levels.append(level)
    while len(units) < UNITS:
        parent = rng.choice(levels[-1])
        units[parent][2] += 1
        units.append([units[parent][0] + path_step(units[parent][2]), 5, 0, f"U{len(units) + 1}"])
    return units


def child(args: argparse.Namespace) -> dict[str, Any]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from muster.orgs.models import Unit
    from muster.outreach import facts, queries
    from muster.outreach.models import Problem, ProblemEvent, Visit
    from muster.reports import registry
    from muster.tabular.bulk import insert_many

    call_command("migrate", interactive=False, verbosity=0)
    rng = random.Random(25)
    out: dict[str, Any] = {"db": connection.vendor, "visits": args.visits, "problems": args.problems}
    t0 = time.perf_counter()
    with transaction.atomic():
        Unit.objects.bulk_create(
            [
                Unit(code=code, name=code, kind="tax_office", path=path, depth=depth, numchild=numchild)
                for path, depth, numchild, code in make_units()
            ],
            batch_size=2000,
        )
    ids = list(Unit.objects.values_list("pk", flat=True))
    sh = ZoneInfo("Asia/Shanghai")
    now = datetime(2022, 1, 1, tzinfo=sh)
    # Bulk inserts through ``insert_many`` (COPY on PostgreSQL, executemany on SQLite), in chunks.
    for start in range(0, args.visits, 50000):
        n = min(50000, args.visits - start)
        with transaction.atomic():
            insert_many(
                Visit,
                ["held_on", "form", "unit", "topics", "findings", "created_at"],
                (
                    (START + timedelta(days=rng.randrange(DAYS)), "on_site", rng.choice(ids), "", "", now)
                    for _ in range(n)
                ),
            )
    out["visits_s"] = round(time.perf_counter() - t0, 1)
    problem_fields = [
        "id", "title", "description", "category", "raised_on", "unit", "status", "resolved_on",
        "resolution", "evidence", "reason", "created_at",
    ]  # fmt: skip
    event_fields = ["problem", "action", "status", "on", "text", "evidence", "actor_name", "at"]
    next_id = (Problem.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    for start in range(0, args.problems, 20000):
        n = min(20000, args.problems - start)
        problems, events = [], []
        for pk in range(next_id, next_id + n):
            raised = START + timedelta(days=rng.randrange(DAYS))
            status, resolved_on = "open", None
            events.append((pk, "raised", "open", raised, "", "", "", now))
            r = rng.random()
            on = raised + timedelta(days=rng.randrange(60))
            if r < 0.75:
                events.append((pk, "resolved", "resolved", on, "x", "", "", now))
                status, resolved_on = "resolved", on
                if rng.random() < 0.1:
                    on2 = on + timedelta(days=rng.randrange(30))
                    events.append((pk, "reopened", "open", on2, "x", "", "", now))
                    status, resolved_on = "open", None
                    if rng.random() < 0.5:
                        on3 = on2 + timedelta(days=rng.randrange(30))
                        events.append((pk, "resolved", "resolved", on3, "x", "", "", now))
                        status, resolved_on = "resolved", on3
            elif r < 0.80:
                events.append((pk, "unsolvable", "unsolvable", on, "x", "", "", now))
                status = "unsolvable"
            problems.append((pk, "p", "", "", raised, rng.choice(ids), status, resolved_on, "", "", "", now))
        next_id += n
        with transaction.atomic():
            insert_many(Problem, problem_fields, problems)
            insert_many(ProblemEvent, event_fields, events)
    if connection.vendor == "postgresql":  # explicit ids: move the sequence past them
        with connection.cursor() as cur:
            cur.execute("SELECT setval(pg_get_serial_sequence('outreach_problem', 'id'), %s)", [next_id])
    out["generate_s"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    out["buckets"] = facts.rebuild()
    out["rebuild_s"] = round(time.perf_counter() - t0, 1)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    root = Unit.objects.get(depth=1)

    def cutoff() -> datetime:
        d = START + timedelta(days=rng.randrange(DAYS + 60))
        return datetime(d.year, d.month, d.day, tzinfo=sh)

    cutoffs = [cutoff() for _ in range(args.timings)]
    registry.answer("outreach.resolution_rate", root, cutoffs[0])  # warm the registry and connection
    samples = []
    for c in cutoffs:
        t = time.perf_counter()
        registry.answer("outreach.resolution_rate", root, c)
        samples.append((time.perf_counter() - t) * 1000)
    out["registry_median_ms"] = round(statistics.median(samples), 2)
    out["registry_p95_ms"] = round(sorted(samples)[int(0.95 * (len(samples) - 1))], 2)
    straight = []
    for c in cutoffs[: args.straight_timings]:
        t = time.perf_counter()
        s = queries.resolution_rate_straight(root, c)
        straight.append((time.perf_counter() - t) * 1000)
        assert s == registry.answer("outreach.resolution_rate", root, c) or (s is None), (s, c)
    out["straight_median_ms"] = round(statistics.median(straight), 1)
    out["speedup"] = round(out["straight_median_ms"] / max(out["registry_median_ms"], 1e-6), 1)
    units = list(Unit.objects.all())
    mismatches = 0
    t0 = time.perf_counter()
    for _ in range(args.exact):
        u = root if rng.random() < 0.05 else rng.choice(units)
        c = cutoff()
        fast = (queries.visits_count(u, c), queries.problems_raised(u, c), queries.problems_resolved(u, c))
        slow = (
            queries.visits_count_straight(u, c),
            queries.problems_raised_straight(u, c),
            queries.problems_resolved_straight(u, c),
        )
        mismatches += fast != slow
    out["exact_pairs"] = args.exact
    out["exact_mismatches"] = mismatches
    out["exact_s"] = round(time.perf_counter() - t0, 1)
    return out


def pg_admin(url: str, sql: str) -> None:
    import psycopg

    parts = urlsplit(url)
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(sql)


def run(db: str, args: argparse.Namespace) -> dict[str, Any]:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="muster.settings", MUSTER_DB_CONN_MAX_AGE="0")
    if db == "sqlite":
        f = Path("/tmp/muster_bench_outreach.sqlite3")  # noqa: S108 (a scratch benchmark database)
        for p in f.parent.glob(f.name + "*"):
            p.unlink()
        env["DATABASE_URL"] = f"sqlite:///{f}"
    else:
        name = urlsplit(args.pg_url).path.lstrip("/")
        pg_admin(args.pg_url, f"DROP DATABASE IF EXISTS {name}")
        pg_admin(args.pg_url, f"CREATE DATABASE {name}")
        env["DATABASE_URL"] = args.pg_url
    cmd = [sys.executable, __file__, "--child"]
    for k in ("visits", "problems", "exact", "timings", "straight_timings"):
        cmd += [f"--{k.replace('_', '-')}", str(getattr(args, k))]
    try:
        res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if res.returncode != 0:
            return {"db": db, "error": res.stderr[-2000:]}
        return json.loads(res.stdout.strip().splitlines()[-1])
    finally:
        if db == "pg":
            with contextlib.suppress(Exception):
                pg_admin(args.pg_url, f"DROP DATABASE IF EXISTS {urlsplit(args.pg_url).path.lstrip('/')}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--visits", type=int, default=1_000_000)
    ap.add_argument("--problems", type=int, default=100_000)
    ap.add_argument("--exact", type=int, default=1000)
    ap.add_argument("--timings", type=int, default=40)
    ap.add_argument("--straight-timings", type=int, default=5)
    ap.add_argument("--db", default="sqlite,pg")
    ap.add_argument("--pg-url", default=os.environ.get("DATABASE_URL_PG", DEFAULT_PG))
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        return
    for db in args.db.split(","):
        print(json.dumps(run(db, args), ensure_ascii=False), flush=True)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    main()
