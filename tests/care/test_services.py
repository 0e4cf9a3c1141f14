"""The care ledger's services: subjects, survey rounds, risk tags, the contact plan and every bad input."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from muster import clock
from muster.audit.models import AuditEvent
from muster.care import queries
from muster.care import services as care
from muster.care.models import CareSubject, Observation, RiskLevel, SubjectStatus
from muster.orgs.access import SYSTEM, NotAllowed


def test_outside_resident_personal_data_is_encrypted_and_masked(cared: Any) -> None:
    s = CareSubject.objects.get(code="C0001")
    assert "13611112222" not in s.phone_enc and s.phone == "13611112222"
    assert s.phone_masked == "136****2222"
    assert "漕溪北路" not in s.address_enc and s.address_masked.endswith("****")
    assert s.address_masked.startswith("徐汇区漕溪北")


def test_registry_subject_reads_the_person(cared: Any) -> None:
    assert cared.young.name == "张丽" and cared.young.phone == "13812345678"


@pytest.mark.parametrize(
    ("field", "value"),
    [("phone", "12345"), ("id_number", "310104199003071230"), ("id_number", "31010419900307")],
)
def test_malformed_phone_or_id_number_is_refused(cared: Any, field: str, value: str) -> None:
    with pytest.raises(ValidationError) as exc:
        given: dict[str, Any] = {field: value}
        care.subject_create(actor=SYSTEM, unit=cared.org.xuhui, code="C0099", name="某某", **given)
    assert field in exc.value.message_dict
    assert not CareSubject.objects.filter(code="C0099").exists()


def test_age_rule_tags_advanced_age_at_creation_and_level_is_high(cared: Any) -> None:
    old = CareSubject.objects.get(pk=cared.old.pk)
    assert set(care.current_tags(old)) == {"advanced_age"}
    assert old.risk_level == RiskLevel.HIGH
    assert CareSubject.objects.get(pk=cared.young.pk).risk_level == RiskLevel.NORMAL


def test_answers_are_observations_later_supersedes_and_rules_follow(cared: Any) -> None:
    r = care.round_open(actor=cared.manager, unit=cared.org.xuhui, name="第一轮排摸")
    now = clock.now()
    care.survey_answer_record(
        actor=cared.liaison_user,
        subject=cared.young,
        round=r,
        channel="phone",
        answers={"living": "独居", "vaccine_doses": "3", "test_date": "2026-03-03"},
        at=now - timedelta(hours=2),
    )
    young = CareSubject.objects.get(pk=cared.young.pk)
    assert set(care.current_tags(young)) == {"living_alone"} and young.risk_level == RiskLevel.HIGH
    care.survey_answer_record(
        actor=cared.liaison_user,
        subject=young,
        round=r,
        channel="wechat",
        answers={"living": "与家人同住"},
        at=now,
    )
    young = CareSubject.objects.get(pk=cared.young.pk)
    assert care.current_tags(young) == {} and young.risk_level == RiskLevel.NORMAL
    assert care.latest_values([young.pk])[young.pk]["living"] == "与家人同住"
    assert Observation.objects.filter(subject=young, dimension__code="living").count() == 2  # history kept
    cov = queries.round_coverage(r)
    assert (cov.reached, cov.total) == (1, 2) and cov.percent == Decimal("50.0")
    assert [s.code for s in queries.not_reached(r)] == ["C0001"]


def test_observations_are_append_only(cared: Any) -> None:
    r = care.round_open(actor=SYSTEM, unit=cared.org.xuhui, name="r")
    (o,) = care.survey_answer_record(
        actor=SYSTEM, subject=cared.old, round=r, channel="sms", answers={"health": "良好"}
    )
    with pytest.raises(TypeError):
        o.save()
    with pytest.raises(TypeError):
        Observation.objects.filter(pk=o.pk).update(value="较差")


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({"health": "很好"}, "health"),  # outside the allowed set
        ({"vaccine_doses": "-1"}, "vaccine_doses"),
        ({"vaccine_doses": "三"}, "vaccine_doses"),
        ({"test_date": "2099-01-01"}, "test_date"),  # a date in the future
        ({"test_date": "9999-12-31"}, "test_date"),
        ({"nonsense": "x"}, "answers"),
        ({"needs": "买药\x00"}, "needs"),
    ],
)
def test_bad_answers_are_refused_and_nothing_written(cared: Any, answers: dict[str, str], field: str) -> None:
    r = care.round_open(actor=SYSTEM, unit=cared.org.xuhui, name="r")
    with pytest.raises(ValidationError) as exc:
        care.survey_answer_record(actor=SYSTEM, subject=cared.old, round=r, channel="phone", answers=answers)
    assert field in exc.value.message_dict
    assert not Observation.objects.exists()


def test_answer_dated_in_the_future_or_in_closed_round_is_refused(cared: Any) -> None:
    r = care.round_open(actor=SYSTEM, unit=cared.org.xuhui, name="r")
    with pytest.raises(ValidationError) as exc:
        care.survey_answer_record(
            actor=SYSTEM,
            subject=cared.old,
            round=r,
            channel="phone",
            answers={"health": "良好"},
            at=clock.now() + timedelta(days=1),
        )
    assert "at" in exc.value.message_dict
    care.round_close(actor=SYSTEM, round=r)
    with pytest.raises(ValidationError) as exc:
        care.survey_answer_record(
            actor=SYSTEM, subject=cared.old, round=r, channel="phone", answers={"health": "良好"}
        )
    assert "closed" in exc.value.messages[0]
    assert not Observation.objects.exists()


def test_a_dimension_can_be_added_as_data(cared: Any) -> None:
    care.dimension_create(actor=SYSTEM, code="mood", label="情绪", kind="choice", choices=["平稳", "焦虑"])
    r = care.round_open(actor=SYSTEM, unit=cared.org.xuhui, name="r", dimensions=["mood", "health"])
    care.survey_answer_record(
        actor=SYSTEM, subject=cared.old, round=r, channel="visit", answers={"mood": "焦虑"}
    )
    with pytest.raises(ValidationError):
        care.survey_answer_record(
            actor=SYSTEM, subject=cared.old, round=r, channel="visit", answers={"mood": "开心"}
        )


def test_manual_tag_needs_reason_and_care_data(cared: Any) -> None:
    with pytest.raises(ValidationError):
        care.risk_tag_set(actor=cared.nurse, subject=cared.young, tag="serious_illness", on=True, reason=" ")
    with pytest.raises(NotAllowed):
        care.risk_tag_set(
            actor=cared.liaison_user, subject=cared.young, tag="serious_illness", on=True, reason="x"
        )
    care.risk_tag_set(
        actor=cared.nurse, subject=cared.young, tag="serious_illness", on=True, reason="住院化疗"
    )
    assert CareSubject.objects.get(pk=cared.young.pk).risk_level == RiskLevel.HIGH
    care.risk_tag_set(
        actor=cared.nurse, subject=cared.young, tag="serious_illness", on=False, reason="已康复"
    )
    assert CareSubject.objects.get(pk=cared.young.pk).risk_level == RiskLevel.NORMAL
    assert cared.young.tag_events.count() == 2


def test_contact_plan_due_list_and_one_tap_all_well(cared: Any) -> None:
    today = clock.today()
    assert [s.code for s in queries.due_list(cared.org.bob)] == ["C0001", "C0002"]
    care.contact_record(actor=cared.liaison_user, subject=cared.old, channel="phone", outcome="ok")
    old = CareSubject.objects.get(pk=cared.old.pk)
    assert old.next_due_on == today + timedelta(days=2)  # high risk: every 2 days
    assert [s.code for s in queries.due_list(cared.org.bob)] == ["C0002"]
    assert [s.code for s in queries.due_list(cared.org.bob, today=today + timedelta(days=2))] == [
        "C0002",
        "C0001",
    ]
    care.contact_record(actor=cared.liaison_user, subject=cared.young, channel="wechat", outcome="ok")
    assert CareSubject.objects.get(pk=cared.young.pk).next_due_on == today + timedelta(days=7)
    rows = queries.overdue_by(
        cared.manager, unit=cared.org.xuhui, by="liaison", today=today + timedelta(days=3)
    )
    assert [(r.name, r.overdue) for r in rows] == [("王强", 1)]


def test_frequency_is_data(cared: Any) -> None:
    care.contact_record(actor=SYSTEM, subject=cared.old, channel="phone")
    care.frequency_set(actor=SYSTEM, level="high", every_days=1)
    assert CareSubject.objects.get(pk=cared.old.pk).next_due_on == clock.today() + timedelta(days=1)
    with pytest.raises(ValidationError):
        care.frequency_set(actor=SYSTEM, level="high", every_days=0)
    with pytest.raises(NotAllowed):
        care.frequency_set(actor=cared.manager, level="high", every_days=3)


def test_deceased_gets_no_plan_or_delivery(cared: Any) -> None:
    care.subject_status_set(actor=cared.manager, subject=cared.old, status="deceased", on=clock.today())
    old = CareSubject.objects.get(pk=cared.old.pk)
    assert old.status == SubjectStatus.DECEASED and old.next_due_on is None
    with pytest.raises(ValidationError):
        care.contact_schedule(actor=SYSTEM, subject=old, on=clock.today())
    with pytest.raises(ValidationError) as exc:
        care.delivery_run_create(
            actor=SYSTEM,
            unit=cared.org.xuhui,
            name="蔬菜包",
            kind="supplies",
            lines=[care.LineIn(cared.young, "蔬菜包", 1), care.LineIn(old, "蔬菜包", 1)],
        )
    assert "deceased" in exc.value.messages[0]
    with pytest.raises(ValidationError):
        care.subject_status_set(actor=cared.manager, subject=old, status="active", on=clock.today())
    assert queries.deceased_count(cared.org.xuhui, clock.now() + timedelta(days=1)) == 1


@pytest.mark.parametrize("qty", ["-1", "0", "abc", "1e30", "NaN", "1.234"])
def test_bad_quantities_are_refused(cared: Any, qty: str) -> None:
    with pytest.raises(ValidationError) as exc:
        care.delivery_run_create(
            actor=SYSTEM,
            unit=cared.org.xuhui,
            name="run",
            kind="supplies",
            lines=[care.LineIn(cared.old, "鲜肉", qty)],
        )
    assert "lines.1.quantity" in exc.value.message_dict


def test_help_request_pipeline_due_time_resolve_twice_and_notice(cared: Any) -> None:
    from muster.notify.models import Notification

    r = care.help_request_raise(
        actor=cared.manager,
        unit=cared.org.xuhui,
        subject=cared.old,
        source="contact",
        category="food",
        urgency="urgent",
        description="多天只吃白米饭",
    )
    assert r.due_at == r.raised_at + timedelta(hours=4)
    care.help_request_step(actor=cared.manager, request=r, status="assigned", assignee=cared.org.bob)
    care.help_request_step(actor=SYSTEM, request=r, status="resolved", note="牛奶泡面送达")
    assert [s.status for s in r.steps.order_by("pk")] == ["new", "assigned", "resolved"]
    with pytest.raises(ValidationError) as exc:
        care.help_request_step(actor=SYSTEM, request=r, status="resolved")
    assert "already" in exc.value.messages[0]
    assert Notification.objects.filter(recipient=cared.manager, verb="care.help.resolved").count() == 1


def test_delivery_line_fulfils_help_request(cared: Any) -> None:
    r = care.help_request_raise(
        actor=SYSTEM,
        unit=cared.org.xuhui,
        subject=cared.old,
        source="hotline",
        category="medicine",
        urgency="high",
        description="降压药",
    )
    run = care.delivery_run_create(
        actor=SYSTEM,
        unit=cared.org.xuhui,
        name="代配药",
        kind="medicine",
        lines=[care.LineIn(cared.old, "降压药", "2", "处方: 氨氯地平", r)],
    )
    line = run.lines.get()
    care.delivery_line_mark(actor=SYSTEM, line=line, status="delivered")
    r.refresh_from_db()
    assert r.status == "resolved"
    with pytest.raises(ValidationError):
        care.delivery_line_mark(actor=SYSTEM, line=line, status="failed")  # no reason


def test_payment_needs_a_second_person(cared: Any) -> None:
    p = care.consolation_record(
        actor=cared.nurse, subject=cared.old, kind="payment", amount="2000", channel="wechat", to_family=True
    )
    with pytest.raises(ValidationError) as exc:
        care.consolation_approve(actor=cared.nurse, consolation=p)
    assert "approved_by" in exc.value.message_dict
    with pytest.raises(NotAllowed):  # a manager without the care-data permission
        care.consolation_approve(actor=cared.manager, consolation=p)
    care.consolation_approve(actor=SYSTEM, consolation=p)
    assert queries.payments(cared.org.xuhui, clock.now() + timedelta(minutes=5)).count() == 1
    with pytest.raises(ValidationError):
        care.consolation_record(
            actor=SYSTEM, subject=cared.old, kind="payment", amount="-5", channel="wechat"
        )


def test_every_write_is_audited(cared: Any) -> None:
    assert AuditEvent.objects.filter(action="care.subject.created").count() == 3
    assert AuditEvent.objects.filter(action="care.grant.created").count() == 1


def test_status_date_in_future_refused(cared: Any) -> None:
    with pytest.raises(ValidationError):
        care.subject_status_set(actor=SYSTEM, subject=cared.old, status="moved", on=date(2099, 1, 1))
