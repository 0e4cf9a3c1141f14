"""Meetings: roster at a date, attendance, held/future, quorum, review, corrections, concurrency."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404
from django.utils import timezone

from muster.audit.models import AuditEvent
from muster.orgs.access import SYSTEM, NotAllowed
from muster.partylife import queries
from muster.partylife import services as svc
from muster.partylife.models import AttendanceStatus, Meeting, MeetingReview, ReviewStatus
from muster.points.models import PointEntry
from muster.points.queries import facts_balances, ledger_balances, statement

from .conftest import Party, at, hold_meeting

P, A, E, OBS = (
    AttendanceStatus.PRESENT,
    AttendanceStatus.ABSENT,
    AttendanceStatus.EXCUSED,
    AttendanceStatus.OBSERVER,
)


def expected_codes(m: Meeting) -> set[str]:
    return set(m.attendance.filter(expected=True).values_list("person__code", flat=True))


def test_expected_attendees_come_from_the_roster_on_the_meeting_date(party: Party) -> None:
    march = svc.meeting_create(
        actor=party.sec_user,
        unit=party.branch,
        kinds=["theme_day"],
        topic="主题党日",
        starts_at=at("2024-03-05 14:00"),
    )
    # m2 joined on 2024-04-01; "left" left on 2024-02-29; m1 is in the party group (inside the branch);
    # alice has no history rows and counts by her current party organization.
    assert expected_codes(march) == {"XH0101", "XH0102", "XH0103", "XH0105", "XH0001"}
    january = svc.meeting_create(
        actor=party.sec_user,
        unit=party.branch,
        kinds=["theme_day"],
        topic="主题党日",
        starts_at=at("2024-01-09 14:00"),
    )
    assert expected_codes(january) == {"XH0101", "XH0102", "XH0103", "XH0105", "XH0106", "XH0001"}
    # moving the date refills the list
    svc.meeting_update(actor=party.sec_user, meeting=january, starts_at=at("2024-05-09 14:00"))
    assert expected_codes(january) == {"XH0101", "XH0102", "XH0103", "XH0104", "XH0105", "XH0001"}


def test_committee_meeting_expects_only_the_committee(party: Party) -> None:
    m = svc.meeting_create(
        actor=party.sec_user,
        unit=party.branch,
        kinds=["branch_committee"],
        topic="支委会",
        starts_at=at("2024-03-05 09:00"),
    )
    assert expected_codes(m) == {"XH0101", "XH0102"}
    svc.meeting_update(actor=party.sec_user, meeting=m, kinds=["branch_committee", "theme_day"])
    assert len(expected_codes(m)) == 5


def test_attendance_for_someone_not_in_the_branch_that_day_is_refused(party: Party) -> None:
    m = svc.meeting_create(
        actor=party.sec_user,
        unit=party.branch,
        kinds=["party_lesson"],
        topic="党课",
        starts_at=at("2024-03-05 14:00"),
        held=True,
    )
    with pytest.raises(ValidationError) as exc:
        svc.attendance_record(
            actor=party.sec_user,
            meeting=m,
            marks=[
                svc.AttendanceMark(party.secretary, P),
                svc.AttendanceMark(party.m2, P),
                svc.AttendanceMark(party.left, A),
            ],
        )
    text = " ".join(exc.value.message_dict["attendance"])
    assert "党员丁 was not a member of 第一税务所党支部 on 2024-03-05" in text
    assert "调出己 was not a member" in text
    # nothing was written: the secretary is still unmarked
    assert m.attendance.get(person=party.secretary).status == AttendanceStatus.UNMARKED
    # as an observer it is fine
    svc.attendance_record(actor=party.sec_user, meeting=m, marks=[svc.AttendanceMark(party.m2, OBS)])
    row = m.attendance.get(person=party.m2)
    assert (row.expected, row.status) == (False, OBS)
    # an expected member cannot be an observer; an excused absence needs a reason
    with pytest.raises(ValidationError, match="cannot be an observer"):
        svc.attendance_record(actor=party.sec_user, meeting=m, marks=[svc.AttendanceMark(party.m1, OBS)])
    with pytest.raises(ValidationError, match="needs a reason"):
        svc.attendance_record(actor=party.sec_user, meeting=m, marks=[svc.AttendanceMark(party.m1, E)])


def test_a_meeting_in_the_future_cannot_be_marked_held(party: Party) -> None:
    tomorrow = timezone.now() + timedelta(days=1)
    with pytest.raises(ValidationError) as exc:
        svc.meeting_create(
            actor=party.sec_user,
            unit=party.branch,
            kinds=["theme_day"],
            topic="x",
            starts_at=tomorrow,
            held=True,
        )
    assert "future" in exc.value.message_dict["held"][0]
    planned = svc.meeting_create(
        actor=party.sec_user, unit=party.branch, kinds=["theme_day"], topic="x", starts_at=tomorrow
    )
    with pytest.raises(ValidationError, match="future"):
        svc.meeting_mark_held(actor=party.sec_user, meeting=planned)
    with pytest.raises(ValidationError, match="held"):
        svc.meeting_submit(actor=party.sec_user, meeting=planned)
    with pytest.raises(ValidationError, match="mark the meeting as held"):
        svc.attendance_record(actor=party.sec_user, meeting=planned, marks=[svc.AttendanceMark(party.m1, P)])


def test_submit_needs_every_expected_attendee_marked_and_a_lecturer_for_a_lesson(party: Party) -> None:
    m = svc.meeting_create(
        actor=party.sec_user,
        unit=party.branch,
        kinds=["party_lesson"],
        topic="党课",
        starts_at=at("2024-03-05 14:00"),
        held=True,
    )
    svc.attendance_record(actor=party.sec_user, meeting=m, marks=[svc.AttendanceMark(party.m1, P)])
    with pytest.raises(ValidationError) as exc:
        svc.meeting_submit(actor=party.sec_user, meeting=m)
    assert "书记甲" in exc.value.message_dict["attendance"][0]
    assert "lecturer" in exc.value.message_dict


def test_quorum_not_met_is_recorded_and_the_meeting_does_not_count(party: Party) -> None:
    # voting members on 2024-03-05: secretary, committee, m1, alice (the probationary member cannot vote)
    m = hold_meeting(
        party, kinds=["branch_general"], when="2024-03-05 14:00", present=[party.secretary, party.prob]
    )
    assert svc.meeting_quorum(m) == {"branch_general": False}
    submitted = AuditEvent.objects.get(action="partylife.meeting.submitted", target_id=str(m.pk))
    assert submitted.changes["quorum"] == {"branch_general": False}
    lines = [
        ln
        for ln in queries.compliance_lines(
            party.branch,
            at("2024-01-01 00:00").date(),
            at("2024-04-01 00:00").date(),
            through=at("2024-03-31 00:00").date(),
        )
        if ln.code == "branch_general"
    ]
    assert [(ln.held, ln.status, ln.quorum_failures) for ln in lines] == [(0, "missed", (m.pk,))]
    # three of four voting members present: more than half
    ok = hold_meeting(
        party,
        kinds=["branch_general"],
        when="2024-03-20 14:00",
        present=[party.secretary, party.committee, party.m1],
    )
    assert svc.meeting_quorum(ok) == {"branch_general": True}
    # exactly half is not more than half
    half = hold_meeting(
        party, kinds=["branch_general"], when="2024-03-21 14:00", present=[party.secretary, party.m1]
    )
    assert svc.meeting_quorum(half) == {"branch_general": False}


def test_review_flow_and_who_may_approve(party: Party) -> None:
    m = hold_meeting(party, kinds=["theme_day"], when="2024-03-05 14:00", present=[party.m1], approve=False)
    assert m.review_status == ReviewStatus.SUBMITTED
    with pytest.raises(NotAllowed):  # the branch secretary records; the committee above approves
        svc.meeting_approve(actor=party.sec_user, meeting=m)
    with pytest.raises(Http404):  # another district's committee does not even see it
        svc.meeting_approve(actor=party.hp_user, meeting=m)
    with pytest.raises(ValidationError, match="why"):
        svc.meeting_return(actor=party.committee_user, meeting=m, opinion=" ")
    svc.meeting_return(actor=party.committee_user, meeting=m, opinion="记录不全")
    m.refresh_from_db()
    assert m.review_status == ReviewStatus.RETURNED
    svc.meeting_update(actor=party.sec_user, meeting=m, minutes="补充记录")
    svc.meeting_submit(actor=party.sec_user, meeting=m)
    svc.meeting_approve(actor=party.city_user, meeting=m, opinion="同意")  # a grant higher up also covers it
    m.refresh_from_db()
    assert m.review_status == ReviewStatus.APPROVED
    assert list(MeetingReview.objects.filter(meeting=m).values_list("action", "opinion")) == [
        ("submitted", ""),
        ("returned", "记录不全"),
        ("submitted", ""),
        ("approved", "同意"),
    ]
    assert m in queries.meeting_list(party.viewer)
    assert m not in queries.meeting_list(party.hp_user)


def test_editing_an_approved_meeting_is_refused_and_a_correction_goes_through_review(party: Party) -> None:
    m = hold_meeting(
        party,
        kinds=["party_lesson"],
        when="2024-03-05 14:00",
        present=[party.secretary, party.m1],
        lecturer=party.secretary,
    )
    year = 2024
    assert ledger_balances(year)[party.m1.pk] == Decimal("3.00")
    with pytest.raises(ValidationError, match="Start a correction"):
        svc.meeting_update(actor=party.sec_user, meeting=m, topic="改")
    with pytest.raises(ValidationError, match="Start a correction"):
        svc.attendance_record(actor=party.sec_user, meeting=m, marks=[svc.AttendanceMark(party.prob, P)])
    with pytest.raises(ValidationError, match="reason"):
        svc.meeting_correction_start(actor=party.sec_user, meeting=m, reason="")
    svc.meeting_correction_start(actor=party.sec_user, meeting=m, reason="漏记一人")
    m.refresh_from_db()
    assert (m.review_status, m.revision) == (ReviewStatus.DRAFT, 2)
    assert party.m1.pk not in {k for k, v in ledger_balances(year).items() if v}  # reversed while corrected
    svc.attendance_record(actor=party.sec_user, meeting=m, marks=[svc.AttendanceMark(party.prob, P)])
    svc.meeting_submit(actor=party.sec_user, meeting=m)
    svc.meeting_approve(actor=party.committee_user, meeting=m)
    bal = ledger_balances(year)
    assert bal[party.m1.pk] == bal[party.prob.pk] == Decimal("3.00")
    assert bal[party.secretary.pk] == Decimal("8.00")  # attended (3) + gave the lesson (5)
    assert bal == facts_balances(year)
    st = statement(SYSTEM, party.m1, year)
    assert [line.entry.points for line in st.lines] == [Decimal("3.00"), Decimal("-3.00"), Decimal("3.00")]
    assert [line.balance for line in st.lines] == [Decimal("3.00"), Decimal("0.00"), Decimal("3.00")]


def test_a_second_approval_is_refused_and_gives_no_double_points(party: Party) -> None:
    m = hold_meeting(party, kinds=["theme_day"], when="2024-03-05 14:00", present=[party.m1], approve=False)
    stale = Meeting.objects.get(pk=m.pk)
    svc.meeting_approve(actor=party.committee_user, meeting=m)
    with pytest.raises(ValidationError, match="not waiting for review"):
        svc.meeting_approve(actor=party.city_user, meeting=stale)
    assert PointEntry.objects.filter(person=party.m1).count() == 1
    assert ledger_balances(2024)[party.m1.pk] == Decimal("2.00")


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrent transactions need PostgreSQL")
def test_concurrent_approvals_one_wins(party: Party) -> None:
    m = hold_meeting(party, kinds=["theme_day"], when="2024-03-05 14:00", present=[party.m1], approve=False)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(user: Any) -> None:
        try:
            barrier.wait()
            svc.meeting_approve(actor=user, meeting=Meeting.objects.get(pk=m.pk))
            outcomes.append("ok")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(u,)) for u in (party.committee_user, party.city_user)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "refused"]
    assert PointEntry.objects.filter(person=party.m1).count() == 1


def test_one_meeting_counts_as_several_kinds(party: Party) -> None:
    m = hold_meeting(
        party,
        kinds=["theme_day", "party_lesson"],
        when="2024-03-05 14:00",
        present=[party.m1],
        lecturer=party.secretary,
    )
    assert sorted(m.kinds) == ["party_lesson", "theme_day"]
    lines = queries.compliance_lines(
        party.branch,
        at("2024-03-01 00:00").date(),
        at("2024-04-01 00:00").date(),
        through=at("2024-03-31 00:00").date(),
    )
    held = {(ln.code, ln.start.month): ln.held for ln in lines}
    assert held[("theme_day", 3)] == 1
    assert held[("party_lesson", 1)] == 1  # the quarter's window starts in January
    assert ledger_balances(2024)[party.m1.pk] == Decimal("5.00")  # 2 (theme day) + 3 (lesson)


def test_recompute_from_the_sources_repairs_drift_and_is_audited(party: Party) -> None:
    from muster.points.services import points_recompute

    m = hold_meeting(party, kinds=["theme_day"], when="2024-03-05 14:00", present=[party.m1, party.secretary])
    assert ledger_balances(2024)[party.m1.pk] == Decimal("2.00")
    # the source changes behind the services' back (a database repair): m1 was in fact absent
    m.attendance.filter(person=party.m1).update(status=AttendanceStatus.ABSENT)
    assert ledger_balances(2024)[party.m1.pk] == Decimal("2.00")  # the ledger does not follow by itself
    res = points_recompute(actor=party.admin, year=2024, reason="考勤更正")
    assert res.facts_added == 1 and res.facts_retracted == 1
    assert ledger_balances(2024)[party.m1.pk] == Decimal("-2.00")  # absent without leave
    assert ledger_balances(2024) == facts_balances(2024)
    assert AuditEvent.objects.filter(action="points.recomputed", changes__reason="考勤更正").exists()
