"""Fixtures for party life: a branch with members, a party group, users with party roles."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from muster.orgs.access import SYSTEM
from muster.orgs.models import Person, Unit
from muster.orgs.services import person_create, unit_create
from muster.partylife import services as svc
from muster.partylife.models import AttendanceStatus, Meeting

TZ = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    """'2024-03-05 14:00' in Shanghai time."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=TZ)


def link(person: Person, user: Any) -> Person:
    """Link a login to a person (back-office step; no service exists for it yet)."""
    Person.objects.filter(pk=person.pk).update(user=user)
    person.refresh_from_db()
    return person


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Messages are matched in their English source form."""
    with translation.override("en"):
        yield


@dataclass
class Party:
    org: Any
    branch: Unit  # XH-B01 under XH-DW under SH-DW
    group: Unit  # a party group in the branch
    secretary: Person  # branch secretary (committee) since 2023-01-01
    committee: Person  # committee member since 2023-01-01
    m1: Person  # member since 2023-01-01 (in the party group)
    m2: Person  # member since 2024-04-01 (joined later)
    prob: Person  # probationary member since 2023-06-01
    left: Person  # member 2023-01-01 .. 2024-02-29, then left
    sec_user: Any  # secretary role on the branch
    committee_user: Any  # secretary role on XH-DW (the committee above)
    city_user: Any  # secretary role on SH-DW (the root committee)
    hp_user: Any  # secretary on HP-DW (徐汇 out of scope)
    admin: Any  # admin on SH-DW
    viewer: Any  # viewer on the branch
    alice_user: Any  # linked to alice (legacy member: no history rows)


@pytest.fixture
def party(org: Any, make_user: Callable[..., Any]) -> Party:
    a = SYSTEM
    b = org.xuhui_branch
    group = unit_create(actor=a, code="XH-B01-G1", name="第一党小组", kind="party_group", parent=b)

    def member(code: str, name: str, status: str = "member") -> Person:
        return person_create(
            actor=a, code=code, name=name, unit=org.xuhui, party_unit=b, political_status=status
        )

    sec, com, m1, m2, prob, left = (
        member("XH0101", "书记甲"),
        member("XH0102", "委员乙"),
        member("XH0103", "党员丙"),
        member("XH0104", "党员丁"),
        member("XH0105", "预备戊", "probationary"),
        member("XH0106", "调出己"),
    )
    svc.branch_membership_start(actor=a, person=sec, branch=b, start=date(2023, 1, 1), role="secretary")
    svc.branch_membership_start(actor=a, person=com, branch=b, start=date(2023, 1, 1), role="committee")
    svc.branch_membership_start(actor=a, person=m1, branch=group, start=date(2023, 1, 1))
    svc.branch_membership_start(actor=a, person=m2, branch=b, start=date(2024, 4, 1))
    svc.branch_membership_start(actor=a, person=prob, branch=b, start=date(2023, 6, 1))
    ms = svc.branch_membership_start(actor=a, person=left, branch=b, start=date(2023, 1, 1))
    svc.branch_membership_end(actor=a, membership=ms, end=date(2024, 2, 29), reason="transferred out")
    for p in (sec, com, m1, m2, prob, left):
        p.refresh_from_db()
    alice_user = make_user("alice")
    link(org.alice, alice_user)
    return Party(
        org=org,
        branch=b,
        group=group,
        secretary=sec,
        committee=com,
        m1=m1,
        m2=m2,
        prob=prob,
        left=left,
        sec_user=make_user("sec", "secretary", b),
        committee_user=make_user("xhdw", "secretary", org.xuhui_committee),
        city_user=make_user("shdw", "secretary", org.party_root),
        hp_user=make_user("hpdw", "secretary", org.huangpu_committee),
        admin=make_user("admin", "admin", org.party_root),
        viewer=make_user("viewer", "viewer", b),
        alice_user=alice_user,
    )


def hold_meeting(
    party: Party,
    *,
    kinds: list[str],
    when: str,
    present: list[Person] | None = None,
    lecturer: Person | None = None,
    topic: str = "学习会",
    unit: Unit | None = None,
    approve: bool = True,
) -> Meeting:
    """Record a held meeting, mark everyone expected (present if listed, else excused), submit, approve."""
    unit = unit or party.branch
    m = svc.meeting_create(
        actor=party.sec_user if unit.path.startswith(party.branch.path) else SYSTEM,
        unit=unit,
        kinds=kinds,
        topic=topic,
        starts_at=at(when),
        held=True,
        lecturer=lecturer,
    )
    here = {p.pk for p in (present or [])}
    marks = [
        svc.AttendanceMark(a.person, AttendanceStatus.PRESENT)
        if a.person_id in here
        else svc.AttendanceMark(a.person, AttendanceStatus.EXCUSED, "出差")
        for a in m.attendance.select_related("person")
    ]
    svc.attendance_record(actor=SYSTEM, meeting=m, marks=marks)
    svc.meeting_submit(actor=SYSTEM, meeting=m)
    if approve:
        svc.meeting_approve(actor=party.committee_user, meeting=m)
    m.refresh_from_db()
    return m
