"""Mobilization over the API (/api/v1/mobilize/…): requests, batches, posts, shifts, check-in/out,
roll-call, the service-hours ledger, measures, and the ledger import/export.

Thin, like ``muster.orgs.api``: every read goes through ``muster.mobilize.queries`` (scoped through
``muster.orgs.access``: out of scope = 404 / absent from lists), every write through
``muster.mobilize.services`` (permission-checked, audited; visible but not allowed = 403).

Errors: a service's ``ValidationError`` is answered 422 with ``{"detail", "errors", "code", "codes"}``:
``errors`` is ``{field: [messages]}`` as everywhere in the API, ``codes`` is ``{field: [codes]}`` with the
service's machine-readable codes (``conflict``, ``overlap``, ``too_long``, ``end_before_start``,
``not_checked_in``, ``superseded``…) and ``code`` is the first of them (or null).

Times are read with ``muster.mobilize.clock.parse_datetime``: ISO 8601 (with or without an offset;
without one it is Shanghai time), "2022-03-18 24:00", "2022/3/18 8:00", "2022年3月18日 8时". They are
written as ISO 8601 in local time.

Check-in and check-out carry a client key: the same key posted again returns the same body (status 200,
with the header ``Idempotent-Replayed: true``) and writes nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Min, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from ninja import Field, File, Query, Router, Schema, Status
from ninja.files import UploadedFile

from muster import clock
from muster.api.checks import IntRange
from muster.api.common import (
    BoundedDate,
    ErrorOut,
    ImportErrorOut,
    PageParams,
    ReasonIn,
    actor,
    required_unit,
    resolve_unit,
    validation_errors,
)
from muster.clock import local_tz
from muster.mobilize import queries, services, shift_templates
from muster.mobilize.models import (
    Assignment,
    CheckEvent,
    Deployment,
    EntryKind,
    EntryOp,
    MeasureKind,
    MeasureValue,
    Post,
    Request,
    ServiceEntry,
    Shift,
)
from muster.mobilize.queries import ChainState, EntryView
from muster.orgs import access, rules
from muster.orgs.access import Perm
from muster.orgs.models import Partner, Person, Team, Unit

router = Router(tags=["mobilization"])


class MobilizeErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] | None = None
    code: str | None = Field(None, description="the first machine-readable code, if the service gave one")
    codes: dict[str, list[str]] | None = None


NOT_FOUND = {404: ErrorOut}
WRITE_ERRORS = {403: ErrorOut, 404: ErrorOut, 422: MobilizeErrorOut}

# ================================================================ helpers


def error_codes(exc: ValidationError) -> dict[str, list[str]]:
    """``{field: [codes]}`` of a ``ValidationError`` (only the errors that carry a code)."""
    out: dict[str, list[str]] = {}
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            codes = [e.code for e in errors if e.code]
            if codes:
                out[field] = codes
    else:
        codes = [e.code for e in exc.error_list if e.code]
        if codes:
            out["__all__"] = codes
    return out


def invalid_response(exc: ValidationError) -> JsonResponse:
    codes = error_codes(exc)
    first = next((c for cs in codes.values() for c in cs), None)
    body = {
        "detail": _("The input is not valid."),
        "errors": validation_errors(exc),
        "code": first,
        "codes": codes,
    }
    return JsonResponse(body, status=422, json_dumps_params={"ensure_ascii": False})


def coded(view: Callable[..., Any]) -> Callable[..., Any]:
    """Answer a ``ValidationError`` 422 with the service's codes (the API-wide handler drops them)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except ValidationError as exc:
            return invalid_response(exc)

    return wrapper


def when(value: str | None, field: str) -> datetime | None:
    """A date-time input, read the way people write it; ``None`` stays ``None``."""
    if value is None:
        return None
    from muster.mobilize.ledger_io import describe_time_error

    try:
        return clock.parse_datetime(value, local_tz())
    except clock.TimeParseError as exc:
        raise ValidationError({field: ValidationError(describe_time_error(exc), code="bad_time")}) from None


def required_when(value: str, field: str) -> datetime:
    dt = when(value, field)
    assert dt is not None
    return dt


def iso(dt: datetime | None) -> str | None:
    return timezone.localtime(dt, local_tz()).isoformat() if dt is not None else None


def _label(obj: Any, field: str) -> str:
    return str(getattr(obj, f"get_{field}_display")()) if getattr(obj, field) else ""


def _ref(obj: Any) -> dict[str, str] | None:
    return {"code": obj.code, "name": obj.name} if obj is not None else None


def _page(items: Sequence[Any], params: PageParams) -> tuple[list[Any], dict[str, Any]]:
    start = (params.page - 1) * params.page_size
    return list(items[start : start + params.page_size]), {
        "count": len(items),
        "page": params.page,
        "page_size": params.page_size,
    }


def _qs_page(qs: QuerySet[Any], params: PageParams) -> tuple[list[Any], dict[str, Any]]:
    count = qs.count()
    start = (params.page - 1) * params.page_size
    return list(qs[start : start + params.page_size]), {
        "count": count,
        "page": params.page,
        "page_size": params.page_size,
    }


def _person(user: Any, code: str, field: str) -> Person:
    """A person the user may see (their own included); unknown and out of scope give the same error."""
    person = access.scoped(Person.objects.all(), user, Perm.VIEW).filter(code=code).first()
    if person is None:
        raise ValidationError(
            {field: _("There is no person with the staff number %(code)s.") % {"code": code}}
        )
    return person


def _people(user: Any, codes: Sequence[str], field: str) -> list[Person]:
    found = {p.code: p for p in access.scoped(Person.objects.filter(code__in=codes), user, Perm.VIEW)}
    missing = [c for c in codes if c not in found]
    if missing:
        raise ValidationError(
            {field: _("There is no person with the staff number %(code)s.") % {"code": ", ".join(missing)}}
        )
    return [found[c] for c in codes]


def _teams(user: Any, codes: Sequence[str]) -> list[Team]:
    found = {t.code: t for t in access.scoped(Team.objects.filter(code__in=codes), user, Perm.VIEW)}
    missing = [c for c in codes if c not in found]
    if missing:
        raise ValidationError(
            {"teams": _("There is no team with the code %(code)s.") % {"code": ", ".join(missing)}}
        )
    return [found[c] for c in codes]


def _partner(user: Any, code: str | None, field: str = "partner") -> Partner | None:
    if not code:
        return None
    partner = access.scoped(Partner.objects.all(), user, Perm.VIEW).filter(code=code).first()
    if partner is None:
        raise ValidationError({field: _("There is no partner with the code %(code)s.") % {"code": code}})
    return partner


def _my_person(user: Any) -> Person:
    pk = getattr(user, "pk", None)
    person = Person.objects.filter(user_id=pk).first() if pk is not None else None
    if person is None:
        raise ValidationError({"person": _("Your login is not linked to a person.")})
    return person


