"""Care services: delivery runs (配送 / 代配药) and their lines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from muster.audit.services import log_action
from muster.care import facts, policy
from muster.care.models import (
    CareSubject,
    DeliveryKind,
    DeliveryLine,
    DeliveryRun,
    HelpRequest,
    HelpStatus,
    LineStatus,
    SubjectStatus,
)
from muster.care.services.common import MAX_QUANTITY, _choice, _moment, _name, clean_text, positive_decimal
from muster.care.services.help import _help_step
from muster.orgs.access import NotAllowed, Perm
from muster.orgs.models import Unit

# ---------------------------------------------------------------- deliveries


@dataclass
class LineIn:
    subject: CareSubject
    item: str
    quantity: Any
    note: str = ""
    help_request: HelpRequest | None = None


def delivery_run_create(
    *,
    actor: Any,
    unit: Unit,
    name: str,
    kind: str,
    lines: Sequence[LineIn],
    at: datetime | None = None,
    delivered_at: datetime | None = None,
) -> DeliveryRun:
    """A delivery run (配送 / 代配药) to many subjects; every line is checked before anything is written.
    A manager of ``unit`` records any run; a liaison (or a care-data holder) a run to their own subjects."""
    if not policy.may_manage(actor, unit) and not (
        lines and all(policy.may_record(actor, line.subject) for line in lines)
    ):
        raise NotAllowed(Perm.CHANGE)
    name = clean_text(name, field="name", max_length=120, required=True)
    _choice(kind, DeliveryKind, "kind")
    when = _moment(at, "at", not_future=False)
    if not lines:
        raise ValidationError({"lines": _("A delivery run has at least one line.")})
    checked = []
    for i, line in enumerate(lines, start=1):
        field = f"lines.{i}"
        if not line.subject.unit.path.startswith(unit.path):
            raise ValidationError({field: _("%(name)s is not in this unit.") % {"name": line.subject.name}})
        if line.subject.status == SubjectStatus.DECEASED:
            raise ValidationError(
                {field: _("%(name)s is deceased; no delivery can be made.") % {"name": line.subject.name}}
            )
        item = clean_text(line.item, field=f"{field}.item", max_length=80, required=True)
        qty = positive_decimal(line.quantity, field=f"{field}.quantity", maximum=MAX_QUANTITY)
        note = clean_text(line.note, field=f"{field}.note", max_length=300)
        if line.help_request is not None and line.help_request.status in (
            HelpStatus.RESOLVED,
            HelpStatus.CANCELLED,
        ):
            raise ValidationError(
                {field: _("Help request #%(id)s is closed.") % {"id": line.help_request.pk}}
            )
        if line.help_request is not None and (
            not line.help_request.unit.path.startswith(unit.path)
            or line.help_request.subject_id not in (None, line.subject.pk)
        ):
            raise ValidationError(
                {
                    field: _("Help request #%(id)s is not for %(name)s.")
                    % {"id": line.help_request.pk, "name": line.subject.name}
                }
            )
        checked.append(
            DeliveryLine(
                subject=line.subject, item=item, quantity=qty, note=note, help_request=line.help_request
            )
        )
    with transaction.atomic():
        run = DeliveryRun.objects.create(
            unit=unit, name=name, kind=kind, run_at=when, created_by_name=_name(actor)
        )
        for line_obj in checked:
            line_obj.run = run
        if delivered_at is not None:  # a run recorded after the fact: every line delivered then
            done = _moment(delivered_at, "delivered_at")
            for line_obj in checked:
                line_obj.status, line_obj.done_at = LineStatus.DELIVERED, done
        DeliveryLine.objects.bulk_create(checked)
        if delivered_at is not None:
            facts.refresh(lines=[line_obj.pk for line_obj in checked])
        log_action(
            actor,
            action="care.delivery.created",
            target=run,
            unit_path=unit.path,
            changes={"kind": kind, "lines": len(checked)},
        )
    return run


def delivery_line_mark(
    *, actor: Any, line: DeliveryLine, status: str, reason: str = "", at: datetime | None = None
) -> DeliveryLine:
    """Mark a line delivered, confirmed by the recipient, or failed (with a reason). A delivered line that
    fulfils a help request resolves it."""
    run = line.run
    if not (policy.may_manage(actor, run.unit) or policy.may_record(actor, line.subject)):
        raise NotAllowed(Perm.CHANGE)
    _choice(status, LineStatus, "status")
    reason = clean_text(reason, field="reason", max_length=300, required=status == LineStatus.FAILED)
    when = _moment(at, "at")
    if line.status in (LineStatus.CONFIRMED, LineStatus.FAILED):
        raise ValidationError(
            {"status": _("This line is closed (%(status)s).") % {"status": line.get_status_display()}}
        )
    with transaction.atomic():
        line.status = status
        line.reason = reason
        line.done_at = when
        line.save(update_fields=["status", "reason", "done_at"])
        log_action(
            actor,
            action="care.delivery.line",
            target=run,
            unit_path=run.unit.path,
            changes={"line": line.pk, "status": status, "reason": reason},
        )
        facts.refresh(lines=[line.pk])
        hr = line.help_request
        if (
            hr is not None
            and status in (LineStatus.DELIVERED, LineStatus.CONFIRMED)
            and hr.status not in (HelpStatus.RESOLVED, HelpStatus.CANCELLED)
        ):
            _help_step(  # the delivery's permission covers closing the request it fulfils
                actor=actor,
                request=hr,
                status=HelpStatus.RESOLVED,
                at=when,
                note=_("Delivered: %(item)s") % {"item": line.item},
            )
    return line
