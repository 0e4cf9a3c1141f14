"""Co-building agreements."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Path, Schema, Status

from muster.api.common import (
    BoundedDate,
    actor,
    required_unit,
)
from muster.outreach import queries
from muster.outreach import services_service as svc
from muster.outreach.api.common import (
    NOT_FOUND,
    WRITE_ERRORS,
    _partners,
    router,
)
from muster.outreach.models import Agreement


class AgreementIn(Schema):
    branch: str
    partner: str
    start: BoundedDate
    end: BoundedDate | None = None
    title: str = ""


@router.post(
    "/agreements", response={201: dict[str, Any], **WRITE_ERRORS}, summary="Record a co-building agreement"
)
def create_agreement(request: HttpRequest, payload: AgreementIn) -> Any:
    user = actor(request)
    a = svc.agreement_create(
        actor=user,
        branch=required_unit(user, payload.branch, "branch"),
        partner=_partners(user, [payload.partner])[0],
        start=payload.start,
        end=payload.end,
        title=payload.title,
    )
    return Status(201, {"id": a.pk, "branch": a.branch.code, "partner": a.partner.code})


def _agreement_out(user: Any, a: Agreement) -> dict[str, Any]:
    return {
        "id": a.pk,
        "branch": a.branch.code,
        "partner": a.partner.code if queries.partner_visible(user, a.partner) else None,
        "title": a.title,
        "start": a.start.isoformat(),
        "end": a.end.isoformat() if a.end else None,
        "visits": sorted(queries.visits(user).filter(agreement=a).values_list("pk", flat=True)),
        "classes": sorted(queries.classes_visible(user).filter(agreement=a).values_list("pk", flat=True)),
    }


@router.get(
    "/agreements/{pk}", response={200: dict[str, Any], **NOT_FOUND}, summary="A co-building agreement"
)
def get_agreement(request: HttpRequest, pk: int = Path(..., ge=1, le=2**62)) -> Any:
    """The agreement with the ids of its visits and classes (those the caller may see)."""
    user = actor(request)
    return _agreement_out(user, queries.agreement_get(user, pk))


class AgreementPatch(Schema):
    title: str | None = None
    partner: str | None = None
    start: BoundedDate | None = None
    end: BoundedDate | None = None


class AgreementCloseIn(Schema):
    end: BoundedDate


class ActivityIn(Schema):
    visit: int | None = Field(None, ge=1, le=2**62)
    tax_class: int | None = Field(None, ge=1, le=2**62)


@router.patch("/agreements/{pk}", response={200: dict[str, Any], **WRITE_ERRORS})
def update_agreement(
    request: HttpRequest, payload: AgreementPatch, pk: int = Path(..., ge=1, le=2**62)
) -> Any:
    """Change the title, partner, start or end (``end: null`` makes it open-ended)."""
    user = actor(request)
    a = queries.agreement_get(user, pk)
    fields = payload.dict(exclude_unset=True)
    if "partner" in fields:
        fields["partner"] = _partners(user, [fields["partner"]])[0] if fields["partner"] else None
    return _agreement_out(user, svc.agreement_update(actor=user, agreement=a, **fields))


@router.post("/agreements/{pk}/close", response={200: dict[str, Any], **WRITE_ERRORS})
def close_agreement(
    request: HttpRequest, payload: AgreementCloseIn, pk: int = Path(..., ge=1, le=2**62)
) -> Any:
    user = actor(request)
    a = svc.agreement_close(actor=user, agreement=queries.agreement_get(user, pk), end=payload.end)
    return _agreement_out(user, a)


def _activity(user: Any, payload: ActivityIn) -> dict[str, Any]:
    if (payload.visit is None) == (payload.tax_class is None):
        raise ValidationError({"activity": _("Choose one visit or one class.")})
    if payload.visit is not None:
        return {"visit": queries.visit_get(user, payload.visit)}
    return {"tax_class": queries.class_get(user, payload.tax_class)}


@router.post(
    "/agreements/{pk}/activities",
    response={200: dict[str, Any], **WRITE_ERRORS},
    summary="Count a visit or a class for a co-building agreement",
)
def attach_activity(request: HttpRequest, payload: ActivityIn, pk: int = Path(..., ge=1, le=2**62)) -> Any:
    user = actor(request)
    a = queries.agreement_get(user, pk)
    return _agreement_out(user, svc.agreement_attach(actor=user, agreement=a, **_activity(user, payload)))


@router.post(
    "/agreements/{pk}/activities/detach",
    response={200: dict[str, Any], **WRITE_ERRORS},
    summary="No longer count a visit or a class for a co-building agreement",
)
def detach_activity(request: HttpRequest, payload: ActivityIn, pk: int = Path(..., ge=1, le=2**62)) -> Any:
    user = actor(request)
    a = queries.agreement_get(user, pk)
    return _agreement_out(user, svc.agreement_detach(actor=user, agreement=a, **_activity(user, payload)))
