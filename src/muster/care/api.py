"""The care ledger over the API (under ``/api/v1/care/``). Thin: objects are resolved through
``muster.care.policy`` (out of scope = 404), writes go through ``muster.care.services``.

Health answers and risk tags are only in the answers of users with the care-data permission, and every
such answer is written to the audit log (a read audit).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import File, Query, Router, Schema, Status
from ninja.files import UploadedFile

from muster import clock
from muster.api.common import (
    BoundedDate,
    BoundedDateTime,
    ErrorOut,
    PageParams,
    actor,
    paginate,
    resolve_unit,
)
from muster.care import io as care_io
from muster.care import policy, queries
from muster.care import services as care
from muster.care.models import (
    CareSubject,
    CharityDrive,
    Consolation,
    DeliveryLine,
    DriveContribution,
    HelpCategory,
    HelpRequest,
    SurveyRound,
)
from muster.orgs import access
from muster.orgs.access import NotAllowed, Perm
from muster.orgs.models import Partner, Person, RoleGrant
from muster.tabular.api import (
    CONFIRM_RESPONSES,
    IMPORT_RESPONSES,
    confirm_endpoint,
    export_endpoint,
    import_endpoint,
)

router = Router(tags=["care"])

E4 = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def _person(user: Any, code: str | None, field: str) -> Person | None:
    if not code:
        return None
    p = access.scoped(Person.objects.all(), user, Perm.VIEW).filter(code=code).first()
    if p is None:
        raise ValidationError({field: _("There is no person with the code %(code)s.") % {"code": code}})
    return p


def subject_out(user: Any, s: CareSubject, *, health: bool = False) -> dict[str, Any]:
    show_phone = policy.is_liaison(user, s) or policy.has_care_data(user, s.unit)
    out: dict[str, Any] = {
        "code": s.code,
        "name": s.name,
        "unit": {"code": s.unit.code, "name": s.unit.name} if access.can(user, Perm.VIEW, s.unit) else None,
        "liaison": {"code": s.liaison.code, "name": s.liaison.name}  # type: ignore[union-attr]
        if s.liaison_id and policy.may_view_person(user, s.liaison)  # type: ignore[arg-type]
        else None,
        "status": s.status,
        "status_on": s.status_on.isoformat() if s.status_on else None,
        "community": s.community,
        "phone": s.phone if show_phone else s.phone_masked,
        "next_due_on": s.next_due_on.isoformat() if s.next_due_on else None,
    }
    if health and policy.may_see_health(user, s):
        care.health_read_log(actor=user, subject=s, where="api")
        out["risk_level"] = s.risk_level
        out["tags"] = sorted(care.current_tags(s))
        out["answers"] = [
            {
                "dimension": o.dimension.code,
                "value": o.value,
                "channel": o.channel,
                "at": o.observed_at.isoformat(),
                "round": o.round_id,
            }
            for o in queries.subject_answers(s)
        ]
        out["id_number"] = s.id_number_masked
        out["address"] = s.address
    return out


# ---------------------------------------------------------------- subjects


class SubjectIn(Schema):
    unit: str
    code: str
    person: str | None = None
    name: str = ""
    birth_date: BoundedDate | None = None
    phone: str = ""
    id_number: str = ""
    address: str = ""
    community: str = ""
    liaison: str | None = None


@router.get("/subjects", response={200: Any})
def subject_list(
    request: HttpRequest, page: Query[PageParams], unit: str | None = None, status: str | None = None
) -> Any:
    who = actor(request)
    qs = (
        policy.subjects(who)
        .select_related("unit", "liaison__unit", "liaison__party_unit", "person")
        .order_by("code")
    )
    if unit:
        qs = qs.filter(unit__path__startswith=policy.unit_get_or_404(who, unit).path)
    if status:
        qs = qs.filter(status=status)
    items, meta = paginate(qs, page)
    return {**meta, "items": [subject_out(who, s) for s in items]}


@router.post("/subjects", response={201: Any, **E4})
def subject_create(request: HttpRequest, payload: SubjectIn) -> Any:
    who = actor(request)
    unit = policy.unit_get_or_404(who, payload.unit)
    s = care.subject_create(
        actor=who,
        unit=unit,
        code=payload.code,
        person=_person(who, payload.person, "person"),
        name=payload.name,
        birth_date=payload.birth_date,
        phone=payload.phone,
        id_number=payload.id_number,
        address=payload.address,
        community=payload.community,
        liaison=_person(who, payload.liaison, "liaison"),
    )
    return Status(201, subject_out(who, s))


@router.get("/subjects/{code}", response={200: Any, 404: ErrorOut})
def subject_detail(request: HttpRequest, code: str) -> Any:
    """A subject; health answers and tags only with the care-data permission (read-audited)."""
    who = actor(request)
    return subject_out(who, policy.subject_by_code_or_404(who, code), health=True)


class StatusIn(Schema):
    status: str
    on: BoundedDate
    note: str = ""


@router.post("/subjects/{code}/status", response={200: Any, **E4})
def subject_status(request: HttpRequest, code: str, payload: StatusIn) -> Any:
    who = actor(request)
    s = care.subject_status_set(
        actor=who,
        subject=policy.subject_by_code_or_404(who, code),
        status=payload.status,
        on=payload.on,
        note=payload.note,
    )
    return subject_out(who, s)


class ContactIn(Schema):
    channel: str = "phone"
    outcome: str = "ok"
    at: BoundedDateTime | None = None
    note: str = ""


@router.post("/subjects/{code}/contacts", response={201: Any, **E4})
def contact_record(request: HttpRequest, code: str, payload: ContactIn) -> Any:
    """Record a contact; ``{"outcome": "ok"}`` is the one-tap "联系上，一切正常"."""
    who = actor(request)
    s = policy.subject_by_code_or_404(who, code)
    c = care.contact_record(
        actor=who,
        subject=s,
        channel=payload.channel,
        outcome=payload.outcome,
        at=payload.at,
        note=payload.note,
    )
    s.refresh_from_db()
    return Status(201, {"id": c.pk, "at": c.at.isoformat(), "next_due_on": str(s.next_due_on or "")})


class CarePlanIn(Schema):
    on: BoundedDate


@router.post("/subjects/{code}/plan", response={200: Any, **E4})
def contact_plan(request: HttpRequest, code: str, payload: CarePlanIn) -> Any:
    who = actor(request)
    s = care.contact_schedule(actor=who, subject=policy.subject_by_code_or_404(who, code), on=payload.on)
    return {"code": s.code, "next_due_on": str(s.next_due_on)}


class TagIn(Schema):
    tag: str
    on: bool = True
    reason: str


@router.post("/subjects/{code}/tags", response={201: Any, **E4})
def tag_set(request: HttpRequest, code: str, payload: TagIn) -> Any:
    who = actor(request)
    e = care.risk_tag_set(
        actor=who,
        subject=policy.subject_by_code_or_404(who, code),
        tag=payload.tag,
        on=payload.on,
        reason=payload.reason,
    )
    return Status(201, {"tag": e.tag.code, "on": e.on, "at": e.at.isoformat()})


@router.get("/due", response={200: Any})
def due(request: HttpRequest, day: BoundedDate | None = None) -> Any:
    """The caller's "今天要联系的人" (as a liaison): due today or overdue, the most overdue first."""
    who = actor(request)
    uid = getattr(who, "pk", None)
    person = Person.objects.filter(user_id=uid).first() if uid is not None else None
    if person is None:
        return {"items": []}
    today = day or clock.today()
    return {
        "day": today.isoformat(),
        "items": [
            {
                "code": s.code,
                "name": s.name,
                "phone": s.phone,
                "next_due_on": s.next_due_on.isoformat() if s.next_due_on else None,
                "overdue": bool(s.next_due_on and s.next_due_on < today),
            }
            for s in queries.due_list(person, today=today)[:500]
        ],
    }


