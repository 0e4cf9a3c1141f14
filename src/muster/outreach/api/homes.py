"""Taxpayer homes and classes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Path, Schema, Status

from muster.api.common import (
    BoundedDate,
    actor,
    required_unit,
    resolve_unit,
)
from muster.orgs import access
from muster.orgs.access import Perm
from muster.outreach import queries
from muster.outreach import services_service as svc
from muster.outreach.api.common import (
    WRITE_ERRORS,
    _enterprises,
    _partner_opt,
    router,
)
from muster.outreach.models import TaxClass, TaxpayerHome


class HomeIn(Schema):
    name: str
    unit: str
    opened_on: BoundedDate
    partner: str | None = None
    address: str = ""


@router.post("/homes", response={201: dict[str, Any], **WRITE_ERRORS}, summary="Open a taxpayer home")
def create_home(request: HttpRequest, payload: HomeIn) -> Any:
    user = actor(request)
    home = svc.home_create(
        actor=user,
        name=payload.name,
        unit=required_unit(user, payload.unit, "unit"),
        opened_on=payload.opened_on,
        partner=_partner_opt(user, payload.partner),
        address=payload.address,
    )
    return Status(201, {"id": home.pk, "name": home.name})


class ClassIn(Schema):
    held_on: BoundedDate
    topic: str
    unit: str
    attendees: int = Field(0, ge=0, le=100000)
    speaker: str = ""
    branch: str | None = None
    home: int | None = Field(None, ge=1, le=2**62)
    partner: str | None = None
    satisfaction: Decimal | None = Field(None, ge=0, le=100)
    enterprises: list[str] = Field([], max_length=500)


@router.post("/classes", response={201: dict[str, Any], **WRITE_ERRORS}, summary="Record a taxpayer class")
def record_class(request: HttpRequest, payload: ClassIn) -> Any:
    user = actor(request)
    home = None
    if payload.home is not None:
        home = access.scoped(TaxpayerHome.objects.all(), user, Perm.VIEW).filter(pk=payload.home).first()
        if home is None:
            raise ValidationError({"home": _("There is no such taxpayer home.")})
    c = svc.class_record(
        actor=user,
        held_on=payload.held_on,
        topic=payload.topic,
        unit=required_unit(user, payload.unit, "unit"),
        attendees=payload.attendees,
        speaker=payload.speaker,
        branch=resolve_unit(user, payload.branch, "branch"),
        home=home,
        partner=_partner_opt(user, payload.partner),
        satisfaction=payload.satisfaction,
        enterprises=_enterprises(user, payload.enterprises, "enterprises"),
    )
    return Status(201, {"id": c.pk, "topic": c.topic, "attendees": c.attendees})


def _home_out(h: TaxpayerHome) -> dict[str, Any]:
    return {
        "id": h.pk,
        "name": h.name,
        "unit": h.unit.code,
        "address": h.address,
        "opened_on": h.opened_on.isoformat(),
        "closed_on": h.closed_on.isoformat() if h.closed_on else None,
    }


class HomePatch(Schema):
    name: str | None = None
    opened_on: BoundedDate | None = None
    partner: str | None = None
    address: str | None = None


class HomeCloseIn(Schema):
    closed_on: BoundedDate


@router.patch("/homes/{pk}", response={200: dict[str, Any], **WRITE_ERRORS}, summary="Edit a taxpayer home")
def update_home(request: HttpRequest, payload: HomePatch, pk: int = Path(..., ge=1, le=2**62)) -> Any:
    user = actor(request)
    home = queries.home_get(user, pk)
    fields = payload.dict(exclude_unset=True)
    if "partner" in fields:
        fields["partner"] = _partner_opt(user, fields["partner"])
    return _home_out(svc.home_update(actor=user, home=home, **fields))


@router.post(
    "/homes/{pk}/close", response={200: dict[str, Any], **WRITE_ERRORS}, summary="Close a taxpayer home"
)
def close_home(request: HttpRequest, payload: HomeCloseIn, pk: int = Path(..., ge=1, le=2**62)) -> Any:
    user = actor(request)
    return _home_out(svc.home_close(actor=user, home=queries.home_get(user, pk), closed_on=payload.closed_on))


class ClassPatch(Schema):
    held_on: BoundedDate | None = None
    topic: str | None = None
    speaker: str | None = None
    branch: str | None = None
    home: int | None = Field(None, ge=1, le=2**62)
    partner: str | None = None
    attendees: int | None = Field(None, ge=0, le=100000)
    satisfaction: Decimal | None = Field(None, ge=0, le=100)
    enterprises: list[str] | None = Field(None, max_length=500)
    agreement: int | None = Field(None, ge=1, le=2**62)


def _class_out(user: Any, c: TaxClass) -> dict[str, Any]:
    return {
        "id": c.pk,
        "held_on": c.held_on.isoformat(),
        "topic": c.topic,
        "speaker": c.speaker,
        "unit": c.unit.code,
        "branch": c.branch.code if c.branch is not None else None,
        "home": c.home_id,
        "attendees": c.attendees,
        "satisfaction": str(c.satisfaction) if c.satisfaction is not None else None,
        "agreement": c.agreement_id,
        "enterprises": sorted(
            e.credit_code for e in c.enterprises.all() if queries.enterprise_visible(user, e)
        ),
    }


@router.patch(
    "/classes/{pk}", response={200: dict[str, Any], **WRITE_ERRORS}, summary="Edit a taxpayer class"
)
def update_class(request: HttpRequest, payload: ClassPatch, pk: int = Path(..., ge=1, le=2**62)) -> Any:
    """Change a class (``null`` empties an optional field; ``enterprises`` replaces the list of those the
    caller sees, those out of sight stay)."""
    user = actor(request)
    c = queries.class_get(user, pk)
    fields = payload.dict(exclude_unset=True)
    if "branch" in fields:
        fields["branch"] = resolve_unit(user, fields["branch"], "branch")
    if "partner" in fields:
        fields["partner"] = _partner_opt(user, fields["partner"])
    if fields.get("home") is not None:
        fields["home"] = queries.homes_visible(user).filter(pk=fields["home"]).first()
        if fields["home"] is None:
            raise ValidationError({"home": _("There is no such taxpayer home.")})
    if fields.get("agreement") is not None:
        fields["agreement"] = queries.agreements_visible(user).filter(pk=fields["agreement"]).first()
        if fields["agreement"] is None:
            raise ValidationError({"agreement": _("There is no such co-building agreement.")})
    if "enterprises" in fields:
        hidden = [e for e in c.enterprises.all() if not queries.enterprise_visible(user, e)]
        fields["enterprises"] = _enterprises(user, fields["enterprises"] or [], "enterprises") + hidden
    return _class_out(user, svc.class_update(actor=user, tax_class=c, **fields))
