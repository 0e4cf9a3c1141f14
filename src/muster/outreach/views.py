"""Outreach pages: the figures as of a cutoff, enterprises, "my enterprises" (for liaisons, on a phone),
visits and the problem list with its steps. Thin: queries to read, services to write."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import PARTY_KINDS, Partner, Person, Unit
from muster.outreach import briefing, queries, services, services_service
from muster.outreach.forms import (
    AgreementForm,
    CategoryForm,
    ClassForm,
    HomeForm,
    IndicatorForm,
    IndicatorValueForm,
    MeasureEditForm,
    MeasureForm,
    ReasonForm,
    ResolveForm,
    StartForm,
    VisitRecordForm,
    split_codes,
)
from muster.outreach.models import Indicator, MeasureCategory, ProblemStatus, ServiceMeasure
from muster.web.views.common import apply_service_errors, paginate, param_date


def _unit_param(request: HttpRequest) -> Unit | None:
    code = (request.GET.get("unit") or "").strip()
    if not code:
        return access.visible_roots(request.user).first()
    unit = access.scoped(Unit.objects.all(), request.user, Perm.VIEW).filter(code=code).first()
    if unit is None:
        raise Http404
    return unit


def _unit_label(user: Any, unit: Unit | None) -> str | None:
    """A unit's name, or a neutral "another unit" for one the user may not see (``None``: no unit)."""
    if unit is None:
        return None
    return unit.name if queries.unit_visible(user, unit) else _("another unit")


def _person_label(user: Any, person: Person | None) -> str | None:
    if person is None:
        return None
    return person.name if queries.person_visible(user, person) else _("another unit")


def _visit_shown(user: Any, v: Any) -> Any:
    """Set on a visible visit what the user may see of it: its unit, branch, visitors and enterprises."""
    v.unit_label = _unit_label(user, v.unit)
    v.branch_label = _unit_label(user, v.branch)
    v.place_label = v.branch.name if queries.unit_visible(user, v.branch) else _unit_label(user, v.unit)
    v.shown_visitors = [p for p in v.visitors.all() if queries.person_visible(user, p)]
    v.shown_enterprises = [e for e in v.enterprises.all() if queries.enterprise_visible(user, e)]
    return v


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """The figures of a unit's subtree as of a day's end ("截至…24时")."""
    unit = _unit_param(request)
    day = param_date(request.GET, "as_of") or timezone.localdate()
    as_of = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(settings.TIME_ZONE)) + timedelta(days=1)
    figures = queries.figures(unit, as_of) if unit is not None else None
    roots = access.visible_roots(request.user)
    lang = get_language() or "zh-hans"
    when = f"截至{day.year}年{day.month}月{day.day}日" if lang.startswith("zh") else f"As of {day:%d %B %Y}"
    text = (
        briefing.sentence(
            visits=figures.visits, problems=figures.problems, resolved=figures.resolved, lang=lang, when=when
        )
        if figures is not None
        else ""
    )
    return render(
        request,
        "outreach/index.html",
        {"unit": unit, "day": day, "figures": figures, "roots": roots, "sentence": text},
    )


@login_required
def enterprise_list(request: HttpRequest) -> HttpResponse:
    qs = queries.enterprises(request.user).order_by("credit_code")
    q = (request.GET.get("q") or "").strip()[:60]
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(credit_code__istartswith=q.upper()) | Q(park__icontains=q))
    return render(request, "outreach/enterprises.html", {"page": paginate(request, qs), "q": q})


@login_required
def enterprise_detail(request: HttpRequest, code: str) -> HttpResponse:
    e = queries.enterprise_get(request.user, code.upper())
    return render(
        request,
        "outreach/enterprise.html",
        {
            "e": e,
            "liaisons": [
                li for li in queries.liaisons_of(e) if queries.person_visible(request.user, li.person)
            ],
            "visits": queries.visits(request.user).filter(enterprises=e)[:50],
            "problems": queries.problems(request.user).filter(enterprise=e)[:50],
        },
    )


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    """The enterprises I am liaison or party-building guide of today, with their open problems."""
    today = timezone.localdate()
    rows = []
    for e, li in queries.my_enterprises(request.user, today):
        open_problems = e.problems.exclude(
            status__in=[ProblemStatus.RESOLVED, ProblemStatus.UNSOLVABLE]
        ).count()
        rows.append((e, li, open_problems))
    return render(request, "outreach/mine.html", {"rows": rows, "today": today})


@login_required
def visit_list(request: HttpRequest) -> HttpResponse:
    qs = queries.visits(request.user).prefetch_related(*queries.VISIT_RELATED)
    page = paginate(request, qs)
    for v in page:
        _visit_shown(request.user, v)
    return render(request, "outreach/visits.html", {"page": page})