def _warnings(ws: Sequence[services.ConflictWarning]) -> list[dict[str, Any]]:
    return [
        {"person": w.person.code, "other": w.other, "gap_minutes": w.gap_minutes, "message": w.message}
        for w in ws
    ]


# ================================================================ requests


class RequestOut(Schema):
    code: str
    unit: dict[str, str] | None
    partner: dict[str, str] | None
    title: str
    description: str
    site: str
    skills: list[str]
    people_needed: int
    assigned: int
    missing: int
    start: str
    end: str
    status: str
    status_label: str


class RequestPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[RequestOut]


class RequestFilters(Schema):
    status: Literal["open", "closed", "cancelled", "all"] = "open"
    unit: str | None = Field(None, description="unit code: requests handled in its subtree")


class RequestIn(Schema):
    unit: str = Field(description="handling unit code")
    partner: str = Field(description="partner code")
    title: str
    people_needed: Annotated[int, IntRange("people_needed", *rules.PEOPLE_NEEDED)]
    start: str
    end: str
    site: str = ""
    description: str = ""
    skills: list[str] = []
    code: str = ""


class RequestPatch(Schema):
    status: str | None = None
    people_needed: Annotated[int, IntRange("people_needed", *rules.PEOPLE_NEEDED)] | None = None
    title: str | None = None
    site: str | None = None
    start: str | None = None
    end: str | None = None


def _request_out(r: Request, assigned: int | None = None) -> dict[str, Any]:
    if assigned is None:
        assigned = queries.request_coverage(r).assigned
    return {
        "code": r.code,
        "unit": _ref(r.unit),
        "partner": _ref(r.partner),
        "title": r.title,
        "description": r.description,
        "site": r.site,
        "skills": sorted(t.name for t in r.skills.all()),
        "people_needed": r.people_needed,
        "assigned": assigned,
        "missing": max(0, r.people_needed - assigned),
        "start": iso(r.start),
        "end": iso(r.end),
        "status": r.status,
        "status_label": _label(r, "status"),
    }


def _get_request(user: Any, code: str) -> Request:
    return access.get_scoped_or_404(Request.objects.select_related("unit", "partner"), user, code=code)


@router.get("/requests", response=RequestPage, summary="Requests with their coverage")
@coded
def list_requests(
    request: HttpRequest, filters: Query[RequestFilters], page: Query[PageParams]
) -> dict[str, Any]:
    user = actor(request)
    qs = queries.request_list(user, status=None if filters.status == "all" else filters.status)
    unit = resolve_unit(user, filters.unit, "unit")
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)
    items, meta = _qs_page(qs.prefetch_related("skills"), page)
    return {**meta, "items": [_request_out(r, r.assigned) for r in items]}


@router.get("/requests/{code}", response={200: RequestOut, **NOT_FOUND}, summary="A request")
def get_request(request: HttpRequest, code: str) -> dict[str, Any]:
    return _request_out(_get_request(actor(request), code))


@router.post("/requests", response={201: RequestOut, **WRITE_ERRORS}, summary="Record a request")
@coded
def create_request(request: HttpRequest, payload: RequestIn) -> Status:
    user = actor(request)
    unit = required_unit(user, payload.unit, "unit")
    partner = _partner(user, payload.partner)
    assert partner is not None
    r = services.request_create(
        actor=user,
        unit=unit,
        partner=partner,
        title=payload.title,
        people_needed=payload.people_needed,
        start=required_when(payload.start, "start"),
        end=required_when(payload.end, "end"),
        site=payload.site,
        description=payload.description,
        skills=payload.skills,
        code=payload.code,
    )
    return Status(201, _request_out(r))


@router.patch("/requests/{code}", response={200: RequestOut, **WRITE_ERRORS}, summary="Change a request")
@coded
def update_request(request: HttpRequest, code: str, payload: RequestPatch) -> dict[str, Any]:
    user = actor(request)
    r = _get_request(user, code)
    changes = payload.model_dump(exclude_unset=True)
    for f in ("start", "end"):
        if f in changes:
            changes[f] = when(changes[f], f)
    r = services.request_update(actor=user, request=r, **changes)
    return _request_out(r)


# ================================================================ deployments


class DeploymentOut(Schema):
    code: str
    seq: int
    unit: dict[str, str] | None
    supported_unit: dict[str, str] | None
    title: str
    site: str
    partner: dict[str, str] | None
    request: str | None
    leader: dict[str, str] | None
    start: str
    end: str
    status: str
    status_label: str
    note: str
    member_count: int


class MemberOut(Schema):
    person: str
    name: str
    team: str | None


class ShiftOut(Schema):
    id: int
    deployment: str | None
    post: str | None
    start: str
    end: str
    seats: int
    assigned: int
    mode: str
    label: str
    token: str
    people: list[str]


class MeasureValueOut(Schema):
    id: int
    kind: str
    name: str
    unit_label: str
    value: int
    on: date | None
    note: str


class DeploymentDetailOut(DeploymentOut):
    members: list[MemberOut]
    shifts: list[ShiftOut]
    measures: list[MeasureValueOut]


class DeploymentPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[DeploymentOut]


class DeploymentFilters(Schema):
    unit: str | None = Field(None, description="batches dispatched or supported in this unit's subtree")
    since: str | None = Field(None, description="batches ending after this time")
    until: str | None = Field(None, description="batches starting before this time")
    status: Literal["active", "cancelled"] | None = None
    request: str | None = Field(None, description="request code")
    q: str | None = Field(None, description="part of the code, task or place")


class DispatchIn(Schema):
    unit: str = Field(description="dispatching unit code")
    title: str
    start: str
    end: str
    teams: list[str] = Field([], description="team codes: all their members go")
    people: list[str] = Field([], description="hand-picked staff numbers")
    leader: str | None = Field(None, description="staff number of the batch leader")
    request: str | None = Field(None, description="request code")
    partner: str | None = Field(None, description="partner code (default: the request's)")
    site: str = ""
    supported_unit: str | None = Field(None, description="the unit this batch supports (宝山 → 松江)")
    code: str = Field("", description="default: <unit code>-<NNN>")
    note: str = ""


class DispatchOut(DeploymentDetailOut):
    warnings: list[dict[str, Any]]


class DeploymentPatch(Schema):
    title: str | None = None
    site: str | None = None
    start: str | None = None
    end: str | None = None
    leader: str | None = None
    note: str | None = None


class MemberIn(Schema):
    person: str
    team: str | None = None


def _deployment_out(d: Deployment, member_count: int | None = None) -> dict[str, Any]:
    return {
        "code": d.code,
        "seq": d.seq,
        "unit": _ref(d.unit),
        "supported_unit": _ref(d.supported_unit),
        "title": d.title,
        "site": d.site,
        "partner": _ref(d.partner),
        "request": d.request.code if d.request_id and d.request else None,
        "leader": _ref(d.leader),
        "start": iso(d.start),
        "end": iso(d.end),
        "status": d.status,
        "status_label": _label(d, "status"),
        "note": d.note,
        "member_count": member_count if member_count is not None else d.memberships.count(),
    }


