# ruff: noqa: E501
"""Benchmark: the care ledger at scale — the liaison's due list, the manager's overdue-by-unit view, the
import of subjects, and what the care figures add to the rollup.

    .venv/bin/python bench/care.py [--subjects 100000] [--rounds 5] [--import-rows 2000] [--database-url URL]

Against a fresh database (a temporary SQLite file by default; with ``--database-url`` a PostgreSQL
database that is migrated and filled here — give an empty one, never the dev database):

1. seeds a city with 16 districts × 4 offices, N subjects spread over 500 liaisons, ``--rounds`` survey
   rounds with one contact and three observations per subject per round (bulk inserts: setup, not timed),
   and the denormalized ``next_due_on`` the services keep;
2. times (median of 30 runs) the liaison's due list (``queries.due_list``, one indexed query) against the
   baseline — the straightforward ORM query: the liaison's subjects annotated with ``Max(contacts__at)``,
   due computed from the frequency per subject;
3. times the manager's overdue-by-unit view (``queries.overdue_by``) against the same kind of baseline
   over the whole city;
4. times an import of ``--import-rows`` subjects through ``muster care import`` (all or nothing) and
   gives the rate, extrapolated to 100,000 rows;
5. times the metrics contract (every registered metric, in one ``registry.shared_totals()`` as
   ``metrics_contract`` does) with and without the care metrics, for the city, and the rollup page's
   figures (the rollup and its sections) with and without the care section; the care metrics read the
   day buckets of ``muster.care.facts`` (rebuilt once after the bulk setup, which bypassed the services
   that keep them) — one grouped read per unit and cutoff — and each of the heavy ones is compared, value
   and time, with its straight query (``muster.care.queries``).

``--profile`` prints cProfile's top lines (cumulative and own time) of the import.

Targets (issue 24): due list ≤ 100 ms median, overdue by unit ≤ 300 ms, 100,000 subjects imported ≤ 30 s,
the care figures add ≤ 20 % to the rollup. Figures depend on the machine; the ratio is measured in the run.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def timed(fn: Any, runs: int = 30) -> float:
    """The median wall time of ``fn()`` in milliseconds."""
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return statistics.median(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--subjects", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--import-rows", type=int, default=2000)
    ap.add_argument("--database-url")
    ap.add_argument("--profile", action="store_true", help="print cProfile's top lines of the import")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="muster-care-bench-")
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "muster.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    run(args)


def run(args: Any) -> None:
    from django.db import connection
    from django.db.models import Max
    from django.test.utils import CaptureQueriesContext
    from openpyxl import Workbook

    from muster import clock
    from muster.care import facts, queries
    from muster.care import io as care_io
    from muster.care.models import CareSubject, Contact, ContactFrequency, Dimension, Observation, SurveyRound
    from muster.orgs.access import SYSTEM
    from muster.orgs.models import Person, Unit
    from muster.reports import registry
    from muster.reports.members import unit_rollup
    from muster.reports.metrics_contract import metrics_contract
    from muster.reports.sections import groups, section_table, sections_for

    t0 = time.perf_counter()
    root = Unit.add_root(code="SH", name="市局", kind="city_bureau")
    offices = []
    for d in range(16):
        dist = root.add_child(code=f"D{d:02d}", name=f"区局{d}", kind="district_bureau")
        for o in range(4):
            offices.append(dist.add_child(code=f"D{d:02d}-{o}", name=f"区局{d}所{o}", kind="tax_office"))
    liaisons = Person.objects.bulk_create(
        Person(code=f"L{i:04d}", name=f"联络员{i}", unit=offices[i % len(offices)]) for i in range(500)
    )
    today = clock.today()
    now = clock.now()
    subjects = []
    for i in range(args.subjects):
        lia = liaisons[i % len(liaisons)]
        subjects.append(
            CareSubject(
                code=f"S{i:06d}",
                unit_id=lia.unit_id,
                name=f"老同志{i}",
                birth_date=date(1935 + i % 30, 1 + i % 12, 1 + i % 28),
                liaison=lia,
                risk_level="high" if i % 5 == 0 else "normal",
                last_contact_at=now - timedelta(days=i % 9),
                next_due_on=today + timedelta(days=(2 if i % 5 == 0 else 7) - i % 9),
                created_at=now - timedelta(days=60),
            )
        )
    CareSubject.objects.bulk_create(subjects, batch_size=5000)
    ids = list(CareSubject.objects.values_list("pk", flat=True))
    dims = list(Dimension.objects.filter(code__in=["health", "living", "serious_illness"]))
    for r in range(args.rounds):
        rnd = SurveyRound.objects.create(
            unit=root, name=f"第{r + 1}轮", opened_at=now - timedelta(days=50 - r * 9)
        )
        at = rnd.opened_at + timedelta(hours=2)
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            contacts = Contact.objects.bulk_create(
                Contact(subject_id=s, round=rnd, at=at, channel="phone", outcome="answered", recorded_at=at)
                for s in chunk
            )
            Observation.objects.bulk_create(
                Observation(
                    subject_id=c.subject_id,
                    round=rnd,
                    contact=c,
                    dimension=d,
                    value=d.choices[0] if d.choices else "",
                    channel="phone",
                    observed_at=at,
                    recorded_at=at,
                )
                for c in contacts
                for d in dims
            )
    Contact.objects.bulk_create(
        (
            Contact(subject=s, at=s.last_contact_at or now, channel="phone", outcome="ok", recorded_at=now)
            for s in subjects
        ),
        batch_size=5000,
    )
    print(f"setup: {args.subjects} subjects, {args.rounds} rounds, {time.perf_counter() - t0:.1f} s")
    t = time.perf_counter()
    buckets = facts.rebuild()  # the bulk setup bypassed the services that keep the figures' facts
    print(f"care facts rebuilt (muster care facts): {buckets} day buckets, {time.perf_counter() - t:.1f} s")

    lia = liaisons[7]
    freq = dict(ContactFrequency.objects.values_list("level", "every_days"))

    def due_fast() -> None:
        list(queries.due_list(lia, today=today))

    def due_baseline() -> None:
        rows = CareSubject.objects.filter(liaison=lia, status="active").annotate(last=Max("contacts__at"))
        [
            s
            for s in rows
            if s.last is None or clock.local_date(s.last) + timedelta(days=freq[s.risk_level]) <= today
        ]

    def overdue_fast() -> None:
        queries.overdue_by(SYSTEM, unit=root, by="unit", today=today)

    def overdue_baseline() -> None:
        rows = CareSubject.objects.filter(status="active").annotate(last=Max("contacts__at"))
        out: dict[int, int] = {}
        for s in rows.values("unit_id", "risk_level", "last"):
            due = clock.local_date(s["last"]) + timedelta(days=freq[s["risk_level"]])
            if due < today:
                out[s["unit_id"]] = out.get(s["unit_id"], 0) + 1

    a, b = timed(due_fast), timed(due_baseline, 10)
    print(
        f"due list (liaison of {args.subjects // 500} subjects): {a:.1f} ms median (target 100); baseline {b:.1f} ms; x{b / a:.1f}"
    )
    a, b = timed(overdue_fast, 10), timed(overdue_baseline, 3)
    print(f"overdue by unit (whole city): {a:.1f} ms median (target 300); baseline {b:.1f} ms; x{b / a:.1f}")

    wb = Workbook()
    ws = wb.active
    ws.title = "关爱对象"
    ws.append(["编号", "单位代码", "姓名", "出生日期", "联系电话", "联络员工号"])
    for i in range(args.import_rows):
        ws.append(
            [
                f"I{i:06d}",
                offices[i % len(offices)].code,
                f"居民{i}",
                "1940-05-01",
                f"139{i:08d}",
                f"L{i % len(offices):04d}",
            ]
        )
    buf = io.BytesIO()
    wb.save(buf)
    # (CPU time: the machine may be loaded)
    profiler = cProfile.Profile(time.process_time) if args.profile else None
    t, cpu = time.perf_counter(), time.process_time()
    if profiler is not None:
        profiler.enable()
    result = care_io.care_import(actor=SYSTEM, filename="bench.xlsx", data=buf.getvalue())
    secs, cpu = time.perf_counter() - t, time.process_time() - cpu
    if profiler is not None:
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(45)
        print(out.getvalue())
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(30)
        print(out.getvalue())
    print(
        f"import {result.subjects_created} subjects: {secs:.1f} s ({result.subjects_created / secs:.0f} rows/s;"
        f" 100,000 rows ≈ {100_000 / (result.subjects_created / secs):.0f} s, target 30); this process's CPU {cpu:.1f} s"
        f" (≈ {100_000 * cpu / result.subjects_created:.0f} s per 100,000; the rest is waiting: the database, a loaded machine)"
    )

    as_of = now + timedelta(hours=1)
    everything = registry.metrics()
    others = [m for m in everything if not m.id.startswith("care.")]

    def contract_all() -> None:
        metrics_contract(root, as_of)

    def contract_without_care() -> None:
        # as ``metrics_contract`` does: the built-in figures read the ledger once
        with registry.shared_totals():
            for m in others:
                m.answer(root, as_of)

    def rollup_page() -> None:
        unit_rollup(root, as_of)
        sections_for(root, as_of)

    def rollup_page_without_care() -> None:
        unit_rollup(root, as_of)
        with registry.shared_totals():
            for g in groups():
                if g != "care":
                    section_table(g, root, as_of)

    straight = {
        "care.subjects": queries.subjects_count,
        "care.surveyed": queries.surveyed_count,
        "care.high_risk": queries.high_risk_count,
        "care.contacts": queries.contacts_count,
        "care.contacts_overdue": queries.overdue_count,
        "care.deceased": queries.deceased_count,
    }
    by_id = {m.id: m for m in everything}
    for mid, fn in straight.items():
        fast, slow_q = by_id[mid].answer(root, as_of), fn(root, as_of)
        a, b = (
            timed(lambda mid=mid: by_id[mid].answer(root, as_of), 3),
            timed(lambda fn=fn: fn(root, as_of), 1),
        )
        print(f"{mid}: {fast} from the day buckets in {a:.1f} ms; straight query {slow_q} in {b:.0f} ms")

    slow = sorted(
        ((timed(lambda m=m: m.answer(root, as_of), 3), m.id) for m in everything if m.id.startswith("care.")),
        reverse=True,
    )
    print("slowest care metrics: " + ", ".join(f"{mid} {ms:.0f} ms" for ms, mid in slow[:5]))
    care_metrics = [m for m in everything if m.id.startswith("care.")]

    def care_only() -> None:
        with registry.shared_totals():
            for m in care_metrics:
                m.answer(root, as_of)

    # the care part and the rest apart, in queries, wall time and this process's CPU time (the difference of
    # two wall times is noise on a loaded machine; the parts are not)
    parts = {}
    for name, part in (("the other metrics", contract_without_care), ("the care metrics", care_only)):
        with CaptureQueriesContext(connection) as queries_run:
            part()
        cpu0 = time.process_time()
        wall = timed(part, 5)
        parts[name] = (len(queries_run), wall, (time.process_time() - cpu0) * 1000 / 5)
    (qo, wo, co), (qc, wc, cc) = parts["the other metrics"], parts["the care metrics"]
    print(
        f"metrics of the city in one metrics object: the others {qo} queries, {wo:.0f} ms (CPU {co:.0f} ms); "
        f"the care metrics {qc} queries, {wc:.0f} ms (CPU {cc:.0f} ms): care adds {100 * wc / max(wo, 1):.0f} % (target 20)"
    )
    a, b = timed(contract_without_care, 5), timed(contract_all, 5)
    print(
        f"metrics of the city (muster metrics --json): {b:.0f} ms with care, {a:.0f} ms without; care adds {100 * (b - a) / max(a, 1):.0f} % (target 20)"
    )
    a, b = timed(rollup_page_without_care, 5), timed(rollup_page, 5)
    print(
        f"rollup page of the city (rollup and its sections, drill-down to {len(sections_for(root, as_of)[0].rows) if sections_for(root, as_of) else 0} rows): "
        f"{b:.0f} ms with the care section, {a:.0f} ms without; care adds {100 * (b - a) / max(a, 1):.0f} % (target 20)"
    )


if __name__ == "__main__":
    main()
