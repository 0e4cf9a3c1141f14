"""Compliance: which organizations are behind as of a cutoff, frozen periods, the calendar of what is
due and the six-month-rule warnings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from muster.orgs.access import NotAllowed, Perm, can, get_scoped_or_404, is_all_powerful, scoped
from muster.orgs.models import Unit
from muster.partylife import compliance as engine
from muster.partylife import queries, services
from muster.partylife.forms import ComplianceForm, ExemptionForm, parse_date
from muster.partylife.membership import COMMITTEE_KINDS, MEETING_UNIT_KINDS
from muster.partylife.models import Exemption, MeetingKind, MeetingRequirement, Period
from muster.partylife.views.common import default_scope, end_of_day, party_units
from muster.web.views.common import apply_service_errors, form_status, param_date

# worst first: the status a cell shows when its windows differ
_ORDER = [engine.MISSED, engine.DUE, engine.UPCOMING, engine.MET, engine.EXEMPT]
CELL_CLASS = {
    engine.MISSED: "danger",
    engine.DUE: "warning",
    engine.UPCOMING: "secondary",
    engine.MET: "success",
    engine.EXEMPT: "info",
}
ROW_CLASS = {engine.BEHIND: "danger", engine.DUE: "warning", engine.OK: "success"}


@dataclass
class Cell:
    code: str
    required: int = 0
    held: int = 0
    gap: int = 0
    statuses: list[str] = field(default_factory=list)
    quorum_failures: int = 0

    @property
    def status(self) -> str:
        return min(self.statuses, key=_ORDER.index) if self.statuses else ""

    @property
    def css(self) -> str:
        return CELL_CLASS.get(self.status, "light")


@dataclass
class Selection:
    scope: Unit
    period: str
    year: int
    number: int
    start: date
    end: date
    as_of: datetime
    as_of_day: date

    def query(self, **extra: Any) -> str:
        params = {
            "scope": self.scope.pk,
            "period": self.period,
            "year": self.year,
            "number": self.number,
            "as_of": self.as_of_day.isoformat(),
            **extra,
        }
        return urlencode(params)


def period_bounds(period: str, year: int, number: int) -> tuple[date, date]:
    if period == Period.YEAR:
        return date(year, 1, 1), date(year + 1, 1, 1)
    if period == Period.MONTH:
        start = date(year, number, 1)
        return start, engine.add_months(start, 1)
    start = date(year, 3 * (number - 1) + 1, 1)
    return start, engine.add_months(start, 3)


def _select(request: HttpRequest, default_period: str = Period.QUARTER) -> tuple[ComplianceForm, Selection]:
    """The scope, period and cutoff asked for (404 for a scope out of sight)."""
    user = request.user
    units = party_units(user)
    raw_scope = request.GET.get("scope")
    if raw_scope and not (raw_scope.isdigit() and units.filter(pk=int(raw_scope)).exists()):
        raise Http404
    today = timezone.localdate()
    period = request.GET.get("period") or default_period
    if period not in Period.values:
        period = default_period
    default_number = today.month if period == Period.MONTH else (today.month - 1) // 3 + 1
    initial = {"period": period, "year": today.year, "number": default_number}
    data = request.GET.copy() if request.GET else None
    if data is not None:
        for k, v in initial.items():
            data.setdefault(k, str(v))
    form = ComplianceForm(data, units=units, initial=initial)
    scope = default_scope(user)
    year, number, as_of_day = today.year, default_number, today
    if form.is_valid():
        d = form.cleaned_data
        scope = d.get("scope") or scope
        year = d["year"]
        number = d.get("number") or default_number
        as_of_day = d.get("as_of") or today
    if period == Period.QUARTER:
        number = min(number, 4)
    if scope is None:
        raise Http404
    start, end = period_bounds(period, year, number)
    sel = Selection(scope, period, year, number, start, end, end_of_day(as_of_day), as_of_day)
    return form, sel


def _labels() -> dict[str, str]:
    return {k.value: str(k.label) for k in MeetingKind}


def requirement_columns(rows: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(code, kind label, period label) of every requirement that appears, in a stable order."""
    kinds = _labels()
    periods = {p.value: str(p.label) for p in Period}
    seen: dict[str, tuple[str, str, str]] = {}
    for r in rows:
        for ln in r["lines"]:
            if ln["code"] not in seen:
                label = kinds.get(ln["kind"], ln["kind"])
                if ln["code"] == "secretary_lesson":
                    label = _("%(kind)s by the secretary") % {"kind": label}
                seen[ln["code"]] = (ln["code"], label, periods.get(ln["period"], ln["period"]))
    order = list(MeetingKind.values)
    return sorted(seen.values(), key=lambda c: (order.index(c[0]) if c[0] in order else 99, c[0]))


