"""The audit log of the units a user may audit."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from muster.audit.models import AuditEvent
from muster.orgs.access import NotAllowed, Perm, can_anywhere, scoped
from muster.web.forms import AuditFilterForm
from muster.web.views.common import HtmxHttpRequest, paginate, query_without_page


def _start_of(day: object) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))  # type: ignore[arg-type]


@login_required
def audit_log(request: HtmxHttpRequest) -> HttpResponse:
    user = request.user
    if not can_anywhere(user, Perm.AUDIT):
        raise NotAllowed(Perm.AUDIT)
    events = scoped(AuditEvent.objects.all(), user, Perm.AUDIT)
    form = AuditFilterForm(request.GET or None)
    if form.is_valid():
        data = form.cleaned_data
        if data.get("action"):
            events = events.filter(action=data["action"])
        if data.get("actor"):
            events = events.filter(actor_name__icontains=data["actor"].strip())
        if data.get("target"):
            events = events.filter(target_repr__icontains=data["target"].strip())
        if data.get("date_from"):
            events = events.filter(at__gte=_start_of(data["date_from"]))
        if data.get("date_to"):
            events = events.filter(at__lt=_start_of(data["date_to"] + timedelta(days=1)))
    context = {
        "form": form,
        "page": paginate(request, events.order_by("-at", "-id")),
        "query": query_without_page(request),
    }
    if request.htmx and request.htmx.target == "audit-results":
        return render(request, "web/audit/_results.html", context)
    return render(request, "web/audit/list.html", context)
