"""A small ledger written through the mobilization services, for the report pages.

As of 2022-03-13 24:00: 徐汇 (its office XH-S1) sent alice and bob — 1 batch, 2 person-times, 16.5 hours
(alice 8.5 h, and 4 h of a night shift running to 04:00; bob 4 h); 黄浦 sent carol — 1 batch, 1
person-time, 2 hours, plus 1 community-service hour of carol still pending; dave (the organ) served his
community for 3 hours. Totals: 2 batches, 3 person-times, 3 persons, 18.5 hours, 1 community person, 3
community hours.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from muster.mobilize import services as svc
from muster.mobilize.models import EntryKind
from muster.orgs.access import SYSTEM
from tests.partylife.conftest import party  # noqa: F401  (the party-life fixture, for the party figures)

TZ = ZoneInfo("Asia/Shanghai")
QUERY = {"unit": "SH", "date": "2022-03-13", "time": "24:00"}


def at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=TZ)


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def build_ledger(org: Any, *, xh_code: str = "") -> dict[str, Any]:
    xh = svc.deployment_dispatch(
        actor=SYSTEM,
        unit=org.xuhui_office,
        title="核酸检测",
        start=at("2022-03-12 06:00"),
        end=at("2022-03-14 06:00"),
        people=[org.alice, org.bob],
        site="宛平社区",
        code=xh_code,
    ).deployment
    hp = svc.deployment_dispatch(
        actor=SYSTEM,
        unit=org.huangpu,
        title="疾控",
        start=at("2022-03-13 06:00"),
        end=at("2022-03-14 06:00"),
        people=[org.carol],
    ).deployment
    rec = svc.entry_record
    rows = {
        "alice1": rec(
            actor=SYSTEM,
            person=org.alice,
            kind=EntryKind.DISPATCH,
            deployment=xh,
            start=at("2022-03-12 08:00"),
            end=at("2022-03-12 16:30"),
        ),
        "alice2": rec(
            actor=SYSTEM,
            person=org.alice,
            kind=EntryKind.DISPATCH,
            deployment=xh,
            start=at("2022-03-13 20:00"),
            end=at("2022-03-14 04:00"),
        ),
        "bob": rec(
            actor=SYSTEM,
            person=org.bob,
            kind=EntryKind.DISPATCH,
            deployment=xh,
            start=at("2022-03-12 08:00"),
            end=at("2022-03-12 12:00"),
        ),
        "carol": rec(
            actor=SYSTEM,
            person=org.carol,
            kind=EntryKind.DISPATCH,
            deployment=hp,
            start=at("2022-03-13 08:00"),
            end=at("2022-03-13 10:00"),
        ),
        "dave": rec(
            actor=SYSTEM,
            person=org.dave,
            kind=EntryKind.COMMUNITY,
            start=at("2022-03-13 09:00"),
            end=at("2022-03-13 12:00"),
        ),
        "pending": rec(
            actor=SYSTEM,
            person=org.carol,
            kind=EntryKind.COMMUNITY,
            start=at("2022-03-13 14:00"),
            end=at("2022-03-13 15:00"),
            approve=False,
        ),
    }
    return {"xh": xh, "hp": hp, **rows}


@pytest.fixture
def ledger(org: Any) -> dict[str, Any]:
    return build_ledger(org)
