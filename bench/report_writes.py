"""Benchmark: what the rollup's maintenance costs when an entry is recorded (issue 4, "recording an
entry must stay cheap").

    .venv/bin/python bench/report_writes.py [--db sqlite,pg] [--entries 20000] [--writes 80] [--rounds 5]

On a fresh bench database per engine (the organization of ``bench/report_rollup.py``: 5,000 units in
5 levels, 200,000 people, and a ledger of ``--entries`` rows with its facts), records entries through
``muster.mobilize.services.entry_record`` — the service the web, API, CLI and check-in use — in
``--rounds`` rounds, each round ``--writes`` entries in each of three settings, interleaved so that
the machine's load falls on all three alike:

- ``without``: ``MUSTER_ROLLUP_MAINTENANCE = False`` (the baseline: the ledger write alone);
- ``days``: maintenance with day buckets only (``MUSTER_ROLLUP_HOUR_DEPTH = 0``);
- ``hours``: maintenance as configured (day buckets, and hour buckets down to depth 3).

Prints entries/s of each (median over rounds), the ratio to the baseline, and the time spent inside
the maintenance itself (``facts.on_ledger_row``) per entry. Each entry is an 8-hour shift of a person
of a depth-5 office in a batch of that office (six ancestors: the most buckets an entry touches).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

import report_rollup as rr  # noqa: E402


def child(args: argparse.Namespace) -> dict[str, Any]:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import transaction

    call_command("migrate", verbosity=0)
    from muster.mobilize import services as svc
    from muster.mobilize.models import EntryKind
    from muster.orgs.access import SYSTEM
    from muster.orgs.models import Person
    from muster.reports import facts

    g = rr.generate(args.entries, seed=5, batches=20_000)
    rows = rr.ledger_rows(g)
    rr.load(g, rows)
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

    models = (BatchFact, SpanFact, PairFact, CommunityFact, PendingFact, PersonFact, Bucket, HourBucket)
    with transaction.atomic(), rr.bulk_mode([m._meta.db_table for m in models]):
        rr.bulk_facts(g, rows)
    writers = list(Person.objects.filter(pk__gt=rr.PEOPLE, unit__depth=5).select_related("unit"))
    need = 3 * args.rounds * args.writes
    assert len(writers) >= need, f"{len(writers)} writers for {need} entries: lower --writes or --rounds"
    inside = [0.0]
    original = facts.on_ledger_row

    def timed(row: Any) -> None:
        t = time.perf_counter()
        original(row)
        inside[0] += time.perf_counter() - t

    facts.on_ledger_row = timed  # type: ignore[assignment]
    base = datetime(2022, 2, 1, 8, tzinfo=UTC)
    depth = settings.MUSTER_ROLLUP_HOUR_DEPTH
    configs = {"without": (False, depth), "days": (True, 0), "hours": (True, depth)}
    rates: dict[str, list[float]] = {k: [] for k in configs}
    maint: dict[str, list[float]] = {k: [] for k in configs}
    i = 0
    for _round in range(args.rounds):
        for label, (enabled, hours) in configs.items():
            settings.MUSTER_ROLLUP_MAINTENANCE = enabled
            settings.MUSTER_ROLLUP_HOUR_DEPTH = hours
            people = writers[i : i + args.writes]
            i += args.writes
            batches = {}
            with transaction.atomic():
                for p in people:
                    if p.unit_id not in batches:
                        batches[p.unit_id] = svc.deployment_dispatch(
                            actor=SYSTEM,
                            unit=p.unit,
                            title="写入基准",
                            start=base,
                            end=base + timedelta(days=2),
                            people=[q for q in people if q.unit_id == p.unit_id],
                        ).deployment
            inside[0] = 0.0
            t0 = time.perf_counter()
            for k, p in enumerate(people):
                start = base + timedelta(minutes=(k % 48) * 30)
                svc.entry_record(
                    actor=SYSTEM,
                    person=p,
                    kind=EntryKind.DISPATCH,
                    deployment=batches[p.unit_id],
                    start=start,
                    end=start + timedelta(hours=8),
                )
            rates[label].append(len(people) / (time.perf_counter() - t0))
            maint[label].append(inside[0] / len(people) * 1000)
    out: dict[str, Any] = {
        "db": rr_vendor(),
        "entries": args.entries,
        "writes": args.writes,
        "rounds": args.rounds,
    }
    for label in configs:
        out[f"entries_per_s_{label}"] = round(statistics.median(rates[label]), 1)
        out[f"maintenance_ms_per_entry_{label}"] = round(statistics.median(maint[label]), 2)
    for label in ("days", "hours"):
        out[f"ratio_{label}_vs_without"] = round(
            out[f"entries_per_s_{label}"] / out["entries_per_s_without"], 2
        )
    return out


def rr_vendor() -> str:
    from django.db import connection

    return connection.vendor


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default="sqlite,pg")
    ap.add_argument("--entries", type=int, default=20_000)
    ap.add_argument("--writes", type=int, default=80)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument(
        "--pg-url", default=os.environ.get("DATABASE_URL_PG", rr.DEFAULT_PG.replace("rollup", "writes"))
    )
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        return
    for db in args.db.split(","):
        env = dict(os.environ, DJANGO_SETTINGS_MODULE="muster.settings", MUSTER_DB_CONN_MAX_AGE="0")
        if db == "sqlite":
            f = Path("/tmp/muster_bench_writes.sqlite3")  # noqa: S108 (a scratch benchmark database)
            for p in f.parent.glob(f.name + "*"):
                p.unlink()
            env["DATABASE_URL"] = f"sqlite:///{f}"
        else:
            name = args.pg_url.rsplit("/", 1)[1]
            rr.pg_admin(args.pg_url, f"DROP DATABASE IF EXISTS {name}")
            rr.pg_admin(args.pg_url, f"CREATE DATABASE {name}")
            env["DATABASE_URL"] = args.pg_url
        cmd = [sys.executable, __file__, "--child", *sys.argv[1:]]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        try:
            result = json.loads(proc.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            result = {"db": db, "error": proc.stdout[-2000:] + proc.stderr[-2000:]}
        result["load_avg_1min"] = round(os.getloadavg()[0], 1)
        print(json.dumps(result), flush=True)
        if db != "sqlite":
            rr.pg_admin(args.pg_url, f"DROP DATABASE IF EXISTS {name}")


if __name__ == "__main__":
    main()
