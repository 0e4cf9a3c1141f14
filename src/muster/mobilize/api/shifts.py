"""Shifts over the API: create (one or from a template), read, delete, assign, unassign."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Schema, Status

from muster.api.checks import IntRange
from muster.api.common import BoundedDate, actor, required_person
from muster.clock import local_tz
from muster.mobilize import queries, services, shift_templates
from muster.mobilize.models import Deployment, Post, Shift
from muster.orgs import rules
from muster.orgs.models import Person

from .common import NOT_FOUND, WRITE_ERRORS, _warnings, coded, required_when, router
from .deployments import ShiftOut, _get_deployment, _shift_out
from .posts import _get_post


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
    result = services.shift_assign(
        actor=user, shift=shift, person=required_person(user, payload.person, "person")
    )
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
