"""Party life over the API (/api/v1/partylife/…): meetings and their review, compliance, talks, the
membership pipeline, posts and contact points, honors.

Thin, like ``muster.orgs.api``: reads go through ``muster.partylife.queries`` / ``muster.orgs.access``
(out of scope = 404 / absent from lists), writes through ``muster.partylife.services`` (permission-checked,
audited; visible but not allowed = 403; bad input = 422 ``{"detail", "errors"}``).

People are referred to by staff number (工号), units by code. A date-time without an offset is Shanghai
time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponseBase
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from muster.api.common import (
    BoundedDate,
    BoundedDateTime,
    ErrorOut,
    PageParams,
    ReasonIn,
    Year,
    actor,
    paginate,
    required_unit,
)
from muster.clock import local_tz
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Person, Team, Unit
from muster.partylife import compliance, queries, services
from muster.partylife.models import (
    ContactPoint,
    Exemption,
    Honor,
    Meeting,
    MembershipCase,
    PartyPost,
    Talk,
)
from muster.partylife.queries import evidence_response

router = Router(tags=["party life"])

NOT_FOUND = {404: ErrorOut}
WRITE_ERRORS = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


# ================================================================ helpers


def _aware(value: datetime | None) -> datetime | None:
    """A naive date-time is Shanghai time."""
    if value is None or timezone.is_aware(value):
        return value
    return value.replace(tzinfo=local_tz())


def _as_of(value: datetime | None) -> datetime:
    return _aware(value) or timezone.now()


def _iso(value: datetime | None) -> str | None:
    return timezone.localtime(value, local_tz()).isoformat() if value is not None else None


def _person(user: Any, code: str, field: str) -> Person:
    person = access.scoped(Person.objects.all(), user, Perm.VIEW).filter(code=code).first()
    if person is None:
        raise ValidationError(
            {field: _("There is no person with the staff number %(code)s.") % {"code": code}}
        )
    return person


def _person_opt(user: Any, code: str | None, field: str) -> Person | None:
    return None if not code else _person(user, code, field)


def _people(user: Any, codes: Sequence[str], field: str) -> list[Person]:
    found = {p.code: p for p in access.scoped(Person.objects.all(), user, Perm.VIEW).filter(code__in=codes)}
    missing = [c for c in codes if c not in found]
    if missing:
        raise ValidationError(
            {field: _("There is no person with the staff number %(code)s.") % {"code": ", ".join(missing)}}
        )
    return [found[c] for c in dict.fromkeys(codes)]


def _code(p: Person | None) -> str | None:
    return p.code if p is not None else None


def _quarter(today: date) -> tuple[date, date]:
    start = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    return start, compliance.add_months(start, 3)


def _period(start: date | None, end: date | None) -> tuple[date, date]:
    qs, qe = _quarter(timezone.localdate())
    start, end = start or qs, end or qe
    if end <= start:
        raise ValidationError({"end": _("The period must end after it starts.")})
    return start, end


def _scope_unit(user: Any, code: str | None, field: str = "unit") -> Unit | None:
    return required_unit(user, code, field) if code else None


# ================================================================ meetings


class AttendanceOut(Schema):
    person: str
    name: str
    expected: bool
    voting: bool
    committee: bool
    status: str
    reason: str


class ReviewOut(Schema):
    action: str
    revision: int
    opinion: str
    by: str
    at: str


class MeetingOut(Schema):
    id: int
    unit: str
    unit_name: str
    kinds: list[str]
    topic: str
    starts_at: str
    ends_at: str | None
    place: str
    host: str | None
    recorder: str | None
    lecturer: str | None
    held: bool
    review_status: str
    revision: int
    approved_at: str | None


class MeetingDetailOut(MeetingOut):
    minutes: str
    attendance: list[AttendanceOut]
    reviews: list[ReviewOut]
    quorum: dict[str, bool] = Field(description="{kind: met} for each kind a requirement sets a quorum for")


class MeetingPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[MeetingOut]


class MeetingFilters(Schema):
    unit: str | None = Field(None, description="a party organization code: meetings in its subtree")
    start: BoundedDate | None = Field(None, description="meetings on or after this day")
    end: BoundedDate | None = Field(None, description="meetings before this day")
    kind: str | None = None
    status: str | None = Field(None, description="draft · submitted · approved · returned")


class MeetingIn(Schema):
    unit: str
    kinds: list[str]
    topic: str
    starts_at: BoundedDateTime
    ends_at: BoundedDateTime | None = None
    place: str = ""
    host: str | None = None
    recorder: str | None = None
    lecturer: str | None = None
    minutes: str = ""
    held: bool = False


class MeetingPatch(Schema):
    kinds: list[str] | None = None
    topic: str | None = None
    starts_at: BoundedDateTime | None = None
    ends_at: BoundedDateTime | None = None
    place: str | None = None
    host: str | None = None
    recorder: str | None = None
    lecturer: str | None = None
    minutes: str | None = None
    held: bool | None = None


class MarkIn(Schema):
    person: str
    status: str = Field(description="present · absent · excused (with a reason) · observer")
    reason: str = ""


class AttendanceIn(Schema):
    marks: list[MarkIn]


class OpinionIn(Schema):
    opinion: str = ""


class SubmitOut(Schema):
    quorum: dict[str, bool]
    meeting: MeetingDetailOut


def _meeting_out(m: Meeting) -> dict[str, Any]:
    return {
        "id": m.pk,
        "unit": m.unit.code,
        "unit_name": m.unit.name,
        "kinds": sorted(m.kinds),
        "topic": m.topic,
        "starts_at": _iso(m.starts_at),
        "ends_at": _iso(m.ends_at),
        "place": m.place,
        "host": _code(m.host),
        "recorder": _code(m.recorder),
        "lecturer": _code(m.lecturer),
        "held": m.held,
        "review_status": m.review_status,
        "revision": m.revision,
        "approved_at": _iso(m.approved_at),
    }


def _meeting_detail(user: Any, pk: int) -> dict[str, Any]:
    m = queries.meeting_get(user, pk)
    out = _meeting_out(m)
    out["minutes"] = m.minutes
    out["attendance"] = [
        {
            "person": a.person.code,
            "name": a.person.name,
            "expected": a.expected,
            "voting": a.voting,
            "committee": a.committee,
            "status": a.status,
            "reason": a.reason,
        }
        for a in sorted(m.attendance.all(), key=lambda a: (not a.expected, a.person.code))
    ]
    out["reviews"] = [
        {
            "action": r.action,
            "revision": r.revision,
            "opinion": r.opinion,
            "by": r.actor_name,
            "at": _iso(r.at),
        }
        for r in sorted(m.reviews.all(), key=lambda r: r.pk)
    ]
    out["quorum"] = queries.meeting_quorum(m)
    return out


def _get_meeting(user: Any, pk: int) -> Meeting:
    return access.get_scoped_or_404(Meeting.objects.select_related("unit"), user, pk=pk)


@router.get("/partylife/meetings", response=MeetingPage, summary="List meetings")
def list_meetings(
    request: HttpRequest, filters: Query[MeetingFilters], page: Query[PageParams]
) -> dict[str, Any]:
    user = actor(request)
    tz = local_tz()
    qs = queries.meeting_list(
        user,
        unit=_scope_unit(user, filters.unit),
        start=datetime.combine(filters.start, datetime.min.time(), tz) if filters.start else None,
        end=datetime.combine(filters.end, datetime.min.time(), tz) if filters.end else None,
        kind=filters.kind,
        status=filters.status,
    ).select_related("host", "recorder", "lecturer")
    items, meta = paginate(qs.order_by("-starts_at", "-id"), page)
    return {**meta, "items": [_meeting_out(m) for m in items]}


@router.get("/partylife/meetings/{meeting_id}", response={200: MeetingDetailOut, **NOT_FOUND})
def get_meeting(request: HttpRequest, meeting_id: int) -> dict[str, Any]:
    """A meeting with its attendance, review history and quorum."""
    return _meeting_detail(actor(request), meeting_id)


@router.post("/partylife/meetings", response={201: MeetingDetailOut, **WRITE_ERRORS})
def create_meeting(request: HttpRequest, payload: MeetingIn) -> Status:
    """Record a meeting (a draft); its expected attendees are filled from the roster on its date."""
    user = actor(request)
    unit = required_unit(user, payload.unit, "unit")
    starts_at = _aware(payload.starts_at)
    assert starts_at is not None
    m = services.meeting_create(
        actor=user,
        unit=unit,
        kinds=payload.kinds,
        topic=payload.topic,
        starts_at=starts_at,
        ends_at=_aware(payload.ends_at),
        place=payload.place,
        host=_person_opt(user, payload.host, "host"),
        recorder=_person_opt(user, payload.recorder, "recorder"),
        lecturer=_person_opt(user, payload.lecturer, "lecturer"),
        minutes=payload.minutes,
        held=payload.held,
    )
    return Status(201, _meeting_detail(user, m.pk))


@router.patch("/partylife/meetings/{meeting_id}", response={200: MeetingDetailOut, **WRITE_ERRORS})
def update_meeting(request: HttpRequest, meeting_id: int, payload: MeetingPatch) -> dict[str, Any]:
    """Change a draft or returned meeting (an approved one needs a correction)."""
    user = actor(request)
    m = _get_meeting(user, meeting_id)
    data = payload.model_dump(exclude_unset=True)
    changes: dict[str, Any] = {}
    for field in ("kinds", "topic", "place", "minutes", "held"):
        if field in data and data[field] is not None:
            changes[field] = data[field]
    for field in ("starts_at", "ends_at"):
        if field in data and (data[field] is not None or field == "ends_at"):
            changes[field] = _aware(data[field])
    for field in ("host", "recorder", "lecturer"):
        if field in data:
            changes[field] = _person_opt(user, data[field], field)
    services.meeting_update(actor=user, meeting=m, **changes)
    return _meeting_detail(user, m.pk)


@router.post("/partylife/meetings/{meeting_id}/attendance", response={200: MeetingDetailOut, **WRITE_ERRORS})
def record_attendance(request: HttpRequest, meeting_id: int, payload: AttendanceIn) -> dict[str, Any]:
    """Mark attendance; every problem is reported at once (``errors.attendance``)."""
    user = actor(request)
    m = _get_meeting(user, meeting_id)
    people = _people(user, [mk.person for mk in payload.marks], "marks")
    by_code = {p.code: p for p in people}
    marks = [services.AttendanceMark(by_code[mk.person], mk.status, mk.reason) for mk in payload.marks]
    services.attendance_record(actor=user, meeting=m, marks=marks)
    return _meeting_detail(user, m.pk)


@router.post("/partylife/meetings/{meeting_id}/submit", response={200: SubmitOut, **WRITE_ERRORS})
def submit_meeting(request: HttpRequest, meeting_id: int) -> dict[str, Any]:
    """Send for review. A failed quorum is not refused: it is returned (``quorum``) and recorded."""
    user = actor(request)
    quorum = services.meeting_submit(actor=user, meeting=_get_meeting(user, meeting_id))
    return {"quorum": quorum, "meeting": _meeting_detail(user, meeting_id)}


@router.post("/partylife/meetings/{meeting_id}/approve", response={200: MeetingDetailOut, **WRITE_ERRORS})
def approve_meeting(request: HttpRequest, meeting_id: int, payload: OpinionIn) -> dict[str, Any]:
    """The committee above approves: the meeting counts for compliance and earns its points."""
    user = actor(request)
    services.meeting_approve(actor=user, meeting=_get_meeting(user, meeting_id), opinion=payload.opinion)
    return _meeting_detail(user, meeting_id)


@router.post("/partylife/meetings/{meeting_id}/return", response={200: MeetingDetailOut, **WRITE_ERRORS})
def return_meeting(request: HttpRequest, meeting_id: int, payload: OpinionIn) -> dict[str, Any]:
    """The committee above returns the meeting with its opinion."""
    user = actor(request)
    services.meeting_return(actor=user, meeting=_get_meeting(user, meeting_id), opinion=payload.opinion)
    return _meeting_detail(user, meeting_id)


@router.post("/partylife/meetings/{meeting_id}/correction", response={200: MeetingDetailOut, **WRITE_ERRORS})
def correct_meeting(request: HttpRequest, meeting_id: int, payload: ReasonIn) -> dict[str, Any]:
    """Reopen an approved meeting as its next revision; its points are reversed until re-approved."""
    user = actor(request)
    services.meeting_correction_start(
        actor=user, meeting=_get_meeting(user, meeting_id), reason=payload.reason
    )
    return _meeting_detail(user, meeting_id)


@router.get("/partylife/review-queue", response=list[MeetingOut], summary="Meetings waiting for my review")
def review_queue(request: HttpRequest) -> list[dict[str, Any]]:
    return [_meeting_out(m) for m in queries.review_queue(actor(request))]


# ================================================================ compliance


class PeriodQuery(Schema):
    unit: str
    start: BoundedDate | None = Field(None, description="first day (default: this quarter)")
    end: BoundedDate | None = Field(None, description="day after the last (default: end of this quarter)")
    as_of: BoundedDateTime | None = Field(None, description="cutoff instant (default: now)")


class LineOut(Schema):
    code: str
    kind: str
    period: str
    start: date
    end: date
    required: int
    held: int
    gap: int
    exempt: bool
    status: str
    meetings: list[int]
    quorum_failures: list[int]


class OrgRowOut(Schema):
    unit: str
    unit_name: str
    status: str
    lines: list[LineOut]


class DashboardOut(Schema):
    scope: str
    start: date
    end: date
    through: date
    frozen: bool
    frozen_at: str | None
    rows: list[OrgRowOut]
    behind: list[str]


@router.get("/partylife/compliance", response={200: DashboardOut, **WRITE_ERRORS})
def compliance_dashboard(request: HttpRequest, q: Query[PeriodQuery]) -> dict[str, Any]:
    """Required vs held per organization under ``unit`` for a period, as of a cutoff (frozen periods
    answer from their snapshot)."""
    user = actor(request)
    scope = required_unit(user, q.unit, "unit")
    start, end = _period(q.start, q.end)
    d = queries.compliance_dashboard(user, scope, start=start, end=end, as_of=_as_of(q.as_of))
    rows = [
        {
            "unit": r["unit_code"],
            "unit_name": r["unit_name"],
            "status": r["status"],
            "lines": r["lines"],
        }
        for r in d.rows
    ]
    return {
        "scope": scope.code,
        "start": d.start,
        "end": d.end,
        "through": d.through,
        "frozen": d.frozen,
        "frozen_at": _iso(d.frozen_at),
        "rows": rows,
        "behind": [r["unit_code"] for r in d.behind],
    }


class DueOut(Schema):
    unit: str
    unit_name: str
    code: str
    kind: str
    start: date
    end: date
    due_on: date
    required: int
    held: int
    gap: int
    status: str


@router.get("/partylife/calendar", response={200: list[DueOut], **WRITE_ERRORS})
def compliance_calendar(request: HttpRequest, q: Query[PeriodQuery]) -> list[dict[str, Any]]:
    """What is still due (or was missed) under ``unit`` in the period, soonest first."""
    user = actor(request)
    unit = required_unit(user, q.unit, "unit")
    start, end = _period(q.start, q.end)
    return [
        {
            "unit": d.unit.code,
            "unit_name": d.unit.name,
            "code": d.line.code,
            "kind": d.line.kind,
            "start": d.line.start,
            "end": d.line.end,
            "due_on": d.due_on,
            "required": d.line.required,
            "held": d.line.held,
            "gap": d.line.gap,
            "status": d.line.status,
        }
        for d in queries.compliance_calendar(user, unit, start=start, end=end, as_of=_as_of(q.as_of))
        if access.can(user, Perm.VIEW, d.unit)
    ]


class ExemptionOut(Schema):
    id: int
    unit: str
    requirement: str
    start: date
    end: date = Field(description="exclusive")
    reason: str
    approved_by: str
    approved_at: str | None
    revoked: bool


class ExemptionIn(Schema):
    unit: str = Field(description="the party organization exempted (code)")
    requirement: str = Field(description="a requirement code: theme_day, party_lesson, …")
    start: BoundedDate
    end: BoundedDate = Field(description="exclusive")
    reason: str


class ExemptionQuery(Schema):
    unit: str
    start: BoundedDate | None = None
    end: BoundedDate | None = None


def _exemption_out(x: Any) -> dict[str, Any]:
    return {
        "id": x.pk,
        "unit": x.unit.code,
        "requirement": x.requirement_code,
        "start": x.start,
        "end": x.end,
        "reason": x.reason,
        "approved_by": x.approved_by_name,
        "approved_at": _iso(x.approved_at),
        "revoked": x.revoked,
    }


def _exemptions(user: Any) -> QuerySet[Exemption]:
    return access.scoped(Exemption.objects.select_related("unit"), user, Perm.VIEW)


@router.get("/partylife/exemptions", response={200: list[ExemptionOut], **WRITE_ERRORS})
def list_exemptions(request: HttpRequest, q: Query[ExemptionQuery]) -> list[dict[str, Any]]:
    """Exemptions under ``unit`` overlapping [start, end) (default: the current quarter), revoked ones too."""
    user = actor(request)
    unit = required_unit(user, q.unit, "unit")
    start, end = _period(q.start, q.end)
    qs = _exemptions(user).filter(unit__path__startswith=unit.path, start__lt=end, end__gt=start)
    return [_exemption_out(x) for x in qs.order_by("unit__path", "start", "pk")]


@router.post("/partylife/exemptions", response={201: ExemptionOut, **WRITE_ERRORS})
def grant_exemption(request: HttpRequest, payload: ExemptionIn) -> Status:
    """Exempt an organization from a requirement for a period; the caller is the approver (the right to
    approve party life on the committee above the organization)."""
    user = actor(request)
    x = services.exemption_grant(
        actor=user,
        unit=required_unit(user, payload.unit, "unit"),
        requirement_code=payload.requirement,
        start=payload.start,
        end=payload.end,
        reason=payload.reason,
    )
    return Status(201, _exemption_out(x))


@router.post("/partylife/exemptions/{exemption_id}/revoke", response={200: ExemptionOut, **WRITE_ERRORS})
def revoke_exemption(request: HttpRequest, exemption_id: int, payload: ReasonIn) -> dict[str, Any]:
    """Revoke an exemption, with the reason (the same approver rule as granting it)."""
    user = actor(request)
    x = access.get_scoped_or_404(_exemptions(user), user, pk=exemption_id)
    return _exemption_out(services.exemption_revoke(actor=user, exemption=x, reason=payload.reason))


class CutoffQuery(Schema):
    unit: str
    as_of: BoundedDateTime | None = Field(None, description="cutoff instant (default: now)")


class InactivityOut(Schema):
    person: str
    name: str
    branch: str
    months: int
    level: int
    last_life: date | None


@router.get("/partylife/inactivity", response={200: list[InactivityOut], **WRITE_ERRORS})
def inactivity(request: HttpRequest, q: Query[CutoffQuery]) -> list[dict[str, Any]]:
    """Members with no organizational life for 3, 4, 5 months (6: the six-month rule is crossed)."""
    user = actor(request)
    unit = required_unit(user, q.unit, "unit")
    return [
        {
            "person": w.person.code,
            "name": w.person.name,
            "branch": w.branch.code,
            "months": w.months,
            "level": w.level,
            "last_life": w.last_life,
        }
        for w in queries.inactivity_warnings(user, unit, as_of=_as_of(q.as_of))
    ]


# ================================================================ talks


class TalkOut(Schema):
    id: int
    unit: str
    held_on: date
    topic: str
    participants: list[str]
    withdrawn: bool
    withdrawn_reason: str


class TalkIn(Schema):
    unit: str
    held_on: BoundedDate
    topic: str
    participants: list[str]
    notes: str = ""


class TalkFilters(Schema):
    unit: str | None = None
    year: Year | None = None


def _talk_out(t: Talk) -> dict[str, Any]:
    return {
        "id": t.pk,
        "unit": t.unit.code,
        "held_on": t.held_on,
        "topic": t.topic,
        "participants": sorted(p.person.code for p in t.participations.all()),
        "withdrawn": t.withdrawn,
        "withdrawn_reason": t.withdrawn_reason,
    }


def _talks(user: Any) -> QuerySet[Talk]:
    return access.scoped(Talk.objects.select_related("unit"), user, Perm.VIEW).prefetch_related(
        "participations__person"
    )


@router.get("/partylife/talks", response={200: list[TalkOut], **WRITE_ERRORS})
def list_talks(request: HttpRequest, q: Query[TalkFilters]) -> list[dict[str, Any]]:
    user = actor(request)
    qs = _talks(user)
    unit = _scope_unit(user, q.unit)
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)
    if q.year:
        qs = qs.filter(held_on__year=q.year)
    return [_talk_out(t) for t in qs.order_by("-held_on", "-id")[:1000]]


@router.post("/partylife/talks", response={201: TalkOut, **WRITE_ERRORS})
def record_talk(request: HttpRequest, payload: TalkIn) -> Status:
    """Record a heart-to-heart talk (the secretary any; a member their own)."""
    user = actor(request)
    unit = required_unit(user, payload.unit, "unit")
    people = _people(user, payload.participants, "participants")
    t = services.talk_record(
        actor=user,
        unit=unit,
        held_on=payload.held_on,
        topic=payload.topic,
        participants=people,
        notes=payload.notes,
    )
    return Status(201, _talk_out(_talks(user).get(pk=t.pk)))


@router.post("/partylife/talks/{talk_id}/withdraw", response={200: TalkOut, **WRITE_ERRORS})
def withdraw_talk(request: HttpRequest, talk_id: int, payload: ReasonIn) -> dict[str, Any]:
    user = actor(request)
    talk = access.get_scoped_or_404(_talks(user), user, pk=talk_id)
    services.talk_withdraw(actor=user, talk=talk, reason=payload.reason)
    return _talk_out(_talks(user).get(pk=talk_id))


class MatrixQuery(Schema):
    branch: str
    year: Year
    as_of: BoundedDateTime | None = None


class PairOut(Schema):
    a: str
    b: str
    category: str


class CountOut(Schema):
    a: str
    b: str
    talks: int


class MatrixPersonOut(Schema):
    person: str
    name: str
    committee: bool


class MatrixOut(Schema):
    branch: str
    year: int
    people: list[MatrixPersonOut]
    required: int
    covered: int
    by_category: dict[str, list[int]] = Field(description="{category: [required, covered]}")
    gaps: list[PairOut]
    counts: list[CountOut]


@router.get("/partylife/talks/matrix", response={200: MatrixOut, **WRITE_ERRORS})
def talk_matrix(request: HttpRequest, q: Query[MatrixQuery]) -> dict[str, Any]:
    """Pair coverage of a branch's heart-to-heart talks for a year, with the gaps."""
    user = actor(request)
    branch = required_unit(user, q.branch, "branch")
    mx = queries.talk_matrix(user, branch, q.year, as_of=_aware(q.as_of))
    codes = {e.person.pk: e.person.code for e in mx.people}
    missing = {pid for pair in mx.coverage.counts for pid in pair} - set(codes)
    codes.update(dict(Person.objects.filter(pk__in=missing).values_list("pk", "code")))
    cov = mx.coverage
    return {
        "branch": branch.code,
        "year": q.year,
        "people": [
            {"person": e.person.code, "name": e.person.name, "committee": e.is_committee} for e in mx.people
        ],
        "required": cov.required,
        "covered": cov.covered,
        "by_category": {k: list(v) for k, v in cov.by_category.items()},
        "gaps": [{"a": codes[g.a], "b": codes[g.b], "category": g.category} for g in cov.gaps],
        "counts": [{"a": codes[a], "b": codes[b], "talks": n} for (a, b), n in sorted(cov.counts.items())],
    }


