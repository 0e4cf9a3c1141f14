"""Fixtures of rostering in the app: a batch of four volunteers with four shifts over two days, users
with and without the right to roster it, and the solve run inline (the tasks' immediate backend; the
database queue and `muster worker` are tested in tests/worker)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from muster.mobilize import services as svc
from muster.mobilize.models import Deployment, Shift
from muster.orgs.access import SYSTEM
from muster.orgs.models import Person
from muster.orgs.services import person_create
from muster.roster import engine as eng

TZ = ZoneInfo("Asia/Shanghai")
DAY1 = date(2030, 3, 4)  # a Monday
DAY2 = date(2030, 3, 5)


def at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=TZ)


def link(person: Person, user: Any) -> Person:
    Person.objects.filter(pk=person.pk).update(user=user)
    person.refresh_from_db()
    return person


IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": []}}


@pytest.fixture(autouse=True)
def _sync_solve(settings: Any) -> None:
    settings.TASKS = IMMEDIATE_TASKS
    settings.MUSTER_MIN_REST_MINUTES = 480


@pytest.fixture(autouse=True)
def _deterministic_solve(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every solve and repair of these tests counts its time limit as deterministic work on one thread,
    not wall-clock seconds: the same proposal on any machine at any load (the app keeps the clock)."""
    real_solve, real_repair = eng.solve, eng.repair

    def solve(problem: eng.Problem, options: eng.Options | None = None) -> eng.Result:
        return real_solve(problem, dataclasses.replace(options or eng.Options(), deterministic=True))

    def repair(
        problem: eng.Problem, previous: Any, dropped: Any, options: eng.Options | None = None
    ) -> eng.Result:
        opts = dataclasses.replace(options or eng.Options(), deterministic=True)
        return real_repair(problem, previous, dropped, opts)

    monkeypatch.setattr(eng, "solve", solve)
    monkeypatch.setattr(eng, "repair", repair)


@dataclass
class Cast:
    leader: Any  # leader on 徐汇: may roster 徐汇's batches
    viewer: Any  # member role on 徐汇: sees the batch, may not roster it (403)
    manager_hp: Any  # manager on 黄浦: the 徐汇 batch is out of scope (404)
    bob_user: Any

    def client(self, user: Any) -> Client:
        c = Client()
        c.force_login(user)
        return c


@pytest.fixture
def cast(org: Any, make_user: Callable[..., Any]) -> Cast:
    c = Cast(
        leader=make_user("leader", "leader", org.xuhui),
        viewer=make_user("viewer", "member", org.xuhui),
        manager_hp=make_user("mgr_hp", "manager", org.huangpu),
        bob_user=make_user("bob"),
    )
    link(org.bob, c.bob_user)
    return c


@dataclass
class Batch:
    deployment: Deployment
    shifts: list[Shift]  # day 1 08–16 (2 seats), day 1 16–24 (1), day 2 08–16 (2), day 2 16–24 (1)
    people: list[Person]  # alice, bob, 陈一, 陈二


@pytest.fixture
def batch(org: Any, cast: Cast) -> Batch:
    extra = [
        person_create(actor=SYSTEM, code=f"XH01{i}", name=f"陈{n}", unit=org.xuhui, gender="M")
        for i, n in ((1, "一"), (2, "二"))
    ]
    people = [org.alice, org.bob, *extra]
    d = svc.deployment_dispatch(
        actor=cast.leader,
        unit=org.xuhui,
        title="核酸检测",
        start=at("2030-03-04 00:00"),
        end=at("2030-03-06 00:00"),
        people=people,
        site="宛平社区",
    ).deployment
    shifts = []
    for day in ("2030-03-04", "2030-03-05"):
        shifts.append(
            svc.shift_create(
                actor=cast.leader,
                deployment=d,
                start=at(f"{day} 08:00"),
                end=at(f"{day} 16:00"),
                seats=2,
                label="白",
            )
        )
        shifts.append(
            svc.shift_create(
                actor=cast.leader,
                deployment=d,
                start=at(f"{day} 16:00"),
                end=at(f"{day} 23:59"),
                seats=1,
                label="晚",
            )
        )
    return Batch(d, shifts, people)