def matrix(rows: list[dict[str, Any]], columns: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        cells = {code: Cell(code) for code, _label, _period in columns}
        for ln in r["lines"]:
            c = cells[ln["code"]]
            c.required += ln["required"]
            c.held += ln["held"]
            c.gap += ln["gap"]
            c.statuses.append(ln["status"])
            c.quorum_failures += len(ln["quorum_failures"])
        out.append(
            {
                "unit_id": r["unit_id"],
                "code": r["unit_code"],
                "name": r["unit_name"],
                "status": r["status"],
                "css": ROW_CLASS.get(r["status"], "secondary"),
                "cells": [cells[code] for code, _label, _period in columns],
                "quorum_failures": sorted({m for ln in r["lines"] for m in ln["quorum_failures"]}),
            }
        )
    return out


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    form, sel = _select(request)
    board = queries.compliance_dashboard(user, sel.scope, start=sel.start, end=sel.end, as_of=sel.as_of)
    columns = requirement_columns(board.rows)
    rows = matrix(board.rows, columns)
    exemptions = list(
        scoped(Exemption.objects.select_related("unit"), user, Perm.VIEW)
        .filter(unit__path__startswith=sel.scope.path, start__lt=sel.end, end__gt=sel.start)
        .order_by("unit__path", "start", "pk")
    )
    exemptable = set(exemptable_units(user).values_list("pk", flat=True))
    for x in exemptions:
        x.may_revoke = not x.revoked and x.unit_id in exemptable  # type: ignore[attr-defined]
    for r in rows:
        r["may_exempt"] = r["unit_id"] in exemptable
    return render(
        request,
        "partylife/compliance/dashboard.html",
        {
            "form": form,
            "sel": sel,
            "board": board,
            "columns": columns,
            "rows": rows,
            "behind": [r for r in rows if r["status"] == engine.BEHIND],
            "exemptions": exemptions,
            "may_exempt": bool(exemptable),
            "may_freeze": not board.frozen
            and sel.end <= timezone.localdate()
            and can(user, Perm.PARTY_APPROVE, sel.scope),
            "status_labels": {
                engine.BEHIND: _("Behind"),
                engine.DUE: _("Due"),
                engine.OK: _("On track"),
                engine.MISSED: _("Missed"),
                engine.MET: _("Met"),
                engine.EXEMPT: _("Exempt"),
                engine.UPCOMING: _("Upcoming"),
            },
        },
        status=form_status(form),
    )


@login_required
@require_POST
def freeze(request: HttpRequest) -> HttpResponse:
    user = request.user
    raw = request.POST.get("scope", "")
    scope = party_units(user).filter(pk=int(raw)).first() if raw.isdigit() else None
    start, end = param_date(request.POST, "start"), param_date(request.POST, "end")
    if scope is None or start is None or end is None:
        raise Http404
    try:
        services.compliance_freeze(actor=user, unit=scope, start=start, end=end)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The period was frozen; the dashboard now shows its snapshot."))
    back = request.POST.get("back") or ""
    return redirect(reverse("partylife:compliance") + (f"?{back}" if back else ""))


@login_required
def calendar(request: HttpRequest) -> HttpResponse:
    user = request.user
    form, sel = _select(request, default_period=Period.YEAR)
    dues = queries.compliance_calendar(user, sel.scope, start=sel.start, end=sel.end, as_of=sel.as_of)
    kinds = _labels()
    months: dict[str, list[Any]] = {}
    for d in dues:
        months.setdefault(d.due_on.strftime("%Y-%m"), []).append(
            {
                "due": d,
                "kind": kinds.get(d.line.kind, d.line.kind),
                "css": CELL_CLASS.get(d.line.status, "light"),
            }
        )
    return render(
        request,
        "partylife/compliance/calendar.html",
        {"form": form, "sel": sel, "months": sorted(months.items())},
        status=form_status(form),
    )


@login_required
def inactivity(request: HttpRequest) -> HttpResponse:
    user = request.user
    form, sel = _select(request)
    warnings = queries.inactivity_warnings(user, sel.scope, as_of=sel.as_of)
    return render(
        request,
        "partylife/compliance/inactivity.html",
        {"form": form, "sel": sel, "warnings": warnings},
        status=form_status(form),
    )


# ---------------------------------------------------------------- exemptions


def requirement_choices() -> list[tuple[str, str]]:
    """(code, label) of every requirement defined, in the dashboard's column order."""
    kinds = _labels()
    seen: dict[str, str] = {}
    for code, kind in MeetingRequirement.objects.order_by("code", "valid_from").values_list("code", "kind"):
        label = kinds.get(kind, kind)
        if code == "secretary_lesson":
            label = _("%(kind)s by the secretary") % {"kind": label}
        seen.setdefault(code, str(label))  # the label alone: a code is for the rules' editors
    order = list(MeetingKind.values)
    return sorted(seen.items(), key=lambda c: (order.index(c[0]) if c[0] in order else 99, c[0]))


def exemptable_units(user: Any) -> QuerySet[Unit]:
    """The organizations ``user`` may exempt: those whose reviewing committee they approve for (the
    rule of ``services.exemption_grant``), found with one query for the committees."""
    committees = [
        u.path for u in Unit.objects.filter(kind__in=COMMITTEE_KINDS) if can(user, Perm.PARTY_APPROVE, u)
    ]
    all_committees = list(Unit.objects.filter(kind__in=COMMITTEE_KINDS).values_list("path", flat=True))
    ok: list[int] = []
    for u in party_units(user).filter(kind__in=MEETING_UNIT_KINDS).only("pk", "path"):
        above = [p for p in all_committees if u.path.startswith(p) and p != u.path]
        if (above and max(above, key=len) in committees) or (not above and is_all_powerful(user)):
            ok.append(u.pk)
    return Unit.objects.filter(pk__in=ok).order_by("path")


@login_required
def exemption_create(request: HttpRequest) -> HttpResponse:
    """Grant an exemption (kind, period, reason); the acting user is the approver."""
    user = request.user
    units = exemptable_units(user)
    initial: dict[str, Any] = {}
    code = request.GET.get("unit")
    if code:
        unit = get_scoped_or_404(Unit.objects.all(), user, code=code)
        if not units.filter(pk=unit.pk).exists():
            raise NotAllowed(Perm.PARTY_APPROVE)
        initial["unit"] = unit
    elif not units.exists():
        raise NotAllowed(Perm.PARTY_APPROVE)
    for key in ("start", "end"):
        day = parse_date(request.GET.get(key))
        if day is not None:
            initial[key] = day
    if request.GET.get("requirement"):
        initial["requirement_code"] = request.GET["requirement"]
    back = request.GET.get("back") or request.POST.get("back") or ""
    form = ExemptionForm(request.POST or None, units=units, codes=requirement_choices(), initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.exemption_grant(
                actor=user,
                unit=d["unit"],
                requirement_code=d["requirement_code"],
                start=d["start"],
                end=d["end"],
                reason=d["reason"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The exemption was granted."))
            return redirect(reverse("partylife:compliance") + (f"?{back}" if back else ""))
    return render(
        request,
        "partylife/compliance/exemption_form.html",
        {
            "form": form,
            "title": _("Grant an exemption"),
            "back": reverse("partylife:compliance") + (f"?{back}" if back else ""),
            "back_query": back,
            "form_id": "exemption-form",
        },
    )


@login_required
@require_POST
def exemption_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke an exemption, with a reason (the same approver rule as granting it)."""
    user = request.user
    exemption = get_scoped_or_404(Exemption.objects.select_related("unit"), user, pk=pk)
    back = request.POST.get("back") or ""
    try:
        services.exemption_revoke(
            actor=user, exemption=exemption, reason=str(request.POST.get("reason") or "")[:300]
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The exemption was revoked."))
    return redirect(reverse("partylife:compliance") + (f"?{back}" if back else ""))
