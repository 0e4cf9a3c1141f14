"""Compliance: which organizations are behind as of a cutoff, frozen periods, the calendar of what is
due and the six-month-rule warnings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from muster.orgs.access import NotAllowed, Perm, can, get_scoped_or_404, is_all_powerful, scoped
from muster.orgs.models import Unit
from muster.partylife import compliance as engine
from muster.partylife import queries, services
from muster.partylife.forms import ComplianceForm, ExemptionForm, parse_date
from muster.partylife.membership import COMMITTEE_KINDS, MEETING_UNIT_KINDS
from muster.partylife.models import Exemption, MeetingKind, MeetingRequirement, Period
from muster.partylife.views.common import default_scope, end_of_day, party_units
from muster.web.listing import (
    ChoiceFilter,
    Column,
    FastSelect,
    Listing,
    Sort,
    TextFilter,
    UnitFilter,
    YearFilter,
    choice_label,
)
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
    label: str = ""
    text: str = ""

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
    units = _scope_or_404(request, party_units(user))  # the committees, and the organization asked for
    raw_scope = (request.GET.get("scope") or "").strip()
    if raw_scope and not (raw_scope.isascii() and raw_scope.isdigit() and len(raw_scope) < 19):
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
    scope_field = form.fields["scope"]  # rendered in one pass
    scope_field.widget = FastSelect(
        attrs=scope_field.widget.attrs, choices=getattr(scope_field, "choices", ())
    )
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
                "status_rank": [engine.BEHIND, engine.DUE, engine.OK].index(r["status"])
                if r["status"] in (engine.BEHIND, engine.DUE, engine.OK)
                else 9,
                "css": ROW_CLASS.get(r["status"], "secondary"),
                "cells": [cells[code] for code, _label, _period in columns],
                "quorum_failures": sorted({m for ln in r["lines"] for m in ln["quorum_failures"]}),
            }
        )
    return out


def status_labels() -> dict[str, str]:
    return {
        engine.BEHIND: _("Behind"),
        engine.DUE: _("Due"),
        engine.OK: _("On track"),
        engine.MISSED: _("Missed"),
        engine.MET: _("Met"),
        engine.EXEMPT: _("Exempt"),
        engine.UPCOMING: _("Upcoming"),
    }


# ---------------------------------------------------------------- branches × months (one year)

MONTHS = range(1, 13)


def month_text(cell: engine.MonthCell, labels: dict[str, str] | None = None) -> str:
    """A month's cell in words: "Met 2/2", "Missed 0/1" — "" when nothing closes that month."""
    if not cell.statuses:
        return ""
    return f"{(labels or status_labels())[cell.status]} {cell.held}/{cell.required}"


class MonthLabel:
    """A month column's header, translated when shown ("1月" / "Month 1")."""

    def __init__(self, month: int) -> None:
        self.month = month

    def __str__(self) -> str:
        return _("Month %(month)s") % {"month": self.month}


def _month_cell(i: int) -> Callable[[dict[str, Any]], str]:
    return lambda r: r["cells"][i]["text"]


YEAR_GRID = Listing(
    name="party-compliance",
    title=gettext_lazy("Compliance by month"),
    columns=[
        Column(gettext_lazy("Code"), "code", sort="code"),
        Column(gettext_lazy("Party organization"), "name", sort="name"),
        *[Column(MonthLabel(m), _month_cell(m - 1)) for m in MONTHS],
        Column(gettext_lazy("Year so far"), "status", format=lambda v: status_labels().get(v, "")),
    ],
    sorts={
        "code": Sort(gettext_lazy("Code"), ("path",)),
        "name": Sort(gettext_lazy("Party organization"), ("name", "path")),
    },
    default_sort="code",
    filters=[
        UnitFilter("scope", gettext_lazy("Under"), "path"),
        TextFilter("q", gettext_lazy("Branch name or code"), ["name", "code"]),
        YearFilter("year", gettext_lazy("Year")),
    ],
    page_size=25,
)


def _scope_or_404(request: HttpRequest, units: QuerySet[Unit]) -> QuerySet[Unit]:
    """The organizations to narrow by: the committees and general branches the user sees, and the one
    asked for (a branch too). A ``scope`` out of the user's sight is a 404 (as for one that does not
    exist), not a form error."""
    raw = (request.GET.get("scope") or "").strip()
    asked = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else None
    if asked is not None and not units.filter(pk=asked).exists():
        raise Http404
    return units.filter(Q(kind__in=COMMITTEE_KINDS) | Q(pk=asked or 0))


