"""Meetings (三会一课 and others): record, edit, hold, attendance, attachments, and the review
(submit → approve or return; a correction reopens an approved meeting).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from muster.audit.services import diff, log_action
from muster.clock import local_date
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Person, Unit
from muster.partylife import signals
from muster.partylife.membership import MEETING_UNIT_KINDS, members_on
from muster.partylife.models import (
    Attendance,
    AttendanceStatus,
    Meeting,
    MeetingAttachment,
    MeetingKind,
    MeetingKindLink,
    MeetingReview,
    ReviewAction,
    ReviewStatus,
)
from muster.partylife.queries import meeting_quorum

from .common import _UNSET, _require_approver, _see, _text, _user_or_none, _who


def _meeting_snapshot(m: Meeting) -> dict[str, Any]:
    return {
        "topic": m.topic,
        "kinds": sorted(m.kinds),
        "starts_at": m.starts_at.isoformat(),
        "ends_at": m.ends_at.isoformat() if m.ends_at else None,
        "place": m.place,
        "host": m.host_id,
        "recorder": m.recorder_id,
        "lecturer": m.lecturer_id,
        "held": m.held,
        "minutes_length": len(m.minutes),
    }


def _clean_kinds(kinds: Sequence[str]) -> list[str]:
    clean = sorted(set(kinds))
    if not clean:
        raise ValidationError({"kinds": _("Choose at least one kind of meeting.")})
    bad = [k for k in clean if k not in MeetingKind.values]
    if bad:
        raise ValidationError({"kinds": _("Unknown kind of meeting: %(kinds)s.") % {"kinds": ", ".join(bad)}})
    return clean


def _check_times(starts_at: datetime, ends_at: datetime | None, held: bool) -> None:
    errors: dict[str, str] = {}
    if timezone.is_naive(starts_at):
        errors["starts_at"] = _("The start time needs a time zone.")
    elif ends_at is not None and ends_at <= starts_at:
        errors["ends_at"] = _("The meeting must end after it starts.")
    elif held and starts_at > timezone.now():
        errors["held"] = _("A meeting dated in the future cannot be marked as held.")
    if errors:
        raise ValidationError(errors)


def _expected_members(meeting: Meeting, kinds: Sequence[str]) -> dict[int, tuple[bool, bool]]:
    """{person id: (voting, committee)} of those expected at the meeting."""
    committee_only = set(kinds) == {MeetingKind.BRANCH_COMMITTEE}
    out: dict[int, tuple[bool, bool]] = {}
    for e in members_on(meeting.unit, local_date(meeting.starts_at)):
        if committee_only and not e.is_committee:
            continue
        out[e.person.pk] = (e.is_voting, e.is_committee)
    return out


def _fill_expected(meeting: Meeting, kinds: Sequence[str]) -> None:
    expected = _expected_members(meeting, kinds)
    rows = {a.person_id: a for a in meeting.attendance.all()}
    for pid, row in rows.items():
        if row.expected and pid not in expected:
            row.delete()  # no longer expected on the new date or kinds
    for pid, (voting, committee) in expected.items():
        a = rows.get(pid)
        if a is None:
            Attendance.objects.create(
                meeting=meeting, person_id=pid, expected=True, voting=voting, committee=committee
            )
        elif not a.expected:  # an observer who is now expected
            a.expected, a.voting, a.committee = True, voting, committee
            a.status = AttendanceStatus.UNMARKED if a.status == AttendanceStatus.OBSERVER else a.status
            a.save()
        elif (a.voting, a.committee) != (voting, committee):
            a.voting, a.committee = voting, committee
            a.save(update_fields=["voting", "committee"])


def _set_kinds(meeting: Meeting, kinds: Sequence[str]) -> None:
    meeting.kind_links.exclude(kind__in=kinds).delete()
    have = set(meeting.kind_links.values_list("kind", flat=True))
    MeetingKindLink.objects.bulk_create(
        [MeetingKindLink(meeting=meeting, kind=k) for k in kinds if k not in have]
    )


@transaction.atomic
def meeting_create(
    *,
    actor: Any,
    unit: Unit,
    kinds: Sequence[str],
    topic: str,
    starts_at: datetime,
    ends_at: datetime | None = None,
    place: str = "",
    host: Person | None = None,
    recorder: Person | None = None,
    lecturer: Person | None = None,
    minutes: str = "",
    held: bool = False,
) -> Meeting:
    """Record a meeting (draft) and fill its expected attendees from the membership on its date."""
    access.require(actor, Perm.PARTY_RECORD, unit)
    if unit.kind not in MEETING_UNIT_KINDS:
        raise ValidationError(
            {"unit": _("Meetings are held by a branch, a general branch or a party group.")}
        )
    clean = _clean_kinds(kinds)
    if not _text(topic):
        raise ValidationError({"topic": _("A topic is required.")})
    _check_times(starts_at, ends_at, held)
    meeting = Meeting.objects.create(
        unit=unit,
        topic=_text(topic)[:200],
        starts_at=starts_at,
        ends_at=ends_at,
        place=_text(place)[:200],
        host=host,
        recorder=recorder,
        lecturer=lecturer,
        minutes=minutes or "",
        held=held,
        created_by=_user_or_none(actor),
    )
    _set_kinds(meeting, clean)
    _fill_expected(meeting, clean)
    log_action(
        actor,
        action="partylife.meeting.created",
        target=meeting,
        unit_path=unit.path,
        changes=_meeting_snapshot(meeting),
    )
    return meeting


def _lock_meeting(meeting: Meeting) -> Meeting:
    return Meeting.objects.select_for_update(of=("self",)).select_related("unit").get(pk=meeting.pk)


def _require_editable(meeting: Meeting) -> None:
    if meeting.review_status == ReviewStatus.APPROVED:
        raise ValidationError(
            {
                "meeting": _(
                    "An approved meeting cannot be edited. Start a correction; it goes through review again."
                )
            }
        )
    if meeting.review_status == ReviewStatus.SUBMITTED:
        raise ValidationError(
            {"meeting": _("The meeting is waiting for review; it can be edited once it is returned.")}
        )


@transaction.atomic
def meeting_update(
    *,
    actor: Any,
    meeting: Meeting,
    kinds: Sequence[str] = _UNSET,
    topic: str = _UNSET,
    starts_at: datetime = _UNSET,
    ends_at: datetime | None = _UNSET,
    place: str = _UNSET,
    host: Person | None = _UNSET,
    recorder: Person | None = _UNSET,
    lecturer: Person | None = _UNSET,
    minutes: str = _UNSET,
    held: bool = _UNSET,
) -> Meeting:
    """Change a draft or returned meeting (refused once submitted or approved)."""
    _see(actor, meeting.unit)
    access.require(actor, Perm.PARTY_RECORD, meeting.unit)
    meeting = _lock_meeting(meeting)
    _require_editable(meeting)
    before = _meeting_snapshot(meeting)
    new_kinds = _clean_kinds(kinds) if kinds is not _UNSET else sorted(meeting.kinds)
    if topic is not _UNSET:
        if not _text(topic):
            raise ValidationError({"topic": _("A topic is required.")})
        meeting.topic = _text(topic)[:200]
    if starts_at is not _UNSET:
        meeting.starts_at = starts_at
    if ends_at is not _UNSET:
        meeting.ends_at = ends_at
    if held is not _UNSET:
        meeting.held = held
    _check_times(meeting.starts_at, meeting.ends_at, meeting.held)
    if place is not _UNSET:
        meeting.place = _text(place)[:200]
    if host is not _UNSET:
        meeting.host = host
    if recorder is not _UNSET:
        meeting.recorder = recorder
    if lecturer is not _UNSET:
        meeting.lecturer = lecturer
    if minutes is not _UNSET:
        meeting.minutes = minutes or ""
    meeting.save()
    _set_kinds(meeting, new_kinds)
    _fill_expected(meeting, new_kinds)
    changes = diff(before, _meeting_snapshot(meeting))
    if changes:
        log_action(
            actor,
            action="partylife.meeting.updated",
            target=meeting,
            unit_path=meeting.unit.path,
            changes=changes,
        )
    return meeting


@transaction.atomic
def meeting_mark_held(*, actor: Any, meeting: Meeting) -> Meeting:
    """The meeting took place (refused for a meeting dated in the future)."""
    return meeting_update(actor=actor, meeting=meeting, held=True)


@dataclass(frozen=True)
class AttendanceMark:
    person: Person
    status: str
    reason: str = ""


@transaction.atomic
def attendance_record(*, actor: Any, meeting: Meeting, marks: Sequence[AttendanceMark]) -> list[Attendance]:
    """Mark attendance: present, absent, excused (with a reason) for expected members; observers for others.

    All marks are checked before any is written; every problem is reported at once, by person.
    """
    _see(actor, meeting.unit)
    access.require(actor, Perm.PARTY_RECORD, meeting.unit)
    meeting = _lock_meeting(meeting)
    _require_editable(meeting)
    rows = {a.person_id: a for a in meeting.attendance.all()}
    on = local_date(meeting.starts_at)
    errors: list[str] = []
    for mark in marks:
        row = rows.get(mark.person.pk)
        name = mark.person.name
        if mark.status not in AttendanceStatus.values or mark.status == AttendanceStatus.UNMARKED:
            errors.append(
                _("%(person)s: unknown attendance %(status)s.") % {"person": name, "status": mark.status}
            )
        elif mark.status in (AttendanceStatus.PRESENT, AttendanceStatus.ABSENT) and not meeting.held:
            errors.append(
                _("%(person)s: mark the meeting as held before recording who came.") % {"person": name}
            )
        elif (row is None or not row.expected) and mark.status != AttendanceStatus.OBSERVER:
            errors.append(
                _("%(person)s was not a member of %(unit)s on %(date)s; record them as an observer.")
                % {"person": name, "unit": meeting.unit.name, "date": on.isoformat()}
            )
        elif row is not None and row.expected and mark.status == AttendanceStatus.OBSERVER:
            errors.append(
                _("%(person)s is expected at this meeting and cannot be an observer.") % {"person": name}
            )
        elif mark.status == AttendanceStatus.EXCUSED and not _text(mark.reason):
            errors.append(_("%(person)s: an excused absence needs a reason.") % {"person": name})
    if errors:
        raise ValidationError({"attendance": errors})
    out: list[Attendance] = []
    changes: dict[str, str] = {}
    for mark in marks:
        row = rows.get(mark.person.pk)
        if row is None:
            row = Attendance(meeting=meeting, person=mark.person, expected=False)
        row.status = mark.status
        row.reason = _text(mark.reason)[:200]
        row.save()
        rows[mark.person.pk] = row
        out.append(row)
        changes[mark.person.code] = mark.status
    log_action(
        actor,
        action="partylife.attendance.recorded",
        target=meeting,
        unit_path=meeting.unit.path,
        changes=changes,
    )
    return out


@transaction.atomic
def meeting_attach(*, actor: Any, meeting: Meeting, file: File[Any], name: str = "") -> MeetingAttachment:
    _see(actor, meeting.unit)
    access.require(actor, Perm.PARTY_RECORD, meeting.unit)
    meeting = _lock_meeting(meeting)
    _require_editable(meeting)
    label = _text(name) or getattr(file, "name", "") or _("attachment")
    att = MeetingAttachment.objects.create(
        meeting=meeting, file=file, name=label[:200], uploaded_by=_user_or_none(actor)
    )
    log_action(
        actor,
        action="partylife.meeting.attached",
        target=meeting,
        unit_path=meeting.unit.path,
        changes={"file": label},
    )
    return att


def _review(meeting: Meeting, action: str, actor: Any, opinion: str = "") -> None:
    MeetingReview.objects.create(
        meeting=meeting, action=action, revision=meeting.revision, opinion=opinion, **_who(actor)
    )


@transaction.atomic
def meeting_submit(*, actor: Any, meeting: Meeting) -> dict[str, bool]:
    """Send the meeting for review; returns the quorum of each kind that has one (a failure is recorded,
    not refused: the meeting then does not count for that kind, and the dashboard lists it)."""
    _see(actor, meeting.unit)
    access.require(actor, Perm.PARTY_RECORD, meeting.unit)
    meeting = _lock_meeting(meeting)
    _require_editable(meeting)
    errors: dict[str, str] = {}
    if not meeting.held:
        errors["held"] = _("Only a meeting that was held can be sent for review.")
    if meeting.starts_at > timezone.now():
        errors["starts_at"] = _("A meeting dated in the future cannot be sent for review.")
    unmarked = list(
        meeting.attendance.filter(expected=True, status=AttendanceStatus.UNMARKED).values_list(
            "person__name", flat=True
        )
    )
    if unmarked:
        errors["attendance"] = _("Attendance is not marked for: %(names)s.") % {"names": "、".join(unmarked)}
    if MeetingKind.PARTY_LESSON in meeting.kinds and not meeting.lecturer_id:
        errors["lecturer"] = _("A party lesson needs its lecturer.")
    if errors:
        raise ValidationError(errors)
    quorum = meeting_quorum(meeting)
    meeting.review_status = ReviewStatus.SUBMITTED
    meeting.save(update_fields=["review_status", "updated_at"])
    _review(meeting, ReviewAction.SUBMITTED, actor)
    log_action(
        actor,
        action="partylife.meeting.submitted",
        target=meeting,
        unit_path=meeting.unit.path,
        changes={"revision": meeting.revision, "quorum": quorum},
    )
    return quorum


@transaction.atomic
def meeting_approve(*, actor: Any, meeting: Meeting, opinion: str = "") -> Meeting:
    """The committee above approves the meeting: it counts for compliance and earns its points."""
    _see(actor, meeting.unit)
    _require_approver(actor, meeting.unit)
    meeting = _lock_meeting(meeting)
    if meeting.review_status != ReviewStatus.SUBMITTED:
        raise ValidationError(
            {
                "meeting": _("This meeting is not waiting for review (it is %(status)s).")
                % {"status": meeting.get_review_status_display()}
            }
        )
    meeting.review_status = ReviewStatus.APPROVED
    meeting.approved_at = timezone.now()
    meeting.save(update_fields=["review_status", "approved_at", "updated_at"])
    _review(meeting, ReviewAction.APPROVED, actor, _text(opinion))
    log_action(
        actor,
        action="partylife.meeting.approved",
        target=meeting,
        unit_path=meeting.unit.path,
        changes={"revision": meeting.revision, "opinion": _text(opinion)},
    )
    signals.meeting_approved.send(sender=Meeting, actor=actor, meeting=meeting)
    return meeting


@transaction.atomic
def meeting_return(*, actor: Any, meeting: Meeting, opinion: str) -> Meeting:
    """The committee above returns the meeting with its opinion; the branch fixes and resubmits it."""
    _see(actor, meeting.unit)
    _require_approver(actor, meeting.unit)
    if not _text(opinion):
        raise ValidationError({"opinion": _("Say why the meeting is returned.")})
    meeting = _lock_meeting(meeting)
    if meeting.review_status != ReviewStatus.SUBMITTED:
        raise ValidationError(
            {
                "meeting": _("This meeting is not waiting for review (it is %(status)s).")
                % {"status": meeting.get_review_status_display()}
            }
        )
    meeting.review_status = ReviewStatus.RETURNED
    meeting.save(update_fields=["review_status", "updated_at"])
    _review(meeting, ReviewAction.RETURNED, actor, _text(opinion))
    log_action(
        actor,
        action="partylife.meeting.returned",
        target=meeting,
        unit_path=meeting.unit.path,
        changes={"revision": meeting.revision, "opinion": _text(opinion)},
    )
    return meeting


@transaction.atomic
def meeting_correction_start(*, actor: Any, meeting: Meeting, reason: str) -> Meeting:
    """Reopen an approved meeting as its next revision (a draft) to correct it; its points are reversed
    until the corrected meeting is approved again."""
    _see(actor, meeting.unit)
    access.require(actor, Perm.PARTY_RECORD, meeting.unit)
    if not _text(reason):
        raise ValidationError({"reason": _("A correction needs a reason.")})
    meeting = _lock_meeting(meeting)
    if meeting.review_status != ReviewStatus.APPROVED:
        raise ValidationError(
            {"meeting": _("Only an approved meeting needs a correction; edit this one directly.")}
        )
    meeting.review_status = ReviewStatus.DRAFT
    meeting.revision += 1
    meeting.approved_at = None
    meeting.save(update_fields=["review_status", "revision", "approved_at", "updated_at"])
    _review(meeting, ReviewAction.CORRECTION, actor, _text(reason))
    signals.meeting_reopened.send(sender=Meeting, actor=actor, meeting=meeting, reason=_text(reason))
    log_action(
        actor,
        action="partylife.meeting.correction_started",
        target=meeting,
        unit_path=meeting.unit.path,
        changes={"revision": meeting.revision, "reason": _text(reason)},
    )
    return meeting