@router.get("/overdue", response={200: Any, 404: ErrorOut})
def overdue(request: HttpRequest, unit: str, by: str = "unit") -> Any:
    """Overdue and due-today contacts of a unit's subtree, by unit or by liaison (``by=liaison``)."""
    who = actor(request)
    u = policy.unit_get_or_404(who, unit)
    rows = queries.overdue_by(who, unit=u, by="liaison" if by == "liaison" else "unit")
    return {"rows": [r.__dict__ for r in rows]}


# ---------------------------------------------------------------- survey rounds


class RoundIn(Schema):
    unit: str
    name: str
    dimensions: list[str] | None = None


def _round_or_404(who: Any, pk: int) -> SurveyRound:
    r = (
        SurveyRound.objects.filter(access.path_q(who, Perm.VIEW, "unit__path"), pk=pk)
        .select_related("unit")
        .first()
    )
    if r is None:
        raise Http404
    return r


def _round_out(r: SurveyRound) -> dict[str, Any]:
    cov = queries.round_coverage(r)
    return {
        "id": r.pk,
        "name": r.name,
        "unit": {"code": r.unit.code, "name": r.unit.name},
        "opened_at": r.opened_at.isoformat(),
        "closed_at": r.closed_at.isoformat() if r.closed_at else None,
        "dimensions": [d.code for d in r.dimensions.all()],
        "coverage": {"reached": cov.reached, "total": cov.total, "percent": float(cov.percent)},
        "by_liaison": [{"liaison": n, "reached": a, "total": t} for n, a, t in cov.by_liaison],
    }


