"""Volunteer records, certificates and star tiers over the API (/api/v1/honors/…).

Thin: reads through ``muster.honors.queries`` (scoped; out of scope = 404), writes through
``muster.honors.services`` (visible but not allowed = 403; bad input = 422). ``GET /honors/verify/{token}``
is public (no authentication), like the verification page. Awards and commendations are on
``/partylife/honors…`` (their paths from before they moved here), from ``muster.honors.award_api``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema

from muster.api.common import BoundedDate, ErrorOut, ReasonIn, actor
from muster.honors import queries, services
from muster.honors.award_api import router as award_router
from muster.honors.exports import OTHER_BATCHES
from muster.honors.models import Certificate, CertificateStatus, StarTier
from muster.honors.pdf import certificate_pdf
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Unit

router = Router(tags=["honors"])
NOT_FOUND = {404: ErrorOut}
WRITE_ERRORS = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class AsOfQuery(Schema):
    as_of: BoundedDate | None = Field(None, description="the record as of the end of this day; default: now")


def _cutoff(day: date | None) -> datetime:
    return queries.cutoff_of_day(day) if day else queries.default_cutoff()


class TierOut(Schema):
    level: int
    name: str
    hours: float
    next_level: int | None
    next_hours: int | None


class RecordLineOut(Schema):
    batch: str | None
    task: str | None = Field(description="the batch's task; for other units' batches a neutral label")
    other: bool = Field(False, description="hours in batches you may not see (no code or title)")
    kind: str
    kind_label: str
    entries: int
    hours: float


class RecordOut(Schema):
    person: str
    name: str
    as_of: datetime
    hours: float
    minutes: int
    period_start: date | None
    period_end: date | None
    tier: TierOut
    lines: list[RecordLineOut]


def _tier_out(t: queries.TierInfo) -> dict[str, Any]:
    return {
        "level": t.level,
        "name": t.name,
        "hours": round(t.minutes / 60, 2),
        "next_level": t.next_level,
        "next_hours": t.next_hours,
    }


def record_data(record: queries.VolunteerRecord) -> dict[str, Any]:
    assert record.tier is not None
    return {
        "person": record.person.code,
        "name": record.person.name,
        "as_of": record.as_of,
        "hours": round(record.minutes / 60, 2),
        "minutes": record.minutes,
        "period_start": record.period_start,
        "period_end": record.period_end,
        "tier": _tier_out(record.tier),
        "lines": [
            {
                "batch": ln.deployment.code if ln.deployment else None,
                "task": ln.deployment.title if ln.deployment else (str(OTHER_BATCHES) if ln.other else None),
                "other": ln.other,
                "kind": ln.kind,
                "kind_label": str(ln.kind_label),
                "entries": ln.entries,
                "hours": round(ln.minutes / 60, 2),
            }
            for ln in record.lines
        ],
    }


@router.get(
    "/honors/people/{code}/record", response={200: RecordOut, **NOT_FOUND}, summary="A volunteer record"
)
def person_record(request: HttpRequest, code: str, q: Query[AsOfQuery]) -> Any:
    person = queries.person_get_or_404(actor(request), code=code)
    user = actor(request)
    return record_data(queries.record_seen_by(user, queries.volunteer_record(person, _cutoff(q.as_of))))


class CertificateOut(Schema):
    id: int
    person: str
    status: str
    serial: str | None
    as_of: datetime
    hours: float
    issuing_unit: str
    period_start: date | None
    period_end: date | None
    issued_at: datetime | None
    revoked_at: datetime | None
    verify_url: str | None


def cert_data(cert: Certificate) -> dict[str, Any]:
    return {
        "id": cert.pk,
        "person": cert.person.code,
        "status": cert.status,
        "serial": cert.serial,
        "as_of": cert.as_of,
        "hours": round(cert.minutes / 60, 2),
        "issuing_unit": cert.issuing_unit.code,
        "period_start": cert.period_start,
        "period_end": cert.period_end,
        "issued_at": cert.issued_at,
        "revoked_at": cert.revoked_at,
        "verify_url": f"/verify/{cert.token}/" if cert.token else None,
    }


class IssueIn(Schema):
    as_of: BoundedDate | None = Field(None, description="hours as of the end of this day; default: now")
    issuing_unit: str | None = Field(None, description="unit code; default: the person's unit")
    person_in_charge: str = ""
    handler: str = ""
    contact: str = ""
    volunteer_number: str = ""


def _unit(user: Any, code: str | None) -> Unit | None:
    if not code:
        return None
    unit = access.scoped(Unit.objects.all(), user, Perm.VIEW).filter(code=code).first()
    if unit is None:
        raise Http404
    return unit


@router.get("/honors/people/{code}/certificates", response={200: list[CertificateOut], **NOT_FOUND})
def person_certificates(request: HttpRequest, code: str) -> Any:
    user = actor(request)
    person = queries.person_get_or_404(user, code=code)
    return [cert_data(c) for c in queries.person_certificates(user, person)]


@router.post("/honors/people/{code}/certificates", response={201: CertificateOut, **WRITE_ERRORS})
def certificate_issue(request: HttpRequest, code: str, payload: IssueIn) -> Any:
    user = actor(request)
    person = queries.person_get_or_404(user, code=code)
    cert = services.certificate_issue(
        actor=user,
        person=person,
        as_of=_cutoff(payload.as_of),
        issuing_unit=_unit(user, payload.issuing_unit),
        person_in_charge=payload.person_in_charge,
        handler=payload.handler,
        contact=payload.contact,
        volunteer_number=payload.volunteer_number,
    )
    return 201, cert_data(cert)


class CertificateRequestIn(Schema):
    as_of: BoundedDate | None = None
    note: str = ""


@router.post("/honors/certificates/request", response={201: CertificateOut, **WRITE_ERRORS})
def certificate_request(request: HttpRequest, payload: CertificateRequestIn) -> Any:
    cert = services.certificate_request(actor=actor(request), as_of=_cutoff(payload.as_of), note=payload.note)
    return 201, cert_data(cert)


@router.get("/honors/certificates/pending", response=list[CertificateOut])
def pending(request: HttpRequest) -> Any:
    return [cert_data(c) for c in queries.pending_requests(actor(request))]


@router.get("/honors/certificates/{cert_id}", response={200: CertificateOut, **NOT_FOUND})
def certificate_get(request: HttpRequest, cert_id: int) -> Any:
    return cert_data(queries.certificate_get_or_404(actor(request), pk=cert_id))


@router.get(
    "/honors/certificates/{cert_id}/pdf", response={200: None, **NOT_FOUND}, summary="The certificate PDF"
)
def certificate_pdf_get(request: HttpRequest, cert_id: int) -> HttpResponse:
    user = actor(request)
    cert = queries.certificate_get_or_404(user, pk=cert_id)
    if cert.status not in (CertificateStatus.ISSUED, CertificateStatus.REVOKED):
        raise Http404
    full = access.may_see_personal(user, cert.person, Perm.VIEW_ID)
    data = certificate_pdf(cert, full_id=full, base_url=request.build_absolute_uri("/").rstrip("/"))
    return HttpResponse(data, content_type="application/pdf")


class CertificateApproveIn(Schema):
    issuing_unit: str | None = None
    person_in_charge: str = ""
    handler: str = ""
    contact: str = ""


@router.post("/honors/certificates/{cert_id}/approve", response={200: CertificateOut, **WRITE_ERRORS})
def certificate_approve(request: HttpRequest, cert_id: int, payload: CertificateApproveIn) -> Any:
    user = actor(request)
    cert = queries.certificate_get_or_404(user, pk=cert_id)
    cert = services.certificate_approve(
        actor=user,
        certificate=cert,
        issuing_unit=_unit(user, payload.issuing_unit),
        person_in_charge=payload.person_in_charge,
        handler=payload.handler,
        contact=payload.contact,
    )
    return cert_data(cert)


@router.post("/honors/certificates/{cert_id}/reject", response={200: CertificateOut, **WRITE_ERRORS})
def certificate_reject(request: HttpRequest, cert_id: int, payload: ReasonIn) -> Any:
    user = actor(request)
    cert = queries.certificate_get_or_404(user, pk=cert_id)
    return cert_data(services.certificate_reject(actor=user, certificate=cert, reason=payload.reason))


@router.post("/honors/certificates/{cert_id}/revoke", response={200: CertificateOut, **WRITE_ERRORS})
def certificate_revoke(request: HttpRequest, cert_id: int, payload: ReasonIn) -> Any:
    user = actor(request)
    cert = queries.certificate_get_or_404(user, pk=cert_id)
    return cert_data(services.certificate_revoke(actor=user, certificate=cert, reason=payload.reason))


class VerifyOut(Schema):
    found: bool
    valid: bool
    revoked: bool
    masked_name: str
    hours: str
    issuer: str
    issued_on: str
    serial: str | None = Field(None, description="only for signed-in users who may see the certificate")
    revoked_on: str | None = Field(None, description="only for signed-in users who may see the certificate")


@router.get(
    "/honors/verify/{token}",
    response={200: VerifyOut, 404: VerifyOut},
    auth=None,
    exclude_none=True,
    summary="Verify a certificate",
)
def verify(request: HttpRequest, token: str) -> Any:
    v = services.certificate_verify(actor=request.user, token=token[:200])
    data = {k: val for k, val in v.__dict__.items() if k not in ("serial", "revoked_on") or val}
    return (200 if v.found else 404), data


class StarTierOut(Schema):
    level: int
    name: str
    min_hours: int
    source: str


class StarTierIn(Schema):
    level: int = Field(..., ge=1, le=20)
    min_hours: int = Field(..., ge=1, le=services.MAX_HOURS)
    name: str = ""


@router.get("/honors/tiers", response=list[StarTierOut])
def tiers(request: HttpRequest) -> Any:
    return list(StarTier.objects.order_by("level"))


@router.put("/honors/tiers", response={200: StarTierOut, **WRITE_ERRORS})
def tier_set(request: HttpRequest, payload: StarTierIn) -> Any:
    return services.star_tier_set(
        actor=actor(request), level=payload.level, min_hours=payload.min_hours, name=payload.name
    )


@router.get("/honors/people/{code}/tier", response={200: TierOut, **NOT_FOUND})
def person_tier(request: HttpRequest, code: str, q: Query[AsOfQuery]) -> Any:
    person = queries.person_get_or_404(actor(request), code=code)
    return _tier_out(queries.person_tier(person, _cutoff(q.as_of)))


# Awards and commendations keep their party-life paths, tag and operation ids (``muster.honors.award_api``).
router.add_router("", award_router, tags=["party life"])