# ================================================================ membership pipeline


class CaseOut(Schema):
    id: int
    person: str
    name: str
    branch: str
    stage: str
    applied_on: date
    talked_on: date | None
    activist_on: date | None
    candidate_on: date | None
    probationary_on: date | None
    extension_months: int
    full_on: date | None
    closed: bool
    closed_reason: str


class CaseIn(Schema):
    person: str
    branch: str
    applied_on: BoundedDate
    note: str = ""


class CaseFilters(Schema):
    unit: str
    include_closed: bool = False


class AdvanceIn(Schema):
    stage: str
    on: BoundedDate
    introducers: list[str] = []
    note: str = ""


class TalkedIn(Schema):
    on: BoundedDate


class ExtendIn(Schema):
    months: int
    reason: str


class DueCaseOut(Schema):
    case: int
    person: str
    name: str
    stage: str
    milestone: str
    date: date
    status: str


def _case_out(c: MembershipCase) -> dict[str, Any]:
    return {
        "id": c.pk,
        "person": c.person.code,
        "name": c.person.name,
        "branch": c.branch.code,
        "stage": c.stage,
        "applied_on": c.applied_on,
        "talked_on": c.talked_on,
        "activist_on": c.activist_on,
        "candidate_on": c.candidate_on,
        "probationary_on": c.probationary_on,
        "extension_months": c.extension_months,
        "full_on": c.full_on,
        "closed": c.closed,
        "closed_reason": c.closed_reason,
    }