@router.post("/rounds", response={201: Any, **E4})
def round_open(request: HttpRequest, payload: RoundIn) -> Any:
    who = actor(request)
    r = care.round_open(
        actor=who,
        unit=policy.unit_get_or_404(who, payload.unit),
        name=payload.name,
        dimensions=payload.dimensions,
    )
    return Status(201, _round_out(r))


@router.get("/rounds/{pk}", response={200: Any, 404: ErrorOut})
def round_detail(request: HttpRequest, pk: int) -> Any:
    """Coverage live (e.g. 243/243, 100 %), per liaison, and who is not reached yet."""
    who = actor(request)
    r = _round_or_404(who, pk)
    out = _round_out(r)
    out["not_reached"] = [{"code": s.code, "name": s.name} for s in queries.not_reached(r)[:1000]]
    return out


@router.post("/rounds/{pk}/close", response={200: Any, **E4})
def round_close(request: HttpRequest, pk: int) -> Any:
    who = actor(request)
    return _round_out(care.round_close(actor=who, round=_round_or_404(who, pk)))


class AnswersIn(Schema):
    subject: str
    channel: str
    at: BoundedDateTime | None = None
    answers: dict[str, str | int]
    note: str = ""


@router.post("/rounds/{pk}/answers", response={201: Any, **E4})
def answers_record(request: HttpRequest, pk: int, payload: AnswersIn) -> Any:
    """Record a subject's answers (dated observations) in a round."""
    who = actor(request)
    s = policy.subject_by_code_or_404(who, payload.subject)
    # the round: visible through the unit, or to a liaison through a subject of theirs it covers
    r = SurveyRound.objects.filter(pk=pk).select_related("unit").first()
    if (
        r is None
        or not s.unit.path.startswith(r.unit.path)
        or not (access.can(who, Perm.VIEW, r.unit) or policy.is_liaison(who, s))
    ):
        r = _round_or_404(who, pk)
    obs = care.survey_answer_record(
        actor=who,
        subject=s,
        round=r,
        answers=payload.answers,
        channel=payload.channel,
        at=payload.at,
        note=payload.note,
    )
    return Status(201, {"recorded": len(obs)})


# ---------------------------------------------------------------- help requests


class HelpIn(Schema):
    unit: str | None = None
    subject: str | None = None
    requester_name: str = ""
    source: str
    category: str
    urgency: str = "normal"
    description: str


_HEALTH_HELP = {HelpCategory.MEDICINE, HelpCategory.MEDICAL}


def _help_out(who: Any, r: HelpRequest) -> dict[str, Any]:
    # medicine and medical requests are health data: their texts only with the care-data permission
    texts = r.category not in _HEALTH_HELP or policy.has_care_data(who, r.unit)
    return {
        "id": r.pk,
        "unit": r.unit.code,
        "subject": r.subject.code if r.subject_id else None,  # type: ignore[union-attr]
        "requester_name": r.requester_name,
        "source": r.source,
        "category": r.category,
        "urgency": r.urgency,
        "status": r.status,
        "raised_at": r.raised_at.isoformat(),
        "due_at": r.due_at.isoformat(),
        "resolved_at": r.resolved_at.isoformat() if r.resolved_at else None,
        "steps": [
            {"status": s.status, "at": s.at.isoformat(), "by": s.by_name, "note": s.note if texts else None}
            for s in r.steps.order_by("pk")
        ],
        "description": r.description if texts else None,
    }


