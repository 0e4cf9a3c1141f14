"""Points pages: a member's statement (积分账本), leaderboards ("晒账本、比分数") with exports, and the rules.

Thin: reads through ``muster.points.queries`` (scoped; out of scope = 404), writes through
``muster.points.services`` (a refused write is shown as a message, never half done).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from muster.dates import FIRST_YEAR, LAST_YEAR
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Person, Unit
from muster.points import exports, services
from muster.points.api import leaderboard_rows, own_person, period_or_year, statement_data, visible_rules
from muster.points.kinds import LABELS
from muster.points.models import CapPeriod
from muster.points.plain import cap_group_label, plain_note
from muster.web.forms import BoundedDateField
from muster.web.listing import Column, FastSelect, Listing, Sort, TextFilter
from muster.web.views.common import apply_service_errors, form_status, param_year

BY_CHOICES = [
    ("person", gettext_lazy("By person")),
    ("branch", gettext_lazy("By party organization")),
    ("unit", gettext_lazy("By unit")),
]


def _year(request: HttpRequest) -> int:
    """The year asked for (400 when it is not one in range), this year by default."""
    return param_year(request.GET) or timezone.localdate().year


# ------------------------------------------------------------------ statement


def _statement(request: HttpRequest, person: Person, *, own: bool) -> HttpResponse:
    year = _year(request)
    data = statement_data(request.user, person, year)
    fmt = request.GET.get("format")
    if fmt in exports.FORMATS:
        return exports.statement_export(data, fmt)
    this_year = timezone.localdate().year
    return render(
        request,
        "points/statement.html",
        {
            "data": data,
            "person": person,
            "own": own,
            "years": list(range(this_year, this_year - 6, -1)),
            "year": year,
        },
    )


@login_required
def my_statement(request: HttpRequest) -> HttpResponse:
    """The statement of the person linked to the login."""
    person = own_person(request.user)
    if person is None:
        return render(request, "points/no_person.html", status=404)
    return _statement(request, person, own=True)


@login_required
def person_statement(request: HttpRequest, code: str) -> HttpResponse:
    """Any visible person's statement (404 outside the user's scope)."""
    person = Person.objects.filter(code=code).first()
    if person is None:
        raise Http404
    return _statement(request, person, own=person.user_id == request.user.pk)


# ------------------------------------------------------------------ leaderboards


class LeaderboardForm(forms.Form):
    unit = forms.ChoiceField(label=gettext_lazy("Organization"))
    by = forms.ChoiceField(label=gettext_lazy("Group"), choices=BY_CHOICES, initial="person", required=False)
    start = BoundedDateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = BoundedDateField(
        label=gettext_lazy("Until (exclusive)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args: Any, units: list[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        unit_field: Any = self.fields["unit"]
        unit_field.choices = [(u.code, f"{'— ' * (u.depth - 1)}{u.name}") for u in units]


def _board_units(user: Any) -> list[Unit]:
    """Visible units to rank inside: the roots of the user's scope and two levels below."""
    roots = list(access.visible_roots(user))
    units: list[Unit] = []
    for root in roots:
        units += list(
            Unit.objects.filter(
                path__startswith=root.path, depth__lte=root.depth + 2, is_active=True
            ).order_by("path")
        )
    return units


LEADERBOARD = Listing(
    name="points-leaderboard",
    title=gettext_lazy("Points leaderboard"),
    columns=[
        Column(gettext_lazy("Rank"), "rank", sort="rank"),
        Column(gettext_lazy("Name"), "label", sort="name"),
        Column(gettext_lazy("Points"), "points", sort="points"),
        Column(gettext_lazy("People scored"), "people", sort="people"),
    ],
    sorts={
        "rank": Sort(gettext_lazy("Rank"), ("rank", "label")),
        "name": Sort(gettext_lazy("Name"), ("label", "rank")),
        "points": Sort(gettext_lazy("Points"), ("-points", "label")),
        "people": Sort(gettext_lazy("People scored"), ("-people", "rank")),
    },
    default_sort="rank",
    filters=[TextFilter("q", gettext_lazy("Name or code"), ["label", "key"])],
    keep=("unit", "by", "start", "end"),
)