def _get_case(user: Any, case_id: int) -> MembershipCase:
    return access.get_scoped_or_404(
        MembershipCase.objects.select_related("person", "branch"), user, pk=case_id
    )


@router.get("/partylife/cases", response={200: list[CaseOut], **WRITE_ERRORS})
def list_cases(request: HttpRequest, q: Query[CaseFilters]) -> list[dict[str, Any]]:
    user = actor(request)
    unit = required_unit(user, q.unit, "unit")
    qs = queries.pipeline_cases(user, unit, include_closed=q.include_closed)
    return [_case_out(c) for c in qs.order_by("applied_on", "id")]


@router.get("/partylife/cases/due", response={200: list[DueCaseOut], **WRITE_ERRORS})
def cases_due(request: HttpRequest, q: Query[CutoffQuery]) -> list[dict[str, Any]]:
    """Who is due for what in the membership pipeline, soonest first."""
    user = actor(request)
    unit = required_unit(user, q.unit, "unit")
    return [
        {
            "case": d.case.pk,
            "person": d.case.person.code,
            "name": d.case.person.name,
            "stage": d.case.stage,
            "milestone": d.milestone.code,
            "date": d.milestone.date,
            "status": d.milestone.status,
        }
        for d in queries.pipeline_due(user, unit, as_of=_as_of(q.as_of))
    ]