@login_required
def visit_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    writable = access.scoped(Unit.objects.all(), user, Perm.VIEW).order_by("path")
    units = writable.exclude(kind__in=list(PARTY_KINDS))
    branches = writable.filter(kind__in=list(PARTY_KINDS))
    form = VisitRecordForm(
        request.POST or None, units=units, branches=branches, initial={"held_on": timezone.localdate()}
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        visitor_codes = split_codes(d["visitors"])
        people = {
            p.code: p
            for p in access.scoped(Person.objects.all(), user, Perm.VIEW).filter(code__in=visitor_codes)
        }
        ent_codes = [c.upper() for c in split_codes(d["enterprises"])]
        ents = {e.credit_code: e for e in queries.enterprises(user).filter(credit_code__in=ent_codes)}
        missing_p = [c for c in visitor_codes if c not in people]
        missing_e = [c for c in ent_codes if c not in ents]
        if missing_p:
            form.add_error(
                "visitors",
                _("No person with the staff number %(code)s was found.") % {"code": ", ".join(missing_p)},
            )
        if missing_e:
            form.add_error(
                "enterprises",
                _("There is no enterprise with the credit code %(code)s.") % {"code": ", ".join(missing_e)},
            )
        if not form.errors:
            try:
                v = services.visit_record(
                    actor=user,
                    held_on=d["held_on"],
                    form=d["form"],
                    unit=d["unit"],
                    branch=d["branch"],
                    visitors=[people[c] for c in visitor_codes],
                    enterprises=[ents[c] for c in ent_codes],
                    topics=d["topics"],
                    findings=d["findings"],
                )
            except ValidationError as exc:
                apply_service_errors(form, exc, {"topic": "topics", "held_on": "held_on"})
            else:
                messages.success(request, _("The visit is recorded."))
                return redirect("outreach:visit_detail", pk=v.pk)
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "outreach/visit_form.html", {"form": form}, status=status)


@login_required
def visit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    v = queries.visit_get(request.user, pk)
    return render(
        request,
        "outreach/visit.html",
        {
            "v": _visit_shown(request.user, v),
            "problems": queries.problems(request.user).filter(visit=v),
            "files": v.attachments.all(),
            "may_attach": services.may_write(request.user, v.unit, v.branch),
        },
    )


@login_required
def problem_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    overdue_on = param_date(request.GET, "overdue_on")
    qs = queries.overdue(user, overdue_on) if overdue_on else queries.problems(user)
    status = request.GET.get("status") or ""
    if status in ProblemStatus.values:
        qs = qs.filter(status=status)
    page = paginate(request, qs)
    for p in page:
        p.unit_label = _unit_label(user, p.unit)
    return render(
        request,
        "outreach/problems.html",
        {
            "page": page,
            "status": status,
            "statuses": ProblemStatus.choices,
            "overdue_on": overdue_on,
        },
    )


def _step_forms(data: Any = None) -> dict[str, forms.Form]:
    today = timezone.localdate()
    return {
        "start": StartForm(data, initial={"on": today}, prefix="start"),
        "resolve": ResolveForm(data, initial={"on": today}, prefix="resolve"),
        "unsolvable": ReasonForm(data, initial={"on": today}, prefix="unsolvable"),
        "reopen": ReasonForm(data, initial={"on": today}, prefix="reopen"),
    }


@login_required
def problem_detail(request: HttpRequest, pk: int) -> HttpResponse:
    pr = queries.problem_get(request.user, pk)
    return _render_problem(request, pr, _step_forms())


def _shown_steps(status: str) -> set[str]:
    if status == ProblemStatus.OPEN:
        return {"start", "resolve", "unsolvable"}
    if status == ProblemStatus.IN_PROGRESS:
        return {"resolve", "unsolvable"}
    return {"reopen"}


def _render_problem(
    request: HttpRequest, pr: Any, step_forms: dict[str, forms.Form], status: int = 200
) -> HttpResponse:
    may = services.may_write(request.user, pr.unit, pr.branch)
    shown = _shown_steps(pr.status)
    # A refusal of a step whose form is not on the page (resolving a resolved problem): said on top.
    step_errors = [
        str(e)
        for key, f in step_forms.items()
        if key not in shown and f.is_bound
        for e in f.non_field_errors()
    ]
    return render(
        request,
        "outreach/problem.html",
        {
            "pr": pr,
            "unit_label": _unit_label(request.user, pr.unit),
            "owner_label": _person_label(request.user, pr.owner),
            "enterprise_shown": pr.enterprise is not None
            and queries.enterprise_visible(request.user, pr.enterprise),
            "events": pr.events.order_by("on", "id"),
            "files": pr.attachments.all(),
            "forms": step_forms,
            "may": may,
            "step_errors": step_errors,
        },
        status=status,
    )


