"""Fixtures for volunteers: skills, a leader of 徐汇, people linked to logins, a batch with open shifts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from muster.mobilize import services as msvc
from muster.mobilize.models import Deployment, Shift
from muster.orgs.access import SYSTEM
from muster.orgs.models import Person
from muster.orgs.services import person_create
from muster.volunteers import services as vsvc

TZ = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    """'2026-03-10 08:00' in Shanghai time (the fixed clock is 2026-03-04 10:00)."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=TZ)


def link(person: Person, user: Any) -> Person:
    Person.objects.filter(pk=person.pk).update(user=user)
    person.refresh_from_db()
    return person


@pytest.fixture(autouse=True)
def _clock(fixed_clock: Any) -> Any:
    return fixed_clock


@dataclass
class World:
    leader: Any  # leader on 徐汇
    manager_hp: Any  # manager on 黄浦 (徐汇 out of scope)
    alice_user: Any
    bob_user: Any
    carol_user: Any
    zhou: Person  # 徐汇, no account
    deployment: Deployment
    morning: Shift  # 2026-03-10 08:00–12:00, 2 seats, on site
    remote: Shift  # 2026-03-10 14:00–18:00, 1 seat, remote
    night: Shift  # 2026-03-10 20:00–23:00, 1 seat
    deadline: datetime
    cutoff: datetime


@pytest.fixture
def world(org: Any, make_user: Callable[..., Any]) -> World:
    leader = make_user("leader", "leader", org.xuhui)
    manager_hp = make_user("mgr_hp", "manager", org.huangpu)
    alice_user, bob_user, carol_user = make_user("alice"), make_user("bob"), make_user("carol")
    link(org.alice, alice_user)
    link(org.bob, bob_user)
    link(org.carol, carol_user)
    for code, name in (("medic", "医护"), ("driver", "驾驶"), ("counsel", "心理疏导")):
        vsvc.skill_save(actor=SYSTEM, code=code, name=name)
    zhou = person_create(actor=SYSTEM, code="XH0009", name="周敏", unit=org.xuhui)  # no account
    captain = person_create(actor=SYSTEM, code="XH0010", name="钱队长", unit=org.xuhui)
    d = msvc.deployment_dispatch(
        actor=leader,
        unit=org.xuhui,
        title="核酸检测",
        start=at("2026-03-10 06:00"),
        end=at("2026-03-11 06:00"),
        people=[captain],
    ).deployment
    morning = msvc.shift_create(
        actor=leader, deployment=d, start=at("2026-03-10 08:00"), end=at("2026-03-10 12:00"), seats=2
    )
    remote = msvc.shift_create(
        actor=leader, deployment=d, start=at("2026-03-10 14:00"), end=at("2026-03-10 18:00"), remote=True
    )
    night = msvc.shift_create(
        actor=leader, deployment=d, start=at("2026-03-10 20:00"), end=at("2026-03-10 23:00")
    )
    deadline = at("2026-03-09 18:00")
    cutoff = at("2026-03-09 12:00")
    vsvc.shifts_open(
        actor=leader, shifts=[morning, remote, night], unit=org.xuhui, deadline=deadline, cancel_cutoff=cutoff
    )
    return World(
        leader,
        manager_hp,
        alice_user,
        bob_user,
        carol_user,
        zhou,
        d,
        morning,
        remote,
        night,
        deadline,
        cutoff,
    )


def later(hours: float) -> timedelta:
    return timedelta(hours=hours)


@pytest.fixture(autouse=True)
def _english_pages(settings: Any) -> None:
    """These tests read the pages' English source strings (the Chinese catalog is tested in test_i18n)."""
    settings.LANGUAGE_CODE = "en"