@router.post("/partylife/cases", response={201: CaseOut, **WRITE_ERRORS})
def open_case(request: HttpRequest, payload: CaseIn) -> Status:
    """Record an application to join the party (入党申请书)."""
    user = actor(request)
    c = services.membership_case_open(
        actor=user,
        person=_person(user, payload.person, "person"),
        branch=required_unit(user, payload.branch, "branch"),
        applied_on=payload.applied_on,
        note=payload.note,
    )
    return Status(201, _case_out(c))


@router.post("/partylife/cases/{case_id}/talk", response={200: CaseOut, **WRITE_ERRORS})
def case_talk(request: HttpRequest, case_id: int, payload: TalkedIn) -> dict[str, Any]:
    user = actor(request)
    c = services.membership_case_talk(actor=user, case=_get_case(user, case_id), on=payload.on)
    return _case_out(c)


@router.post("/partylife/cases/{case_id}/advance", response={200: CaseOut, **WRITE_ERRORS})
def advance_case(request: HttpRequest, case_id: int, payload: AdvanceIn) -> dict[str, Any]:
    """Move a case to its next stage (the standard waiting periods are checked)."""
    user = actor(request)
    c = services.membership_case_advance(
        actor=user,
        case=_get_case(user, case_id),
        stage=payload.stage,
        on=payload.on,
        introducers=_people(user, payload.introducers, "introducers"),
        note=payload.note,
    )
    return _case_out(c)


