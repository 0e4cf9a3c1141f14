from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from muster import clock
from muster.mobilize import queries as mobilize_queries
from muster.mobilize.models import Deployment, DeploymentMember, DeploymentStatus, Shift
from muster.notify.models import Notification
from muster.orgs.access import Perm, can_anywhere, visible_roots
from muster.orgs.models import PARTY_KINDS, Person, RoleGrant
from muster.orgs.queries import unit_counts
from muster.reports.views import home_party, home_report

UPCOMING = 5  # shifts on the home page; "my service" lists them all
NOTICES = 5
BATCHES = 5


@dataclass
class MyService:
    """A volunteer's own corner of the home page: what is next, what they have done, what is new."""

    person: Person
    upcoming: list[Any]
    hours_month: Decimal
    hours_year: Decimal
    hours_total: Decimal
    notices: list[Notification]
    unread: int
    batches: list[Deployment]


def _month_start(now: datetime) -> datetime:
    local = timezone.localtime(now)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _year_start(now: datetime) -> datetime:
    return _month_start(now).replace(month=1)


def my_service(user: Any, person: Person) -> MyService:
    now = timezone.now()
    total = mobilize_queries.balance(person, as_of=now)
    before_month = mobilize_queries.balance(person, as_of=_month_start(now))
    before_year = mobilize_queries.balance(person, as_of=_year_start(now))
    unread: QuerySet[Notification] = Notification.objects.filter(recipient=user, read_at__isnull=True)
    batches = (
        Deployment.objects.filter(
            Q(pk__in=DeploymentMember.objects.filter(person=person).values("deployment_id"))
            | Q(pk__in=Shift.objects.filter(assignments__person=person).values("deployment_id"))
        )
        .exclude(status=DeploymentStatus.CANCELLED)
        .select_related("unit")
        .order_by("-start", "-pk")
    )
    return MyService(
        person=person,
        upcoming=list(mobilize_queries.person_upcoming_shifts(person, now=now)[:UPCOMING]),
        hours_month=clock.minutes_to_hours(total - before_month),
        hours_year=clock.minutes_to_hours(total - before_year),
        hours_total=clock.minutes_to_hours(total),
        notices=list(unread.order_by("-created_at", "-pk")[:NOTICES]),
        unread=unread.count(),
        batches=list(batches[:BATCHES]),
    )


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    grants = RoleGrant.objects.filter(user=user).select_related("unit").order_by("unit__path", "role")
    roots = [(unit, unit_counts(unit)) for unit in visible_roots(user)]
    person = Person.objects.select_related("unit", "party_unit").filter(user_id=user.pk).first()
    return render(
        request,
        "web/home.html",
        {
            "grants": grants,
            "roots": roots,
            "mine": my_service(user, person) if person is not None else None,
            "can_import": can_anywhere(user, Perm.IMPORT),
            "can_audit": can_anywhere(user, Perm.AUDIT),
            # the figures of an administrative unit; a party organization's own card is the party card
            "report_card": home_report(user) if any(u.kind not in PARTY_KINDS for u, _ in roots) else None,
            "party_card": home_party(user) if roots else None,
        },
    )
