"""The measure catalog and recorded measure values over the API."""

from __future__ import annotations

from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Schema, Status

from muster.api.checks import IntRange
from muster.api.common import BoundedDate, actor
from muster.mobilize import queries, services
from muster.mobilize.models import MeasureKind, MeasureValue
from muster.orgs import rules

from .common import NOT_FOUND, WRITE_ERRORS, coded, router
from .deployments import MeasureValueOut, _get_deployment, _measure_out
from .entries import _state


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
