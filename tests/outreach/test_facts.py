"""The day buckets give exactly the straight COUNT over the records, incrementally and after a rebuild."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from muster.orgs.access import SYSTEM
from muster.orgs.services import unit_move
from muster.outreach import facts, queries, services
from muster.outreach.models import DayFact, Enterprise

SH = ZoneInfo("Asia/Shanghai")


def _cutoff(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=SH)


def _snapshot(units: list[Any], days: list[date]) -> list[tuple[int, int, int]]:
    return [facts.totals(u, d) for u in units for d in days]


def test_buckets_equal_straight_counts(org: Any, ent: Enterprise) -> None:
    rng = random.Random(7)
    base = date(2018, 1, 1)
    units = [
        org.root,
        org.xuhui,
        org.xuhui_office,
        org.huangpu,
        org.party_root,
        org.xuhui_committee,
        org.xuhui_branch,
    ]
    problems = []
    for i in range(40):
        day = base + timedelta(days=rng.randrange(60))
        unit = rng.choice([org.xuhui, org.xuhui_office, org.huangpu])
        branch = rng.choice([None, org.xuhui_branch])
        services.visit_record(
            actor=SYSTEM, held_on=day, unit=unit, branch=branch, visitors=[org.alice], enterprises=[ent]
        )
        if i % 2 == 0:
            problems.append(
                services.problem_raise(actor=SYSTEM, title=f"p{i}", unit=unit, branch=branch, raised_on=day)
            )
    for pr in problems:
        on = pr.raised_on + timedelta(days=rng.randrange(0, 10))
        r = rng.random()
        if r < 0.6:
            services.problem_resolve(actor=SYSTEM, problem=pr, resolution="ok", on=on)
            if rng.random() < 0.4:
                services.problem_reopen(
                    actor=SYSTEM, problem=pr, reason="again", on=on + timedelta(days=rng.randrange(0, 3))
                )
                if rng.random() < 0.5:
                    pr.refresh_from_db()
                    services.problem_resolve(
                        actor=SYSTEM, problem=pr, resolution="ok", on=on + timedelta(days=5)
                    )
        elif r < 0.8:
            services.problem_declare_unsolvable(actor=SYSTEM, problem=pr, reason="no", on=on)
            services.problem_reopen(actor=SYSTEM, problem=pr, reason="again", on=on + timedelta(days=1))
    days = [base + timedelta(days=k) for k in range(0, 80, 3)]
    for u in units:
        for d in days:
            as_of = _cutoff(d + timedelta(days=1))
            assert queries.visits_count(u, as_of) == queries.visits_count_straight(u, as_of)
            assert queries.problems_raised(u, as_of) == queries.problems_raised_straight(u, as_of)
            assert queries.problems_resolved(u, as_of) == queries.problems_resolved_straight(u, as_of), (u, d)
    incremental = _snapshot(units, days)
    facts.rebuild()
    assert _snapshot(units, days) == incremental
    assert DayFact.objects.exists()


def test_unit_move_keeps_buckets_exact(org: Any, ent: Enterprise) -> None:
    services.visit_record(
        actor=SYSTEM, held_on=date(2018, 3, 1), unit=org.xuhui_office, visitors=[org.alice], enterprises=[ent]
    )
    as_of = _cutoff(date(2018, 4, 1))
    assert queries.visits_count(org.huangpu, as_of) == 0
    unit_move(actor=SYSTEM, unit=org.xuhui_office, new_parent=org.huangpu)
    org.huangpu.refresh_from_db()
    org.xuhui.refresh_from_db()
    assert queries.visits_count(org.huangpu, as_of) == 1 == queries.visits_count_straight(org.huangpu, as_of)
    assert queries.visits_count(org.xuhui, as_of) == 0