def _shift_out(s: Shift) -> dict[str, Any]:
    people = sorted(a.person.code for a in s.assignments.all())
    return {
        "id": s.pk,
        "deployment": s.deployment.code if s.deployment_id and s.deployment else None,
        "post": s.post.code if s.post_id and s.post else None,
        "start": iso(s.start),
        "end": iso(s.end),
        "seats": s.seats,
        "assigned": len(people),
        "mode": s.mode,
        "label": s.label,
        "token": s.token,
        "people": people,
    }


def _measure_out(v: MeasureValue) -> dict[str, Any]:
    return {
        "id": v.pk,
        "kind": v.kind.code,
        "name": v.kind.name,
        "unit_label": v.kind.unit_label,
        "value": v.value,
        "on": v.on,
        "note": v.note,
    }


def _deployment_detail(d: Deployment) -> dict[str, Any]:
    d = (
        Deployment.objects.select_related("unit", "supported_unit", "partner", "leader", "request")
        .prefetch_related("memberships__person", "memberships__team")
        .get(pk=d.pk)
    )
    members = sorted(d.memberships.all(), key=lambda m: m.person.code)
    out = _deployment_out(d, len(members))
    out["members"] = [
        {"person": m.person.code, "name": m.person.name, "team": m.team.code if m.team else None}
        for m in members
    ]
    shifts = d.shifts.select_related("deployment", "post").prefetch_related("assignments__person")
    out["shifts"] = [_shift_out(s) for s in shifts.order_by("start", "id")]
    out["measures"] = [_measure_out(v) for v in d.measures.select_related("kind")]
    return out


def _get_deployment(user: Any, code: str) -> Deployment:
    return queries.deployment_get_or_404(user, code=code)


@router.get("/deployments", response=DeploymentPage, summary="Batches (派出批次)")
@coded
def list_deployments(
    request: HttpRequest, filters: Query[DeploymentFilters], page: Query[PageParams]
) -> dict[str, Any]:
    user = actor(request)
    qs = queries.deployment_list(
        user,
        unit=resolve_unit(user, filters.unit, "unit"),
        since=when(filters.since, "since"),
        until=when(filters.until, "until"),
    )
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.request:
        qs = qs.filter(request__code=filters.request)
    if filters.q:
        q = filters.q.strip()
        qs = qs.filter(Q(code__icontains=q) | Q(title__icontains=q) | Q(site__icontains=q))
    items, meta = _qs_page(qs, page)
    return {**meta, "items": [_deployment_out(d, d.member_count) for d in items]}


@router.get(
    "/deployments/{code}",
    response={200: DeploymentDetailOut, **NOT_FOUND},
    summary="A batch with its members, shifts and measures",
)
def get_deployment(request: HttpRequest, code: str) -> dict[str, Any]:
    return _deployment_detail(_get_deployment(actor(request), code))


@router.post("/deployments", response={201: DispatchOut, **WRITE_ERRORS}, summary="Dispatch a batch")
@coded
def dispatch(request: HttpRequest, payload: DispatchIn) -> Status:
    user = actor(request)
    unit = required_unit(user, payload.unit, "unit")
    supported = None
    if payload.supported_unit:
        # The supported unit is usually another district, outside the dispatcher's scope.
        supported = Unit.objects.filter(code=payload.supported_unit, is_active=True).first()
        if supported is None:
            raise ValidationError(
                {
                    "supported_unit": _("There is no unit with the code %(code)s.")
                    % {"code": payload.supported_unit}
                }
            )
    req = None
    if payload.request:
        req = access.scoped(Request.objects.all(), user, Perm.VIEW).filter(code=payload.request).first()
        if req is None:
            raise ValidationError(
                {"request": _("There is no request with the code %(code)s.") % {"code": payload.request}}
            )
    result = services.deployment_dispatch(
        actor=user,
        unit=unit,
        title=payload.title,
        start=required_when(payload.start, "start"),
        end=required_when(payload.end, "end"),
        teams=_teams(user, payload.teams),
        people=_people(user, payload.people, "people"),
        leader=_person(user, payload.leader, "leader") if payload.leader else None,
        request=req,
        partner=_partner(user, payload.partner),
        site=payload.site,
        supported_unit=supported,
        code=payload.code,
        note=payload.note,
    )
    out = _deployment_detail(result.deployment)
    out["warnings"] = _warnings(result.warnings)
    return Status(201, out)


@router.patch("/deployments/{code}", response={200: DispatchOut, **WRITE_ERRORS}, summary="Change a batch")
@coded
def update_deployment(request: HttpRequest, code: str, payload: DeploymentPatch) -> dict[str, Any]:
    user = actor(request)
    d = _get_deployment(user, code)
    changes = payload.model_dump(exclude_unset=True)
    for f in ("start", "end"):
        if f in changes:
            changes[f] = when(changes[f], f)
    if changes.get("leader"):
        changes["leader"] = _person(user, changes["leader"], "leader")
    else:
        changes.pop("leader", None)
    result = services.deployment_update(actor=user, deployment=d, **changes)
    out = _deployment_detail(result.deployment)
    out["warnings"] = _warnings(result.warnings)
    return out


@router.post(
    "/deployments/{code}/cancel",
    response={200: DeploymentDetailOut, **WRITE_ERRORS},
    summary="Cancel a batch",
)
@coded
def cancel_deployment(request: HttpRequest, code: str, payload: ReasonIn) -> dict[str, Any]:
    user = actor(request)
    d = services.deployment_cancel(actor=user, deployment=_get_deployment(user, code), reason=payload.reason)
    return _deployment_detail(d)


@router.post(
    "/deployments/{code}/members",
    response={200: DispatchOut, **WRITE_ERRORS},
    summary="Add a person to a batch",
)
@coded
def add_member(request: HttpRequest, code: str, payload: MemberIn) -> dict[str, Any]:
    user = actor(request)
    d = _get_deployment(user, code)
    team = _teams(user, [payload.team])[0] if payload.team else None
    result = services.deployment_member_add(
        actor=user, deployment=d, person=_person(user, payload.person, "person"), team=team
    )
    out = _deployment_detail(d)
    out["warnings"] = _warnings(result.warnings)
    return out


@router.delete(
    "/deployments/{code}/members/{person}",
    response={204: None, **WRITE_ERRORS},
    summary="Take a person out of a batch",
)
@coded
def remove_member(request: HttpRequest, code: str, person: str) -> Status:
    user = actor(request)
    d = _get_deployment(user, code)
    member = d.members.filter(code=person).first()
    if member is None:
        raise Http404
    services.deployment_member_remove(actor=user, deployment=d, person=member)
    return Status(204, None)


