"""Fixtures for mobilization: users with roles, volunteers linked to their person, a batch with shifts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from muster.mobilize import services as svc
from muster.mobilize.models import Deployment, Shift
from muster.orgs.access import SYSTEM
from muster.orgs.models import Person

TZ = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    """'2022-03-12 08:00' in Shanghai time."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=TZ)


def link(person: Person, user: Any) -> Person:
    """Link a login to a person (back-office step; no service exists for it yet)."""
    Person.objects.filter(pk=person.pk).update(user=user)
    person.refresh_from_db()
    return person


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    """argon2 costs seconds per user on a slow machine; these tests never check a password."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class Cast:
    leader: Any  # leader role on 徐汇
    manager_hp: Any  # manager on 黄浦 (徐汇 is out of scope)
    viewer: Any  # viewer on 徐汇
    secretary: Any  # secretary of the 徐汇 branch XH-B01
    alice_user: Any  # linked to alice
    bob_user: Any  # linked to bob
    carol_user: Any  # linked to carol (黄浦)


@pytest.fixture
def cast(org: Any, make_user: Callable[..., Any]) -> Cast:
    c = Cast(
        leader=make_user("leader", "leader", org.xuhui),
        manager_hp=make_user("mgr_hp", "manager", org.huangpu),
        viewer=make_user("viewer", "viewer", org.xuhui),
        secretary=make_user("secretary", "secretary", org.xuhui_branch),
        alice_user=make_user("alice"),
        bob_user=make_user("bob"),
        carol_user=make_user("carol"),
    )
    link(org.alice, c.alice_user)
    link(org.bob, c.bob_user)
    link(org.carol, c.carol_user)
    return c


@dataclass
class Batch:
    deployment: Deployment
    shift: Shift  # 2022-03-12 08:00–16:00 with alice and bob


@pytest.fixture
def batch(org: Any, cast: Cast) -> Batch:
    d = svc.deployment_dispatch(
        actor=cast.leader,
        unit=org.xuhui,
        title="核酸检测",
        start=at("2022-03-12 06:00"),
        end=at("2022-03-13 06:00"),
        people=[org.alice, org.bob],
        leader=org.alice,
        site="宛平社区",
    ).deployment
    shift = svc.shift_create(
        actor=cast.leader, deployment=d, start=at("2022-03-12 08:00"), end=at("2022-03-12 16:00"), seats=3
    )
    svc.shift_assign(actor=cast.leader, shift=shift, person=org.alice)
    svc.shift_assign(actor=cast.leader, shift=shift, person=org.bob)
    return Batch(d, shift)


@pytest.fixture
def system() -> Any:
    return SYSTEM
