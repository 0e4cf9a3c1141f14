"""Reads of the notification app, each scoped through ``muster.orgs.access``.

The delivery log shows a user their own deliveries (e-mail to their person record) and those of the
people and teams they may change (``Perm.CHANGE`` on the person's unit or party unit, or on the team's
unit): the people who set channels up are the ones who fix them. Anything else is "not found".
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from muster.notify.models import Delivery, TeamBot
from muster.orgs import access
from muster.orgs.access import Perm


def deliveries(user: Any) -> QuerySet[Delivery]:
    in_scope = access.scoped(Delivery.objects.all(), user, Perm.CHANGE).values("pk")
    q = Q(pk__in=in_scope)
    if getattr(user, "pk", None) is not None:
        q |= Q(person__user_id=user.pk)
    return (
        Delivery.objects.filter(q)
        .select_related("person", "team", "bot", "notification")
        .order_by("-created_at", "-id")
    )


def _id(pk: Any) -> int:
    """A primary key from a URL, or 404 (also for numbers no database column holds)."""
    try:
        value = int(pk)
    except (ValueError, TypeError) as exc:
        raise Http404 from exc
    if not 0 < value < 2**63:
        raise Http404
    return value


def delivery_or_404(user: Any, pk: Any) -> Delivery:
    try:
        return deliveries(user).get(pk=_id(pk))
    except Delivery.DoesNotExist as exc:
        raise Http404 from exc


def bots(user: Any) -> QuerySet[TeamBot]:
    """The bots of the teams ``user`` may see (their addresses shown masked)."""
    return access.scoped(TeamBot.objects.select_related("team", "team__unit"), user, Perm.VIEW)


def bot_or_404(user: Any, pk: Any) -> TeamBot:
    try:
        return bots(user).get(pk=_id(pk))
    except TeamBot.DoesNotExist as exc:
        raise Http404 from exc
