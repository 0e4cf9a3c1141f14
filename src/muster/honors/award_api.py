"""Awards and commendations over the API (/api/v1/partylife/honors…): proposals (with evidence), the
evidence file, decisions.

Moved from party life's API (issue 23, item 4) without changing what clients see: the same paths, the
``party life`` tag, the schema names and the operation ids of ``muster.partylife.api`` (set explicitly,
since ninja derives them from a view's module). Mounted on the honors router (``muster.honors.api``).
Thin: reads through ``muster.honors.queries`` (scoped; out of scope = 404), writes through
``muster.honors.awards`` (visible but not allowed = 403; bad input = 422).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseBase
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from muster.api.common import BoundedDate, ErrorOut, actor, required_person, required_unit
from muster.honors import awards, queries
from muster.honors.models import Honor
from muster.orgs import access
from muster.orgs.models import Person, Unit

router = Router(tags=["party life"])
NOT_FOUND = {404: ErrorOut}
WRITE_ERRORS = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def _op(name: str) -> str:
    """The operation id the view had in ``muster.partylife.api`` (clients keep their method names)."""
    return f"muster_partylife_api_{name}"


def _person_opt(user: Any, code: str | None, field: str) -> Person | None:
    return None if not code else required_person(user, code, field)


def _scope_unit(user: Any, code: str | None, field: str = "unit") -> Unit | None:
    return required_unit(user, code, field) if code else None


class HonorApprovalOut(Schema):
    step: int
    unit: str
    approved: bool
    opinion: str
    by: str


class HonorOut(Schema):
    id: int
    kind: str
    name: str
    level: str
    awarded_on: date
    issuer: str
    person: str | None
    unit: str | None
    branch: str
    evidence_note: str
    has_evidence: bool = Field(description="an evidence file is attached (GET …/evidence)")
    status: str
    chain: list[str] = Field(description="the committees that approve it, in order")
    approvals: list[HonorApprovalOut]


class HonorIn(Schema):
    kind: str = Field(description="commendation · award")
    name: str
    level: str = Field(description="national · provincial · city · district · unit")
    awarded_on: BoundedDate
    branch: str
    person: str | None = None
    unit: str | None = None
    issuer: str = ""
    evidence_note: str = Field(
        "", description="where the evidence is (or attach the file: POST /partylife/honors/with-evidence)"
    )


class DecideIn(Schema):
    approve: bool
    opinion: str = ""


class HonorFilters(Schema):
    unit: str | None = None
    status: str | None = None


def _honors(user: Any) -> QuerySet[Honor]:
    return queries.visible_honors(user).prefetch_related("approvals__unit")


def _honor_out(h: Honor) -> dict[str, Any]:
    return {
        "id": h.pk,
        "kind": h.kind,
        "name": h.name,
        "level": h.level,
        "awarded_on": h.awarded_on,
        "issuer": h.issuer,
        "person": h.person.code if h.person else None,
        "unit": h.unit.code if h.unit else None,
        "branch": h.branch.code,
        "evidence_note": h.evidence_note,
        "has_evidence": bool(h.evidence),
        "status": h.status,
        "chain": [u.code for u in awards.honor_chain(h)],
        "approvals": [
            {
                "step": a.step,
                "unit": a.unit.code,
                "approved": a.approved,
                "opinion": a.opinion,
                "by": a.actor_name,
            }
            for a in sorted(h.approvals.all(), key=lambda a: a.step)
        ],
    }


@router.get(
    "/partylife/honors", response={200: list[HonorOut], **WRITE_ERRORS}, operation_id=_op("list_honors")
)
def list_honors(request: HttpRequest, q: Query[HonorFilters]) -> list[dict[str, Any]]:
    user = actor(request)
    qs = _honors(user)
    unit = _scope_unit(user, q.unit)
    if unit is not None:
        qs = qs.filter(branch__path__startswith=unit.path)
    if q.status:
        qs = qs.filter(status=q.status)
    return [_honor_out(h) for h in qs.order_by("-awarded_on", "-id")[:1000]]


def _propose(request: HttpRequest, payload: HonorIn, evidence: UploadedFile | None = None) -> Status:
    user = actor(request)
    h = awards.honor_propose(
        actor=user,
        kind=payload.kind,
        name=payload.name,
        level=payload.level,
        awarded_on=payload.awarded_on,
        branch=required_unit(user, payload.branch, "branch"),
        person=_person_opt(user, payload.person, "person"),
        unit=_scope_unit(user, payload.unit),
        issuer=payload.issuer,
        evidence=evidence,
        evidence_note=payload.evidence_note,
    )
    return Status(201, _honor_out(_honors(user).get(pk=h.pk)))


@router.post("/partylife/honors", response={201: HonorOut, **WRITE_ERRORS}, operation_id=_op("propose_honor"))
def propose_honor(request: HttpRequest, payload: HonorIn) -> Status:
    """Propose a commendation or award; it enters its approval chain."""
    return _propose(request, payload)


EVIDENCE_HELP = (
    "The evidence file: a PDF scan or a photo (JPEG, PNG, WebP, HEIC), judged by its content, of at most "
    "MUSTER_EVIDENCE_MAX_BYTES (5 MB by default); otherwise 422 with errors.evidence."
)


@router.post(
    "/partylife/honors/with-evidence",
    response={201: HonorOut, **WRITE_ERRORS},
    operation_id=_op("propose_honor_with_evidence"),
    summary="Propose an honor with its evidence file (multipart/form-data)",
    description="The fields of POST /partylife/honors as form fields, and the file as `evidence`. "
    + EVIDENCE_HELP,
)
def propose_honor_with_evidence(
    request: HttpRequest, payload: Form[HonorIn], evidence: File[UploadedFile]
) -> Status:
    return _propose(request, payload, evidence)


@router.post(
    "/partylife/honors/{honor_id}/evidence",
    response={200: HonorOut, **WRITE_ERRORS},
    operation_id=_op("attach_honor_evidence"),
    summary="Attach (or replace) the evidence file of an honor before its first decision",
    description="multipart/form-data with the file as `evidence`; needs the right to record party life on "
    "the proposing organization. " + EVIDENCE_HELP,
)
def attach_honor_evidence(
    request: HttpRequest, honor_id: int, evidence: File[UploadedFile]
) -> dict[str, Any]:
    user = actor(request)
    h = access.get_scoped_or_404(_honors(user), user, pk=honor_id)
    awards.honor_evidence_attach(actor=user, honor=h, evidence=evidence)
    return _honor_out(_honors(user).get(pk=honor_id))


@router.get(
    "/partylife/honors/{honor_id}/evidence",
    response={200: None, **NOT_FOUND},
    operation_id=_op("honor_evidence"),
    summary="Download the evidence file of an honor (scoped like the honor: 404 out of scope)",
)
def honor_evidence(request: HttpRequest, honor_id: int) -> HttpResponseBase:
    user = actor(request)
    h = access.get_scoped_or_404(_honors(user), user, pk=honor_id)
    return queries.evidence_response(h)


@router.post(
    "/partylife/honors/{honor_id}/decide",
    response={200: HonorOut, **WRITE_ERRORS},
    operation_id=_op("decide_honor"),
)
def decide_honor(request: HttpRequest, honor_id: int, payload: DecideIn) -> dict[str, Any]:
    """The next committee of the chain approves or rejects (with an opinion)."""
    user = actor(request)
    h = access.get_scoped_or_404(_honors(user), user, pk=honor_id)
    awards.honor_decide(actor=user, honor=h, approve=payload.approve, opinion=payload.opinion)
    return _honor_out(_honors(user).get(pk=honor_id))