@router.post("/partylife/cases/{case_id}/extend", response={200: CaseOut, **WRITE_ERRORS})
def extend_case(request: HttpRequest, case_id: int, payload: ExtendIn) -> dict[str, Any]:
    user = actor(request)
    c = services.membership_case_extend(
        actor=user, case=_get_case(user, case_id), months=payload.months, reason=payload.reason
    )
    return _case_out(c)


@router.post("/partylife/cases/{case_id}/close", response={200: CaseOut, **WRITE_ERRORS})
def close_case(request: HttpRequest, case_id: int, payload: ReasonIn) -> dict[str, Any]:
    user = actor(request)
    c = services.membership_case_close(actor=user, case=_get_case(user, case_id), reason=payload.reason)
    return _case_out(c)


# ================================================================ posts and contact points


class ModelPostOut(Schema):
    id: int
    kind: str
    name: str
    unit: str
    person: str | None
    team: str | None
    start: date
    end: date | None
    description: str


class ModelPostIn(Schema):
    kind: str = Field(description="model · vanguard · responsibility_area")
    name: str
    unit: str
    start: BoundedDate
    person: str | None = None
    team: str | None = None
    end: BoundedDate | None = None
    description: str = ""


class EndIn(Schema):
    end: BoundedDate


class UnitFilter(Schema):
    unit: str | None = None