# ================================================================ posts and coverage


class PostOut(Schema):
    code: str
    name: str
    kind: str
    kind_label: str
    unit: dict[str, str] | None
    partner: dict[str, str] | None
    site: str
    required_seats: list[Any]
    is_active: bool


class PostIn(Schema):
    code: str
    name: str
    kind: Literal["hotline", "duty"]
    unit: str
    partner: str | None = None
    site: str = ""
    required_seats: list[Any] | None = Field(
        None, description="24 seat counts (every day) or 7 rows of 24 (Monday first)"
    )


class PostPatch(Schema):
    name: str | None = None
    site: str | None = None
    required_seats: list[Any] | None = None
    is_active: bool | None = None


class HourOut(Schema):
    start: str
    end: str
    required: int
    covered: int
    missing: int
    state: Literal["green", "red", "idle"]


class CoverageOut(Schema):
    post: str
    start: str
    end: str
    hours: list[HourOut]
    red_hours: int


def _post_out(p: Post) -> dict[str, Any]:
    return {
        "code": p.code,
        "name": p.name,
        "kind": p.kind,
        "kind_label": _label(p, "kind"),
        "unit": _ref(p.unit),
        "partner": _ref(p.partner),
        "site": p.site,
        "required_seats": p.required_seats or [],
        "is_active": p.is_active,
    }


def _get_post(user: Any, code: str) -> Post:
    return access.get_scoped_or_404(Post.objects.select_related("unit", "partner"), user, code=code)


@router.get("/posts", response=list[PostOut], summary="Standing posts (hotline seats, duty)")
def list_posts(request: HttpRequest) -> list[dict[str, Any]]:
    return [_post_out(p) for p in queries.post_list(actor(request))]


@router.get("/posts/{code}", response={200: PostOut, **NOT_FOUND}, summary="A post")
def get_post(request: HttpRequest, code: str) -> dict[str, Any]:
    return _post_out(_get_post(actor(request), code))


@router.post("/posts", response={201: PostOut, **WRITE_ERRORS}, summary="Create a post")
@coded
def create_post(request: HttpRequest, payload: PostIn) -> Status:
    user = actor(request)
    post = services.post_create(
        actor=user,
        unit=required_unit(user, payload.unit, "unit"),
        code=payload.code,
        name=payload.name,
        kind=payload.kind,
        partner=_partner(user, payload.partner),
        site=payload.site,
        required_seats=payload.required_seats,
    )
    return Status(201, _post_out(post))


@router.patch("/posts/{code}", response={200: PostOut, **WRITE_ERRORS}, summary="Change a post")
@coded
def update_post(request: HttpRequest, code: str, payload: PostPatch) -> dict[str, Any]:
    user = actor(request)
    post = services.post_update(
        actor=user, post=_get_post(user, code), **payload.model_dump(exclude_unset=True)
    )
    return _post_out(post)


MAX_COVERAGE_DAYS = 31


@router.get(
    "/posts/{code}/coverage",
    response={200: CoverageOut, **NOT_FOUND, 422: MobilizeErrorOut},
    summary="Seats required and covered for every hour (green / red)",
    description="Default: seven days from today's midnight. At most 31 days.",
)
@coded
def post_coverage(
    request: HttpRequest, code: str, start: str | None = None, end: str | None = None
) -> dict[str, Any]:
    user = actor(request)
    post = _get_post(user, code)
    lo = when(start, "start") or clock.local_midnight(timezone.localdate(timezone=local_tz()), local_tz())
    hi = when(end, "end") or lo + timedelta(days=7)
    if hi <= lo:
        raise ValidationError(
            {"end": ValidationError(_("The end must be after the start."), "end_before_start")}
        )
    if hi - lo > timedelta(days=MAX_COVERAGE_DAYS):
        raise ValidationError({"end": _("Ask for at most %(n)d days at a time.") % {"n": MAX_COVERAGE_DAYS}})
    hours = queries.post_coverage(post, start=lo, end=hi)
    return {
        "post": post.code,
        "start": iso(lo),
        "end": iso(hi),
        "hours": [
            {
                "start": iso(h.start),
                "end": iso(h.end),
                "required": h.required,
                "covered": h.covered,
                "missing": h.missing,
                "state": h.state,
            }
            for h in hours
        ],
        "red_hours": sum(1 for h in hours if h.state == "red"),
    }


# ================================================================ shifts


class ShiftIn(Schema):
    deployment: str | None = Field(None, description="batch code")
    post: str | None = Field(None, description="post code")
    start: str
    end: str
    seats: Annotated[int, IntRange("seats", *rules.SEATS)] = 1
    remote: bool = False
    label: str = ""


class TemplateIn(Schema):
    deployment: str | None = Field(None, description="batch code")
    post: str | None = Field(None, description="post code")
    template: Literal["three_rotations", "duty_24h", "hotline_curve"]
    first_day: BoundedDate
    days: Annotated[int, IntRange("days", *rules.TEMPLATE_DAYS)] = 1
    start_hour: Annotated[int, IntRange("start_hour", *rules.START_HOUR)] = Field(
        8, description="three_rotations and duty_24h"
    )
    seats: Annotated[int, IntRange("seats", *rules.SEATS)] = Field(
        1, description="three_rotations and duty_24h"
    )
    remote: bool = False
    curve: list[Any] | None = Field(
        None, description="hotline_curve: 24 or 7×24 seat counts (default: the post's curve)"
    )
    max_hours: Annotated[int, IntRange("max_hours", *rules.TEMPLATE_MAX_HOURS)] = Field(
        4, description="hotline_curve: longest shift"
    )


class ShiftsOut(Schema):
    count: int
    items: list[ShiftOut]


class AssigneeIn(Schema):
    person: str = Field(description="staff number")


class AssignOut(Schema):
    shift: ShiftOut
    person: str
    created: bool
    warnings: list[dict[str, Any]]


def _owner(user: Any, deployment: str | None, post: str | None) -> tuple[Deployment | None, Post | None]:
    d = _get_deployment(user, deployment) if deployment else None
    p = _get_post(user, post) if post else None
    if d is None and p is None:
        raise ValidationError({"deployment": _("Name the batch or the post the shifts belong to.")})
    return d, p


def _get_shift(user: Any, shift_id: int) -> Shift:
    return queries.shift_get_or_404(user, pk=shift_id)


def _shift_detail(s: Shift) -> dict[str, Any]:
    s = (
        Shift.objects.select_related("deployment", "post")
        .prefetch_related("assignments__person")
        .get(pk=s.pk)
    )
    return _shift_out(s)


