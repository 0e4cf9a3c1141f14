"""Enterprises (with their import and export), liaisons and "my enterprises"."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Path, Query, Schema, Status

from muster.api.common import (
    BoundedDate,
    ErrorOut,
    PageParams,
    actor,
    paginate,
    required_unit,
    resolve_unit,
    unit_ref,
)
from muster.orgs import access
from muster.outreach import queries, services, tabular_io
from muster.outreach.api.common import (
    NOT_FOUND,
    WRITE_ERRORS,
    _people,
    router,
)
from muster.outreach.models import (
    Enterprise,
    Liaison,
)
from muster.tabular.api import (
    CONFIRM_RESPONSES,
    IMPORT_RESPONSES,
    confirm_endpoint,
    export_endpoint,
    import_endpoint,
)

# ================================================================ enterprises


class EnterpriseOut(Schema):
    credit_code: str
    name: str
    industry: str
    park: str
    building: str
    size: str
    unit: dict[str, str] | None
    is_active: bool


class EnterpriseIn(Schema):
    credit_code: str = Field(..., max_length=40)
    name: str
    unit: str
    industry: str = ""
    park: str = ""
    building: str = ""
    size: Literal["", "large", "medium", "small", "micro"] = ""


class EnterprisePatch(Schema):
    name: str | None = None
    unit: str | None = None
    industry: str | None = None
    park: str | None = None
    building: str | None = None
    size: Literal["", "large", "medium", "small", "micro"] | None = None
    is_active: bool | None = None


def _ent_out(user: Any, e: Enterprise) -> dict[str, Any]:
    return {
        "credit_code": e.credit_code,
        "name": e.name,
        "industry": e.industry,
        "park": e.park,
        "building": e.building,
        "size": e.size,
        "unit": unit_ref(user, e.unit),
        "is_active": e.is_active,
    }


@router.get("/enterprises", response=dict[str, Any], summary="Enterprises the caller may see")
def list_enterprises(
    request: HttpRequest,
    page: Query[PageParams],
    q: str = "",
    unit: str | None = None,
) -> Any:
    user = actor(request)
    qs = queries.enterprises(user).order_by("credit_code")
    scope = resolve_unit(user, unit, "unit")
    if scope is not None:
        qs = qs.filter(unit__path__startswith=scope.path)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(credit_code__istartswith=q.upper()))
    items, meta = paginate(qs, page)
    return {**meta, "items": [_ent_out(user, e) for e in items]}


@router.post("/enterprises", response={201: EnterpriseOut, **WRITE_ERRORS}, summary="Register one")
def create_enterprise(request: HttpRequest, payload: EnterpriseIn) -> Any:
    user = actor(request)
    unit = required_unit(user, payload.unit, "unit")
    e = services.enterprise_create(
        actor=user,
        credit_code=payload.credit_code,
        name=payload.name,
        unit=unit,
        industry=payload.industry,
        park=payload.park,
        building=payload.building,
        size=payload.size,
    )
    return Status(201, _ent_out(user, e))


# Import and export: the import pipeline's views (``muster.tabular.api``) on outreach's paths.
router.get(
    "/enterprises/export",
    response={200: None, 404: ErrorOut, 422: ErrorOut},
    operation_id="muster_outreach_api_export_enterprises",
)(
    export_endpoint(
        name="export_enterprises",
        export=tabular_io.enterprise_export,
        resolve_unit=lambda user, code: resolve_unit(user, code, "unit"),
    )
)
router.post(
    "/enterprises/import",
    response=IMPORT_RESPONSES,
    summary="Import enterprises and liaisons (.xlsx or .csv), all or nothing",
    operation_id="muster_outreach_api_import_enterprises",
)(
    import_endpoint(
        name="import_enterprises",
        key="outreach",
        run=tabular_io.enterprise_import,
        require=tabular_io.require,
    )
)
router.post(
    "/enterprises/import/confirm",
    response=CONFIRM_RESPONSES,
    summary="Import the enterprises file a passing dry run checked (by its confirm_token)",
    operation_id="muster_outreach_api_confirm_enterprises",
)(
    confirm_endpoint(
        name="confirm_enterprises",
        key="outreach",
        run=tabular_io.enterprise_import,
        require=tabular_io.require,
    )
)


@router.get("/enterprises/{code}", response={200: EnterpriseOut, **NOT_FOUND})
def get_enterprise(request: HttpRequest, code: str) -> Any:
    user = actor(request)
    return _ent_out(user, queries.enterprise_get(user, code.upper()))


@router.patch("/enterprises/{code}", response={200: EnterpriseOut, **WRITE_ERRORS})
def update_enterprise(request: HttpRequest, code: str, payload: EnterprisePatch) -> Any:
    user = actor(request)
    e = queries.enterprise_get(user, code.upper())
    fields = payload.dict(exclude_unset=True)
    if "unit" in fields:
        fields["unit"] = required_unit(user, fields["unit"] or "", "unit")
    return _ent_out(user, services.enterprise_update(actor=user, enterprise=e, **fields))


# ================================================================ liaisons


class LiaisonOut(Schema):
    id: int
    enterprise: str
    person: str | None  # None: a person the caller may not see
    name: str | None
    role: str
    start: date
    end: date | None


class LiaisonIn(Schema):
    person: str
    start: BoundedDate
    end: BoundedDate | None = None
    role: Literal["liaison", "party_guide"] = "liaison"


class OutreachEndIn(Schema):
    end: BoundedDate


def _li_out(user: Any, li: Liaison) -> dict[str, Any]:
    shown = queries.person_visible(user, li.person)
    return {
        "id": li.pk,
        "enterprise": li.enterprise.credit_code,
        "person": li.person.code if shown else None,
        "name": li.person.name if shown else None,
        "role": li.role,
        "start": li.start,
        "end": li.end,
    }


@router.get("/enterprises/{code}/liaisons", response={200: list[LiaisonOut], **NOT_FOUND})
def list_liaisons(request: HttpRequest, code: str, on: BoundedDate | None = None) -> Any:
    user = actor(request)
    e = queries.enterprise_get(user, code.upper())
    return [_li_out(user, li) for li in queries.liaisons_of(e, on) if queries.person_visible(user, li.person)]


@router.post("/enterprises/{code}/liaisons", response={201: LiaisonOut, **WRITE_ERRORS})
def assign_liaison(request: HttpRequest, code: str, payload: LiaisonIn) -> Any:
    user = actor(request)
    e = queries.enterprise_get(user, code.upper())
    [person] = _people(user, [payload.person], "person")
    li = services.liaison_assign(
        actor=user, enterprise=e, person=person, start=payload.start, end=payload.end, role=payload.role
    )
    return Status(201, _li_out(user, li))


@router.post("/liaisons/{pk}/end", response={200: LiaisonOut, **WRITE_ERRORS})
def end_liaison(request: HttpRequest, payload: OutreachEndIn, pk: int = Path(..., ge=1, le=2**62)) -> Any:
    user = actor(request)
    li = access.get_scoped_or_404(
        Liaison.objects.select_related("enterprise__unit", "person__unit", "person__party_unit"), user, pk=pk
    )
    return _li_out(user, services.liaison_end(actor=user, liaison=li, end=payload.end))


@router.get("/my-enterprises", response=list[dict[str, Any]], summary="Enterprises I am liaison of")
def my_enterprises(request: HttpRequest, on: BoundedDate | None = None) -> Any:
    user = actor(request)
    rows = queries.my_enterprises(user, on or timezone.localdate())
    return [{**_ent_out(user, e), "role": li.role, "since": li.start.isoformat()} for e, li in rows]