@login_required
@require_POST
def problem_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    user = request.user
    pr = queries.problem_get(user, pk)
    if step not in ("start", "resolve", "unsolvable", "reopen"):
        raise Http404
    step_forms = _step_forms(None)
    form = {
        "start": StartForm,
        "resolve": ResolveForm,
        "unsolvable": ReasonForm,
        "reopen": ReasonForm,
    }[step](request.POST, prefix=step)
    step_forms[step] = form
    if form.is_valid():
        d = form.cleaned_data
        try:
            if step == "start":
                services.problem_start(actor=user, problem=pr, on=d["on"])
            elif step == "resolve":
                services.problem_resolve(
                    actor=user, problem=pr, on=d["on"], resolution=d["resolution"], evidence=d["evidence"]
                )
            elif step == "unsolvable":
                services.problem_declare_unsolvable(actor=user, problem=pr, on=d["on"], reason=d["reason"])
            else:
                services.problem_reopen(actor=user, problem=pr, on=d["on"], reason=d["reason"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("outreach:problem_detail", pk=pr.pk)
    pr.refresh_from_db()
    return _render_problem(request, pr, step_forms, status=400)


@login_required
def measure_list(request: HttpRequest) -> HttpResponse:
    """The service measures (便民办税举措) by category and the indicators before and after, drawn as
    server-rendered bars (SVG): only the catalogs and indicators of units the user may see."""
    today = timezone.localdate()
    user = request.user
    catalog = queries.measure_catalog(user)
    bars = queries.indicator_bars(user, today)
    may_add = _writable_units(user).exists()
    if may_add:  # the edit buttons only for those who may write the row
        for _c, items in catalog:
            for m in items:
                m.may_edit = services.may_write(user, m.unit)  # type: ignore[attr-defined]
        for b in bars:
            b.indicator.may_edit = services.may_write(user, b.indicator.unit)  # type: ignore[attr-defined]
    return render(
        request,
        "outreach/measures.html",
        {
            "catalog": catalog,
            "measures": sum(len(ms) for _c, ms in catalog),
            "bars": bars,
            "chart_data": _chart_data(bars),
            "today": today,
            "may_add": may_add,
        },
    )


def _chart_data(bars: list[queries.IndicatorBar]) -> dict[str, Any]:
    """What the ECharts before/after charts draw (``static/outreach/js/indicators.js``)."""
    return {
        "labels": {"baseline": _("Baseline"), "latest": _("Latest")},
        "indicators": [
            {
                "id": b.indicator.pk,
                "name": b.indicator.name,
                "unit": str(b.indicator.get_measure_unit_display()),
                "baseline": float(b.indicator.baseline),
                "baseline_on": b.indicator.baseline_on.isoformat(),
                "value": float(b.value) if b.value is not None else None,
                "measured_on": b.measured_on.isoformat() if b.measured_on else None,
            }
            for b in bars
        ],
    }


def _partner_name(user: Any, partner: Any) -> str:
    """A partner's name when the user may see its unit, else "—" (out of sight is out of sight)."""
    return queries.partner_shown(user, partner)


@login_required
def home_list(request: HttpRequest) -> HttpResponse:
    """Taxpayer homes (纳税人之家) and classes (学堂 / 小讲堂, paged) of the units the user may see."""
    user = request.user
    homes = list(queries.homes_visible(user))
    for h in homes:
        h.partner_shown = _partner_name(user, h.partner)  # type: ignore[attr-defined]
        h.may_edit = services.may_write(user, h.unit)  # type: ignore[attr-defined]
    page = paginate(request, queries.classes_visible(user))
    for c in page:
        c.partner_shown = _partner_name(user, c.partner)
    return render(
        request,
        "outreach/homes.html",
        {"homes": homes, "page": page, "may_add": _writable_units(user).exists()},
    )


@login_required
def agreement_list(request: HttpRequest) -> HttpResponse:
    """Co-building agreements (支部共建) of the party branches the user may see."""
    user = request.user
    page = paginate(request, queries.agreements_visible(user))
    for a in page:
        a.partner_shown = _partner_name(user, a.partner)
    return render(
        request,
        "outreach/agreements.html",
        {"page": page, "today": timezone.localdate(), "may_add": _writable_branches(user).exists()},
    )


# ------------------------------------------ create / edit: homes, classes, measures, indicators, co-building


def _writable_units(user: Any) -> QuerySet[Unit]:
    """Units where ``user`` may write outreach records (administrative units and organizations alike)."""
    return access.scoped(Unit.objects.all(), user, Perm.CHANGE).order_by("path")


def _writable_branches(user: Any) -> QuerySet[Unit]:
    """Party organizations where ``user`` may write (changes on the unit, or party records of the branch)."""
    qs = access.scoped(Unit.objects.all(), user, Perm.CHANGE) | access.scoped(
        Unit.objects.all(), user, Perm.PARTY_RECORD
    )
    return qs.filter(kind__in=list(PARTY_KINDS)).distinct().order_by("path")


def _require_any(units: QuerySet[Unit]) -> None:
    """403 for a user who may write nowhere: the form would have nothing to offer."""
    if not units.exists():
        raise access.NotAllowed(Perm.CHANGE)


def _visible_categories(user: Any) -> QuerySet[MeasureCategory]:
    return (
        MeasureCategory.objects.filter(unit__in=queries.visible_units(user).values("pk"))
        .select_related("unit")
        .order_by("unit__path", "order", "id")
    )


def _partner_lookup(user: Any, form: forms.Form, field: str = "partner") -> Partner | None:
    """The partner with the code in ``form[field]`` among those ``user`` sees; an unknown one (or one out of
    sight: the same words) is a field error."""
    code = (form.cleaned_data.get(field) or "").strip()
    if not code:
        return None
    partner = access.scoped(Partner.objects.all(), user, Perm.VIEW).filter(code=code).first()
    if partner is None:
        form.add_error(field, _("There is no partner with the code %(code)s.") % {"code": code})
    return partner


def _form_page(
    request: HttpRequest, form: forms.Form, *, title: str, form_id: str, back: str, note: str = ""
) -> HttpResponse:
    status = 422 if form.is_bound and form.errors else 200
    return render(
        request,
        "outreach/edit_form.html",
        {"form": form, "title": title, "form_id": form_id, "back": back, "note": note},
        status=status,
    )


def _run(form: forms.Form, call: Any, rename: dict[str, str] | None = None) -> Any:
    """Call a service unless the form already has errors; its refusals become the form's errors."""
    if form.errors:
        return None
    try:
        return call()
    except ValidationError as exc:
        apply_service_errors(form, exc, rename)
        return None


@login_required
def home_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    units = _writable_units(user)
    _require_any(units)
    form = HomeForm(request.POST or None, units=units, initial={"opened_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        partner = _partner_lookup(user, form)
        home = _run(
            form,
            lambda: services_service.home_create(
                actor=user,
                name=d["name"],
                unit=d["unit"],
                opened_on=d["opened_on"],
                partner=partner,
                address=d["address"],
            ),
        )
        if home is not None:
            messages.success(request, _("The taxpayer home is added."))
            return redirect("outreach:homes")
    return _form_page(
        request, form, title=_("New taxpayer home"), form_id="home-form", back=reverse("outreach:homes")
    )


@login_required
def class_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    units = _writable_units(user)
    _require_any(units)
    form = ClassForm(
        request.POST or None,
        units=units.exclude(kind__in=list(PARTY_KINDS)),
        branches=_writable_branches(user),
        homes=queries.homes_visible(user),
        initial={"held_on": timezone.localdate(), "attendees": 0},
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        partner = _partner_lookup(user, form)
        codes = [c.upper() for c in split_codes(d["enterprises"])]
        ents = {e.credit_code: e for e in queries.enterprises(user).filter(credit_code__in=codes)}
        missing = [c for c in codes if c not in ents]
        if missing:
            form.add_error(
                "enterprises",
                _("There is no enterprise with the credit code %(code)s.") % {"code": ", ".join(missing)},
            )
        c = _run(
            form,
            lambda: services_service.class_record(
                actor=user,
                held_on=d["held_on"],
                topic=d["topic"],
                unit=d["unit"],
                attendees=d["attendees"],
                speaker=d["speaker"],
                branch=d["branch"],
                home=d["home"],
                partner=partner,
                satisfaction=d["satisfaction"],
                enterprises=[ents[c] for c in codes],
            ),
        )
        if c is not None:
            messages.success(request, _("The class is recorded."))
            return redirect("outreach:homes")
    return _form_page(
        request,
        form,
        title=_("Record a taxpayer class"),
        form_id="class-form",
        back=reverse("outreach:homes"),
    )


@login_required
def category_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    units = _writable_units(user)
    _require_any(units)
    form = CategoryForm(request.POST or None, units=units)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        cat = _run(
            form,
            lambda: services_service.category_create(
                actor=user, unit=d["unit"], name=d["name"], order=d["order"]
            ),
        )
        if cat is not None:
            messages.success(request, _("The category is added."))
            return redirect("outreach:measures")
    return _form_page(
        request,
        form,
        title=_("New measure category"),
        form_id="category-form",
        back=reverse("outreach:measures"),
    )


@login_required
def measure_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    units = _writable_units(user)
    _require_any(units)
    form = MeasureForm(
        request.POST or None,
        units=units,
        categories=_visible_categories(user),
        initial={"started_on": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        m = _run(
            form,
            lambda: services_service.measure_create(
                actor=user,
                category=d["category"],
                title=d["title"],
                unit=d["unit"],
                started_on=d["started_on"],
                state=d["state"],
            ),
        )
        if m is not None:
            messages.success(request, _("The measure is added."))
            return redirect("outreach:measures")
    return _form_page(
        request,
        form,
        title=_("New service measure"),
        form_id="measure-form",
        back=reverse("outreach:measures"),
    )


@login_required
def measure_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a measure to another category of its catalog, or change its state."""
    user = request.user
    m = (
        ServiceMeasure.objects.select_related("category__unit", "unit")
        .filter(pk=pk, unit__in=queries.visible_units(user).values("pk"))
        .first()
    )
    if m is None:
        raise Http404
    if not services.may_write(user, m.unit):
        raise access.NotAllowed(Perm.CHANGE)
    form = MeasureEditForm(
        request.POST or None,
        categories=_visible_categories(user),
        initial={"category": m.category_id, "state": m.state},
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        done = _run(
            form,
            lambda: services_service.measure_update(
                actor=user, measure=m, category=d["category"], state=d["state"]
            ),
        )
        if done is not None:
            messages.success(request, _("Saved."))
            return redirect("outreach:measures")
    return _form_page(
        request,
        form,
        title=_("Edit service measure"),
        form_id="measure-edit-form",
        back=reverse("outreach:measures"),
        note=m.title,
    )


@login_required
def indicator_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    units = _writable_units(user)
    _require_any(units)
    form = IndicatorForm(request.POST or None, units=units)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        ind = _run(
            form,
            lambda: services_service.indicator_create(
                actor=user,
                unit=d["unit"],
                name=d["name"],
                measure_unit=d["measure_unit"],
                baseline=d["baseline"],
                baseline_on=d["baseline_on"],
            ),
        )
        if ind is not None:
            messages.success(request, _("The indicator is added."))
            return redirect("outreach:measures")
    return _form_page(
        request, form, title=_("New indicator"), form_id="indicator-form", back=reverse("outreach:measures")
    )


@login_required
def indicator_value_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a measured value of an indicator, in the indicator's own unit of measure."""
    user = request.user
    ind = (
        Indicator.objects.select_related("unit")
        .filter(pk=pk, unit__in=queries.visible_units(user).values("pk"))
        .first()
    )
    if ind is None:
        raise Http404
    if not services.may_write(user, ind.unit):
        raise access.NotAllowed(Perm.CHANGE)
    form = IndicatorValueForm(request.POST or None, initial={"measured_on": timezone.localdate()})
    form.fields["value"].label = _("Value (%(unit)s)") % {"unit": ind.get_measure_unit_display()}
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        v = _run(
            form,
            lambda: services_service.indicator_measure(
                actor=user,
                indicator=ind,
                measured_on=d["measured_on"],
                value=d["value"],
                measure_unit=ind.measure_unit,
            ),
        )
        if v is not None:
            messages.success(request, _("The value is recorded."))
            return redirect("outreach:measures")
    return _form_page(
        request,
        form,
        title=_("Record a measured value"),
        form_id="indicator-value-form",
        back=reverse("outreach:measures"),
        note=ind.name,
    )


@login_required
def agreement_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    branches = _writable_branches(user)
    _require_any(branches)
    form = AgreementForm(request.POST or None, branches=branches, initial={"start": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        partner = _partner_lookup(user, form)  # required: ``None`` only with an error on the form
        a = (
            _run(
                form,
                lambda: services_service.agreement_create(
                    actor=user,
                    branch=d["branch"],
                    partner=partner,
                    start=d["start"],
                    end=d["end"],
                    title=d["title"],
                ),
            )
            if partner is not None
            else None
        )
        if a is not None:
            messages.success(request, _("The co-building agreement is added."))
            return redirect("outreach:agreements")
    return _form_page(
        request,
        form,
        title=_("New co-building agreement"),
        form_id="agreement-form",
        back=reverse("outreach:agreements"),
    )