@router.post("/shifts", response={201: ShiftOut, **WRITE_ERRORS}, summary="Create one shift")
@coded
def create_shift(request: HttpRequest, payload: ShiftIn) -> Status:
    user = actor(request)
    d, p = _owner(user, payload.deployment, payload.post)
    s = services.shift_create(
        actor=user,
        deployment=d,
        post=p,
        start=required_when(payload.start, "start"),
        end=required_when(payload.end, "end"),
        seats=payload.seats,
        remote=payload.remote,
        label=payload.label,
    )
    return Status(201, _shift_detail(s))


@router.post(
    "/shifts/template",
    response={201: ShiftsOut, **WRITE_ERRORS},
    summary="Create shifts from a template",
    description="three_rotations (三班倒: three 8-hour shifts a day), duty_24h (24-hour duty), "
    "hotline_curve (seats per hour, merged into shifts of at most max_hours).",
)
@coded
def create_shifts_from_template(request: HttpRequest, payload: TemplateIn) -> Status:
    user = actor(request)
    d, p = _owner(user, payload.deployment, payload.post)
    tz = local_tz()
    try:
        if payload.template == "three_rotations":
            specs = shift_templates.three_rotations(
                payload.first_day,
                payload.days,
                tz,
                start_hour=payload.start_hour,
                seats=payload.seats,
                remote=payload.remote,
            )
        elif payload.template == "duty_24h":
            specs = shift_templates.duty_24h(
                payload.first_day,
                payload.days,
                tz,
                start_hour=payload.start_hour,
                seats=payload.seats,
                remote=payload.remote,
            )
        else:
            curve = payload.curve or (p.required_seats if p is not None else None)
            if not curve:
                raise ValidationError(
                    {"curve": _("Give the seats needed for every hour (24 or 7×24 values).")}
                )
            specs = shift_templates.hotline_curve(
                payload.first_day, payload.days, tz, curve, max_hours=payload.max_hours, remote=payload.remote
            )
    except (ValueError, TypeError) as exc:
        raise ValidationError({"curve": str(exc)}) from None
    shifts = services.shifts_create(actor=user, specs=specs, deployment=d, post=p)
    return Status(201, {"count": len(shifts), "items": [_shift_detail(s) for s in shifts]})


@router.get("/shifts/{shift_id}", response={200: ShiftOut, **NOT_FOUND}, summary="A shift")
def get_shift(request: HttpRequest, shift_id: int) -> dict[str, Any]:
    return _shift_detail(_get_shift(actor(request), shift_id))


@router.get(
    "/shifts/by-token/{token}",
    response={200: ShiftOut, **NOT_FOUND},
    summary="The shift a QR code points to",
)
def get_shift_by_token(request: HttpRequest, token: str) -> dict[str, Any]:
    return _shift_detail(queries.shift_get_or_404(actor(request), token=token))


@router.delete("/shifts/{shift_id}", response={204: None, **WRITE_ERRORS}, summary="Delete an empty shift")
@coded
def delete_shift(request: HttpRequest, shift_id: int) -> Status:
    user = actor(request)
    services.shift_delete(actor=user, shift=_get_shift(user, shift_id))
    return Status(204, None)


@router.post(
    "/shifts/{shift_id}/assignments",
    response={200: AssignOut, **WRITE_ERRORS},
    summary="Put a person on a shift",
)
@coded
def assign(request: HttpRequest, shift_id: int, payload: AssigneeIn) -> dict[str, Any]:
    user = actor(request)
    shift = _get_shift(user, shift_id)
    result = services.shift_assign(actor=user, shift=shift, person=_person(user, payload.person, "person"))
    return {
        "shift": _shift_detail(shift),
        "person": payload.person,
        "created": result.created,
        "warnings": _warnings(result.warnings),
    }


@router.delete(
    "/shifts/{shift_id}/assignments/{person}",
    response={204: None, **WRITE_ERRORS},
    summary="Take a person off a shift",
)
@coded
def unassign(request: HttpRequest, shift_id: int, person: str) -> Status:
    user = actor(request)
    shift = _get_shift(user, shift_id)
    p = Person.objects.filter(code=person, assignments__shift=shift).first()
    if p is None:
        raise Http404
    services.shift_unassign(actor=user, shift=shift, person=p)
    return Status(204, None)


# ================================================================ check-in / out, roll-call


class CheckIn(Schema):
    key: str = Field(description="a client-generated idempotency key (1–80 characters)")
    at: str | None = Field(None, description="default: now")
    person: str | None = Field(None, description="a leader checking someone in; default: yourself")


class CheckEventOut(Schema):
    id: int
    kind: str
    at: str
    source: str
    key: str
    person: str


class EntryOut(Schema):
    id: int = Field(description="the entry's current row: act on this id")
    chain: str
    person: dict[str, str]
    deployment: str | None
    shift: int | None
    kind: str
    kind_label: str
    source: str
    start: str
    end: str
    minutes: int
    hours: str
    approved_minutes: int
    status: str
    proposed: dict[str, Any] | None
    note: str


class CheckResultOut(Schema):
    event: CheckEventOut
    entry: EntryOut | None


class RollLineIn(Schema):
    person: str
    check_in: str | None = None
    check_out: str | None = None


class RollCallIn(Schema):
    key: str = Field(description="identifies this roll-call; a retry with the same key writes nothing")
    lines: list[RollLineIn]


class RollRowOut(Schema):
    person: str
    name: str
    checked_in: bool
    last: dict[str, Any] | None


class RollCallOut(Schema):
    written: int
    entries: list[EntryOut]
    roll: list[RollRowOut]


class FixIn(Schema):
    person: str
    check_in: str
    check_out: str | None = None
    reason: str
    key: str


def _event_out(ev: CheckEvent) -> dict[str, Any]:
    return {
        "id": ev.pk,
        "kind": ev.kind,
        "at": iso(ev.at),
        "source": ev.source,
        "key": ev.key,
        "person": ev.assignment.person.code,
    }


def _check_response(result: services.CheckResult) -> HttpResponse:
    ev = CheckEvent.objects.select_related("assignment__person").get(pk=result.event.pk)
    body = {"event": _event_out(ev), "entry": _entry_out(_state(result.entry)) if result.entry else None}
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    if not result.created:
        response["Idempotent-Replayed"] = "true"
    return response


def _on_shift(shift: Shift, code: str | None, user: Any) -> Person | None:
    if code is None:
        return None
    p = Person.objects.filter(code=code, assignments__shift=shift).first()
    if p is None:
        raise ValidationError({"person": _("%(code)s is not on this shift.") % {"code": code}})
    return p


@router.post(
    "/shifts/{shift_id}/checkin",
    response={200: CheckResultOut, **WRITE_ERRORS},
    summary="Check in (idempotent by key)",
)
@coded
def checkin(request: HttpRequest, shift_id: int, payload: CheckIn) -> HttpResponse:
    user = actor(request)
    shift = _get_shift(user, shift_id)
    result = services.checkin_record(
        actor=user,
        shift=shift,
        key=payload.key,
        at=when(payload.at, "at"),
        person=_on_shift(shift, payload.person, user),
    )
    return _check_response(result)