def _post_out(p: PartyPost) -> dict[str, Any]:
    return {
        "id": p.pk,
        "kind": p.kind,
        "name": p.name,
        "unit": p.unit.code,
        "person": _code(p.person),
        "team": p.team.code if p.team else None,
        "start": p.start,
        "end": p.end,
        "description": p.description,
    }


def _posts(user: Any) -> QuerySet[PartyPost]:
    return access.scoped(PartyPost.objects.select_related("unit", "person", "team"), user, Perm.VIEW)


@router.get("/partylife/posts", response={200: list[ModelPostOut], **WRITE_ERRORS})
def list_posts(request: HttpRequest, q: Query[UnitFilter]) -> list[dict[str, Any]]:
    user = actor(request)
    qs = _posts(user)
    unit = _scope_unit(user, q.unit)
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)
    return [_post_out(p) for p in qs.order_by("unit__path", "kind", "name")]


@router.post("/partylife/posts", response={201: ModelPostOut, **WRITE_ERRORS})
def create_post(request: HttpRequest, payload: ModelPostIn) -> Status:
    """Designate a model post, vanguard post or responsibility area to one person or one team."""
    user = actor(request)
    team: Team | None = None
    if payload.team:
        team = access.scoped(Team.objects.all(), user, Perm.VIEW).filter(code=payload.team).first()
        if team is None:
            raise ValidationError(
                {"team": _("There is no team with the code %(code)s.") % {"code": payload.team}}
            )
    p = services.party_post_create(
        actor=user,
        kind=payload.kind,
        name=payload.name,
        unit=required_unit(user, payload.unit, "unit"),
        start=payload.start,
        person=_person_opt(user, payload.person, "person"),
        team=team,
        end=payload.end,
        description=payload.description,
    )
    return Status(201, _post_out(p))


