"""Meetings over the API: list, read, record, edit, attendance, and the review."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Schema, Status

from muster.api.common import (
    BoundedDate,
    BoundedDateTime,
    PageParams,
    ReasonIn,
    actor,
    paginate,
    required_unit,
)
from muster.clock import local_tz
from muster.orgs import access
from muster.partylife import queries, services
from muster.partylife.models import Meeting

from .common import NOT_FOUND, WRITE_ERRORS, _aware, _code, _iso, _people, _person_opt, _scope_unit, router


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