def _help_or_404(who: Any, pk: int) -> HelpRequest:
    r = queries.help_requests(who).filter(pk=pk).select_related("unit", "subject").first()
    if r is None:
        raise Http404
    return r


@router.post("/help", response={201: Any, **E4})
def help_raise(request: HttpRequest, payload: HelpIn) -> Any:
    who = actor(request)
    subject = policy.subject_by_code_or_404(who, payload.subject) if payload.subject else None
    unit = subject.unit if subject else policy.unit_get_or_404(who, payload.unit or "")
    r = care.help_request_raise(
        actor=who,
        unit=unit,
        subject=subject,
        requester_name=payload.requester_name,
        source=payload.source,
        category=payload.category,
        urgency=payload.urgency,
        description=payload.description,
    )
    return Status(201, _help_out(who, r))


@router.get("/help", response={200: Any, 404: ErrorOut})
def help_list(request: HttpRequest, unit: str, over_time: bool = False) -> Any:
    who = actor(request)
    u = policy.unit_get_or_404(who, unit)
    qs = (
        queries.over_time_help(who, unit=u)
        if over_time
        else queries.help_requests(who).filter(unit__path__startswith=u.path)
    )
    return {"items": [_help_out(who, r) for r in qs.select_related("unit", "subject")[:500]]}


class HelpStepIn(Schema):
    status: str
    note: str = ""
    assignee: str | None = None


@router.post("/help/{pk}/steps", response={200: Any, **E4})
def help_step(request: HttpRequest, pk: int, payload: HelpStepIn) -> Any:
    who = actor(request)
    r = _help_or_404(who, pk)
    care.help_request_step(
        actor=who,
        request=r,
        status=payload.status,
        note=payload.note,
        assignee=_person(who, payload.assignee, "assignee"),
    )
    return _help_out(who, _help_or_404(who, pk))


# ---------------------------------------------------------------- deliveries


class LineSchema(Schema):
    subject: str
    item: str
    quantity: str | float | int
    note: str = ""
    help_request: int | None = None


class RunIn(Schema):
    unit: str
    name: str
    kind: str
    at: BoundedDateTime | None = None
    lines: list[LineSchema]


@router.post("/deliveries", response={201: Any, **E4})
def delivery_create(request: HttpRequest, payload: RunIn) -> Any:
    who = actor(request)
    unit = policy.unit_get_or_404(who, payload.unit)
    lines = [
        care.LineIn(
            subject=policy.subject_by_code_or_404(who, ln.subject),
            item=ln.item,
            quantity=ln.quantity,
            note=ln.note,
            help_request=_help_or_404(who, ln.help_request) if ln.help_request else None,
        )
        for ln in payload.lines[:5000]
    ]
    run = care.delivery_run_create(
        actor=who, unit=unit, name=payload.name, kind=payload.kind, lines=lines, at=payload.at
    )
    return Status(201, {"id": run.pk, "lines": [ln.pk for ln in run.lines.order_by("pk")]})


class LineMarkIn(Schema):
    status: str
    reason: str = ""


@router.post("/deliveries/lines/{pk}", response={200: Any, **E4})
def delivery_line_mark(request: HttpRequest, pk: int, payload: LineMarkIn) -> Any:
    who = actor(request)
    line = get_object_or_404(
        DeliveryLine.objects.select_related("run__unit", "help_request"),
        access.path_q(who, Perm.VIEW, "run__unit__path"),
        pk=pk,
    )
    line = care.delivery_line_mark(actor=who, line=line, status=payload.status, reason=payload.reason)
    return {"id": line.pk, "status": line.status}


# ---------------------------------------------------------------- consolations and donations


class ConsolationIn(Schema):
    subject: str
    kind: str
    at: BoundedDateTime | None = None
    to_family: bool = False
    note: str = ""
    amount: str | float | int | None = None
    channel: str = ""


