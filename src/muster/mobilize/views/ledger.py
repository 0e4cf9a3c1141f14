"""Approvals, my service (我的服务), corrections, community-service self-reports and the iCalendar feed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from muster import clock
from muster.mobilize import ical, queries, services
from muster.mobilize.entry_flags import Flag, Hit
from muster.mobilize.forms import CorrectionForm, DecisionForm, SelfReportForm
from muster.mobilize.models import EntryKind, EntryOp, ServiceEntry
from muster.mobilize.views.checkin import PREFETCH_HEADER, keep_offline
from muster.mobilize.views.common import linked_person
from muster.orgs.access import Perm, scoped
from muster.orgs.models import Unit
from muster.web.listing import Column, CustomFilter, Listing, PeriodFilter, Sort, TextFilter, UnitFilter
from muster.web.views.common import apply_service_errors

SESSION_FEED_TOKEN = "mobilize_feed_token"  # noqa: S105 - a session key: the new feed address, shown once


# ------------------------------------------------------------------ approvals


FLAG_LABELS = {
    Flag.OUTSIDE_SHIFT: gettext_lazy("Outside its shift"),
    Flag.OUTSIDE_BATCH: gettext_lazy("Outside its batch"),
    Flag.OVERLAP: gettext_lazy("Overlapping"),
    Flag.SHORT: gettext_lazy("Very short"),
    Flag.LONG: gettext_lazy("Very long"),
}
FLAG_CHOICES = [
    ("none", gettext_lazy("No flag")),
    ("any", gettext_lazy("Any flag")),
    *[(f.value, label) for f, label in FLAG_LABELS.items()],
]
BULK_MAX = 2000  # entries one "approve all unflagged" may name


def _t(dt: datetime) -> str:
    return f"{timezone.localtime(dt):%m-%d %H:%M}"


@dataclass
class ApprovalItem:
    """A pending entry on the approvals page, with its flags and their reasons in words."""

    row: ServiceEntry
    old: Any
    hours: Decimal
    hits: list[Hit] = field(default_factory=list)
    reasons: list[tuple[str, str]] = field(default_factory=list)  # (flag, why)

    @property
    def flags(self) -> set[str]:
        return {h.flag.value for h in self.hits}

    @property
    def flagged(self) -> bool:
        return bool(self.hits)

    @property
    def flag_text(self) -> str:
        return "; ".join(why for _flag, why in self.reasons)


def _reason(hit: Hit, others: dict[Hashable, services.approvals.OtherEntry]) -> str:
    if hit.flag in (Flag.OUTSIDE_SHIFT, Flag.OUTSIDE_BATCH) and hit.window is not None:
        what = _("its shift") if hit.flag == Flag.OUTSIDE_SHIFT else _("its batch")
        return _("Outside %(what)s: times from %(opens)s to %(closes)s are accepted.") % {
            "what": what,
            "opens": _t(hit.window.opens),
            "closes": _t(hit.window.closes),
        }
    if hit.flag == Flag.OVERLAP:
        other = others.get(hit.other) if hit.other is not None else None
        if other is None:
            return _("Overlaps another entry of the same person.")
        return _("Overlaps another entry of the same person: %(start)s–%(end)s%(code)s.") % {
            "start": _t(other.start),
            "end": f"{timezone.localtime(other.end):%H:%M}",
            "code": f" ({other.code})" if other.code else "",
        }
    if hit.flag == Flag.SHORT:
        return ngettext(
            "Only %(minutes)s minute (less than %(limit)s).",
            "Only %(minutes)s minutes (less than %(limit)s).",
            hit.minutes,
        ) % {"minutes": hit.minutes, "limit": hit.limit}
    return _("%(hours)s hours: longer than %(limit)s hours.") % {
        "hours": clock.minutes_to_hours(hit.minutes),
        "limit": clock.minutes_to_hours(hit.limit),
    }


def _approval_items(user: Any) -> list[ApprovalItem]:
    rows = queries.pending_for_approver(user)
    pf = services.pending_flags(rows)
    corrections = {r.chain for r in rows if r.op == EntryOp.CORRECT_REQUEST}
    # One query for the current versions of the corrections asked for, not one per row.
    chains = ServiceEntry.objects.filter(chain__in=corrections).select_related("person")
    states = {st.chain: st for st in queries.chain_states(chains)}
    items = []
    for row in rows:
        old = states[row.chain].current if row.chain in states else None
        hits = pf.flags.of(row.chain)
        items.append(
            ApprovalItem(
                row=row,
                old=old,
                hours=clock.minutes_to_hours(row.minutes),
                hits=hits,
                reasons=[(h.flag.value, _reason(h, pf.others)) for h in hits],
            )
        )
    return items


def _narrow_flag(rows: Any, value: str) -> list[ApprovalItem]:
    if value == "none":
        return [r for r in rows if not r.flagged]
    if value == "any":
        return [r for r in rows if r.flagged]
    return [r for r in rows if value in r.flags]


APPROVALS = Listing(
    name="approvals",
    title=gettext_lazy("Approvals"),
    columns=[
        Column(gettext_lazy("Person"), "row__person__name", sort="person"),
        Column(gettext_lazy("Staff number"), "row__person__code"),
        Column(gettext_lazy("Unit"), "row__person__unit__name"),
        Column(gettext_lazy("Service"), lambda i: i.row.get_kind_display()),
        Column(gettext_lazy("Batch"), "row__deployment__code"),
        Column(gettext_lazy("Start"), "row__start", sort="start"),
        Column(gettext_lazy("End"), "row__end"),
        Column(gettext_lazy("Hours"), "hours", sort="hours"),
        Column(gettext_lazy("Flags"), "flag_text"),
    ],
    sorts={
        "start": Sort(gettext_lazy("Start"), ("row__start", "row__pk")),
        "person": Sort(gettext_lazy("Person"), ("row__person__code", "row__start", "row__pk")),
        "hours": Sort(gettext_lazy("Hours"), ("row__minutes", "row__pk")),
    },
    default_sort="start",
    filters=[
        UnitFilter("unit", gettext_lazy("Unit"), "row__person__unit__path"),
        CustomFilter(
            "flag",
            lambda options: forms.ChoiceField(
                label=_("Flag"), choices=[("", _("All")), *FLAG_CHOICES], required=False
            ),
            _narrow_flag,
        ),
        PeriodFilter("period", gettext_lazy("Date"), "row__start", is_datetime=True),
        TextFilter("q", gettext_lazy("Search"), ["row__person__name", "row__person__code"]),
    ],
)


def _approver_units(user: Any) -> Any:
    return scoped(Unit.objects.all(), user, Perm.MOBILIZE_APPROVE).filter(is_active=True).order_by("path")


@login_required
def approvals(request: HttpRequest) -> HttpResponse:
    """Pending entries and correction requests the user may decide on, flagged where they are outside
    their shift or batch, overlap, or have an unusual length; "approve all unflagged" for the rest."""
    user = request.user
    items = _approval_items(user)
    lst = APPROVALS.apply(request, items, options={"unit": _approver_units(user)})
    if lst.export_response is not None:
        return lst.export_response
    counts = Counter(f for item in items for f in item.flags)
    selected = APPROVALS.filter(items, lst.data) if lst.status == 200 else []
    unflagged = [i.row.pk for i in selected if not i.flagged][:BULK_MAX]
    return render(
        request,
        "mobilize/approvals.html",
        {
            "lst": lst,
            "items": lst.rows,
            "total": len(items),
            "flag_counts": [(f.value, FLAG_LABELS[f], counts.get(f.value, 0)) for f in FLAG_LABELS],
            "flagged_total": sum(1 for i in items if i.flagged),
            "unflagged_total": sum(1 for i in items if not i.flagged),
            "unflagged_ids": ",".join(str(pk) for pk in unflagged),
            "unflagged_count": len(unflagged),
            "back_query": request.GET.urlencode(),
        },
        status=lst.status,
    )


def _ids(raw: str) -> list[int] | None:
    parts = [p for p in (raw or "").split(",") if p.strip()]
    if not parts or len(parts) > BULK_MAX:
        return None
    out = []
    for p in parts:
        p = p.strip()
        if not (p.isascii() and p.isdigit() and len(p) <= 18):
            return None
        out.append(int(p))
    return out


@login_required
@require_POST
def approve_unflagged(request: HttpRequest) -> HttpResponse:
    """Approve the unflagged entries the page listed (ids posted back), in one transaction; every entry
    skipped is reported with its reason, and the counts are shown."""
    user = request.user
    back = reverse("mobilize:approvals")
    query = request.POST.get("back_query", "")
    if query and len(query) < 2000 and "\n" not in query and "\r" not in query:
        back = f"{back}?{query}"
    ids = _ids(request.POST.get("ids", ""))
    if ids is None:
        messages.error(request, _("Nothing to approve: the list of entries is missing or too long."))
        return redirect(back)
    wanted = set(ids)
    rows = [r for r in queries.pending_for_approver(user) if r.pk in wanted]
    gone = len(wanted) - len(rows)
    result = services.entry_approve_unflagged(actor=user, entries=rows)
    messages.success(
        request,
        ngettext(
            "%(count)s unflagged entry was approved.",
            "%(count)s unflagged entries were approved.",
            len(result.approved),
        )
        % {"count": len(result.approved)},
    )
    if gone:
        messages.warning(
            request,
            ngettext(
                "%(count)s entry is no longer waiting for your approval (decided meanwhile or not yours).",
                "%(count)s entries are no longer waiting for your approval (decided meanwhile or not yours).",
                gone,
            )
            % {"count": gone},
        )
    for row, why in result.skipped:
        messages.warning(
            request,
            _("Not approved: %(person)s, %(start)s–%(end)s. %(why)s")
            % {
                "person": row.person,
                "start": _t(row.start),
                "end": f"{timezone.localtime(row.end):%H:%M}",
                "why": why,
            },
        )
    return redirect(back)


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
                "entries": [(e, clock.minutes_to_hours(e.minutes)) for e in queries.person_entries(person)],
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
                # the service worker's background copy must not take the address that is shown once
                "feed_url": None if request.headers.get(PREFETCH_HEADER) else _feed_url(request),
            }
        )
    response = render(request, "mobilize/me/service.html", context)
    if person is not None and not context.get("feed_url"):
        keep_offline(response)  # the upcoming shifts open without network (never a page with the secret)
    return response


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
