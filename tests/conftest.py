"""Shared fixtures: a small organization with both trees, users with roles, logged-in clients."""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
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


@pytest.hookimpl(optionalhook=True)  # (a hook of pytest-xdist: unknown under ``-p no:xdist``)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadfile`` hands out the longest files first (tests/scheduling.py), so that no worker is
    left with a long file at the end while the others wait."""
    if config.getoption("dist") != "loadfile":
        return None
    from tests.scheduling import LongestFirst

    return LongestFirst(config, log)


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
    return build_org()


def build_org() -> Org:
    """The ``org`` fixture's organization (for a module fixture that builds it once)."""
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


# ---------------------------------------------------------------- the seeded demo, loaded once per session

# The test database as migrated, in memory (SQLite only): the seeded demo is loaded on top of it, whatever
# the tests before it left in this process's database (a flush after a ``transaction=True`` test empties
# even the rows of the data migrations).
_AS_MIGRATED: list[sqlite3.Connection] = []


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any) -> None:
    """pytest-django's test database; on SQLite a copy of it as migrated is kept (for ``seeded_demo``)."""
    from django.db import connection

    if connection.vendor == "sqlite":
        with django_db_blocker.unblock():
            connection.ensure_connection()
            copy = sqlite3.connect(":memory:", check_same_thread=False)
            connection.connection.backup(copy)
            _AS_MIGRATED.append(copy)


def _load_seeded_demo() -> None:
    """What every module on the seeded demo starts from: the demo organization and the seed scenario's
    ledger (``muster demo`` without serving), in English, passwords hashed the fast way."""
    from django.test import override_settings
    from django.utils import translation

    from muster.orgs.demo import load_demo
    from muster.reports.seed import load_seed_scenario

    with (
        translation.override("en"),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
    ):
        load_demo()
        assert load_seed_scenario() is True


def _restore(source: sqlite3.Connection) -> None:
    """The test database (SQLite) replaced, page by page, by ``source``; Django's own caches of rows
    emptied."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    connection.ensure_connection()
    assert not connection.in_atomic_block
    source.backup(connection.connection)
    ContentType.objects.clear_cache()


def _snapshot(into: sqlite3.Connection | None = None) -> sqlite3.Connection:
    """A copy of the test database (SQLite): in memory, or ``into`` another database."""
    from django.db import connection

    connection.ensure_connection()
    copy = into or sqlite3.connect(":memory:", check_same_thread=False)
    connection.connection.backup(copy)
    return copy


@pytest.fixture(scope="session")
def _seeded_demo_file(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A SQLite file of the test database as migrated with the seeded demo on top, made once per session
    (shared by the xdist workers: the first to take the file lock loads the demo in its own test database,
    copies it out and puts its database back; the others wait and copy)."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    template, ready = root / "muster-seeded-demo.sqlite3", root / "muster-seeded-demo.ready"
    with open(root / "muster-seeded-demo.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not ready.exists():
                with django_db_blocker.unblock():
                    here = _snapshot()
                    try:
                        _restore(_AS_MIGRATED[0])
                        _load_seeded_demo()
                        template.unlink(missing_ok=True)
                        with closing(sqlite3.connect(template)) as out:
                            _snapshot(into=out)
                    finally:
                        _restore(here)
                        here.close()
                ready.touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return template


def _refuse_transactional_tests(request: pytest.FixtureRequest) -> None:
    """The seeded module runs inside one outer transaction on PostgreSQL (and on a swapped file on SQLite):
    a test that commits (``transaction=True``, ``transactional_db``, ``live_server``) would see no demo from
    another connection and no ``on_commit``: refuse such a module outright."""
    for item in request.session.items:
        if getattr(item, "module", None) is not request.module:
            continue
        marker = item.get_closest_marker("django_db")
        names = set(getattr(item, "fixturenames", ()))
        if (marker is not None and marker.kwargs.get("transaction")) or names & {
            "transactional_db",
            "live_server",
        }:
            pytest.fail(f"{item.nodeid}: a module using seeded_demo may not hold transactional tests")


@pytest.fixture(scope="module")
def seeded_demo(
    request: pytest.FixtureRequest, django_db_setup: None, django_db_blocker: Any
) -> Iterator[None]:
    """The demo organization and the seed scenario's ledger in the test database for the whole module
    (``load_demo`` + ``load_seed_scenario``, ~2,800 entries through the services). A module fixture may
    add rows of its own on top (inside ``django_db_blocker.unblock()``); the tests use ``db`` as usual,
    so what a test writes is rolled back after it, and after the module the database is as before it.

    SQLite: the database is swapped for a copy of one the demo was loaded into once per session. Other
    databases: loaded for the module in a transaction that is rolled back after it."""
    from django.db import connection, transaction

    _refuse_transactional_tests(request)
    if connection.vendor == "sqlite":
        template: Path = request.getfixturevalue("_seeded_demo_file")
        with django_db_blocker.unblock():
            before = _snapshot()
            try:
                with closing(sqlite3.connect(template)) as seeded:
                    _restore(seeded)
                yield None
            finally:
                _restore(before)
                before.close()
        return
    atomic = transaction.atomic()
    with django_db_blocker.unblock():
        atomic.__enter__()
    try:
        with django_db_blocker.unblock():
            _load_seeded_demo()
        yield None
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