def year_grid(request: HttpRequest) -> HttpResponse:
    """One row per branch (general branch, party group), one column per month of the year: the worst
    status of what closed that month, with held/required. Computed only for the page's organizations."""
    user = request.user
    units = party_units(user)
    scopes = _scope_or_404(request, units)  # to narrow by; a branch is found by its name or code
    today = timezone.localdate()
    year = YEAR_GRID.read(request, options={"scope": scopes}).get("year") or today.year
    through = min(today, date(year, 12, 31))
    start, end = date(year, 1, 1), date(year + 1, 1, 1)

    labels = status_labels()

    def prepare(page_units: list[Unit]) -> list[dict[str, Any]]:
        out = []
        for r in queries.compliance_rows_of(page_units, start, end, through=through):
            cells = engine.month_grid(r.lines, year)
            out.append(
                {
                    "unit": r.unit,
                    "code": r.unit.code,
                    "name": r.unit.name,
                    "status": r.status,
                    "status_label": labels.get(r.status, ""),
                    "css": ROW_CLASS.get(r.status, "secondary"),
                    "cells": [
                        {
                            "month": c.month,
                            "status": c.status,
                            "css": CELL_CLASS.get(c.status, "light"),
                            "text": month_text(c, labels),
                            "short": f"{c.held}/{c.required}" if c.statuses else "—",
                        }
                        for c in cells
                    ],
                }
            )
        return out

    rows = units.filter(kind__in=MEETING_UNIT_KINDS)
    lst = YEAR_GRID.apply(request, rows, options={"scope": scopes}, prepare=prepare)
    if lst.export_response is not None:
        return lst.export_response
    return render(
        request,
        "partylife/compliance/year.html",
        {
            "lst": lst,
            "year": year,
            "through": through,
            "months": [(m, date(year, m, 1)) for m in MONTHS],
            "status_labels": status_labels(),
            "period_url": reverse("partylife:compliance")
            + "?"
            + urlencode({"period": Period.QUARTER, "year": year}),
        },
        status=lst.status,
    )


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Branches × months of a year by default; with ``period`` (a month, quarter or year, with its
    cutoff, exemptions and freezing) the period view."""
    if not request.GET.get("period"):
        return year_grid(request)
    return period_dashboard(request)


def period_dashboard(request: HttpRequest) -> HttpResponse:
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
    labels = status_labels()

    def prepare(page: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for r in page:  # the words of just the rows shown (or exported)
            r["may_exempt"] = r["unit_id"] in exemptable
            r["status_label"] = labels.get(r["status"], "")
            for c in r["cells"]:
                c.label = labels.get(c.status, "")
                c.text = cell_words(c)
        return page

    lst = period_listing(columns).apply(request, rows, prepare=prepare)
    if lst.export_response is not None:
        return lst.export_response
    return render(
        request,
        "partylife/compliance/dashboard.html",
        {
            "form": form,
            "sel": sel,
            "board": board,
            "columns": columns,
            "lst": lst,
            "rows": lst.rows,
            "behind": [r for r in rows if r["status"] == engine.BEHIND],
            "exemptions": exemptions,
            "may_exempt": bool(exemptable),
            "may_freeze": not board.frozen
            and sel.end <= timezone.localdate()
            and can(user, Perm.PARTY_APPROVE, sel.scope),
            "status_labels": status_labels(),
        },
        status=form_status(form) if lst.status == 200 else lst.status,
    )


def cell_words(c: Cell) -> str:
    """A cell of the period view: "1 of 2 · gap 1", "1 of 1 · exempt", "—" when it does not apply."""
    if not c.statuses:
        return "—"
    text = _("%(held)s of %(required)s") % {"held": c.held, "required": c.required}
    if c.gap:
        text += " · " + _("gap %(gap)s") % {"gap": c.gap}
    if c.status == engine.EXEMPT:
        text += " · " + _("exempt")
    return text


def cell_text(c: Cell) -> str:
    """A requirement's cell in words for the export: "Missed 0/1", "" when it does not apply."""
    return f"{status_labels().get(c.status, '')} {c.held}/{c.required}" if c.statuses else ""


