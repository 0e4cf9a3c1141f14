"""Meetings through HTTP: record → attendance → submit → approve (with audit events and points), the
outsider refused at attendance, an approved meeting locked (a correction instead), return with an opinion."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from muster.audit.models import AuditEvent
from muster.orgs.access import SYSTEM
from muster.partylife import services as svc
from muster.partylife.models import Attendance, Meeting, MeetingReview, ReviewStatus
from muster.points.queries import statement

from .conftest import Party, at, client_for, hold_meeting

WHEN = "2025-05-06T14:00"


def points(value: Any) -> str:
    """A number of points as the pages show it (two decimals, none for a whole number)."""
    return f"{value:.2f}".removesuffix(".00")


def _create(party: Party, **extra: Any) -> Any:
    data = {
        "unit": party.branch.pk,
        "kinds": ["party_lesson", "theme_day"],
        "topic": "学习二十大精神党课",
        "starts_at": WHEN,
        "ends_at": "2025-05-06T16:00",
        "place": "三楼会议室",
        "host": party.secretary.code,
        "recorder": party.committee.code,
        "lecturer": party.secretary.code,
        "minutes": "书记讲党课。",
        "held": "on",
        **extra,
    }
    return client_for(party.sec_user).post(reverse("partylife:meeting_create"), data)


def test_record_attend_submit_approve_through_http_with_audit_and_points(party: Party) -> None:
    sec = client_for(party.sec_user)
    r = _create(party, attachment=SimpleUploadedFile("签到表.pdf", b"%PDF-1.4 sign-in", "application/pdf"))
    meeting = Meeting.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse(
        "partylife:meeting_attendance", args=[meeting.pk]
    )
    assert sorted(meeting.kinds) == ["party_lesson", "theme_day"]
    assert meeting.lecturer == party.secretary and meeting.attachments.get().name == "签到表.pdf"
    # expected attendees are the roster on 2025-05-06 (m2 joined 2024-04; "left" left in 2024)
    expected = set(meeting.attendance.filter(expected=True).values_list("person__code", flat=True))
    assert expected == {"XH0101", "XH0102", "XH0103", "XH0104", "XH0105", "XH0001"}

    page = sec.get(reverse("partylife:meeting_attendance", args=[meeting.pk]))
    assert page.status_code == 200 and "党员丁" in page.content.decode()
    post = {f"status_{a.person_id}": "present" for a in meeting.attendance.all()}
    post[f"status_{party.m2.pk}"] = "excused"
    post[f"reason_{party.m2.pk}"] = "出差"
    r = sec.post(reverse("partylife:meeting_attendance", args=[meeting.pk]), post)
    assert r.status_code == 302
    assert Attendance.objects.get(meeting=meeting, person=party.m2).reason == "出差"

    r = sec.post(reverse("partylife:meeting_submit", args=[meeting.pk]))
    meeting.refresh_from_db()
    assert r.status_code == 302 and meeting.review_status == ReviewStatus.SUBMITTED

    committee = client_for(party.committee_user)
    queue = committee.get(reverse("partylife:review_queue"))
    assert f'data-meeting="{meeting.pk}"' in queue.content.decode()
    # the branch secretary cannot approve their own meeting (the committee above does)
    assert sec.post(reverse("partylife:meeting_approve", args=[meeting.pk])).status_code == 403
    r = committee.post(
        reverse("partylife:meeting_approve", args=[meeting.pk]), {"opinion": "规范", "next": "queue"}
    )
    assert r.status_code == 302 and r["Location"] == reverse("partylife:review_queue")
    meeting.refresh_from_db()
    assert meeting.review_status == ReviewStatus.APPROVED
    assert MeetingReview.objects.filter(meeting=meeting, action="approved", opinion="规范").exists()

    actions = list(
        AuditEvent.objects.filter(target_id=str(meeting.pk), action__startswith="partylife.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    for a in (
        "partylife.meeting.created",
        "partylife.meeting.attached",
        "partylife.attendance.recorded",
        "partylife.meeting.submitted",
        "partylife.meeting.approved",
    ):
        assert a in actions
    assert actions.index("partylife.meeting.submitted") < actions.index("partylife.meeting.approved")

    # the detail page lists each attendee's points for this meeting and their statement balance
    detail = committee.get(reverse("partylife:meeting_detail", args=[meeting.pk])).content.decode()
    m1_total = statement(party.committee_user, party.m1, 2025).total
    assert m1_total == 5  # party lesson 3 + theme day 2
    assert f'data-person="{party.m1.code}"' in detail and f'data-points="{points(m1_total)}"' in detail
    sec_total = statement(party.committee_user, party.secretary, 2025).total
    assert sec_total == 10  # 3 + 2 + the lesson given (5)
    assert f'data-balance="{points(sec_total)}"' in detail
    assert 'data-status="approved"' in detail


def test_attendance_for_someone_not_in_the_branch_is_refused_with_a_form_error(party: Party) -> None:
    # m2 joined the branch on 2024-04-01: at a meeting in March 2024 they were not a member
    _create(party, starts_at="2024-03-05T14:00", ends_at="")
    meeting = Meeting.objects.get()
    r = client_for(party.sec_user).post(
        reverse("partylife:meeting_attendance", args=[meeting.pk]),
        {"extra_code": party.m2.code, "extra_status": "present"},
    )
    assert r.status_code == 200
    body = r.content.decode()
    assert 'id="attendance-errors"' in body
    assert "党员丁 was not a member of 第一税务所党支部 on 2024-03-05; record them as an observer." in body
    assert not Attendance.objects.filter(meeting=meeting, person=party.m2).exists()
    # as an observer they are accepted
    r = client_for(party.sec_user).post(
        reverse("partylife:meeting_attendance", args=[meeting.pk]),
        {"extra_code": party.m2.code, "extra_status": "observer"},
    )
    assert r.status_code == 302
    assert Attendance.objects.get(meeting=meeting, person=party.m2).status == "observer"
    # a staff number that is unknown (or out of sight) is a field error
    r = client_for(party.sec_user).post(
        reverse("partylife:meeting_attendance", args=[meeting.pk]),
        {"extra_code": party.org.carol.code, "extra_status": "observer"},
    )
    assert "No person with the staff number HP0001 was found." in r.content.decode()


def test_an_approved_meeting_cannot_be_edited_a_correction_goes_through_review(party: Party) -> None:
    m = hold_meeting(
        party, kinds=["theme_day"], when="2025-05-06 14:00", present=[party.m1], topic="主题党日"
    )
    sec = client_for(party.sec_user)
    page = sec.get(reverse("partylife:meeting_edit", args=[m.pk])).content.decode()
    assert 'id="locked"' in page and "Start a correction" in page
    r = sec.post(
        reverse("partylife:meeting_edit", args=[m.pk]),
        {"kinds": ["theme_day"], "topic": "改过的主题", "starts_at": "2025-05-06T14:00", "held": "on"},
    )
    assert r.status_code == 200
    assert "An approved meeting cannot be edited. Start a correction" in r.content.decode()
    m.refresh_from_db()
    assert m.topic == "主题党日" and m.review_status == ReviewStatus.APPROVED
    assert statement(party.sec_user, party.m1, 2025).total == 2

    r = sec.post(reverse("partylife:meeting_correction", args=[m.pk]), {"reason": "签到表漏记"})
    assert r.status_code == 302 and r["Location"] == reverse("partylife:meeting_edit", args=[m.pk])
    m.refresh_from_db()
    assert m.review_status == ReviewStatus.DRAFT and m.revision == 2
    assert statement(party.sec_user, party.m1, 2025).total == 0  # reversed until approved again
    r = sec.post(
        reverse("partylife:meeting_edit", args=[m.pk]),
        {"kinds": ["theme_day"], "topic": "改过的主题", "starts_at": "2025-05-06T14:00", "held": "on"},
    )
    assert r.status_code == 302
    sec.post(reverse("partylife:meeting_submit", args=[m.pk]))
    client_for(party.committee_user).post(reverse("partylife:meeting_approve", args=[m.pk]))
    m.refresh_from_db()
    assert m.topic == "改过的主题" and m.review_status == ReviewStatus.APPROVED
    assert statement(party.sec_user, party.m1, 2025).total == 2


def test_return_with_an_opinion(party: Party) -> None:
    m = hold_meeting(party, kinds=["theme_day"], when="2025-05-06 14:00", approve=False)
    committee = client_for(party.committee_user)
    r = committee.post(reverse("partylife:meeting_return", args=[m.pk]), {"opinion": ""})
    assert r.status_code == 302
    m.refresh_from_db()
    assert m.review_status == ReviewStatus.SUBMITTED  # an opinion is required
    follow = committee.get(r["Location"]).content.decode()
    assert "Say why the meeting is returned." in follow
    committee.post(reverse("partylife:meeting_return", args=[m.pk]), {"opinion": "缺少会议记录"})
    m.refresh_from_db()
    assert m.review_status == ReviewStatus.RETURNED
    detail = client_for(party.sec_user).get(reverse("partylife:meeting_detail", args=[m.pk])).content.decode()
    assert "缺少会议记录" in detail and 'data-action="returned"' in detail
    assert 'id="submit-form"' in detail  # the branch may fix it and send it again


def test_meeting_list_filters(party: Party) -> None:
    hold_meeting(party, kinds=["theme_day"], when="2025-05-06 14:00", topic="五月主题党日")
    svc.meeting_create(
        actor=SYSTEM,
        unit=party.branch,
        kinds=["party_lesson"],
        topic="草稿党课",
        starts_at=at("2025-06-03 14:00"),
    )
    sec = client_for(party.sec_user)
    body = sec.get(reverse("partylife:meetings")).content.decode()
    assert "五月主题党日" in body and "草稿党课" in body
    body = sec.get(reverse("partylife:meetings"), {"status": "approved"}).content.decode()
    assert "五月主题党日" in body and "草稿党课" not in body
    body = sec.get(reverse("partylife:meetings"), {"kind": "party_lesson"}).content.decode()
    assert "五月主题党日" not in body and "草稿党课" in body
    body = sec.get(reverse("partylife:meetings"), {"since": date(2025, 6, 1).isoformat()}).content.decode()
    assert "五月主题党日" not in body and "草稿党课" in body
    # out of scope: the 黄浦 committee sees none of them
    body = client_for(party.hp_user).get(reverse("partylife:meetings")).content.decode()
    assert "五月主题党日" not in body and "草稿党课" not in body