@router.post(
    "/shifts/{shift_id}/checkout",
    response={200: CheckResultOut, **WRITE_ERRORS},
    summary="Check out (idempotent by key); records the service entry",
)
@coded
def checkout(request: HttpRequest, shift_id: int, payload: CheckIn) -> HttpResponse:
    user = actor(request)
    shift = _get_shift(user, shift_id)
    result = services.checkout_record(
        actor=user,
        shift=shift,
        key=payload.key,
        at=when(payload.at, "at"),
        person=_on_shift(shift, payload.person, user),
    )
    return _check_response(result)


def _roll(shift: Shift) -> list[dict[str, Any]]:
    return [
        {
            "person": r.assignment.person.code,
            "name": r.assignment.person.name,
            "checked_in": r.checked_in,
            "last": {"kind": r.last.kind, "at": iso(r.last.at), "source": r.last.source} if r.last else None,
        }
        for r in queries.shift_roll(shift)
    ]


def _require_lead(user: Any, shift: Shift) -> None:
    if not services.may_lead_shift(user, shift):
        raise access.NotAllowed(Perm.MOBILIZE_DISPATCH)


@router.get(
    "/shifts/{shift_id}/roll",
    response={200: list[RollRowOut], 403: ErrorOut, 404: ErrorOut},
    summary="Everyone on a shift with their check state",
)
def get_roll(request: HttpRequest, shift_id: int) -> list[dict[str, Any]]:
    user = actor(request)
    shift = _get_shift(user, shift_id)
    _require_lead(user, shift)
    return _roll(shift)


@router.post(
    "/shifts/{shift_id}/rollcall",
    response={200: RollCallOut, **WRITE_ERRORS},
    summary="Roll-call: check people in and/or out in one go",
)
@coded
def rollcall(request: HttpRequest, shift_id: int, payload: RollCallIn) -> dict[str, Any]:
    user = actor(request)
    shift = _get_shift(user, shift_id)
    lines = []
    for i, line in enumerate(payload.lines):
        person = _on_shift(shift, line.person, user)
        assert person is not None
        lines.append(
            services.RollCallLine(
                person=person,
                check_in=when(line.check_in, f"lines.{i}.check_in"),
                check_out=when(line.check_out, f"lines.{i}.check_out"),
            )
        )
    result = services.rollcall_record(actor=user, shift=shift, lines=lines, key=payload.key)
    return {
        "written": sum(1 for r in result.results if r.created),
        "entries": [_entry_out(_state(e)) for e in result.entries],
        "roll": _roll(shift),
    }


@router.post(
    "/shifts/{shift_id}/fix",
    response={200: CheckResultOut, **WRITE_ERRORS},
    summary="A leader fixes a person's times, with a reason",
)
@coded
def fix_times(request: HttpRequest, shift_id: int, payload: FixIn) -> HttpResponse:
    user = actor(request)
    shift = _get_shift(user, shift_id)
    person = _on_shift(shift, payload.person, user)
    assignment = Assignment.objects.select_related("shift", "person").get(shift=shift, person=person)
    result = services.checkin_fix(
        actor=user,
        assignment=assignment,
        check_in=required_when(payload.check_in, "check_in"),
        check_out=when(payload.check_out, "check_out"),
        reason=payload.reason,
        key=payload.key,
    )
    return _check_response(result)


# ================================================================ the ledger


class EntryRowOut(Schema):
    id: int
    op: str
    op_label: str
    sign: int
    start: str
    end: str
    minutes: int
    by: str
    reason: str
    at: str


class EntryDetailOut(EntryOut):
    history: list[EntryRowOut]
    may_decide: bool


class EntryPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[EntryOut]


class EntryFilters(Schema):
    mine: bool = Field(False, description="only your own entries")
    person: str | None = Field(None, description="staff number")
    deployment: str | None = Field(None, description="batch code")
    kind: str | None = None
    status: Literal["pending", "approved", "correction_pending", "rejected", "reversed"] | None = None


class EntryIn(Schema):
    person: str | None = Field(None, description="default: yourself (a self-report, pending)")
    kind: Literal["dispatch", "community", "hotline", "duty"]
    start: str
    end: str
    deployment: str | None = Field(None, description="batch code (none for community service)")
    shift: int | None = None
    note: str = ""
    approve: bool | None = Field(
        None, description="default: approved when you may approve it; false records it pending"
    )


class ApproveIn(Schema):
    reason: str = ""


class CorrectIn(Schema):
    start: str
    end: str
    reason: str


class BalanceOut(Schema):
    person: dict[str, str]
    as_of: str | None
    minutes: int
    hours: str
    by_kind: dict[str, int]
    pending: list[EntryOut]
    pending_minutes: int


def _state(row: ServiceEntry) -> ChainState:
    return queries.chain_state(row.chain)


def _entry_out(state: ChainState) -> dict[str, Any]:
    v = EntryView(state)
    origin = state.origin
    current = state.current
    proposed = v.proposed
    return {
        "id": v.id,
        "chain": str(state.chain),
        "person": {"code": origin.person.code, "name": origin.person.name},
        "deployment": origin.deployment.code if origin.deployment_id and origin.deployment else None,
        "shift": origin.shift_id,
        "kind": origin.kind,
        "kind_label": str(EntryKind(origin.kind).label),
        "source": origin.source,
        "start": iso(v.start),
        "end": iso(v.end),
        "minutes": current.minutes,
        "hours": str(clock.minutes_to_hours(current.minutes)),
        "approved_minutes": v.approved_minutes,
        "status": v.status,
        "proposed": (
            {
                "id": proposed.pk,
                "start": iso(proposed.start),
                "end": iso(proposed.end),
                "minutes": proposed.minutes,
                "reason": proposed.reason,
            }
            if proposed is not None
            else None
        ),
        "note": origin.note,
    }


def _entry_detail(user: Any, state: ChainState) -> dict[str, Any]:
    out = _entry_out(state)
    out["history"] = [
        {
            "id": r.pk,
            "op": r.op,
            "op_label": str(EntryOp(r.op).label),
            "sign": r.sign,
            "start": iso(r.start),
            "end": iso(r.end),
            "minutes": r.minutes,
            "by": r.actor_name,
            "reason": r.reason,
            "at": iso(r.created_at),
        }
        for r in state.rows
    ]
    out["may_decide"] = services.may_approve_entry(user, state.head)
    return out


def _states(rows: QuerySet[ServiceEntry]) -> list[ChainState]:
    return queries.chain_states(rows.select_related("person", "deployment"))