@router.post("/partylife/posts/{post_id}/end", response={200: ModelPostOut, **WRITE_ERRORS})
def end_post(request: HttpRequest, post_id: int, payload: EndIn) -> dict[str, Any]:
    user = actor(request)
    p = services.party_post_end(
        actor=user, post=access.get_scoped_or_404(_posts(user), user, pk=post_id), end=payload.end
    )
    return _post_out(p)


class ContactPointOut(Schema):
    id: int
    leader: str
    leader_name: str
    branch: str
    start: date
    end: date | None
    note: str
    visits: int


class ContactPointIn(Schema):
    leader: str
    branch: str
    start: BoundedDate
    note: str = ""


class VisitIn(Schema):
    visited_on: BoundedDate
    topic: str
    notes: str = ""


class VisitOut(Schema):
    id: int
    visited_on: date
    topic: str
    notes: str


def _cp_out(cp: ContactPoint) -> dict[str, Any]:
    return {
        "id": cp.pk,
        "leader": cp.leader.code,
        "leader_name": cp.leader.name,
        "branch": cp.branch.code,
        "start": cp.start,
        "end": cp.end,
        "note": cp.note,
        "visits": cp.visits.count(),
    }


def _contact_points(user: Any) -> QuerySet[ContactPoint]:
    """Visible contact points, and the user's own (a leader records their visits)."""
    base = ContactPoint.objects.select_related("leader", "branch")
    visible = access.scoped(base, user, Perm.VIEW).values("pk")
    own = Q(leader__user_id=user.pk) if getattr(user, "pk", None) is not None else Q(pk__in=[])
    return base.filter(Q(pk__in=visible) | own)


@router.get("/partylife/contact-points", response={200: list[ContactPointOut], **WRITE_ERRORS})
def list_contact_points(request: HttpRequest, q: Query[UnitFilter]) -> list[dict[str, Any]]:
    user = actor(request)
    qs = _contact_points(user)
    unit = _scope_unit(user, q.unit)
    if unit is not None:
        qs = qs.filter(branch__path__startswith=unit.path)
    return [_cp_out(cp) for cp in qs.order_by("branch__path", "leader__code")]


@router.post("/partylife/contact-points", response={201: ContactPointOut, **WRITE_ERRORS})
def create_contact_point(request: HttpRequest, payload: ContactPointIn) -> Status:
    """Link a leader to a party organization as their contact point (基层党建联系点)."""
    user = actor(request)
    cp = services.contact_point_create(
        actor=user,
        leader=_person(user, payload.leader, "leader"),
        branch=required_unit(user, payload.branch, "branch"),
        start=payload.start,
        note=payload.note,
    )
    return Status(201, _cp_out(cp))


@router.post("/partylife/contact-points/{cp_id}/end", response={200: ContactPointOut, **WRITE_ERRORS})
def end_contact_point(request: HttpRequest, cp_id: int, payload: EndIn) -> dict[str, Any]:
    user = actor(request)
    cp = access.get_scoped_or_404(ContactPoint.objects.select_related("leader", "branch"), user, pk=cp_id)
    return _cp_out(services.contact_point_end(actor=user, contact_point=cp, end=payload.end))


@router.get("/partylife/contact-points/{cp_id}/visits", response={200: list[VisitOut], **NOT_FOUND})
def list_visits(request: HttpRequest, cp_id: int) -> list[dict[str, Any]]:
    user = actor(request)
    cp = _contact_points(user).filter(pk=cp_id).first()
    if cp is None:
        raise Http404
    return [
        {"id": v.pk, "visited_on": v.visited_on, "topic": v.topic, "notes": v.notes}
        for v in cp.visits.order_by("-visited_on", "-id")
    ]


@router.post("/partylife/contact-points/{cp_id}/visits", response={201: VisitOut, **WRITE_ERRORS})
def record_visit(request: HttpRequest, cp_id: int, payload: VisitIn) -> Status:
    """Record a leader's visit (by the branch's secretary or the leader)."""
    user = actor(request)
    cp = _contact_points(user).filter(pk=cp_id).first()
    if cp is None:
        raise Http404
    v = services.contact_visit_record(
        actor=user, contact_point=cp, visited_on=payload.visited_on, topic=payload.topic, notes=payload.notes
    )
    return Status(201, {"id": v.pk, "visited_on": v.visited_on, "topic": v.topic, "notes": v.notes})


# ================================================================ honors


class HonorApprovalOut(Schema):
    step: int
    unit: str
    approved: bool
    opinion: str
    by: str


class HonorOut(Schema):
    id: int
    kind: str
    name: str
    level: str
    awarded_on: date
    issuer: str
    person: str | None
    unit: str | None
    branch: str
    evidence_note: str
    has_evidence: bool = Field(description="an evidence file is attached (GET …/evidence)")
    status: str
    chain: list[str] = Field(description="the committees that approve it, in order")
    approvals: list[HonorApprovalOut]


class HonorIn(Schema):
    kind: str = Field(description="commendation · award")
    name: str
    level: str = Field(description="national · provincial · city · district · unit")
    awarded_on: BoundedDate
    branch: str
    person: str | None = None
    unit: str | None = None
    issuer: str = ""
    evidence_note: str = Field(
        "", description="where the evidence is (or attach the file: POST /partylife/honors/with-evidence)"
    )