def _consolation_out(c: Consolation) -> dict[str, Any]:
    return {
        "id": c.pk,
        "kind": c.kind,
        "amount": str(c.amount) if c.amount is not None else None,
        "requested_by": c.requested_by_name,
        "approved_by": c.approved_by_name or None,
        "paid": c.approved_at is not None,
    }


@router.post("/consolations", response={201: Any, **E4})
def consolation_record(request: HttpRequest, payload: ConsolationIn) -> Any:
    who = actor(request)
    c = care.consolation_record(
        actor=who,
        subject=policy.subject_by_code_or_404(who, payload.subject),
        kind=payload.kind,
        at=payload.at,
        note=payload.note,
        to_family=payload.to_family,
        amount=payload.amount,
        channel=payload.channel,
    )
    return Status(201, _consolation_out(c))


@router.post("/consolations/{pk}/approve", response={200: Any, **E4})
def consolation_approve(request: HttpRequest, pk: int) -> Any:
    who = actor(request)
    c = (
        Consolation.objects.filter(policy.visible_q(who, "subject__"), pk=pk)
        .select_related("subject__unit")
        .first()
    )
    if c is None:
        raise Http404
    return _consolation_out(care.consolation_approve(actor=who, consolation=c))


class DonationIn(Schema):
    unit: str
    donor: str
    kind: str
    value: str | float | int
    items: str = ""
    partner: str | None = None
    subject: str | None = None
    beneficiary: str = ""
    at: BoundedDateTime | None = None


@router.post("/donations", response={201: Any, **E4})
def donation_record(request: HttpRequest, payload: DonationIn) -> Any:
    who = actor(request)
    partner = None
    if payload.partner:
        partner = access.scoped(Partner.objects.all(), who, Perm.VIEW).filter(code=payload.partner).first()
        if partner is None:
            raise Http404
    d = care.donation_record(
        actor=who,
        unit=policy.unit_get_or_404(who, payload.unit),
        donor=payload.donor,
        kind=payload.kind,
        value=payload.value,
        items=payload.items,
        partner=partner,
        subject=policy.subject_by_code_or_404(who, payload.subject) if payload.subject else None,
        beneficiary=payload.beneficiary,
        at=payload.at,
    )
    return Status(201, {"id": d.pk, "value": str(d.value)})


class DriveIn(Schema):
    unit: str
    name: str
    beneficiary: str


@router.post("/drives", response={201: Any, **E4})
def drive_open(request: HttpRequest, payload: DriveIn) -> Any:
    who = actor(request)
    d = care.drive_open(
        actor=who,
        unit=policy.unit_get_or_404(who, payload.unit),
        name=payload.name,
        beneficiary=payload.beneficiary,
        manager=who,
    )
    return Status(201, {"id": d.pk, "name": d.name})


class ContributionIn(Schema):
    amount: str | float | int
    person: str | None = None
    name: str = ""
    at: BoundedDateTime | None = None


def _drive_or_404(who: Any, pk: int) -> CharityDrive:
    d = (
        CharityDrive.objects.filter(access.path_q(who, Perm.VIEW, "unit__path"), pk=pk)
        .select_related("unit")
        .first()
    )
    if d is None:
        raise Http404
    return d


@router.post("/drives/{pk}/contributions", response={201: Any, **E4})
def drive_contribute(request: HttpRequest, pk: int, payload: ContributionIn) -> Any:
    who = actor(request)
    c = care.drive_contribute(
        actor=who,
        drive=_drive_or_404(who, pk),
        amount=payload.amount,
        person=_person(who, payload.person, "person"),
        name=payload.name,
    )
    return Status(201, {"id": c.pk})


@router.get("/drives/{pk}", response={200: Any, 404: ErrorOut})
def drive_detail(request: HttpRequest, pk: int) -> Any:
    """A drive's total and number of contributors; the individual amounts only for its manager."""
    from django.db.models import Count, Sum

    who = actor(request)
    d = _drive_or_404(who, pk)
    agg = DriveContribution.objects.filter(drive=d).aggregate(t=Sum("amount"), n=Count("pk"))
    out: dict[str, Any] = {
        "id": d.pk,
        "name": d.name,
        "beneficiary": d.beneficiary,
        "total": str((agg["t"] or Decimal(0)).quantize(Decimal("0.01"))),
        "contributions": agg["n"],
    }
    if getattr(who, "pk", None) == d.manager_id:
        out["items"] = [{"name": c.name, "amount": str(c.amount)} for c in d.contributions.order_by("pk")]
    return out