@router.get("/entries", response=EntryPage, summary="Service entries (yours, or those you may see)")
@coded
def list_entries(
    request: HttpRequest, filters: Query[EntryFilters], page: Query[PageParams]
) -> dict[str, Any]:
    user = actor(request)
    rows: QuerySet[ServiceEntry]
    if filters.mine:
        rows = ServiceEntry.objects.filter(person=_my_person(user))
    else:
        rows = queries.visible_entries(user)
    if filters.person:
        rows = rows.filter(person__code=filters.person)
    if filters.deployment:
        rows = rows.filter(deployment__code=filters.deployment)
    if filters.kind:
        rows = rows.filter(kind=filters.kind)
    chains = rows.values("chain").annotate(first=Min("id")).order_by("-first")
    if filters.status is None:
        page_chains, meta = _qs_page(chains, page)
        wanted = [c["chain"] for c in page_chains]
        states = _states(ServiceEntry.objects.filter(chain__in=wanted))
        order = {c: i for i, c in enumerate(wanted)}
        states.sort(key=lambda s: order[s.chain])
    else:
        # The status comes from each chain's rows: filter in Python (narrow with the other filters).
        all_states = _states(ServiceEntry.objects.filter(chain__in=chains.values("chain")))
        matching = [s for s in reversed(all_states) if s.status == filters.status]
        states, meta = _page(matching, page)
    return {**meta, "items": [_entry_out(s) for s in states]}


@router.get(
    "/entries/pending",
    response=list[EntryOut],
    summary="Entries and corrections waiting for your decision",
)
def pending_entries(request: HttpRequest) -> list[dict[str, Any]]:
    user = actor(request)
    rows = queries.pending_for_approver(user)
    chains = list(dict.fromkeys(r.chain for r in rows))
    states = {s.chain: s for s in _states(ServiceEntry.objects.filter(chain__in=chains))}
    return [_entry_out(states[c]) for c in chains]


@router.get(
    "/entries/{entry_id}",
    response={200: EntryDetailOut, **NOT_FOUND},
    summary="An entry with its history",
)
def get_entry(request: HttpRequest, entry_id: int) -> dict[str, Any]:
    user = actor(request)
    return _entry_detail(user, _state(queries.entry_get_or_404(user, entry_id)))


@router.post(
    "/entries",
    response={201: EntryDetailOut, **WRITE_ERRORS},
    summary="Record service (a self-report, e.g. community service during home observation)",
)
@coded
def record_entry(request: HttpRequest, payload: EntryIn) -> Status:
    user = actor(request)
    person = _person(user, payload.person, "person") if payload.person else _my_person(user)
    deployment = _get_deployment(user, payload.deployment) if payload.deployment else None
    shift = _get_shift(user, payload.shift) if payload.shift is not None else None
    row = services.entry_record(
        actor=user,
        person=person,
        kind=payload.kind,
        start=required_when(payload.start, "start"),
        end=required_when(payload.end, "end"),
        deployment=deployment,
        shift=shift,
        note=payload.note,
        approve=payload.approve,
    )
    return Status(201, _entry_detail(user, _state(row)))


def _entry_action(
    request: HttpRequest, entry_id: int, do: Callable[[Any, ServiceEntry], ServiceEntry]
) -> dict[str, Any]:
    user = actor(request)
    row = queries.entry_get_or_404(user, entry_id)
    new = do(user, row)
    return _entry_detail(user, _state(new))


@router.post("/entries/{entry_id}/approve", response={200: EntryDetailOut, **WRITE_ERRORS}, summary="Approve")
@coded
def approve_entry(request: HttpRequest, entry_id: int, payload: ApproveIn) -> dict[str, Any]:
    return _entry_action(
        request, entry_id, lambda u, e: services.entry_approve(actor=u, entry=e, reason=payload.reason)
    )


@router.post("/entries/{entry_id}/reject", response={200: EntryDetailOut, **WRITE_ERRORS}, summary="Reject")
@coded
def reject_entry(request: HttpRequest, entry_id: int, payload: ReasonIn) -> dict[str, Any]:
    return _entry_action(
        request, entry_id, lambda u, e: services.entry_reject(actor=u, entry=e, reason=payload.reason)
    )


@router.post(
    "/entries/{entry_id}/correct",
    response={200: EntryDetailOut, **WRITE_ERRORS},
    summary="Correct the times: a request for your own entry, at once for an approver",
)
@coded
def correct_entry(request: HttpRequest, entry_id: int, payload: CorrectIn) -> dict[str, Any]:
    start, end = required_when(payload.start, "start"), required_when(payload.end, "end")
    return _entry_action(
        request,
        entry_id,
        lambda u, e: services.entry_correct(actor=u, entry=e, start=start, end=end, reason=payload.reason),
    )


@router.post(
    "/entries/{entry_id}/reverse", response={200: EntryDetailOut, **WRITE_ERRORS}, summary="Reverse (void)"
)
@coded
def reverse_entry(request: HttpRequest, entry_id: int, payload: ReasonIn) -> dict[str, Any]:
    return _entry_action(
        request, entry_id, lambda u, e: services.entry_reverse(actor=u, entry=e, reason=payload.reason)
    )


def _balance(person: Person, as_of: datetime | None) -> dict[str, Any]:
    minutes = queries.balance(person, as_of=as_of)
    pending_rows = list(queries.person_pending(person))
    chains = list(dict.fromkeys(r.chain for r in pending_rows))
    states = {s.chain: s for s in _states(ServiceEntry.objects.filter(chain__in=chains))}
    return {
        "person": {"code": person.code, "name": person.name},
        "as_of": iso(as_of),
        "minutes": minutes,
        "hours": str(clock.minutes_to_hours(minutes)),
        "by_kind": queries.balance_by_kind(person, as_of=as_of),
        "pending": [_entry_out(states[c]) for c in chains],
        "pending_minutes": sum(r.minutes for r in pending_rows),
    }


@router.get(
    "/me/balance",
    response={200: BalanceOut, 422: MobilizeErrorOut},
    summary="Your approved hours, by kind, and what is pending",
)
@coded
def my_balance(request: HttpRequest, as_of: str | None = None) -> dict[str, Any]:
    return _balance(_my_person(actor(request)), when(as_of, "as_of"))


@router.get(
    "/me/shifts", response={200: list[ShiftOut], 422: MobilizeErrorOut}, summary="Your upcoming shifts"
)
@coded
def my_shifts(request: HttpRequest) -> list[dict[str, Any]]:
    person = _my_person(actor(request))
    shifts = queries.person_upcoming_shifts(person, now=timezone.now()).prefetch_related(
        "assignments__person"
    )
    return [_shift_out(s) for s in shifts]


@router.get(
    "/people/{code}/balance",
    response={200: BalanceOut, **NOT_FOUND, 422: MobilizeErrorOut},
    summary="A person's approved hours",
)
@coded
def person_balance(request: HttpRequest, code: str, as_of: str | None = None) -> dict[str, Any]:
    user = actor(request)
    person = access.get_scoped_or_404(Person.objects.all(), user, code=code)
    return _balance(person, when(as_of, "as_of"))


