"""``services.person_create_many``: the bulk path the demo loader uses (same checks, same audit events)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from muster.audit.models import AuditEvent
from muster.orgs.access import SYSTEM, NotAllowed
from muster.orgs.models import Person
from muster.orgs.services import person_create_many
from tests.conftest import Org, make_id_number

pytestmark = pytest.mark.django_db
GOOD_ID = make_id_number(seq="301")
WRONG_CHECK_DIGIT = GOOD_ID[:-1] + ("0" if GOOD_ID[-1] != "0" else "1")


def row(org: Org, code: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "name": "测试" + code[-1], "unit": org.xuhui, **extra}


def test_creates_people_with_encrypted_data_tags_and_one_audit_event_each(org: Org) -> None:
    before = AuditEvent.objects.filter(action="orgs.person.created").count()
    people = person_create_many(
        actor=SYSTEM,
        people=[
            row(org, "XH0101", party_unit=org.xuhui_branch, political_status="member", gender="F",
                phone="１３８ 0000 1111", id_number=make_id_number(seq="300"), tags=["青年", "志愿者"]),
            row(org, "XH0102", unit=org.xuhui_office, tags=["志愿者"]),
        ],
        batch="demo-test",
    )  # fmt: skip
    assert [p.code for p in people] == ["XH0101", "XH0102"]
    first = Person.objects.get(code="XH0101")
    assert first.phone == "13800001111" and first.phone_enc.startswith("v1:")
    assert first.id_number == make_id_number(seq="300")
    assert first.party_unit == org.xuhui_branch
    assert sorted(first.tags.values_list("name", flat=True)) == ["志愿者", "青年"]
    events = AuditEvent.objects.filter(action="orgs.person.created", batch="demo-test")
    assert events.count() == 2 == AuditEvent.objects.filter(action="orgs.person.created").count() - before
    event = events.get(target_id=str(first.pk))
    assert event.unit_path == org.xuhui.path
    assert event.changes["phone"] == "138****1111"
    assert event.changes["tags"] == ["志愿者", "青年"]


@pytest.mark.parametrize(
    ("bad", "key"),
    [
        ({"id_number": WRONG_CHECK_DIGIT}, "XH0102: id_number"),
        ({"phone": "12345"}, "XH0102: phone"),
        ({"code": "XH0001"}, "XH0001: code"),  # alice's staff number
        ({"code": "XH0101"}, "XH0101: code"),  # twice in the batch
        ({"id_number": make_id_number(seq="124")}, "XH0102: id_number"),  # alice's ID number
        ({"unit": "party"}, "XH0102: unit"),
        ({"party_unit": "admin"}, "XH0102: party_unit"),
        ({"political_status": "pirate"}, "XH0102: political_status"),
        ({"name": ""}, "XH0102: name"),
    ],
)
def test_one_bad_item_refuses_the_whole_batch(org: Org, bad: dict[str, Any], key: str) -> None:
    if bad.get("unit") == "party":
        bad = {"unit": org.xuhui_committee}
    if bad.get("party_unit") == "admin":
        bad = {"party_unit": org.xuhui}
    people_before, events_before = Person.objects.count(), AuditEvent.objects.count()
    with pytest.raises(ValidationError) as exc:
        person_create_many(actor=SYSTEM, people=[row(org, "XH0101"), {**row(org, "XH0102"), **bad}])
    assert key in exc.value.message_dict
    assert Person.objects.count() == people_before
    assert AuditEvent.objects.count() == events_before


def test_the_same_id_number_twice_in_a_batch_is_refused(org: Org) -> None:
    same = make_id_number(seq="500")
    with pytest.raises(ValidationError) as exc:
        person_create_many(
            actor=SYSTEM,
            people=[row(org, "XH0101", id_number=same), row(org, "XH0102", id_number=same)],
        )
    assert "XH0102: id_number" in exc.value.message_dict
    assert not Person.objects.filter(code__in=["XH0101", "XH0102"]).exists()


def test_permission_is_checked_for_every_unit(org: Org, make_user: Any) -> None:
    manager = make_user("xh_manager", "manager", org.xuhui)
    person_create_many(actor=manager, people=[row(org, "XH0101")])
    with pytest.raises(NotAllowed):
        person_create_many(actor=manager, people=[row(org, "XH0102"), row(org, "HP0102", unit=org.huangpu)])
    assert not Person.objects.filter(code__in=["XH0102", "HP0102"]).exists()
