"""Approvals, my service (我的服务), corrections, community-service self-reports and the iCalendar feed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from muster import clock
from muster.mobilize import ical, queries, services
from muster.mobilize.forms import CorrectionForm, DecisionForm, SelfReportForm
from muster.mobilize.models import EntryKind, EntryOp
from muster.mobilize.views.common import linked_person
from muster.web.views.common import apply_service_errors

SESSION_FEED_TOKEN = "mobilize_feed_token"  # noqa: S105 - a session key: the new feed address, shown once


# ------------------------------------------------------------------ approvals


@login_required
def approvals(request: HttpRequest) -> HttpResponse:
    """Pending entries and correction requests the user may decide on."""
    rows = queries.pending_for_approver(request.user)
    items = []
    for row in rows:
        state = queries.chain_state(row.chain)
        old = state.current if row.op == EntryOp.CORRECT_REQUEST else None
        items.append({"row": row, "old": old, "hours": clock.minutes_to_hours(row.minutes)})
    return render(request, "mobilize/approvals.html", {"items": items})


@login_required
@require_POST
def entry_decide(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    user = request.user
    entry = queries.entry_get_or_404(user, pk)
    form = DecisionForm(request.POST)
    reason = form.cleaned_data.get("reason", "") if form.is_valid() else ""
    try:
        if decision == "approve":
            services.entry_approve(actor=user, entry=entry, reason=reason)
            messages.success(request, _("The entry of %(person)s was approved.") % {"person": entry.person})
        else:
            services.entry_reject(actor=user, entry=entry, reason=reason)
            messages.success(request, _("The entry of %(person)s was rejected.") % {"person": entry.person})
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return redirect(reverse("mobilize:approvals"))


@login_required
def entry_evidence(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The photo of a self-reported entry, for the person and those who may see the entry."""
    entry = queries.entry_get_or_404(request.user, pk)
    origin = queries.chain_state(entry.chain).origin
    if not origin.evidence:
        raise Http404
    response = FileResponse(origin.evidence.open("rb"))
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# ------------------------------------------------------------------ my service


def _require_person(request: HttpRequest) -> Any:
    person = linked_person(request.user)
    if person is None:
        raise Http404
    return person


@login_required
def my_service(request: HttpRequest) -> HttpResponse:
    person = linked_person(request.user)
    context: dict[str, Any] = {"person": person}
    if person is not None:
        now = timezone.now()
        total = queries.balance(person)
        pending = list(queries.person_pending(person).select_related("deployment"))
        context.update(
            {
                "upcoming": queries.person_upcoming_shifts(person, now=now)[:20],
                "entries": [
                    (e, clock.minutes_to_hours(e.minutes)) for e in queries.person_entries(person)
                ],
                "total_minutes": total,
                "total_hours": clock.minutes_to_hours(total),
                "by_kind": [
                    (EntryKind(k).label if k in EntryKind.values else k, clock.minutes_to_hours(m))
                    for k, m in queries.balance_by_kind(person).items()
                    if m
                ],
                "pending": pending,
                "pending_hours": clock.minutes_to_hours(sum(r.minutes for r in pending)),
                "report_form": SelfReportForm(),
                "has_feed": ical.has_feed(person),
                "feed_url": _feed_url(request),
            }
        )
    return render(request, "mobilize/me/service.html", context)


def _feed_url(request: HttpRequest) -> str | None:
    token = request.session.pop(SESSION_FEED_TOKEN, None)
    if not token:
        return None
    return request.build_absolute_uri(reverse("mobilize:ical_feed", args=[token]))


def _span(start: datetime, end: datetime) -> str:
    return f"{timezone.localtime(start):%Y-%m-%d %H:%M}–{timezone.localtime(end):%H:%M}"


@login_required
def correction_request(request: HttpRequest, pk: int) -> HttpResponse:
    """The person asks for a correction of one of their own entries."""
    person = _require_person(request)
    entry = queries.entry_get_or_404(request.user, pk)
    if entry.person_id != person.pk:
        raise Http404
    state = queries.chain_state(entry.chain)
    current = state.current
    form = CorrectionForm(request.POST or None, initial={"start": current.start, "end": current.end})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.entry_correct(
                actor=request.user,
                entry=state.head,
                start=data["start"],
                end=data["end"],
                reason=data["reason"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc, rename={"entry": "__all__"})
        else:
            messages.success(request, _("Your correction was sent for approval."))
            return redirect(reverse("mobilize:my_service"))
    return render(
        request,
        "mobilize/form.html",
        {
            "form": form,
            "title": _("Request a correction"),
            "subtitle": _span(current.start, current.end)
            + (f" · {current.deployment.code}" if current.deployment else ""),
            "back": reverse("mobilize:my_service"),
        },
    )


@login_required
def self_report(request: HttpRequest) -> HttpResponse:
    """居家观察: report community service done during home observation (note, optional photo)."""
    person = _require_person(request)
    form = SelfReportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.entry_record(
                actor=request.user,
                person=person,
                kind=EntryKind.COMMUNITY,
                start=data["start"],
                end=data["end"],
                note=data["note"],
                evidence=data.get("photo"),
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Your report was sent for approval."))
            return redirect(reverse("mobilize:my_service"))
    return render(
        request,
        "mobilize/form.html",
        {
            "form": form,
            "title": _("Report community service"),
            "back": reverse("mobilize:my_service"),
            "multipart": True,
        },
    )


@login_required
@require_POST
def feed_rotate(request: HttpRequest) -> HttpResponse:
    person = _require_person(request)
    if request.POST.get("action") == "revoke":
        if ical.feed_revoke(actor=request.user, person=person):
            messages.success(request, _("The calendar address was turned off."))
    else:
        request.session[SESSION_FEED_TOKEN] = ical.feed_rotate(actor=request.user, person=person)
        messages.success(request, _("A new calendar address was made; the old one no longer works."))
    return redirect(reverse("mobilize:my_service") + "#calendar")


def ical_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The iCalendar feed of a person's shifts (no session: the secret token is the key)."""
    person = ical.feed_person(token)
    if person is None:
        raise Http404
    since = timezone.now() - ical.FEED_HISTORY
    body = ical.build_calendar(person, queries.person_shifts(person, since=since))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="muster-shifts.ics"'
    response["Cache-Control"] = "private, max-age=900"
    return response