# ================================================================ measures


class MeasureKindOut(Schema):
    code: str
    name: str
    unit_label: str
    is_active: bool
    order: int


class MeasureKindIn(Schema):
    code: str
    name: str
    unit_label: str = ""
    order: Annotated[int, IntRange("order", *rules.MEASURE_ORDER)] = 0


class MeasureKindPatch(Schema):
    name: str | None = None
    unit_label: str | None = None
    is_active: bool | None = None
    order: Annotated[int, IntRange("order", *rules.MEASURE_ORDER)] | None = None


class MeasureValueIn(Schema):
    kind: str = Field(description="measure code")
    value: Annotated[int, IntRange("value", *rules.MEASURE_VALUE)]
    on: BoundedDate | None = None
    note: str = ""


def _kind_out(k: MeasureKind) -> dict[str, Any]:
    return {
        "code": k.code,
        "name": k.name,
        "unit_label": k.unit_label,
        "is_active": k.is_active,
        "order": k.order,
    }


def _get_kind(code: str) -> MeasureKind:
    kind = MeasureKind.objects.filter(code=code).first()
    if kind is None:
        raise Http404
    return kind


def _kind_input(code: str) -> MeasureKind:
    kind = MeasureKind.objects.filter(code=code).first()
    if kind is None:
        raise ValidationError({"kind": _("There is no measure with the code %(code)s.") % {"code": code}})
    return kind


@router.get("/measures", response=list[MeasureKindOut], summary="The measure catalog")
def list_measures(request: HttpRequest, active: bool | None = None) -> list[dict[str, Any]]:
    qs = MeasureKind.objects.all()
    if active is not None:
        qs = qs.filter(is_active=active)
    return [_kind_out(k) for k in qs]


@router.post("/measures", response={201: MeasureKindOut, **WRITE_ERRORS}, summary="Add a measure")
@coded
def create_measure(request: HttpRequest, payload: MeasureKindIn) -> Status:
    kind = services.measure_kind_create(actor=actor(request), **payload.model_dump())
    return Status(201, _kind_out(kind))


@router.patch("/measures/{code}", response={200: MeasureKindOut, **WRITE_ERRORS}, summary="Change a measure")
@coded
def update_measure(request: HttpRequest, code: str, payload: MeasureKindPatch) -> dict[str, Any]:
    kind = services.measure_kind_update(
        actor=actor(request), kind=_get_kind(code), **payload.model_dump(exclude_unset=True)
    )
    return _kind_out(kind)


@router.post(
    "/deployments/{code}/measures",
    response={201: MeasureValueOut, **WRITE_ERRORS},
    summary="Record a number on a batch",
)
@coded
def record_deployment_measure(request: HttpRequest, code: str, payload: MeasureValueIn) -> Status:
    user = actor(request)
    v = services.measure_record(
        actor=user,
        kind=_kind_input(payload.kind),
        value=payload.value,
        deployment=_get_deployment(user, code),
        on=payload.on,
        note=payload.note,
    )
    return Status(201, _measure_out(v))


@router.post(
    "/entries/{entry_id}/measures",
    response={201: MeasureValueOut, **WRITE_ERRORS},
    summary="Record a number on a service entry",
)
@coded
def record_entry_measure(request: HttpRequest, entry_id: int, payload: MeasureValueIn) -> Status:
    user = actor(request)
    v = services.measure_record(
        actor=user,
        kind=_kind_input(payload.kind),
        value=payload.value,
        entry=queries.entry_get_or_404(user, entry_id),
        on=payload.on,
        note=payload.note,
    )
    return Status(201, _measure_out(v))


@router.get(
    "/entries/{entry_id}/measures",
    response={200: list[MeasureValueOut], **NOT_FOUND},
    summary="An entry's numbers",
)
def entry_measures(request: HttpRequest, entry_id: int) -> list[dict[str, Any]]:
    row = queries.entry_get_or_404(actor(request), entry_id)
    origin = _state(row).origin
    return [_measure_out(v) for v in origin.measures.select_related("kind")]


@router.delete(
    "/measure-values/{value_id}",
    response={204: None, **WRITE_ERRORS},
    summary="Remove a mistaken number (reason required)",
)
@coded
def remove_measure(request: HttpRequest, value_id: int, reason: str = "") -> Status:
    value = (
        MeasureValue.objects.select_related("kind", "deployment__unit", "entry__person__unit")
        .filter(pk=value_id)
        .first()
    )
    if value is None:
        raise Http404
    services.measure_remove(actor=actor(request), value=value, reason=reason)
    return Status(204, None)


# ================================================================ ledger import / export


@router.post(
    "/import",
    response={200: dict[str, Any], 403: ErrorOut, 413: ErrorOut, 422: ImportErrorOut},
    summary="Import historical ledgers (派出批次 / 服务记录; .xlsx or .csv)",
    description="Every row is checked before anything is written: one bad row refuses the whole file "
    "(422, each error with its sheet, row, column, value and reason). Re-importing a file changes nothing. "
    "With dry_run=true nothing is written either way.",
)
def import_ledger(request: HttpRequest, file: File[UploadedFile], dry_run: bool = False) -> Any:
    from muster.mobilize.ledger_io import ledger_import, may_import
    from muster.tabular.errors import TabularError

    user = actor(request)
    if not may_import(user):
        raise access.NotAllowed(Perm.MOBILIZE_DISPATCH)
    limit = settings.MUSTER_IMPORT_MAX_BYTES
    if file.size is not None and file.size > limit:
        detail = _("The file %(name)s is %(size)s bytes; the limit is %(limit)s bytes.") % {
            "name": file.name,
            "size": file.size,
            "limit": limit,
        }
        return Status(413, {"detail": detail})
    try:
        result = ledger_import(actor=user, filename=file.name or "", data=file.read(), dry_run=dry_run)
    except TabularError as exc:
        return Status(422, {"detail": exc.summary(), "errors": [e.as_dict() for e in exc.errors]})
    return result.as_dict()


@router.get(
    "/export",
    response={200: None, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Export the ledgers (.xlsx with both sheets, or .csv with one)",
    description="The same layout the import reads. Without unit, everything the caller may see.",
)
def export_ledger(
    request: HttpRequest,
    fmt: Literal["xlsx", "csv"] = Query("xlsx", alias="format"),
    unit: str | None = None,
    sheet: Literal["deployments", "service"] = "service",
) -> HttpResponse:
    from muster.mobilize.ledger_io import ledger_export

    user = actor(request)
    target = access.get_scoped_or_404(Unit.objects.all(), user, code=unit) if unit else None
    data, content_type, filename = ledger_export(actor=user, fmt=fmt, unit=target, sheet=sheet)
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    return response