# ---------------------------------------------------------------- grants


class GrantIn(Schema):
    username: str
    unit: str


@router.post("/grants", response={201: Any, **E4})
def grant(request: HttpRequest, payload: GrantIn) -> Any:
    """Grant the care-data permission on a unit's subtree (needs the grant permission there)."""
    from django.contrib.auth import get_user_model

    who = actor(request)
    unit = policy.unit_get_or_404(who, payload.unit)
    if not access.can(who, Perm.GRANT, unit):
        raise NotAllowed(Perm.GRANT)
    # a user outside the caller's scope is answered like one who does not exist
    users = get_user_model().objects.filter(username=payload.username, is_active=True)
    if not access.is_all_powerful(who):
        users = users.filter(
            Q(pk__in=access.scoped(Person.objects.all(), who, Perm.VIEW).values("user_id"))
            | Q(pk__in=access.scoped(RoleGrant.objects.all(), who, Perm.VIEW).values("user_id"))
        )
    user = users.first()
    if user is None:
        raise Http404
    g = care.care_grant(actor=who, user=user, unit=unit)
    return Status(201, {"id": g.pk, "username": user.get_username(), "unit": unit.code})


# ---------------------------------------------------------------- receipts


@router.post("/receipts/{kind}/{pk}", response={201: Any, **E4})
def receipt_attach(request: HttpRequest, kind: str, pk: int, file: File[UploadedFile]) -> Any:
    """Attach a receipt (a JPEG, PNG or WebP photo, or a PDF, told by its content) to a delivery run
    (``kind=run``), a consolation payment (``consolation``) or a donation (``donation``)."""
    from muster.care import receipts

    who = actor(request)
    target = policy.receipt_target_or_404(who, kind, pk)
    data = file.read(receipts.max_bytes() + 1)
    r = care.receipt_attach(actor=who, data=data, filename=file.name or "", **target)
    return Status(201, {"id": r.pk, "name": r.name, "content_type": r.content_type, "size": r.size})


@router.get("/receipts/{pk}", response={200: Any, 404: ErrorOut})
def receipt_file(request: HttpRequest, pk: int) -> Any:
    """The receipt file (to those who may see what it belongs to; every opening audited)."""
    from urllib.parse import quote

    from django.http import HttpResponse

    from muster.care import receipts

    who = actor(request)
    r = policy.receipt_get_or_404(who, pk)
    care.receipt_read_log(actor=who, receipt=r)
    resp = HttpResponse(receipts.read(r.stored_as), content_type=r.content_type)
    resp["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(r.name)}"
    resp["X-Content-Type-Options"] = "nosniff"
    resp["Cache-Control"] = "private, no-store"
    return resp


# ---------------------------------------------------------------- import and export
# The import pipeline's views (``muster.tabular.api``) on care's paths: the same workbook as ``muster care
# import`` and the page /import/care/ — all or nothing, a dry run gives a confirm token.

router.get(
    "/export",
    response={200: None, 404: ErrorOut, 422: ErrorOut},
    summary="Export the care ledger of a unit (.xlsx) in the import's own layout",
    operation_id="muster_care_api_export",
)(
    export_endpoint(
        name="export_care",
        export=care_io.care_export_any,
        resolve_unit=lambda user, code: resolve_unit(user, code, "unit"),
    )
)
router.post(
    "/import",
    response=IMPORT_RESPONSES,
    summary="Import care subjects, contact plans and survey answers (.xlsx or .csv), all or nothing",
    operation_id="muster_care_api_import",
)(import_endpoint(name="import_care", key="care", run=care_io.care_import, require=care_io.require))
router.post(
    "/import/confirm",
    response=CONFIRM_RESPONSES,
    summary="Import the care file a passing dry run checked (by its confirm_token)",
    operation_id="muster_care_api_import_confirm",
)(confirm_endpoint(name="confirm_care", key="care", run=care_io.care_import, require=care_io.require))
