"""Fixtures of the mobilization pages: users with roles, volunteers linked to people, a batch of today."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from muster.mobilize import services as svc
from muster.mobilize.models import Deployment, Shift
from muster.orgs.models import Person


def link(person: Person, user: Any) -> Person:
    """Link a login to a person (a back-office step; no service exists for it)."""
    Person.objects.filter(pk=person.pk).update(user=user)
    person.refresh_from_db()
    return person


def hour(delta_hours: float) -> datetime:
    """A whole minute ``delta_hours`` from now (negative = in the past; the clock is fixed, see
    ``_clock``)."""
    return (timezone.now() + timedelta(hours=delta_hours)).replace(second=0, microsecond=0)


def local_input(dt: datetime) -> str:
    """The value a datetime-local input sends."""
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture(autouse=True)
def _clock(fixed_clock: Any) -> None:
    """Every test here on a fixed clock (a Wednesday 10:00, ticking on): "today's batch", ``hour()`` and
    the pages agree on the date whenever the test runs."""


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@dataclass
class Cast:
    leader: Any  # leader role on 徐汇
    manager_hp: Any  # manager on 黄浦 (徐汇 is out of scope)
    secretary: Any  # secretary of the 徐汇 branch XH-B01
    alice_user: Any
    bob_user: Any
    carol_user: Any

    def client(self, user: Any) -> Client:
        c = Client()
        c.force_login(user)
        return c


@pytest.fixture
def cast(org: Any, make_user: Callable[..., Any]) -> Cast:
    c = Cast(
        leader=make_user("leader", "leader", org.xuhui),
        manager_hp=make_user("mgr_hp", "manager", org.huangpu),
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
    shift: Shift  # from 9 hours ago to 1 hour ago, with bob (alice leads the batch)


@pytest.fixture
def batch(org: Any, cast: Cast) -> Batch:
    d = svc.deployment_dispatch(
        actor=cast.leader,
        unit=org.xuhui,
        title="核酸检测",
        start=hour(-10),
        end=hour(10),
        people=[org.bob],
        leader=org.alice,
        site="宛平社区",
    ).deployment
    shift = svc.shift_create(
        actor=cast.leader, deployment=d, start=hour(-9), end=hour(-1), seats=3, label="1"
    )
    svc.shift_assign(actor=cast.leader, shift=shift, person=org.bob)
    return Batch(d, shift)
