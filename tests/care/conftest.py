"""Care fixtures: subjects in 徐汇 (with 王强 as liaison) and 黄浦, a manager, a care-data holder."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from muster.care import services as care
from muster.care.models import CareSubject
from muster.orgs.access import SYSTEM


@dataclass
class Care:
    org: Any
    old: CareSubject  # 张丽's mother-in-law: an outside resident of 徐汇, 85 years old
    young: CareSubject  # a registry person (王强 himself is the liaison of both)
    far: CareSubject  # in 黄浦: out of the 徐汇 users' scope
    manager: Any  # manager on 徐汇 (no care data)
    nurse: Any  # manager on 徐汇 with the care-data permission
    liaison_user: Any  # 王强's login


@pytest.fixture
def cared(org: Any, make_user: Any, fixed_clock: Any) -> Care:
    from muster.orgs.services import person_link_user

    liaison_user = make_user("wangqiang")
    person_link_user(actor=SYSTEM, person=org.bob, user=liaison_user)
    old = care.subject_create(
        actor=SYSTEM,
        unit=org.xuhui,
        code="C0001",
        name="陈秀英",
        birth_date=date(1941, 5, 2),
        phone="13611112222",
        address="徐汇区漕溪北路100弄5号301室",
        community="漕河泾街道",
        liaison=org.bob,
    )
    young = care.subject_create(actor=SYSTEM, unit=org.xuhui, code="C0002", person=org.alice, liaison=org.bob)
    far = care.subject_create(
        actor=SYSTEM, unit=org.huangpu, code="C0003", name="周建国", birth_date=date(1950, 1, 1)
    )
    manager = make_user("xh_manager", "manager", org.xuhui)
    nurse = make_user("xh_nurse", "manager", org.xuhui)
    care.care_grant(actor=SYSTEM, user=nurse, unit=org.xuhui)
    return Care(org, old, young, far, manager, nurse, liaison_user)
