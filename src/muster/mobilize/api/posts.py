"""Standing posts over the API, and their hour-by-hour coverage."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Schema, Status

from muster import clock
from muster.api.common import actor, required_unit
from muster.clock import local_tz
from muster.mobilize import queries, services
from muster.mobilize.models import Post
from muster.orgs import access

from .common import (
    NOT_FOUND,
    WRITE_ERRORS,
    MobilizeErrorOut,
    _label,
    _partner,
    _ref,
    coded,
    iso,
    router,
    when,
)


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
