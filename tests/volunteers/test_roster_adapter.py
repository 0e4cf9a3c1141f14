"""The roster adapter fed with volunteers' data: skills, home observation, days off, limits, wishes;
shortfalls explained in those terms."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from muster.mobilize import services as msvc
from muster.roster import engine as eng
from muster.roster.adapter import Rules, build_problem, shortfalls, wishes_met
from muster.volunteers import services as vsvc

from .conftest import at

pytestmark = pytest.mark.django_db

DAY = date(2026, 3, 10)
DAY2 = date(2026, 3, 11)


def _solve(problem: eng.Problem) -> eng.Result:
    return eng.solve(problem, eng.Options(seconds=2, seed=0, deterministic=True, workers=1))


@pytest.fixture
def members(org: Any, world: Any) -> Any:
    for p in (org.alice, org.bob, world.zhou):
        msvc.deployment_member_add(actor=world.leader, deployment=world.deployment, person=p)
    return world


def _person(built: Any, code: str) -> eng.Person:
    return next(p for p in built.problem.people if p.id == code)


def test_profiles_become_engine_facts(org: Any, members: Any) -> None:
    w = members
    vsvc.profile_set(
        actor=w.leader,
        person=org.alice,
        qualifications=[
            vsvc.QualificationIn("medic"),
            vsvc.QualificationIn("driver", valid_until=date(2026, 3, 1)),
        ],
        no_nights=True,
        max_hours_week=20,
        preferences=[
            vsvc.PreferenceIn("time", "morning", True, 3),
            vsvc.PreferenceIn("kind", "remote", False, 2),
        ],
    )
    vsvc.profile_set(actor=w.leader, person=org.bob, home_observation=[(date(2026, 3, 1), date(2026, 3, 20))])
    vsvc.profile_set(actor=w.leader, person=w.zhou, days_off=[DAY])
    vsvc.need_set(actor=w.leader, shift=w.morning, skills_all=["medic"], min_party_members=1)
    built = build_problem(deployment=w.deployment, post=None, start=DAY, end=DAY2, rules=Rules())
    alice, bob, zhou = (_person(built, c) for c in ("XH0001", "XH0002", "XH0009"))
    assert alice.skills == {"medic"}  # the driving licence expired
    assert alice.max_shifts_per_kind == {"night": 0}
    assert alice.max_minutes_week == 20 * 60
    assert bob.mode == "remote"
    assert zhou.days_off == {0}
    shifts = {s.id: s for s in built.problem.shifts}
    assert shifts[str(w.morning.pk)].skills == {"medic"}
    assert len(built.wishes) == 2  # morning wanted (the morning shift), remote unwanted (the remote seat)
    result = _solve(built.problem)
    roster = set(result.assignments)
    assert ("XH0001", str(w.morning.pk)) in roster
    assert wishes_met(built, roster) == (2, 2)


def test_shortfalls_in_volunteer_terms(org: Any, members: Any) -> None:
    w = members
    vsvc.need_set(actor=w.leader, shift=w.night, skills_all=["counsel"])
    for p in (org.alice, org.bob, w.zhou):
        vsvc.profile_set(actor=w.leader, person=p, home_observation=[(date(2026, 3, 1), date(2026, 3, 20))])
    built = build_problem(deployment=w.deployment, post=None, start=DAY, end=DAY, rules=Rules())
    result = _solve(built.problem)
    lines = {x["shift"]: x["lines"] for x in shortfalls(built, result)}
    # zh (after the lead merges /tmp/po/volunteers.po): "无人具备 心理疏导", "3 人居家观察，只能远程"
    assert "Nobody holds 心理疏导" in lines[w.night.pk]
    assert "3 under home observation, remote seats only" in lines[w.morning.pk]


def test_minimum_of_party_members_reported(org: Any, members: Any) -> None:
    w = members
    vsvc.need_set(actor=w.leader, shift=w.remote, min_party_members=1)
    built = build_problem(deployment=w.deployment, post=None, start=DAY, end=DAY, rules=Rules())
    result = eng.Result("feasible", [("XH0002", str(w.remote.pk))], 0, {}, [], None, None, 0.0)
    lines = [line for x in shortfalls(built, result) for line in x["lines"]]
    assert lines == ["Needs 1 party member(s) on the shift"]
    ok = eng.Result("feasible", [("XH0001", str(w.remote.pk))], 0, {}, [], None, None, 0.0)
    assert shortfalls(built, ok) == []
    assert at("2026-03-10 14:00") == w.remote.start
