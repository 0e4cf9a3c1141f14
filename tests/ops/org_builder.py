"""A small organization built through the services, for the backup and whole-workbook tests.

Importable (``build()``) and runnable as a script inside ``muster shell`` (the console-script tests run
it against their own database): units of both trees, people with ID numbers and phones, a login with a
password and a role, a batch with members and approved service, a pending self-report, community
service, and an evidence photo uploaded into MEDIA_ROOT. Self-contained: the subprocess cannot import
the tests package.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

PASSWORD = "Restore-Check-2026!"
EVIDENCE = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8  # not a real picture; bytes to compare
AS_OF = "2022-03-20 24:00"


def _at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo("Asia/Shanghai"))


def id_number(birth: str, seq: str) -> str:
    from muster.orgs.validators import id_check_digit

    first17 = "310104" + birth + seq
    return first17 + id_check_digit(first17)


def build() -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.core.files.base import ContentFile

    from muster.mobilize import services as mob
    from muster.orgs.access import SYSTEM
    from muster.orgs.services import person_create, person_link_user, role_grant, unit_create

    a = SYSTEM
    root = unit_create(actor=a, code="SH", name="国家税务总局上海市税务局", kind="city_bureau", parent=None)
    xh = unit_create(actor=a, code="XH", name="徐汇区税务局", kind="district_bureau", parent=root)
    office = unit_create(actor=a, code="XH-S1", name="徐汇区税务局第一税务所", kind="tax_office", parent=xh)
    hp = unit_create(actor=a, code="HP", name="黄浦区税务局", kind="district_bureau", parent=root)
    party = unit_create(actor=a, code="SH-DW", name="上海市税务局党委", kind="party_committee", parent=None)
    branch = unit_create(actor=a, code="XH-B01", name="第一税务所党支部", kind="branch", parent=party)
    alice = person_create(
        actor=a,
        code="XH0001",
        name="张丽",
        unit=xh,
        party_unit=branch,
        political_status="member",
        phone="13812345678",
        id_number=id_number("19900307", "124"),
    )
    bob = person_create(
        actor=a,
        code="XH0002",
        name="王强",
        unit=office,
        phone="13900001111",
        id_number=id_number("19850612", "315"),
    )
    carol = person_create(
        actor=a,
        code="HP0001",
        name="李娜",
        unit=hp,
        phone="13700002222",
        id_number=id_number("19921111", "246"),
    )
    user = get_user_model().objects.create_user(username="zhangli", password=PASSWORD)
    person_link_user(actor=a, person=alice, user=user)
    role_grant(actor=a, user=user, unit=xh, role="leader")
    d = mob.deployment_dispatch(
        actor=a,
        unit=xh,
        title="核酸检测",
        start=_at("2022-03-12 06:00"),
        end=_at("2022-03-13 06:00"),
        people=[alice, bob],
        leader=alice,
        site="宛平社区",
    ).deployment
    mob.entry_record(
        actor=a,
        person=alice,
        kind="dispatch",
        deployment=d,
        start=_at("2022-03-12 08:00"),
        end=_at("2022-03-12 16:00"),
        evidence=ContentFile(EVIDENCE, name="wanping.png"),
    )
    mob.entry_record(
        actor=a,
        person=bob,
        kind="dispatch",
        deployment=d,
        start=_at("2022-03-12 08:00"),
        end=_at("2022-03-12 12:30"),
    )
    mob.entry_record(
        actor=a, person=carol, kind="community", start=_at("2022-03-15 09:00"), end=_at("2022-03-15 11:00")
    )
    mob.entry_record(
        actor=user, person=alice, kind="community", start=_at("2022-03-16 19:00"), end=_at("2022-03-16 21:00")
    )  # her own report: pending
    return {"deployment": d.code, "people": [alice.code, bob.code, carol.code]}


if __name__ == "__main__":
    print(build())
