"""Care services: condolences and consolation payments (慰问金), approved by a second person."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from muster.audit.services import log_action
from muster.care import facts, policy
from muster.care.models import (
    CareSubject,
    Consolation,
    ConsolationKind,
)
from muster.care.services.common import MAX_AMOUNT, _choice, _moment, _name, clean_text, positive_decimal
from muster.orgs.access import NotAllowed, Perm

# ---------------------------------------------------------------- consolations


def consolation_record(
    *,
    actor: Any,
    subject: CareSubject,
    kind: str,
    at: datetime | None = None,
    note: str = "",
    to_family: bool = False,
    amount: Any = None,
    channel: str = "",
) -> Consolation:
    """A consolation call, visit or payment request (a payment waits for a second person's approval)."""
    policy.require_manage(actor, subject.unit)
    _choice(kind, ConsolationKind, "kind")
    when = _moment(at, "at")
    note = clean_text(note, field="note", max_length=500)
    channel = clean_text(channel, field="channel", max_length=12)
    value = None
    if kind == ConsolationKind.PAYMENT:
        value = positive_decimal(amount, field="amount", maximum=MAX_AMOUNT)
        if not channel:
            raise ValidationError(
                {"channel": _("Say how the payment is made (WeChat, bank transfer, cash).")}
            )
    with transaction.atomic():
        c = Consolation.objects.create(
            subject=subject,
            kind=kind,
            at=when,
            note=note,
            to_family=to_family,
            amount=value,
            channel=channel,
            requested_by=actor if getattr(actor, "pk", None) is not None else None,
            requested_by_name=_name(actor),
        )
        log_action(
            actor,
            action="care.consolation.recorded",
            target=subject,
            unit_path=subject.unit.path,
            changes={
                "kind": kind,
                "amount": str(value) if value is not None else None,
                "to_family": to_family,
            },
        )
    return c


def consolation_approve(*, actor: Any, consolation: Consolation, at: datetime | None = None) -> Consolation:
    """Approve a consolation payment: needs the care-data permission; not by the person who requested it."""
    subject = consolation.subject
    if consolation.kind != ConsolationKind.PAYMENT:
        raise ValidationError({"kind": _("Only a payment needs approval.")})
    if consolation.approved_at is not None:
        raise ValidationError({"consolation": _("This payment is approved already.")})
    same = (getattr(actor, "pk", None) is not None and consolation.requested_by_id == actor.pk) or (
        getattr(actor, "pk", None) is None
        and consolation.requested_by_id is None
        and consolation.requested_by_name == _name(actor)
    )
    if same:
        raise ValidationError({"approved_by": _("The person who requested a payment cannot approve it.")})
    if not (policy.has_care_data(actor, subject.unit) and policy.may_manage(actor, subject.unit)):
        raise NotAllowed(Perm.CHANGE)
    with transaction.atomic():
        consolation.approved_by = actor if getattr(actor, "pk", None) is not None else None
        consolation.approved_by_name = _name(actor)
        when = _moment(at, "at")
        if when < consolation.at:
            raise ValidationError({"at": _("A payment cannot be approved before it was requested.")})
        consolation.approved_at = when
        consolation.save(update_fields=["approved_by", "approved_by_name", "approved_at"])
        log_action(
            actor,
            action="care.consolation.approved",
            target=subject,
            unit_path=subject.unit.path,
            changes={"consolation": consolation.pk, "amount": str(consolation.amount)},
        )
        facts.refresh(payments=[consolation.pk])
    return consolation
