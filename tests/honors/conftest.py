"""Fixtures for honors: leaders and linked volunteers, approved hours written through the ledger services."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import management
from django.utils import translation

from muster.mobilize import services as svc
from muster.mobilize.models import EntryKind, ServiceEntry
from muster.orgs.access import SYSTEM
from muster.orgs.models import Person

TZ = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=TZ)


def call_command(*args: Any, **kw: Any) -> Any:
    """A management command in English (an earlier test request may have left another language active)."""
    with translation.override("en"):
        return management.call_command(*args, **kw)


def link(person: Person, user: Any) -> Person:
    Person.objects.filter(pk=person.pk).update(user=user)
    person.refresh_from_db()
    return person


def add_hours(
    person: Person, hours: int, *, first_day: str = "2025-01-01", kind: str = EntryKind.COMMUNITY, **kw: Any
) -> list[ServiceEntry]:
    """Approved service of ``hours`` whole hours: 20 h a day from ``first_day`` on (one entry per day)."""
    rows = []
    day = at(f"{first_day} 02:00")
    left = hours
    while left > 0:
        h = min(20, left)
        rows.append(
            svc.entry_record(
                actor=SYSTEM, person=person, kind=kind, start=day, end=day + timedelta(hours=h), **kw
            )
        )
        left -= h
        day += timedelta(days=1)
    return rows


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clock(fixed_clock: Any) -> Any:
    """Every honors test runs at ``FIXED_NOW`` (2026-03-04 10:00 Shanghai)."""
    return fixed_clock


@dataclass
class Cast:
    leader: Any  # leader on 徐汇 (alice and bob are in scope)
    leader2: Any  # another leader on 徐汇
    manager_hp: Any  # manager on 黄浦 (徐汇 out of scope)
    admin: Any  # admin on the root
    alice_user: Any  # linked to alice
    bob_user: Any  # linked to bob


@pytest.fixture
def cast(org: Any, make_user: Callable[..., Any]) -> Cast:
    c = Cast(
        leader=make_user("leader", "leader", org.xuhui),
        leader2=make_user("leader2", "leader", org.xuhui),
        manager_hp=make_user("mgr_hp", "manager", org.huangpu),
        admin=make_user("admin", "admin", org.root),
        alice_user=make_user("alice"),
        bob_user=make_user("bob"),
    )
    link(org.alice, c.alice_user)
    link(org.bob, c.bob_user)
    return c


@pytest.fixture(autouse=True)
def _english_pages(settings: Any) -> None:
    """These tests read the pages' English source strings (the Chinese catalog is tested in test_i18n)."""
    settings.LANGUAGE_CODE = "en"
