"""Writes for party life. Each service is keyword-only, atomic, permission-checked and audited.

Permissions (``muster.orgs.access``)
------------------------------------
- ``Perm.PARTY_RECORD`` (secretary, admin) on a party organization: its membership history, meetings
  and attendance, talks, membership cases, posts, contact points, honor proposals.
- ``Perm.PARTY_APPROVE`` on the *committee above* (``roster.approval_unit``: the nearest party
  committee or general branch above the organization): review meetings, grant exemptions. So a branch
  secretary records, and the secretary (or admin) of the committee above approves. Honors climb
  ``honor_chain``: each step needs ``PARTY_APPROVE`` on that step's committee.
- ``Perm.PARTY_RULES`` (admin; global rules need it on a root unit): the compliance rules.
- A member (the person linked to the user) records their own talks and their own contact visits.
- Not visible → ``Http404``; visible but not allowed → ``NotAllowed`` (403); bad input →
  ``ValidationError`` with a field dict; nothing is half written.

Meetings
--------
A meeting is recorded (draft) with its kinds — one meeting may count as several — and its expected
attendees are filled from the roster on its date (``roster.roster_at``; only the committee for a
meeting that is nothing but a 支委会). Attendance of someone not in the organization on that date is
refused (record them as an observer). A meeting dated in the future cannot be marked held.
Review: draft → submitted → approved, or returned (with an opinion) → edited → submitted again. An
approved meeting cannot be edited: ``meeting_correction_start`` (with a reason) reopens it as the next
revision, reversing its points until it is approved again. Approval locks the meeting row, so of two
concurrent approvals one wins and the other is told it is no longer waiting; the points ledger's
unique (fact, generation, op) is the last guard against double points.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from muster.audit.services import diff, log_action
from muster.clock import local_date, today
from muster.files import image_extension
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Person, PoliticalStatus, Team, Unit
from muster.orgs.services import person_update
from muster.partylife import pipeline, signals
from muster.partylife.membership import (
    MEETING_UNIT_KINDS,
    approval_unit,
    committee_chain,
    is_party_org,
    roster_at,
)
from muster.partylife.models import (
    COMMITTEE_ROLES,
    Attendance,
    AttendanceStatus,
    BranchMembership,
    ComplianceSnapshot,
    ContactPoint,
    ContactVisit,
    Exemption,
    Honor,
    HonorApproval,
    HonorKind,
    HonorLevel,
    HonorStatus,
    Meeting,
    MeetingAttachment,
    MeetingKind,
    MeetingKindLink,
    MeetingRequirement,
    MeetingReview,
    MembershipCase,
    MembershipRole,
    MembershipStep,
    PartyPost,
    Period,
    PostKind,
    Quorum,
    ReviewAction,
    ReviewStatus,
    Stage,
    Talk,
    TalkParticipant,
)
from muster.partylife.queries import (
    compliance_rows,
    meeting_fact,
    meeting_quorum,
    rows_to_json,
)

_UNSET: Any = object()


# ---------------------------------------------------------------- helpers


def _who(actor: Any) -> dict[str, Any]:
    if getattr(actor, "pk", None) is None:
        return {"actor": None, "actor_name": getattr(actor, "display_name", "") or "system"}
    return {"actor": actor, "actor_name": actor.get_username()}


def _user_or_none(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) is not None else None


def _see(actor: Any, unit: Unit) -> None:
    """404 unless the actor may see ``unit``."""
    if not access.can(actor, Perm.VIEW, unit):
        raise Http404


def _see_person(actor: Any, person: Person) -> None:
    if not access.scoped(Person.objects.filter(pk=person.pk), actor, Perm.VIEW).exists():
        raise Http404


def _actor_person(actor: Any) -> Person | None:
    if getattr(actor, "pk", None) is None:
        return None
    return Person.objects.filter(user_id=actor.pk).first()


def _require_approver(actor: Any, unit: Unit) -> None:
    """``PARTY_APPROVE`` on the committee above ``unit`` (only the all-powerful when there is none)."""
    above = approval_unit(unit)
    if above is None:
        if not access.is_all_powerful(actor):
            raise access.NotAllowed(Perm.PARTY_APPROVE)
        return
    access.require(actor, Perm.PARTY_APPROVE, above)


def _require_global(actor: Any, perm: Perm) -> None:
    if access.is_all_powerful(actor):
        return
    if not any(access.can(actor, perm, root) for root in Unit.objects.get_root_nodes()):
        raise access.NotAllowed(perm)


def _text(value: str | None) -> str:
    return (value or "").strip()


# ---------------------------------------------------------------- branch membership


@transaction.atomic
def branch_membership_start(
    *,
    actor: Any,
    person: Person,
    branch: Unit,
    start: date,
    role: str = MembershipRole.MEMBER,
    note: str = "",
) -> BranchMembership:
    """``person`` joins (or transfers to) ``branch`` from ``start``; an open membership elsewhere ends
    the day before.

    When the membership is current (``start`` ≤ today), ``Person.party_unit`` follows it.
    """
    access.require(actor, Perm.PARTY_RECORD, branch)
    _see_person(actor, person)
    errors: dict[str, str] = {}
    if branch.kind not in MEETING_UNIT_KINDS:
        errors["branch"] = _("A membership is held in a branch, general branch or party group.")
    if role not in MembershipRole.values:
        errors["role"] = _("Unknown role %(role)s.") % {"role": role}
    if errors:
        raise ValidationError(errors)
    person = Person.objects.select_for_update().get(pk=person.pk)
    current = (
        BranchMembership.objects.select_for_update()
        .filter(person=person)
        .filter(Q(end__isnull=True) | Q(end__gte=start))
        .order_by("start", "pk")
    )
    for m in current:
        if m.start >= start:
            raise ValidationError(
                {
                    "start": _(
                        "%(person)s already has a membership from %(date)s; the new one must start later."
                    )
                    % {"person": person.name, "date": m.start.isoformat()}
                }
            )
        m.end = start - timedelta(days=1)
        m.save(update_fields=["end"])
    membership = BranchMembership.objects.create(
        person=person, branch=branch, role=role, start=start, note=_text(note)
    )
    if start <= today() and person.party_unit_id != branch.pk:
        person_update(actor=actor, person=person, party_unit=branch)
    log_action(
        actor,
        action="partylife.membership.started",
        target=membership,
        unit_path=branch.path,
        changes={"person": person.code, "branch": branch.code, "role": role, "start": start.isoformat()},
    )
    return membership


@transaction.atomic
def branch_membership_end(
    *, actor: Any, membership: BranchMembership, end: date, reason: str
) -> BranchMembership:
    """The membership ends on ``end`` (inclusive), e.g. a transfer out or a death; with a reason."""
    access.require(actor, Perm.PARTY_RECORD, membership.branch)
    membership = (
        BranchMembership.objects.select_for_update(of=("self",))
        .select_related("person", "branch")
        .get(pk=membership.pk)
    )
    if not _text(reason):
        raise ValidationError({"reason": _("A reason is required.")})
    if end < membership.start:
        raise ValidationError(
            {"end": _("The end cannot be before the start (%(date)s).") % {"date": membership.start}}
        )
    membership.end = end
    membership.save(update_fields=["end"])
    person = membership.person
    if end < today() and person.party_unit_id == membership.branch_id:
        person_update(actor=actor, person=person, party_unit=None)
    log_action(
        actor,
        action="partylife.membership.ended",
        target=membership,
        unit_path=membership.branch.path,
        changes={"person": person.code, "end": end.isoformat(), "reason": _text(reason)},
    )
    return membership


@transaction.atomic
def branch_membership_set_role(
    *, actor: Any, person: Person, branch: Unit, role: str, on: date
) -> BranchMembership:
    """From ``on``, ``person`` holds ``role`` in ``branch`` (e.g. elected to the committee)."""
    return branch_membership_start(actor=actor, person=person, branch=branch, start=on, role=role)


# ---------------------------------------------------------------- meetings


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


def _expected_roster(meeting: Meeting, kinds: Sequence[str]) -> dict[int, tuple[bool, bool]]:
    """{person id: (voting, committee)} of those expected at the meeting."""
    committee_only = set(kinds) == {MeetingKind.BRANCH_COMMITTEE}
    out: dict[int, tuple[bool, bool]] = {}
    for e in roster_at(meeting.unit, local_date(meeting.starts_at)):
        if committee_only and not e.is_committee:
            continue
        out[e.person.pk] = (e.is_voting, e.is_committee)
    return out


def _fill_expected(meeting: Meeting, kinds: Sequence[str]) -> None:
    expected = _expected_roster(meeting, kinds)
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
    """Record a meeting (draft) and fill its expected attendees from the roster on its date."""
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


# ---------------------------------------------------------------- compliance rules, exemptions, snapshots


@transaction.atomic
def requirement_change(
    *,
    actor: Any,
    code: str,
    kind: str,
    period: str,
    count: int,
    valid_from: date,
    quorum: str = "",
    lecturer_role: str = "",
    applies_to: str = "branch",
    usual_month: int | None = None,
    unit: Unit | None = None,
    source: str = "",
) -> MeetingRequirement:
    """Open a new version of the requirement ``code`` (everywhere, or for ``unit``'s subtree) from
    ``valid_from``.

    ``count`` 0 switches the requirement off from that date.
    """
    if unit is None:
        _require_global(actor, Perm.PARTY_RULES)
    else:
        access.require(actor, Perm.PARTY_RULES, unit)
    errors: dict[str, str] = {}
    code = _text(code)
    if not code:
        errors["code"] = _("A code is required.")
    if kind not in MeetingKind.values:
        errors["kind"] = _("Unknown kind of meeting %(kind)s.") % {"kind": kind}
    if period not in Period.values:
        errors["period"] = _("Unknown period %(period)s.") % {"period": period}
    if quorum not in Quorum.values:
        errors["quorum"] = _("Unknown quorum %(quorum)s.") % {"quorum": quorum}
    if count < 0:
        errors["count"] = _("The number of meetings cannot be negative.")
    if lecturer_role and lecturer_role not in MembershipRole.values:
        errors["lecturer_role"] = _("Unknown role %(role)s.") % {"role": lecturer_role}
    if errors:
        raise ValidationError(errors)
    same = MeetingRequirement.objects.select_for_update().filter(code=code, unit=unit)
    if same.filter(valid_from__gte=valid_from).exists():
        raise ValidationError(
            {"valid_from": _("A version of this requirement already starts on or after that date.")}
        )
    previous = (
        same.filter(Q(valid_to__isnull=True) | Q(valid_to__gt=valid_from)).order_by("-valid_from").first()
    )
    before: dict[str, Any] = {}
    if previous is not None:
        before = {
            "count": previous.count,
            "period": previous.period,
            "valid_from": previous.valid_from.isoformat(),
        }
        previous.valid_to = valid_from
        previous.save(update_fields=["valid_to", "updated_at"])
    req = MeetingRequirement.objects.create(
        code=code,
        kind=kind,
        period=period,
        count=count,
        quorum=quorum,
        lecturer_role=lecturer_role,
        applies_to=applies_to,
        usual_month=usual_month,
        unit=unit,
        valid_from=valid_from,
        source=_text(source)[:300],
        is_active=count > 0,
    )
    log_action(
        actor,
        action="partylife.requirement.changed",
        target=req,
        unit_path=unit.path if unit else "",
        changes={
            "code": code,
            "kind": kind,
            "period": period,
            "count": count,
            "quorum": quorum,
            "valid_from": valid_from.isoformat(),
            "previous": before,
        },
    )
    return req


@transaction.atomic
def exemption_grant(
    *, actor: Any, unit: Unit, requirement_code: str, start: date, end: date, reason: str
) -> Exemption:
    """Exempt ``unit`` from a requirement for [start, end), with the reason; the actor is the approver
    (``PARTY_APPROVE`` on the committee above)."""
    _see(actor, unit)
    _require_approver(actor, unit)
    errors: dict[str, str] = {}
    if not MeetingRequirement.objects.filter(code=requirement_code).exists():
        errors["requirement_code"] = _("Unknown requirement %(code)s.") % {"code": requirement_code}
    if end <= start:
        errors["end"] = _("The exemption must end after it starts.")
    if not _text(reason):
        errors["reason"] = _("An exemption needs a reason.")
    if errors:
        raise ValidationError(errors)
    ex = Exemption.objects.create(
        unit=unit,
        requirement_code=requirement_code,
        start=start,
        end=end,
        reason=_text(reason)[:300],
        approved_by=_user_or_none(actor),
        approved_by_name=_who(actor)["actor_name"],
    )
    log_action(
        actor,
        action="partylife.exemption.granted",
        target=ex,
        unit_path=unit.path,
        changes={
            "requirement": requirement_code,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "reason": ex.reason,
        },
    )
    return ex


@transaction.atomic
def exemption_revoke(*, actor: Any, exemption: Exemption, reason: str) -> Exemption:
    _see(actor, exemption.unit)
    _require_approver(actor, exemption.unit)
    if not _text(reason):
        raise ValidationError({"reason": _("A reason is required.")})
    exemption = Exemption.objects.select_for_update().get(pk=exemption.pk)
    if exemption.revoked:
        raise ValidationError({"reason": _("This exemption was already revoked.")})
    exemption.revoked = True
    exemption.save(update_fields=["revoked"])
    log_action(
        actor,
        action="partylife.exemption.revoked",
        target=exemption,
        unit_path=exemption.unit.path,
        changes={"reason": _text(reason)},
    )
    return exemption


@transaction.atomic
def compliance_freeze(*, actor: Any, unit: Unit, start: date, end: date) -> ComplianceSnapshot:
    """Freeze the compliance of every organization under ``unit`` for the closed period [start, end)."""
    _see(actor, unit)
    access.require(actor, Perm.PARTY_APPROVE, unit)
    if end <= start:
        raise ValidationError({"end": _("The period must end after it starts.")})
    if end > today():
        raise ValidationError(
            {"end": _("Only a closed period can be frozen (it ends %(date)s).") % {"date": end}}
        )
    if ComplianceSnapshot.objects.filter(unit=unit, start=start, end=end).exists():
        raise ValidationError({"end": _("This period is already frozen for %(unit)s.") % {"unit": unit.name}})
    rows = compliance_rows(unit, start, end, through=end - timedelta(days=1))
    snap = ComplianceSnapshot.objects.create(
        unit=unit,
        start=start,
        end=end,
        data=rows_to_json(rows),
        frozen_by=_user_or_none(actor),
        frozen_by_name=_who(actor)["actor_name"],
    )
    log_action(
        actor,
        action="partylife.compliance.frozen",
        target=snap,
        unit_path=unit.path,
        changes={"start": start.isoformat(), "end": end.isoformat(), "organizations": len(rows)},
    )
    return snap


# ---------------------------------------------------------------- heart-to-heart talks


@transaction.atomic
def talk_record(
    *, actor: Any, unit: Unit, held_on: date, topic: str, participants: Sequence[Person], notes: str = ""
) -> Talk:
    """Record a talk. The branch's secretary (``PARTY_RECORD``) records any; a member records their own."""
    ids = {p.pk for p in participants}
    if not access.can(actor, Perm.PARTY_RECORD, unit):
        me = _actor_person(actor)
        if me is None or me.pk not in ids:
            _see(actor, unit)
            raise access.NotAllowed(Perm.PARTY_RECORD)
        if not any(e.person.pk == me.pk for e in roster_at(unit, held_on)):
            raise access.NotAllowed(Perm.PARTY_RECORD)
    errors: dict[str, str] = {}
    if len(ids) < 2:
        errors["participants"] = _("A talk has at least two participants.")
    if held_on > today():
        errors["held_on"] = _("A talk cannot be recorded before it happens.")
    if not _text(topic):
        errors["topic"] = _("A topic is required.")
    if unit.kind not in MEETING_UNIT_KINDS:
        errors["unit"] = _("Talks are recorded for a branch, a general branch or a party group.")
    if not errors and not ids & {e.person.pk for e in roster_at(unit, held_on)}:
        errors["participants"] = _("None of the participants was a member of %(unit)s on %(date)s.") % {
            "unit": unit.name,
            "date": held_on.isoformat(),
        }
    if errors:
        raise ValidationError(errors)
    talk = Talk.objects.create(
        unit=unit,
        held_on=held_on,
        topic=_text(topic)[:200],
        notes=notes or "",
        recorded_by=_user_or_none(actor),
    )
    TalkParticipant.objects.bulk_create([TalkParticipant(talk=talk, person_id=pid) for pid in sorted(ids)])
    signals.talk_recorded.send(sender=Talk, actor=actor, talk=talk)
    log_action(
        actor,
        action="partylife.talk.recorded",
        target=talk,
        unit_path=unit.path,
        changes={"date": held_on.isoformat(), "participants": sorted(ids)},
    )
    return talk


@transaction.atomic
def talk_withdraw(*, actor: Any, talk: Talk, reason: str) -> Talk:
    """Withdraw a talk recorded by mistake (its points are reversed); the record stays, marked withdrawn."""
    _see(actor, talk.unit)
    if not (
        access.can(actor, Perm.PARTY_RECORD, talk.unit)
        or (talk.recorded_by_id is not None and talk.recorded_by_id == getattr(actor, "pk", None))
    ):
        raise access.NotAllowed(Perm.PARTY_RECORD)
    if not _text(reason):
        raise ValidationError({"reason": _("A reason is required.")})
    talk = Talk.objects.select_for_update().get(pk=talk.pk)
    if talk.withdrawn:
        raise ValidationError({"talk": _("This talk is already withdrawn.")})
    talk.withdrawn = True
    talk.withdrawn_reason = _text(reason)[:200]
    talk.save(update_fields=["withdrawn", "withdrawn_reason"])
    signals.talk_withdrawn.send(sender=Talk, actor=actor, talk=talk, reason=talk.withdrawn_reason)
    log_action(
        actor,
        action="partylife.talk.withdrawn",
        target=talk,
        unit_path=talk.unit.path,
        changes={"reason": talk.withdrawn_reason},
    )
    return talk


# ---------------------------------------------------------------- membership pipeline

_PROBLEMS = {
    pipeline.WRONG_ORDER: lambda p: (
        _("A case moves one stage at a time (from %(current)s the next stage is not %(target)s).") % p
    ),
    pipeline.TOO_EARLY: lambda p: _("Too early: the standard waiting period ends on %(date)s.") % p,
    pipeline.BEFORE_PREVIOUS: lambda p: _("The date cannot be before the previous step (%(date)s).") % p,
    pipeline.INTRODUCERS: lambda p: _("Two full members must be introducers (given: %(count)s).") % p,
    pipeline.UNDER_AGE: lambda p: _("The applicant was under 18 when applying (age %(age)s).") % p,
}

_STAGE_FIELD = {
    Stage.ACTIVIST: "activist_on",
    Stage.CANDIDATE: "candidate_on",
    Stage.PROBATIONARY: "probationary_on",
    Stage.FULL_MEMBER: "full_on",
}


def _step(case: MembershipCase, stage: str, on: date, actor: Any, note: str = "") -> None:
    MembershipStep.objects.create(case=case, stage=stage, on=on, note=note[:300], **_who(actor))


@transaction.atomic
def membership_case_open(
    *, actor: Any, person: Person, branch: Unit, applied_on: date, note: str = ""
) -> MembershipCase:
    """Record an application to join the party (入党申请书) received by ``branch``."""
    access.require(actor, Perm.PARTY_RECORD, branch)
    _see_person(actor, person)
    errors: dict[str, str] = {}
    if branch.kind not in MEETING_UNIT_KINDS:
        errors["branch"] = _("Applications are received by a branch, a general branch or a party group.")
    if person.political_status in (PoliticalStatus.MEMBER, PoliticalStatus.PROBATIONARY):
        errors["person"] = _("%(person)s is already a party member.") % {"person": person.name}
    if applied_on > today():
        errors["applied_on"] = _("The application date cannot be in the future.")
    if MembershipCase.objects.filter(person=person, closed=False).exists():
        errors["person"] = _("%(person)s already has an open case.") % {"person": person.name}
    if errors:
        raise ValidationError(errors)
    case = MembershipCase.objects.create(person=person, branch=branch, applied_on=applied_on, note=note or "")
    _step(case, Stage.APPLICANT, applied_on, actor, note)
    log_action(
        actor,
        action="partylife.case.opened",
        target=case,
        unit_path=branch.path,
        changes={"person": person.code, "applied_on": applied_on.isoformat()},
    )
    return case


def _lock_case(case: MembershipCase) -> MembershipCase:
    return (
        MembershipCase.objects.select_for_update(of=("self",))
        .select_related("person", "branch")
        .get(pk=case.pk)
    )


@transaction.atomic
def membership_case_talk(*, actor: Any, case: MembershipCase, on: date) -> MembershipCase:
    """The branch talked with the applicant (due within a month of the application)."""
    access.require(actor, Perm.PARTY_RECORD, case.branch)
    case = _lock_case(case)
    if on < case.applied_on or on > today():
        raise ValidationError({"on": _("The talk must be between the application and today.")})
    case.talked_on = on
    case.save(update_fields=["talked_on", "updated_at"])
    _step(case, case.stage, on, actor, _("First talk with the applicant"))
    log_action(
        actor,
        action="partylife.case.talked",
        target=case,
        unit_path=case.branch.path,
        changes={"on": on.isoformat()},
    )
    return case


@transaction.atomic
def membership_case_advance(
    *,
    actor: Any,
    case: MembershipCase,
    stage: str,
    on: date,
    introducers: Sequence[Person] = (),
    note: str = "",
) -> MembershipCase:
    """Move a case to its next stage on ``on``, checking the standard waiting periods (``pipeline``).

    Becoming a probationary member needs two full-member introducers, sets the person's political status
    and starts their branch membership; becoming a full member sets the status again.
    """
    access.require(actor, Perm.PARTY_RECORD, case.branch)
    case = _lock_case(case)
    if case.closed:
        raise ValidationError({"case": _("This case is closed.")})
    if on > today():
        raise ValidationError({"on": _("The date cannot be in the future.")})
    if stage == Stage.PROBATIONARY:
        bad = [
            p.name
            for p in introducers
            if p.political_status != PoliticalStatus.MEMBER or p.pk == case.person_id
        ]
        if bad:
            raise ValidationError(
                {"introducers": _("Introducers must be full members: %(names)s.") % {"names": "、".join(bad)}}
            )
    problems = pipeline.check_advance(
        case.stage,
        stage,
        on=on,
        dates=case.dates(),
        birth_date=case.person.birth_date,
        introducers=len({p.pk for p in introducers}),
    )
    if problems:
        raise ValidationError({"stage": [_PROBLEMS[code](params) for code, params in problems]})
    setattr(case, _STAGE_FIELD[Stage(stage)], on)
    case.stage = stage
    if stage == Stage.FULL_MEMBER:
        case.closed = True
        case.closed_reason = _("Became a full member")
    case.save()
    if stage == Stage.PROBATIONARY:
        case.introducers.set(introducers)
        person_update(actor=actor, person=case.person, political_status=PoliticalStatus.PROBATIONARY)
        if not BranchMembership.objects.filter(
            person=case.person, branch=case.branch, end__isnull=True
        ).exists():
            branch_membership_start(actor=actor, person=case.person, branch=case.branch, start=on)
    elif stage == Stage.FULL_MEMBER:
        person_update(actor=actor, person=case.person, political_status=PoliticalStatus.MEMBER)
    _step(case, stage, on, actor, note)
    log_action(
        actor,
        action="partylife.case.advanced",
        target=case,
        unit_path=case.branch.path,
        changes={"stage": stage, "on": on.isoformat(), "introducers": [p.code for p in introducers]},
    )
    return case


@transaction.atomic
def membership_case_extend(*, actor: Any, case: MembershipCase, months: int, reason: str) -> MembershipCase:
    """Extend a probation (once, by at most 12 months — 党章 第七条)."""
    access.require(actor, Perm.PARTY_RECORD, case.branch)
    case = _lock_case(case)
    errors: dict[str, str] = {}
    if case.stage != Stage.PROBATIONARY:
        errors["case"] = _("Only a probation can be extended.")
    elif case.extension_months:
        errors["months"] = _("A probation can be extended only once.")
    if not 1 <= months <= pipeline.MAX_EXTENSION_MONTHS:
        errors["months"] = _("An extension is 1 to 12 months.")
    if not _text(reason):
        errors["reason"] = _("A reason is required.")
    if errors:
        raise ValidationError(errors)
    case.extension_months = months
    case.save(update_fields=["extension_months", "updated_at"])
    _step(case, case.stage, today(), actor, _text(reason))
    log_action(
        actor,
        action="partylife.case.extended",
        target=case,
        unit_path=case.branch.path,
        changes={"months": months, "reason": _text(reason)},
    )
    return case


@transaction.atomic
def membership_case_close(*, actor: Any, case: MembershipCase, reason: str) -> MembershipCase:
    """Close a case without admission (withdrawn, not admitted, moved away), with the reason."""
    access.require(actor, Perm.PARTY_RECORD, case.branch)
    case = _lock_case(case)
    if case.closed:
        raise ValidationError({"case": _("This case is closed.")})
    if not _text(reason):
        raise ValidationError({"reason": _("A reason is required.")})
    case.closed = True
    case.closed_reason = _text(reason)[:200]
    case.save(update_fields=["closed", "closed_reason", "updated_at"])
    _step(case, case.stage, today(), actor, case.closed_reason)
    log_action(
        actor,
        action="partylife.case.closed",
        target=case,
        unit_path=case.branch.path,
        changes={"reason": case.closed_reason},
    )
    return case


# ---------------------------------------------------------------- posts and contact points


@transaction.atomic
def party_post_create(
    *,
    actor: Any,
    kind: str,
    name: str,
    unit: Unit,
    start: date,
    person: Person | None = None,
    team: Team | None = None,
    end: date | None = None,
    description: str = "",
) -> PartyPost:
    """Designate a model post, vanguard post or responsibility area to a person or a team for a period."""
    access.require(actor, Perm.PARTY_RECORD, unit)
    errors: dict[str, str] = {}
    if kind not in PostKind.values:
        errors["kind"] = _("Unknown type of post %(kind)s.") % {"kind": kind}
    if not _text(name):
        errors["name"] = _("A name is required.")
    if (person is None) == (team is None):
        errors["person"] = _("Designate the post to one person or one team.")
    if end is not None and end < start:
        errors["end"] = _("The end cannot be before the start.")
    if errors:
        raise ValidationError(errors)
    if person is not None:
        _see_person(actor, person)
    if team is not None and not access.scoped(Team.objects.filter(pk=team.pk), actor, Perm.VIEW).exists():
        raise Http404
    post = PartyPost.objects.create(
        kind=kind,
        name=_text(name)[:120],
        unit=unit,
        person=person,
        team=team,
        start=start,
        end=end,
        description=description or "",
    )
    signals.post_designated.send(sender=PartyPost, actor=actor, post=post)
    log_action(
        actor,
        action="partylife.post.created",
        target=post,
        unit_path=unit.path,
        changes={
            "kind": kind,
            "name": post.name,
            "person": person.code if person else None,
            "team": team.code if team else None,
            "start": start.isoformat(),
        },
    )
    return post


@transaction.atomic
def party_post_end(*, actor: Any, post: PartyPost, end: date) -> PartyPost:
    access.require(actor, Perm.PARTY_RECORD, post.unit)
    post = PartyPost.objects.select_for_update().get(pk=post.pk)
    if end < post.start:
        raise ValidationError({"end": _("The end cannot be before the start.")})
    post.end = end
    post.save(update_fields=["end"])
    log_action(
        actor,
        action="partylife.post.ended",
        target=post,
        unit_path=post.unit.path,
        changes={"end": end.isoformat()},
    )
    return post


@transaction.atomic
def contact_point_create(
    *, actor: Any, leader: Person, branch: Unit, start: date, note: str = ""
) -> ContactPoint:
    """Link a leader to a party organization as their contact point (基层党建联系点)."""
    access.require(actor, Perm.PARTY_RECORD, branch)
    _see_person(actor, leader)
    if not is_party_org(branch):
        raise ValidationError({"branch": _("A contact point is a party organization.")})
    cp = ContactPoint.objects.create(leader=leader, branch=branch, start=start, note=_text(note)[:200])
    log_action(
        actor,
        action="partylife.contact_point.created",
        target=cp,
        unit_path=branch.path,
        changes={"leader": leader.code, "start": start.isoformat()},
    )
    return cp


@transaction.atomic
def contact_point_end(*, actor: Any, contact_point: ContactPoint, end: date) -> ContactPoint:
    access.require(actor, Perm.PARTY_RECORD, contact_point.branch)
    cp = ContactPoint.objects.select_for_update().get(pk=contact_point.pk)
    if end < cp.start:
        raise ValidationError({"end": _("The end cannot be before the start.")})
    cp.end = end
    cp.save(update_fields=["end"])
    log_action(
        actor,
        action="partylife.contact_point.ended",
        target=cp,
        unit_path=contact_point.branch.path,
        changes={"end": end.isoformat()},
    )
    return cp


@transaction.atomic
def contact_visit_record(
    *, actor: Any, contact_point: ContactPoint, visited_on: date, topic: str, notes: str = ""
) -> ContactVisit:
    """Record a leader's visit to their contact point (by the branch's secretary or the leader)."""
    me = _actor_person(actor)
    is_leader = me is not None and me.pk == contact_point.leader_id
    if not is_leader:
        _see(actor, contact_point.branch)
        access.require(actor, Perm.PARTY_RECORD, contact_point.branch)
    errors: dict[str, str] = {}
    if not _text(topic):
        errors["topic"] = _("A topic is required.")
    if visited_on > today():
        errors["visited_on"] = _("A visit cannot be recorded before it happens.")
    elif visited_on < contact_point.start or (contact_point.end and visited_on > contact_point.end):
        errors["visited_on"] = _("The visit is outside the contact point's period.")
    if errors:
        raise ValidationError(errors)
    v = ContactVisit.objects.create(
        contact_point=contact_point,
        visited_on=visited_on,
        topic=_text(topic)[:200],
        notes=notes or "",
        recorded_by=_user_or_none(actor),
    )
    log_action(
        actor,
        action="partylife.contact_visit.recorded",
        target=v,
        unit_path=contact_point.branch.path,
        changes={"date": visited_on.isoformat(), "topic": v.topic},
    )
    return v


# ---------------------------------------------------------------- honors

# How far up the chain of party committees an honor of each level is approved (nearest first).
APPROVAL_STEPS = {
    HonorLevel.UNIT: 1,
    HonorLevel.DISTRICT: 1,
    HonorLevel.CITY: 2,
    HonorLevel.PROVINCIAL: 3,
    HonorLevel.NATIONAL: 3,
}


def honor_chain(honor: Honor) -> list[Unit]:
    """The committees that approve ``honor``, in order: the nearest committees above the proposing
    organization, as many as ``APPROVAL_STEPS`` says for its level (at least the nearest one)."""
    chain = [u for u in committee_chain(honor.branch) if u.pk != honor.branch_id]
    steps = APPROVAL_STEPS[HonorLevel(honor.level)]
    return chain[:steps] or [honor.branch]


# ---------------------------------------------------------------- honor evidence (scans and photos)

EVIDENCE_TYPES = ".pdf, .jpg, .png, .webp, .heic"


def evidence_max_bytes() -> int:
    """The largest evidence file accepted (``MUSTER_EVIDENCE_MAX_BYTES``, default 5 MB)."""
    return int(getattr(settings, "MUSTER_EVIDENCE_MAX_BYTES", 5 * 1024 * 1024))


def evidence_extension(head: bytes) -> str | None:
    """The extension of an accepted evidence format (a PDF scan or a photo), judged by content."""
    if head.startswith(b"%PDF-"):
        return ".pdf"
    return image_extension(head)


def evidence_check(file: File[Any]) -> File[Any]:
    """Refuse evidence that is too large or not a PDF or photo (by content, not by name); the stored
    name is a random one with the right extension (the uploader's name is not trusted)."""
    limit = evidence_max_bytes()
    size = file.size or 0
    if size > limit:
        raise ValidationError(
            {
                "evidence": _("The file is too large (%(size)s MB; at most %(max)s MB).")
                % {"size": round(size / 1048576, 1), "max": round(limit / 1048576, 1)}
            }
        )
    if not size:
        raise ValidationError({"evidence": _("The file is empty.")})
    file.seek(0)
    head = file.read(16)
    file.seek(0)
    ext = evidence_extension(head)
    if ext is None:
        raise ValidationError(
            {"evidence": _("The evidence must be a PDF or a photo (%(types)s).") % {"types": EVIDENCE_TYPES}}
        )
    file.name = f"{uuid.uuid4().hex}{ext}"
    return file


@transaction.atomic
def honor_propose(
    *,
    actor: Any,
    kind: str,
    name: str,
    level: str,
    awarded_on: date,
    branch: Unit,
    person: Person | None = None,
    unit: Unit | None = None,
    issuer: str = "",
    evidence: File[Any] | None = None,
    evidence_note: str = "",
) -> Honor:
    """Propose a commendation or award to a person or unit, with evidence; it enters its approval chain."""
    access.require(actor, Perm.PARTY_RECORD, branch)
    errors: dict[str, str] = {}
    if kind not in HonorKind.values:
        errors["kind"] = _("Unknown type %(kind)s.") % {"kind": kind}
    if level not in HonorLevel.values:
        errors["level"] = _("Unknown level %(level)s.") % {"level": level}
    if not _text(name):
        errors["name"] = _("A name is required.")
    if (person is None) == (unit is None):
        errors["person"] = _("An honor goes to one person or one unit.")
    if evidence is None and not _text(evidence_note):
        errors["evidence"] = _("Attach the evidence or describe where it is.")
    elif evidence is not None:
        try:
            evidence_check(evidence)
        except ValidationError as exc:
            errors["evidence"] = exc.message_dict["evidence"][0]
    if awarded_on > today():
        errors["awarded_on"] = _("The date cannot be in the future.")
    if not is_party_org(branch):
        errors["branch"] = _("An honor is proposed by a party organization.")
    if errors:
        raise ValidationError(errors)
    if person is not None:
        _see_person(actor, person)
    if unit is not None:
        _see(actor, unit)
    honor = Honor.objects.create(
        kind=kind,
        name=_text(name)[:200],
        level=level,
        awarded_on=awarded_on,
        issuer=_text(issuer)[:200],
        person=person,
        unit=unit,
        branch=branch,
        evidence_note=_text(evidence_note)[:300],
        status=HonorStatus.IN_APPROVAL,
        created_by=_user_or_none(actor),
    )
    if evidence is not None:
        honor.evidence = evidence
        honor.save(update_fields=["evidence"])
    log_action(
        actor,
        action="partylife.honor.proposed",
        target=honor,
        unit_path=branch.path,
        changes={
            "kind": kind,
            "level": level,
            "name": honor.name,
            "to": person.code if person else unit.code if unit else None,
        },
    )
    return honor


@transaction.atomic
def honor_evidence_attach(*, actor: Any, honor: Honor, evidence: File[Any]) -> Honor:
    """Attach (or replace) the evidence file of an honor still in approval with no decision yet."""
    honor = Honor.objects.select_for_update().select_related("branch").get(pk=honor.pk)
    if not access.scoped(Honor.objects.filter(pk=honor.pk), actor, Perm.VIEW).exists():
        raise Http404
    access.require(actor, Perm.PARTY_RECORD, honor.branch)
    if honor.status not in (HonorStatus.DRAFT, HonorStatus.IN_APPROVAL) or honor.approvals.exists():
        raise ValidationError(
            {"evidence": _("The evidence can only be changed before the first decision on the honor.")}
        )
    evidence_check(evidence)
    previous = honor.evidence.name if honor.evidence else ""
    honor.evidence = evidence
    honor.save(update_fields=["evidence"])
    log_action(
        actor,
        action="partylife.honor.evidence_attached",
        target=honor,
        unit_path=honor.branch.path,
        changes={"file": honor.evidence.name, "previous": previous, "size": evidence.size},
    )
    return honor


@transaction.atomic
def honor_decide(*, actor: Any, honor: Honor, approve: bool, opinion: str = "") -> Honor:
    """The next committee of the chain approves (or rejects, with an opinion) the honor."""
    _see(actor, honor.branch)
    honor = Honor.objects.select_for_update(of=("self",)).select_related("branch", "person").get(pk=honor.pk)
    if honor.status != HonorStatus.IN_APPROVAL:
        raise ValidationError({"honor": _("This honor is not waiting for approval.")})
    chain = honor_chain(honor)
    step = honor.approvals.count()
    unit = chain[step]
    access.require(actor, Perm.PARTY_APPROVE, unit)
    if not approve and not _text(opinion):
        raise ValidationError({"opinion": _("Say why the honor is rejected.")})
    HonorApproval.objects.create(
        honor=honor, step=step, unit=unit, approved=approve, opinion=_text(opinion)[:300], **_who(actor)
    )
    if not approve:
        honor.status = HonorStatus.REJECTED
    elif step + 1 == len(chain):
        honor.status = HonorStatus.APPROVED
    honor.save(update_fields=["status"])
    if honor.status == HonorStatus.APPROVED:
        signals.honor_approved.send(sender=Honor, actor=actor, honor=honor)
    log_action(
        actor,
        action="partylife.honor.decided",
        target=honor,
        unit_path=honor.branch.path,
        changes={
            "step": step,
            "by": unit.code,
            "approved": approve,
            "opinion": _text(opinion),
            "status": honor.status,
        },
    )
    return honor


# Re-exported for callers that only import services.
__all__ = [
    "COMMITTEE_ROLES",
    "AttendanceMark",
    "attendance_record",
    "branch_membership_end",
    "branch_membership_set_role",
    "branch_membership_start",
    "compliance_freeze",
    "contact_point_create",
    "contact_point_end",
    "contact_visit_record",
    "exemption_grant",
    "exemption_revoke",
    "honor_chain",
    "honor_decide",
    "honor_propose",
    "meeting_approve",
    "meeting_attach",
    "meeting_correction_start",
    "meeting_create",
    "meeting_fact",
    "meeting_mark_held",
    "meeting_quorum",
    "meeting_return",
    "meeting_submit",
    "meeting_update",
    "membership_case_advance",
    "membership_case_close",
    "membership_case_extend",
    "membership_case_open",
    "membership_case_talk",
    "party_post_create",
    "party_post_end",
    "requirement_change",
    "talk_record",
    "talk_withdraw",
]
