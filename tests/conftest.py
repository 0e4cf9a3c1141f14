"""Shared fixtures: a small organization with both trees, users with roles, logged-in clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import Client
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from muster.orgs.access import SYSTEM
from muster.orgs.models import Person, Unit
from muster.orgs.services import person_create, role_grant, team_create, team_member_add, unit_create
from muster.orgs.validators import id_check_digit

# Property tests run on a shared 2-core CI machine, in parallel: no per-example deadline, no flakiness
# from slow data generation. The examples and their number stay the same.
hypothesis_settings.register_profile(
    "muster", deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
hypothesis_settings.load_profile("muster")


# The start of the clock of tests that assert on dates ("today", an hour from now): a Wednesday morning
# in Shanghai. The clock ticks on from there, so no test runs across midnight and none depends on the
# day it runs.
FIXED_NOW = datetime(2026, 3, 4, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def fixed_clock() -> Iterator[Any]:
    """The clock set to ``FIXED_NOW`` for the whole test (ticking on). Use it with
    ``pytest.mark.usefixtures`` or from an autouse fixture, so the fixtures' data is made then too."""
    with time_machine.travel(FIXED_NOW, tick=True) as traveller:
        yield traveller


def make_id_number(area: str = "310104", birth: str = "19900307", seq: str = "123") -> str:
    first17 = area + birth + seq
    return first17 + id_check_digit(first17)


@dataclass
class Org:
    root: Unit
    organ: Unit
    xuhui: Unit
    xuhui_office: Unit
    huangpu: Unit
    party_root: Unit
    xuhui_committee: Unit
    xuhui_branch: Unit
    huangpu_committee: Unit
    alice: Person  # 徐汇, member of the Xuhui branch
    bob: Person  # 徐汇 tax office
    carol: Person  # 黄浦
    dave: Person  # bureau organ


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """argon2 costs about a second per user here; tests that check hashing use their own settings."""
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",  # still verifies passwords set before
    ]


@pytest.fixture(autouse=True)
def _english_outside_requests() -> Any:
    """Service-level messages in English for assertions; HTTP requests still pick their own language."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def org(db: Any) -> Org:
    a = SYSTEM
    root = unit_create(actor=a, code="SH", name="国家税务总局上海市税务局", kind="city_bureau", parent=None)
    organ = unit_create(actor=a, code="SH-JG", name="市局机关", kind="bureau_organ", parent=root)
    xuhui = unit_create(actor=a, code="XH", name="徐汇区税务局", kind="district_bureau", parent=root)
    xo = unit_create(actor=a, code="XH-S1", name="徐汇区税务局第一税务所", kind="tax_office", parent=xuhui)
    huangpu = unit_create(actor=a, code="HP", name="黄浦区税务局", kind="district_bureau", parent=root)
    proot = unit_create(actor=a, code="SH-DW", name="上海市税务局党委", kind="party_committee", parent=None)
    xc = unit_create(actor=a, code="XH-DW", name="徐汇区税务局党委", kind="party_committee", parent=proot)
    xb = unit_create(actor=a, code="XH-B01", name="第一税务所党支部", kind="branch", parent=xc)
    hc = unit_create(actor=a, code="HP-DW", name="黄浦区税务局党委", kind="party_committee", parent=proot)
    alice = person_create(
        actor=a,
        code="XH0001",
        name="张丽",
        unit=xuhui,
        party_unit=xb,
        gender="F",
        political_status="member",
        phone="13812345678",
        id_number=make_id_number(seq="124"),
        tags=["青年"],
    )
    bob = person_create(actor=a, code="XH0002", name="王强", unit=xo, gender="M", phone="13900001111")
    carol = person_create(
        actor=a,
        code="HP0001",
        name="李娜",
        unit=huangpu,
        gender="F",
        id_number=make_id_number(seq="246"),
        phone="13700002222",
    )
    dave = person_create(actor=a, code="JG0001", name="赵伟", unit=organ, gender="M")
    team = team_create(actor=a, code="XH-T1", name="税青逆行者", unit=xuhui, kind="youth")
    team_member_add(actor=a, team=team, person=alice, role="leader")
    return Org(root, organ, xuhui, xo, huangpu, proot, xc, xb, hc, alice, bob, carol, dave)


@pytest.fixture
def make_user(db: Any) -> Callable[..., Any]:
    def _make(username: str, role: str | None = None, unit: Unit | None = None, **extra: Any) -> Any:
        user = get_user_model().objects.create_user(username=username, password="pw-Muster-2026", **extra)
        if role and unit:
            role_grant(actor=SYSTEM, user=user, unit=unit, role=role)
        return user

    return _make


@pytest.fixture
def login(client: Client) -> Callable[[Any], Client]:
    def _login(user: Any) -> Client:
        c = Client()
        c.force_login(user)
        return c

    return _login


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file that ``muster migrate`` wrote, once per session (shared by the xdist workers): the
    console-script tests copy it instead of migrating a database of their own (``tests/cli/conftest.py``)."""
    from tests.cli.conftest import migrated_template_file

    return migrated_template_file(tmp_path_factory)
