"""Requests for help over the API: list, read, create, change."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Schema, Status

from muster.api.checks import IntRange
from muster.api.common import PageParams, actor, paginate, required_unit, resolve_unit
from muster.mobilize import queries, services
from muster.mobilize.models import Request
from muster.orgs import access, rules

from .common import NOT_FOUND, WRITE_ERRORS, _label, _partner, _ref, coded, iso, required_when, router, when


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
    items, meta = paginate(qs.prefetch_related("skills"), page)
    return {**meta, "items": [_request_out(r, r.assigned) for r in items]}  # type: ignore[attr-defined]


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
