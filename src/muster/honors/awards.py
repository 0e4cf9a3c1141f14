"""Awards and commendations (表彰): proposals with evidence, and the decision of each committee up the chain.

Moved here from party life (issue 23, item 4); the service names (``honor_*``) and the audit action codes
(``partylife.honor.*``, so the log reads the same before and after the move) are unchanged. An approved
honor is announced with ``muster.honors.signals.honor_approved`` inside the transaction; points listen.
The chain of committees and what a party organization is come from ``muster.partylife.membership``.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from muster.audit.services import log_action
from muster.clock import today
from muster.files import image_extension
from muster.honors import signals
from muster.honors.models import Honor, HonorApproval, HonorKind, HonorLevel, HonorStatus
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Person, Unit
from muster.partylife.membership import committee_chain, is_party_org


def _who(actor: Any) -> dict[str, Any]:
    if getattr(actor, "pk", None) is None:
        return {"actor": None, "actor_name": getattr(actor, "display_name", "") or "system"}
    return {"actor": actor, "actor_name": actor.get_username()}


def _user_or_none(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) is not None else None


def _see(actor: Any, unit: Unit) -> None:
    """404 unless the actor may see ``unit``."""
    if not access.can(actor, Perm.VIEW, unit):
        raise Http404


def _see_person(actor: Any, person: Person) -> None:
    if not access.scoped(Person.objects.filter(pk=person.pk), actor, Perm.VIEW).exists():
        raise Http404


def _text(value: str | None) -> str:
    return (value or "").strip()


# How far up the chain of party committees an honor of each level is approved (nearest first).
APPROVAL_STEPS = {
    HonorLevel.UNIT: 1,
    HonorLevel.DISTRICT: 1,
    HonorLevel.CITY: 2,
    HonorLevel.PROVINCIAL: 3,
    HonorLevel.NATIONAL: 3,
}


def honor_chain(honor: Honor) -> list[Unit]:
    """The committees that approve ``honor``, in order: the nearest committees above the proposing
    organization, as many as ``APPROVAL_STEPS`` says for its level (at least the nearest one)."""
    chain = [u for u in committee_chain(honor.branch) if u.pk != honor.branch_id]
    steps = APPROVAL_STEPS[HonorLevel(honor.level)]
    return chain[:steps] or [honor.branch]


EVIDENCE_TYPES = ".pdf, .jpg, .png, .webp, .heic"


def evidence_max_bytes() -> int:
    """The largest evidence file accepted (``MUSTER_EVIDENCE_MAX_BYTES``, default 5 MB)."""
    return int(getattr(settings, "MUSTER_EVIDENCE_MAX_BYTES", 5 * 1024 * 1024))


def evidence_extension(head: bytes) -> str | None:
    """The extension of an accepted evidence format (a PDF scan or a photo), judged by content."""
    if head.startswith(b"%PDF-"):
        return ".pdf"
    return image_extension(head)


def evidence_check(file: File[Any]) -> File[Any]:
    """Refuse evidence that is too large or not a PDF or photo (by content, not by name); the stored
    name is a random one with the right extension (the uploader's name is not trusted)."""
    limit = evidence_max_bytes()
    size = file.size or 0
    if size > limit:
        raise ValidationError(
            {
                "evidence": _("The file is too large (%(size)s MB; at most %(max)s MB).")
                % {"size": round(size / 1048576, 1), "max": round(limit / 1048576, 1)}
            }
        )
    if not size:
        raise ValidationError({"evidence": _("The file is empty.")})
    file.seek(0)
    head = file.read(16)
    file.seek(0)
    ext = evidence_extension(head)
    if ext is None:
        raise ValidationError(
            {"evidence": _("The evidence must be a PDF or a photo (%(types)s).") % {"types": EVIDENCE_TYPES}}
        )
    file.name = f"{uuid.uuid4().hex}{ext}"
    return file


@transaction.atomic
def honor_propose(
    *,
    actor: Any,
    kind: str,
    name: str,
    level: str,
    awarded_on: date,
    branch: Unit,
    person: Person | None = None,
    unit: Unit | None = None,
    issuer: str = "",
    evidence: File[Any] | None = None,
    evidence_note: str = "",
) -> Honor:
    """Propose a commendation or award to a person or unit, with evidence; it enters its approval chain."""
    access.require(actor, Perm.PARTY_RECORD, branch)
    errors: dict[str, str] = {}
    if kind not in HonorKind.values:
        errors["kind"] = _("Unknown type %(kind)s.") % {"kind": kind}
    if level not in HonorLevel.values:
        errors["level"] = _("Unknown level %(level)s.") % {"level": level}
    if not _text(name):
        errors["name"] = _("A name is required.")
    if (person is None) == (unit is None):
        errors["person"] = _("An honor goes to one person or one unit.")
    if evidence is None and not _text(evidence_note):
        errors["evidence"] = _("Attach the evidence or describe where it is.")
    elif evidence is not None:
        try:
            evidence_check(evidence)
        except ValidationError as exc:
            errors["evidence"] = exc.message_dict["evidence"][0]
    if awarded_on > today():
        errors["awarded_on"] = _("The date cannot be in the future.")
    if not is_party_org(branch):
        errors["branch"] = _("An honor is proposed by a party organization.")
    if errors:
        raise ValidationError(errors)
    if person is not None:
        _see_person(actor, person)
    if unit is not None:
        _see(actor, unit)
    honor = Honor.objects.create(
        kind=kind,
        name=_text(name)[:200],
        level=level,
        awarded_on=awarded_on,
        issuer=_text(issuer)[:200],
        person=person,
        unit=unit,
        branch=branch,
        evidence_note=_text(evidence_note)[:300],
        status=HonorStatus.IN_APPROVAL,
        created_by=_user_or_none(actor),
    )
    if evidence is not None:
        honor.evidence = evidence
        honor.save(update_fields=["evidence"])
    log_action(
        actor,
        action="partylife.honor.proposed",
        target=honor,
        unit_path=branch.path,
        changes={
            "kind": kind,
            "level": level,
            "name": honor.name,
            "to": person.code if person else unit.code if unit else None,
        },
    )
    return honor


@transaction.atomic
def honor_evidence_attach(*, actor: Any, honor: Honor, evidence: File[Any]) -> Honor:
    """Attach (or replace) the evidence file of an honor still in approval with no decision yet."""
    honor = Honor.objects.select_for_update().select_related("branch").get(pk=honor.pk)
    if not access.scoped(Honor.objects.filter(pk=honor.pk), actor, Perm.VIEW).exists():
        raise Http404
    access.require(actor, Perm.PARTY_RECORD, honor.branch)
    if honor.status not in (HonorStatus.DRAFT, HonorStatus.IN_APPROVAL) or honor.approvals.exists():
        raise ValidationError(
            {"evidence": _("The evidence can only be changed before the first decision on the honor.")}
        )
    evidence_check(evidence)
    previous = honor.evidence.name if honor.evidence else ""
    honor.evidence = evidence
    honor.save(update_fields=["evidence"])
    log_action(
        actor,
        action="partylife.honor.evidence_attached",
        target=honor,
        unit_path=honor.branch.path,
        changes={"file": honor.evidence.name, "previous": previous, "size": evidence.size},
    )
    return honor


@transaction.atomic
def honor_decide(*, actor: Any, honor: Honor, approve: bool, opinion: str = "") -> Honor:
    """The next committee of the chain approves (or rejects, with an opinion) the honor."""
    _see(actor, honor.branch)
    honor = Honor.objects.select_for_update(of=("self",)).select_related("branch", "person").get(pk=honor.pk)
    if honor.status != HonorStatus.IN_APPROVAL:
        raise ValidationError({"honor": _("This honor is not waiting for approval.")})
    chain = honor_chain(honor)
    step = honor.approvals.count()
    unit = chain[step]
    access.require(actor, Perm.PARTY_APPROVE, unit)
    if not approve and not _text(opinion):
        raise ValidationError({"opinion": _("Say why the honor is rejected.")})
    HonorApproval.objects.create(
        honor=honor, step=step, unit=unit, approved=approve, opinion=_text(opinion)[:300], **_who(actor)
    )
    if not approve:
        honor.status = HonorStatus.REJECTED
    elif step + 1 == len(chain):
        honor.status = HonorStatus.APPROVED
    honor.save(update_fields=["status"])
    if honor.status == HonorStatus.APPROVED:
        signals.honor_approved.send(sender=Honor, actor=actor, honor=honor)
    log_action(
        actor,
        action="partylife.honor.decided",
        target=honor,
        unit_path=honor.branch.path,
        changes={
            "step": step,
            "by": unit.code,
            "approved": approve,
            "opinion": _text(opinion),
            "status": honor.status,
        },
    )
    return honor