@login_required
def leaderboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    units = _board_units(user)
    if not units:
        raise PermissionDenied
    party = [u for u in units if u.is_party]
    default_unit = (party or units)[0].code
    params = request.GET.copy()
    params.setdefault("unit", default_unit)
    params.setdefault("by", "person")
    form = LeaderboardForm(params, units=units)
    unit_field: Any = form.fields["unit"]  # hundreds of units: rendered in one pass
    unit_field.widget = FastSelect(attrs=unit_field.widget.attrs, choices=unit_field.choices)
    rows: list[dict[str, Any]] = []
    start = end = None
    unit = None
    if form.is_valid():
        unit = access.get_scoped_or_404(Unit.objects.all(), user, code=form.cleaned_data["unit"])
        by = form.cleaned_data["by"] or "person"
        try:
            start, end = period_or_year(form.cleaned_data["start"], form.cleaned_data["end"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            rows = leaderboard_rows(user, unit, by=by, start=start, end=end)
    lst = LEADERBOARD.apply(request, rows)
    fmt = request.GET.get("format")
    if fmt in exports.FORMATS and unit is not None and start is not None and lst.status == 200:
        # the whole ranking for the selection (the name filter narrows what is shown, not the ranks)
        return exports.leaderboard_export(
            rows, unit_code=unit.code, by=params.get("by") or "person", start=start, end=end, fmt=fmt
        )
    query = params.copy()
    query.pop("format", None)
    query.pop("page", None)
    return render(
        request,
        "points/leaderboard.html",
        {
            "form": form,
            "lst": lst,
            "unit": unit,
            "start": start,
            "end": end,
            "by": params.get("by"),
            "query": query.urlencode(),
        },
        status=form_status(form) if lst.status == 200 else lst.status,
    )


# ------------------------------------------------------------------ rules


class RuleForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Fact kind"))
    points = forms.DecimalField(label=gettext_lazy("Points per unit"), max_digits=8, decimal_places=2)
    cap = forms.DecimalField(label=gettext_lazy("Cap"), max_digits=8, decimal_places=2, required=False)
    cap_period = forms.ChoiceField(label=gettext_lazy("Cap period"), choices=CapPeriod.choices)
    cap_group = forms.CharField(label=gettext_lazy("Cap group"), max_length=60, required=False)
    valid_from = BoundedDateField(
        label=gettext_lazy("Valid from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    note = forms.CharField(label=gettext_lazy("Note or source"), max_length=300, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind_field: Any = self.fields["kind"]
        kind_field.choices = [(k, str(v)) for k, v in LABELS.items()]


class RecomputeForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=FIRST_YEAR, max_value=LAST_YEAR)
    reason = forms.CharField(label=gettext_lazy("Reason (audited)"), max_length=300)


def _may_change_rules(user: Any) -> bool:
    return access.is_all_powerful(user) or any(
        access.can(user, Perm.POINTS_RULES, root) for root in Unit.objects.get_root_nodes()
    )


def _rules_page(
    request: HttpRequest, rule_form: RuleForm | None = None, recompute_form: RecomputeForm | None = None
) -> HttpResponse:
    may = _may_change_rules(request.user)
    rules = list(visible_rules(request.user))
    for r in rules:  # plain words for the seeded notes and cap groups (see ``points.plain``)
        r.plain_note = plain_note(r.note)  # type: ignore[attr-defined]
        r.cap_group_label = cap_group_label(r.cap_group)  # type: ignore[attr-defined]
    return render(
        request,
        "points/rules.html",
        {
            "rules": rules,
            "may_change": may,
            "rule_form": rule_form or RuleForm(initial={"cap_period": CapPeriod.YEAR}),
            "recompute_form": recompute_form or RecomputeForm(initial={"year": timezone.localdate().year}),
            "today": date.today(),
        },
        status=422 if (rule_form and rule_form.errors) or (recompute_form and recompute_form.errors) else 200,
    )


@login_required
def rules(request: HttpRequest) -> HttpResponse:
    """Every version of every rule; administrators open a new version or recompute a year."""
    return _rules_page(request)


@login_required
@require_POST
def rule_change(request: HttpRequest) -> HttpResponse:
    form = RuleForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            rule = services.point_rule_change(
                actor=request.user,
                kind=d["kind"],
                points=d["points"],
                valid_from=d["valid_from"],
                cap=d["cap"],
                cap_period=d["cap_period"],
                cap_group=d["cap_group"],
                note=d["note"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Version %(version)s of the rule “%(kind)s” applies from %(date)s.")
                % {
                    "version": rule.version,
                    "kind": LABELS.get(rule.kind, rule.kind),
                    "date": rule.valid_from,
                },
            )
            return redirect(reverse("points:rules"))
    return _rules_page(request, rule_form=form)


@login_required
@require_POST
def recompute(request: HttpRequest) -> HttpResponse:
    form = RecomputeForm(request.POST)
    if form.is_valid():
        try:
            res = services.points_recompute(
                actor=request.user, year=form.cleaned_data["year"], reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Recomputed %(year)s: %(credits)s new credits, %(reversals)s reversals (batch %(batch)s).")
                % {
                    "year": form.cleaned_data["year"],
                    "credits": res.credits,
                    "reversals": res.reversals,
                    "batch": res.batch,
                },
            )
            return redirect(reverse("points:rules"))
    return _rules_page(request, recompute_form=form)
