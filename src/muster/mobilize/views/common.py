"""Helpers shared by the mobilization views."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from muster.mobilize.models import Deployment
from muster.mobilize.services import ConflictWarning
from muster.orgs.access import Perm, can, scoped
from muster.orgs.models import Person, Unit


def dispatch_units(user: Any) -> QuerySet[Unit]:
    """Active units where ``user`` may dispatch (requests, batches, posts), in tree order."""
    return scoped(Unit.objects.all(), user, Perm.MOBILIZE_DISPATCH).filter(is_active=True).order_by("path")


def linked_person(user: Any) -> Person | None:
    """The person linked to the login (self-service), if any."""
    if getattr(user, "pk", None) is None:
        return None
    return Person.objects.select_related("unit", "party_unit").filter(user_id=user.pk).first()


def may_manage_deployment(user: Any, d: Deployment) -> bool:
    """Shifts, assignments and roll-call of a batch: dispatch rights on either side, or its leader."""
    if any(can(user, Perm.MOBILIZE_DISPATCH, u) for u in (d.unit, d.supported_unit) if u is not None):
        return True
    return d.leader is not None and d.leader.user_id is not None and d.leader.user_id == user.pk


def report_warnings(request: HttpRequest, warnings: Iterable[ConflictWarning]) -> None:
    seen: set[str] = set()
    for w in warnings:
        if w.message not in seen:
            seen.add(w.message)
            messages.warning(request, w.message)


def report_errors(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)