def period_listing(columns: list[tuple[str, str, str]]) -> Listing:
    """The period view's rows (one per organization; a column per requirement that appears)."""

    def cell(i: int) -> Callable[[dict[str, Any]], str]:
        return lambda r: cell_text(r["cells"][i])

    return Listing(
        name="party-compliance-period",
        title=gettext_lazy("Compliance"),
        columns=[
            Column(gettext_lazy("Code"), "code", sort="code"),
            Column(gettext_lazy("Party organization"), "name", sort="name"),
            Column(gettext_lazy("Overall"), "status_label", sort="status"),
            *[Column(f"{label} ({period})", cell(i)) for i, (_c, label, period) in enumerate(columns)],
        ],
        sorts={
            "code": Sort(gettext_lazy("Code"), ("code",)),
            "name": Sort(gettext_lazy("Party organization"), ("name", "code")),
            "status": Sort(gettext_lazy("Overall"), ("status_rank", "code")),
        },
        default_sort="code",
        filters=[
            ChoiceFilter(
                "state",
                gettext_lazy("Overall"),
                "status",
                [
                    (engine.BEHIND, gettext_lazy("Behind")),
                    (engine.DUE, gettext_lazy("Due")),
                    (engine.OK, gettext_lazy("On track")),
                ],
            ),
            TextFilter("q", gettext_lazy("Branch name or code"), ["name", "code"]),
        ],
        keep=("scope", "period", "year", "number", "as_of"),
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


def _due_state(d: queries.Due) -> str:
    return d.line.status


CALENDAR = Listing(
    name="party-compliance-calendar",
    title=gettext_lazy("What is due"),
    columns=[
        Column(gettext_lazy("Due by"), "due_on", sort="due"),
        Column(gettext_lazy("Code"), "unit__code"),
        Column(gettext_lazy("Party organization"), "unit__name", sort="unit"),
        Column(gettext_lazy("Kind"), "line__kind", format=choice_label(MeetingKind.choices)),
        Column(gettext_lazy("Held"), "line__held"),
        Column(gettext_lazy("Required"), "line__required"),
        Column(gettext_lazy("State"), _due_state, sort="state", format=lambda v: status_labels().get(v, "")),
    ],
    sorts={
        "due": Sort(gettext_lazy("Due by"), ("line__end", "unit__path", "line__code")),
        "unit": Sort(gettext_lazy("Party organization"), ("unit__path", "line__end", "line__code")),
        "state": Sort(gettext_lazy("State"), ("line__status", "line__end", "unit__path")),
    },
    default_sort="due",
    filters=[
        ChoiceFilter(
            "state",
            gettext_lazy("State"),
            "line__status",
            [
                (engine.MISSED, gettext_lazy("Missed")),
                (engine.DUE, gettext_lazy("Due")),
                (engine.UPCOMING, gettext_lazy("Upcoming")),
            ],
        ),
        ChoiceFilter("kind", gettext_lazy("Kind"), "line__kind", MeetingKind.choices),
        TextFilter("q", gettext_lazy("Branch name or code"), ["unit__name", "unit__code"]),
    ],
    keep=("scope", "period", "year", "number", "as_of"),
)


@login_required
def calendar(request: HttpRequest) -> HttpResponse:
    """What is due (or was missed) under a scope in a period — this month by default — paged, filtered
    by state, kind and branch, exported to Excel."""
    user = request.user
    form, sel = _select(request, default_period=Period.MONTH)
    dues = queries.compliance_calendar(user, sel.scope, start=sel.start, end=sel.end, as_of=sel.as_of)
    lst = CALENDAR.apply(request, dues, presorted="due")  # soonest first, as the query gives them
    if lst.export_response is not None:
        return lst.export_response
    kinds = _labels()
    items = [
        {
            "due": d,
            "month": d.due_on.strftime("%Y-%m"),
            "kind": kinds.get(d.line.kind, d.line.kind),
            "css": CELL_CLASS.get(d.line.status, "light"),
        }
        for d in lst.rows
    ]
    return render(
        request,
        "partylife/compliance/calendar.html",
        {"form": form, "sel": sel, "lst": lst, "items": items},
        status=form_status(form) if lst.status == 200 else lst.status,
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
