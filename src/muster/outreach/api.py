"""Outreach over the API (/api/v1/outreach/…): enterprises and their import/export, liaisons and "my
enterprises", visits, the problem list and its steps, the figures as of a cutoff.

Thin: reads through ``muster.outreach.queries`` (out of scope = 404 / absent from lists), writes through
``muster.outreach.services`` (visible but not allowed = 403; bad input = 422 ``{"detail", "errors"}``).
Enterprises are referred to by credit code, people by staff number, units by code. A date-time without an
offset is Shanghai time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema, Status

from muster.api.common import (
    BoundedDate,
    BoundedDateTime,
    ErrorOut,
    PageParams,
    actor,
    paginate,
    required_unit,
    resolve_unit,
    unit_ref,
)
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Partner, Person
from muster.outreach import queries, services, tabular_io
from muster.outreach import services_service as svc
from muster.outreach.models import (
    Enterprise,
    Indicator,
    Liaison,
    MeasureCategory,
    Problem,
    ServiceMeasure,
    TaxpayerHome,
    Visit,
)
from muster.tabular.api import (
    CONFIRM_RESPONSES,
    IMPORT_RESPONSES,
    confirm_endpoint,
    export_endpoint,
    import_endpoint,
)

router = Router(tags=["outreach"])

NOT_FOUND = {404: ErrorOut}
WRITE_ERRORS = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def _as_of(value: datetime | None) -> datetime:
    if value is None:
        return timezone.now()
    return value if timezone.is_aware(value) else value.replace(tzinfo=ZoneInfo(settings.TIME_ZONE))


def _people(user: Any, codes: Sequence[str], field: str) -> list[Person]:
    found = {p.code: p for p in access.scoped(Person.objects.all(), user, Perm.VIEW).filter(code__in=codes)}
    missing = [c for c in codes if c not in found]
    if missing:
        raise ValidationError(
            {field: _("There is no person with the staff number %(code)s.") % {"code": ", ".join(missing)}}
        )
    return [found[c] for c in dict.fromkeys(codes)]


def _enterprises(user: Any, codes: Sequence[str], field: str) -> list[Enterprise]:
    wanted = [c.strip().upper() for c in codes]
    found = {e.credit_code: e for e in queries.enterprises(user).filter(credit_code__in=wanted)}
    missing = [c for c in wanted if c not in found]
    if missing:
        raise ValidationError(
            {field: _("There is no enterprise with the credit code %(code)s.") % {"code": ", ".join(missing)}}
        )
    return [found[c] for c in dict.fromkeys(wanted)]


def _partners(user: Any, codes: Sequence[str]) -> list[Partner]:
    found = {p.code: p for p in access.scoped(Partner.objects.all(), user, Perm.VIEW).filter(code__in=codes)}
    missing = [c for c in codes if c not in found]
    if missing:
        raise ValidationError(
            {"partners": _("There is no partner with the code %(code)s.") % {"code": ", ".join(missing)}}
        )
    return [found[c] for c in dict.fromkeys(codes)]


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


# ================================================================ visits


class OutreachVisitIn(Schema):
    held_on: BoundedDate
    unit: str
    form: Literal["on_site", "meeting", "online"] = "on_site"
    branch: str | None = None
    visitors: list[str] = Field(..., max_length=200)
    enterprises: list[str] = Field([], max_length=500)
    partners: list[str] = Field([], max_length=500)
    topics: str = ""
    findings: str = ""
    meeting: int | None = Field(None, ge=1, le=2**62)


def _visit_out(user: Any, v: Visit) -> dict[str, Any]:
    return {
        "id": v.pk,
        "held_on": v.held_on.isoformat(),
        "form": v.form,
        "unit": unit_ref(user, v.unit),
        "branch": unit_ref(user, v.branch),
        "meeting": v.meeting_id,
        "topics": v.topics,
        "findings": v.findings,
        "visitors": [p.code for p in v.visitors.all() if queries.person_visible(user, p)],
        "enterprises": [e.credit_code for e in v.enterprises.all() if queries.enterprise_visible(user, e)],
        "partners": [p.code for p in v.partners.all() if queries.partner_visible(user, p)],
    }


@router.get("/visits", response=dict[str, Any])
def list_visits(
    request: HttpRequest,
    page: Query[PageParams],
    unit: str | None = None,
    start: BoundedDate | None = None,
    end: BoundedDate | None = None,
) -> Any:
    user = actor(request)
    qs = queries.visits(user).prefetch_related(*queries.VISIT_RELATED)
    scope = resolve_unit(user, unit, "unit")
    if scope is not None:
        qs = qs.filter(queries.subtree_q(scope))
    if start is not None:
        qs = qs.filter(held_on__gte=start)
    if end is not None:
        qs = qs.filter(held_on__lte=end)
    items, meta = paginate(qs, page)
    return {**meta, "items": [_visit_out(user, v) for v in items]}


@router.post("/visits", response={201: dict[str, Any], **WRITE_ERRORS})
def record_visit(request: HttpRequest, payload: OutreachVisitIn) -> Any:
    user = actor(request)
    unit = required_unit(user, payload.unit, "unit")
    branch = resolve_unit(user, payload.branch, "branch")
    meeting_unit = None
    if payload.meeting is not None:
        from muster.partylife.queries import meeting_get  # read-only: the meeting must be visible

        try:
            meeting_unit = meeting_get(user, payload.meeting).unit
        except Exception:  # Http404: unknown or out of scope, the same answer
            raise ValidationError({"meeting": _("There is no such meeting.")}) from None
    v = services.visit_record(
        actor=user,
        held_on=payload.held_on,
        unit=unit,
        form=payload.form,
        branch=branch,
        visitors=_people(user, payload.visitors, "visitors"),
        enterprises=_enterprises(user, payload.enterprises, "enterprises"),
        partners=_partners(user, payload.partners),
        topics=payload.topics,
        findings=payload.findings,
        meeting_id=payload.meeting,
        meeting_unit=meeting_unit,
    )
    return Status(201, _visit_out(user, v))


@router.get("/visits/{pk}", response={200: dict[str, Any], **NOT_FOUND})
def get_visit(request: HttpRequest, pk: int = Path(..., ge=1, le=2**62)) -> Any:
    user = actor(request)
    return _visit_out(user, queries.visit_get(user, pk))


# ================================================================ problems


class ProblemIn(Schema):
    title: str
    unit: str
    raised_on: BoundedDate
    category: str = ""
    description: str = ""
    owner: str | None = None
    enterprise: str | None = None
    visit: int | None = Field(None, ge=1, le=2**62)
    deadline: BoundedDate | None = None


class ProblemPatch(Schema):
    title: str | None = None
    category: str | None = None
    description: str | None = None
    owner: str | None = None
    deadline: BoundedDate | None = None


class ProblemStepIn(Schema):
    on: BoundedDate | None = None


class ResolveIn(ProblemStepIn):
    resolution: str = ""
    evidence: str = ""


class ReasonStepIn(ProblemStepIn):
    reason: str = ""


def _problem_out(user: Any, pr: Problem, *, history: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": pr.pk,
        "title": pr.title,
        "category": pr.category,
        "description": pr.description,
        "raised_on": pr.raised_on.isoformat(),
        "unit": unit_ref(user, pr.unit),
        "branch": unit_ref(user, pr.branch),
        "owner": pr.owner.code if pr.owner is not None and queries.person_visible(user, pr.owner) else None,
        "enterprise": (
            pr.enterprise.credit_code
            if pr.enterprise is not None and queries.enterprise_visible(user, pr.enterprise)
            else None
        ),
        "visit": pr.visit_id,
        "deadline": pr.deadline.isoformat() if pr.deadline else None,
        "status": pr.status,
        "resolved_on": pr.resolved_on.isoformat() if pr.resolved_on else None,
        "resolution": pr.resolution,
        "evidence": pr.evidence,
        "reason": pr.reason,
    }
    if history:
        out["history"] = [
            {
                "action": ev.action,
                "status": ev.status,
                "on": ev.on.isoformat(),
                "text": ev.text,
                "by": ev.actor_name,
            }
            for ev in pr.events.order_by("on", "id")
        ]
    return out


@router.get("/problems", response=dict[str, Any])
def list_problems(
    request: HttpRequest,
    page: Query[PageParams],
    unit: str | None = None,
    status: Literal["open", "in_progress", "resolved", "unsolvable"] | None = None,
    overdue_on: BoundedDate | None = None,
) -> Any:
    user = actor(request)
    qs = queries.overdue(user, overdue_on) if overdue_on is not None else queries.problems(user)
    scope = resolve_unit(user, unit, "unit")
    if scope is not None:
        qs = qs.filter(queries.subtree_q(scope))
    if status is not None:
        qs = qs.filter(status=status)
    items, meta = paginate(qs, page)
    return {**meta, "items": [_problem_out(user, pr) for pr in items]}


@router.post("/problems", response={201: dict[str, Any], **WRITE_ERRORS})
def raise_problem(request: HttpRequest, payload: ProblemIn) -> Any:
    user = actor(request)
    unit = required_unit(user, payload.unit, "unit")
    owner = _people(user, [payload.owner], "owner")[0] if payload.owner else None
    enterprise = _enterprises(user, [payload.enterprise], "enterprise")[0] if payload.enterprise else None
    visit = None
    if payload.visit is not None:
        visit = queries.visits(user).filter(pk=payload.visit).first()
        if visit is None:
            raise ValidationError({"visit": _("There is no such visit.")})
    pr = services.problem_raise(
        actor=user,
        title=payload.title,
        unit=unit,
        raised_on=payload.raised_on,
        category=payload.category,
        description=payload.description,
        owner=owner,
        enterprise=enterprise,
        visit=visit,
        deadline=payload.deadline,
    )
    return Status(201, _problem_out(user, pr, history=True))


@router.get("/problems/{pk}", response={200: dict[str, Any], **NOT_FOUND})
def get_problem(request: HttpRequest, pk: int = Path(..., ge=1, le=2**62)) -> Any:
    user = actor(request)
    return _problem_out(user, queries.problem_get(user, pk), history=True)


@router.patch("/problems/{pk}", response={200: dict[str, Any], **WRITE_ERRORS})
def update_problem(request: HttpRequest, payload: ProblemPatch, pk: int = Path(..., ge=1, le=2**62)) -> Any:
    user = actor(request)
    pr = queries.problem_get(user, pk)
    fields = payload.dict(exclude_unset=True)
    if "owner" in fields:
        fields["owner"] = _people(user, [fields["owner"]], "owner")[0] if fields["owner"] else None
    return _problem_out(user, services.problem_update(actor=user, problem=pr, **fields), history=True)


@router.post("/problems/{pk}/start", response={200: dict[str, Any], **WRITE_ERRORS})
def start_problem(request: HttpRequest, payload: ProblemStepIn, pk: int = Path(..., ge=1, le=2**62)) -> Any:
    user = actor(request)
    pr = services.problem_start(actor=user, problem=queries.problem_get(user, pk), on=payload.on)
    return _problem_out(user, pr, history=True)


@router.post("/problems/{pk}/resolve", response={200: dict[str, Any], **WRITE_ERRORS})
def resolve_problem(request: HttpRequest, payload: ResolveIn, pk: int = Path(..., ge=1, le=2**62)) -> Any:
    user = actor(request)
    pr = services.problem_resolve(
        actor=user,
        problem=queries.problem_get(user, pk),
        resolution=payload.resolution,
        evidence=payload.evidence,
        on=payload.on,
    )
    return _problem_out(user, pr, history=True)


@router.post("/problems/{pk}/unsolvable", response={200: dict[str, Any], **WRITE_ERRORS})
def unsolvable_problem(
    request: HttpRequest, payload: ReasonStepIn, pk: int = Path(..., ge=1, le=2**62)
) -> Any:
    user = actor(request)
    pr = services.problem_declare_unsolvable(
        actor=user, problem=queries.problem_get(user, pk), reason=payload.reason, on=payload.on
    )
    return _problem_out(user, pr, history=True)


@router.post("/problems/{pk}/reopen", response={200: dict[str, Any], **WRITE_ERRORS})
def reopen_problem(request: HttpRequest, payload: ReasonStepIn, pk: int = Path(..., ge=1, le=2**62)) -> Any:
    user = actor(request)
    pr = services.problem_reopen(
        actor=user, problem=queries.problem_get(user, pk), reason=payload.reason, on=payload.on
    )
    return _problem_out(user, pr, history=True)


# ================================================================ figures


class OutreachFiguresOut(Schema):
    unit: str
    as_of: str
    visits: int
    enterprises_visited: int
    problems: int
    problems_resolved: int
    problems_overdue: int
    resolution_rate: Decimal | None
    resolution_rate_text: str


@router.get("/figures", response={200: OutreachFiguresOut, **NOT_FOUND, 422: ErrorOut})
def figures(request: HttpRequest, unit: str, as_of: BoundedDateTime | None = None) -> Any:
    """The outreach figures of a unit's subtree as of a cutoff; the rate is cut to one decimal."""
    user = actor(request)
    scope = required_unit(user, unit, "unit")
    f = queries.figures(scope, _as_of(as_of))
    return {
        "unit": scope.code,
        "as_of": timezone.localtime(f.as_of, ZoneInfo(settings.TIME_ZONE)).isoformat(),
        "visits": f.visits,
        "enterprises_visited": f.enterprises_visited,
        "problems": f.problems,
        "problems_resolved": f.resolved,
        "problems_overdue": f.overdue,
        "resolution_rate": f.rate,
        "resolution_rate_text": f.rate_text,
    }


# ================================================ homes, classes, measures, indicators, log, co-building


def _partner_opt(user: Any, code: str | None) -> Partner | None:
    return _partners(user, [code])[0] if code else None


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


class ServiceIn(Schema):
    at: BoundedDateTime
    kind: Literal["after_hours", "appointment", "green_channel"]
    unit: str
    matter: str
    staff: str
    enterprise: str | None = None
    taxpayer: str = ""
    outside_hours: bool = False


@router.post("/service-log", response={201: dict[str, Any], **WRITE_ERRORS}, summary="Log a service")
def log_service(request: HttpRequest, payload: ServiceIn) -> Any:
    user = actor(request)
    e = svc.service_log(
        actor=user,
        at=_as_of(payload.at),
        kind=payload.kind,
        unit=required_unit(user, payload.unit, "unit"),
        matter=payload.matter,
        staff=_people(user, [payload.staff], "staff")[0],
        enterprise=_enterprises(user, [payload.enterprise], "enterprise")[0] if payload.enterprise else None,
        taxpayer=payload.taxpayer,
        outside_hours=payload.outside_hours,
    )
    return Status(201, {"id": e.pk, "kind": e.kind, "outside_hours": e.outside_hours})


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