class DecideIn(Schema):
    approve: bool
    opinion: str = ""


class HonorFilters(Schema):
    unit: str | None = None
    status: str | None = None


def _honors(user: Any) -> QuerySet[Honor]:
    return access.scoped(
        Honor.objects.select_related("person", "unit", "branch"), user, Perm.VIEW
    ).prefetch_related("approvals__unit")


def _honor_out(h: Honor) -> dict[str, Any]:
    return {
        "id": h.pk,
        "kind": h.kind,
        "name": h.name,
        "level": h.level,
        "awarded_on": h.awarded_on,
        "issuer": h.issuer,
        "person": _code(h.person),
        "unit": h.unit.code if h.unit else None,
        "branch": h.branch.code,
        "evidence_note": h.evidence_note,
        "has_evidence": bool(h.evidence),
        "status": h.status,
        "chain": [u.code for u in services.honor_chain(h)],
        "approvals": [
            {
                "step": a.step,
                "unit": a.unit.code,
                "approved": a.approved,
                "opinion": a.opinion,
                "by": a.actor_name,
            }
            for a in sorted(h.approvals.all(), key=lambda a: a.step)
        ],
    }


@router.get("/partylife/honors", response={200: list[HonorOut], **WRITE_ERRORS})
def list_honors(request: HttpRequest, q: Query[HonorFilters]) -> list[dict[str, Any]]:
    user = actor(request)
    qs = _honors(user)
    unit = _scope_unit(user, q.unit)
    if unit is not None:
        qs = qs.filter(branch__path__startswith=unit.path)
    if q.status:
        qs = qs.filter(status=q.status)
    return [_honor_out(h) for h in qs.order_by("-awarded_on", "-id")[:1000]]


def _propose(request: HttpRequest, payload: HonorIn, evidence: UploadedFile | None = None) -> Status:
    user = actor(request)
    h = services.honor_propose(
        actor=user,
        kind=payload.kind,
        name=payload.name,
        level=payload.level,
        awarded_on=payload.awarded_on,
        branch=required_unit(user, payload.branch, "branch"),
        person=_person_opt(user, payload.person, "person"),
        unit=_scope_unit(user, payload.unit),
        issuer=payload.issuer,
        evidence=evidence,
        evidence_note=payload.evidence_note,
    )
    return Status(201, _honor_out(_honors(user).get(pk=h.pk)))


@router.post("/partylife/honors", response={201: HonorOut, **WRITE_ERRORS})
def propose_honor(request: HttpRequest, payload: HonorIn) -> Status:
    """Propose a commendation or award; it enters its approval chain."""
    return _propose(request, payload)


EVIDENCE_HELP = (
    "The evidence file: a PDF scan or a photo (JPEG, PNG, WebP, HEIC), judged by its content, of at most "
    "MUSTER_EVIDENCE_MAX_BYTES (5 MB by default); otherwise 422 with errors.evidence."
)


@router.post(
    "/partylife/honors/with-evidence",
    response={201: HonorOut, **WRITE_ERRORS},
    summary="Propose an honor with its evidence file (multipart/form-data)",
    description="The fields of POST /partylife/honors as form fields, and the file as `evidence`. "
    + EVIDENCE_HELP,
)
def propose_honor_with_evidence(
    request: HttpRequest, payload: Form[HonorIn], evidence: File[UploadedFile]
) -> Status:
    return _propose(request, payload, evidence)


@router.post(
    "/partylife/honors/{honor_id}/evidence",
    response={200: HonorOut, **WRITE_ERRORS},
    summary="Attach (or replace) the evidence file of an honor before its first decision",
    description="multipart/form-data with the file as `evidence`; needs the right to record party life on "
    "the proposing organization. " + EVIDENCE_HELP,
)
def attach_honor_evidence(
    request: HttpRequest, honor_id: int, evidence: File[UploadedFile]
) -> dict[str, Any]:
    user = actor(request)
    h = access.get_scoped_or_404(_honors(user), user, pk=honor_id)
    services.honor_evidence_attach(actor=user, honor=h, evidence=evidence)
    return _honor_out(_honors(user).get(pk=honor_id))


@router.get(
    "/partylife/honors/{honor_id}/evidence",
    response={200: None, **NOT_FOUND},
    summary="Download the evidence file of an honor (scoped like the honor: 404 out of scope)",
)
def honor_evidence(request: HttpRequest, honor_id: int) -> HttpResponseBase:
    user = actor(request)
    h = access.get_scoped_or_404(_honors(user), user, pk=honor_id)
    return evidence_response(h)


@router.post("/partylife/honors/{honor_id}/decide", response={200: HonorOut, **WRITE_ERRORS})
def decide_honor(request: HttpRequest, honor_id: int, payload: DecideIn) -> dict[str, Any]:
    """The next committee of the chain approves or rejects (with an opinion)."""
    user = actor(request)
    h = access.get_scoped_or_404(_honors(user), user, pk=honor_id)
    services.honor_decide(actor=user, honor=h, approve=payload.approve, opinion=payload.opinion)
    return _honor_out(_honors(user).get(pk=honor_id))
