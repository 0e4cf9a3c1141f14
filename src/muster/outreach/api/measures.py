"""The catalog of service measures and the indicators with their measured values."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Path, Schema, Status

from muster.api.common import (
    BoundedDate,
    BoundedDateTime,
    ErrorOut,
    actor,
    required_unit,
)
from muster.orgs import access
from muster.orgs.access import Perm
from muster.outreach import queries
from muster.outreach import services_service as svc
from muster.outreach.api.common import (
    WRITE_ERRORS,
    _as_of,
    router,
)
from muster.outreach.models import (
    Indicator,
    MeasureCategory,
    ServiceMeasure,
)


class CategoryIn(Schema):
    unit: str
    name: str
    order: int = Field(0, ge=0, le=100000)


@router.post("/measure-categories", response={201: dict[str, Any], **WRITE_ERRORS})
def create_category(request: HttpRequest, payload: CategoryIn) -> Any:
    user = actor(request)
    cat = svc.category_create(
        actor=user, unit=required_unit(user, payload.unit, "unit"), name=payload.name, order=payload.order
    )
    return Status(201, {"id": cat.pk, "name": cat.name, "unit": cat.unit.code})


def _category(user: Any, pk: int) -> MeasureCategory:
    cat = access.scoped(MeasureCategory.objects.select_related("unit"), user, Perm.VIEW).filter(pk=pk).first()
    if cat is None:
        raise ValidationError({"category": _("There is no such category.")})
    return cat


class MeasureIn(Schema):
    category: int = Field(..., ge=1, le=2**62)
    title: str
    unit: str
    started_on: BoundedDate
    state: Literal["planned", "in_force", "retired"] = "in_force"


class MeasurePatch(Schema):
    category: int | None = Field(None, ge=1, le=2**62)
    state: Literal["planned", "in_force", "retired"] | None = None


def _measure_out(m: ServiceMeasure) -> dict[str, Any]:
    return {"id": m.pk, "title": m.title, "category": m.category_id, "state": m.state, "unit": m.unit.code}


@router.post("/measures", response={201: dict[str, Any], **WRITE_ERRORS}, summary="Add a service measure")
def create_measure(request: HttpRequest, payload: MeasureIn) -> Any:
    user = actor(request)
    m = svc.measure_create(
        actor=user,
        category=_category(user, payload.category),
        title=payload.title,
        unit=required_unit(user, payload.unit, "unit"),
        started_on=payload.started_on,
        state=payload.state,
    )
    return Status(201, _measure_out(m))


@router.patch("/measures/{pk}", response={200: dict[str, Any], **WRITE_ERRORS})
def update_measure(request: HttpRequest, payload: MeasurePatch, pk: int = Path(..., ge=1, le=2**62)) -> Any:
    user = actor(request)
    m = access.get_scoped_or_404(ServiceMeasure.objects.select_related("unit", "category__unit"), user, pk=pk)
    category = _category(user, payload.category) if payload.category is not None else None
    return _measure_out(svc.measure_update(actor=user, measure=m, category=category, state=payload.state))


class IndicatorIn(Schema):
    unit: str
    name: str
    measure_unit: Literal["minutes", "hours", "days"]
    baseline: Decimal = Field(..., max_digits=12, decimal_places=2)
    baseline_on: BoundedDate


class ValueIn(Schema):
    measured_on: BoundedDate
    value: Decimal = Field(..., max_digits=12, decimal_places=2)
    measure_unit: str = Field(..., max_length=20)


@router.post("/indicators", response={201: dict[str, Any], **WRITE_ERRORS})
def create_indicator(request: HttpRequest, payload: IndicatorIn) -> Any:
    user = actor(request)
    ind = svc.indicator_create(
        actor=user,
        unit=required_unit(user, payload.unit, "unit"),
        name=payload.name,
        measure_unit=payload.measure_unit,
        baseline=payload.baseline,
        baseline_on=payload.baseline_on,
    )
    return Status(201, {"id": ind.pk, "name": ind.name})


@router.post("/indicators/{pk}/values", response={201: dict[str, Any], **WRITE_ERRORS})
def measure_indicator(request: HttpRequest, payload: ValueIn, pk: int = Path(..., ge=1, le=2**62)) -> Any:
    user = actor(request)
    ind = access.get_scoped_or_404(Indicator.objects.select_related("unit"), user, pk=pk)
    v = svc.indicator_measure(
        actor=user,
        indicator=ind,
        measured_on=payload.measured_on,
        value=payload.value,
        measure_unit=payload.measure_unit,
    )
    return Status(201, {"indicator": ind.pk, "measured_on": v.measured_on.isoformat(), "value": str(v.value)})


@router.get("/indicators", response={200: list[dict[str, Any]], 422: ErrorOut})
def list_indicators(request: HttpRequest, unit: str, as_of: BoundedDateTime | None = None) -> Any:
    """Each indicator of the unit's subtree with its last value by the cutoff and the change (cut)."""
    user = actor(request)
    scope = required_unit(user, unit, "unit")
    return [
        {
            "id": c.indicator.pk,
            "name": c.indicator.name,
            "measure_unit": c.indicator.measure_unit,
            "baseline": str(c.indicator.baseline),
            "value": str(c.value) if c.value is not None else None,
            "change_percent": str(c.change) if c.change is not None else None,
        }
        for c in queries.indicator_changes(scope, _as_of(as_of))
    ]
