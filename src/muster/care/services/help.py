"""Care services: help requests (求助) and their append-only steps."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from muster.audit.services import log_action
from muster.care import facts, policy
from muster.care.models import (
    CareSubject,
    HelpCategory,
    HelpRequest,
    HelpSource,
    HelpStatus,
    HelpStep,
    Urgency,
)
from muster.care.services.common import HELP_DUE_HOURS, _choice, _moment, _name, clean_text
from muster.care.signals import help_request_changed
from muster.orgs.access import NotAllowed, Perm
from muster.orgs.models import Person, Unit

# ---------------------------------------------------------------- help requests


_NEXT = {
    HelpStatus.NEW: {HelpStatus.ASSIGNED, HelpStatus.IN_PROGRESS, HelpStatus.RESOLVED, HelpStatus.CANCELLED},
    HelpStatus.ASSIGNED: {
        HelpStatus.ASSIGNED,
        HelpStatus.IN_PROGRESS,
        HelpStatus.RESOLVED,
        HelpStatus.CANCELLED,
    },
    HelpStatus.IN_PROGRESS: {HelpStatus.ASSIGNED, HelpStatus.RESOLVED, HelpStatus.CANCELLED},
    HelpStatus.RESOLVED: set(),
    HelpStatus.CANCELLED: set(),
}


def help_request_raise(
    *,
    actor: Any,
    unit: Unit,
    source: str,
    category: str,
    urgency: str,
    description: str,
    subject: CareSubject | None = None,
    requester_name: str = "",
    at: datetime | None = None,
) -> HelpRequest:
    """Raise a help request (from a contact, a duty post, the hotline, a QR form or the subject)."""
    if subject is not None:
        if not (policy.may_record(actor, subject) or policy.may_manage(actor, subject.unit)):
            raise NotAllowed(Perm.CHANGE)
        unit = subject.unit
        requester_name = requester_name or subject.name
    else:
        policy.require_manage(actor, unit)
    _choice(source, HelpSource, "source")
    _choice(category, HelpCategory, "category")
    _choice(urgency, Urgency, "urgency")
    description = clean_text(description, field="description", max_length=1000, required=True)
    requester_name = clean_text(requester_name, field="requester_name", max_length=60, required=True)
    when = _moment(at, "at")
    with transaction.atomic():
        r = HelpRequest.objects.create(
            unit=unit,
            subject=subject,
            requester_name=requester_name,
            raised_by=actor if getattr(actor, "pk", None) is not None else None,
            source=source,
            category=category,
            urgency=urgency,
            description=description,
            raised_at=when,
            due_at=when + timedelta(hours=HELP_DUE_HOURS[Urgency(urgency)]),
        )
        HelpStep.objects.create(request=r, status=HelpStatus.NEW, at=when, by_name=_name(actor), note="")
        log_action(
            actor,
            action="care.help.raised",
            target=r,
            unit_path=unit.path,
            changes={"category": category, "urgency": urgency, "source": source},
        )
        facts.refresh(helps=[r.pk])
        help_request_changed.send(sender=HelpRequest, request=r, status=r.status)
    return r


def help_request_step(
    *,
    actor: Any,
    request: HelpRequest,
    status: str,
    note: str = "",
    assignee: Person | None = None,
    at: datetime | None = None,
) -> HelpStep:
    """Move a help request along (assigned → in progress → resolved / cancelled). A resolved or cancelled
    request takes no more steps; on resolution the person who raised it is told."""
    policy.require_manage(actor, request.unit)
    return _help_step(actor=actor, request=request, status=status, note=note, assignee=assignee, at=at)


def _help_step(
    *,
    actor: Any,
    request: HelpRequest,
    status: str,
    note: str = "",
    assignee: Person | None = None,
    at: datetime | None = None,
) -> HelpStep:
    _choice(status, HelpStatus, "status")
    note = clean_text(note, field="note", max_length=500)
    when = _moment(at, "at")
    with transaction.atomic():
        request = HelpRequest.objects.select_for_update().get(pk=request.pk)
        if request.status in (HelpStatus.RESOLVED, HelpStatus.CANCELLED):
            raise ValidationError(
                {
                    "status": _("This help request is %(status)s already; it takes no more steps.")
                    % {"status": request.get_status_display()}
                }
            )
        if status not in _NEXT[HelpStatus(request.status)]:
            raise ValidationError(
                {
                    "status": _("A help request cannot go from %(a)s to %(b)s.")
                    % {"a": request.status, "b": status}
                }
            )
        if status == HelpStatus.ASSIGNED:
            if assignee is None:
                raise ValidationError({"assignee": _("Name the person it is assigned to.")})
            request.assignee = assignee
        request.status = status
        if status == HelpStatus.RESOLVED:
            request.resolved_at = when
        request.save()
        step = HelpStep.objects.create(
            request=request, status=status, at=when, by_name=_name(actor), note=note
        )
        log_action(
            actor,
            action=f"care.help.{status}",
            target=request,
            unit_path=request.unit.path,
            changes={"status": status, "note": note, "assignee": assignee.code if assignee else None},
        )
        facts.refresh(helps=[request.pk])
        help_request_changed.send(sender=HelpRequest, request=request, status=status)
        if status == HelpStatus.RESOLVED and request.raised_by_id is not None:
            _tell_raiser(request)
    return step


def _tell_raiser(request: HelpRequest) -> None:
    # Notices are a shared mechanism (DESIGN.md: notifications) — care emits, notify stores and delivers.
    from muster.notify.services import notify

    user = request.raised_by
    person = getattr(user, "person", None) if user is not None else None
    notify(
        [(user, person)],
        verb="care.help.resolved",
        title=_("Help request #%(id)s is resolved") % {"id": request.pk},
        body=request.description[:200],
        link=f"/care/help/{request.pk}/",
    )
