"""Rostering pages: the solve form, the plan with live progress, editing and publishing. Thin: the
rules are in ``muster.roster.services``."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from muster.mobilize import queries
from muster.mobilize.models import Post, Shift
from muster.orgs.access import get_scoped_or_404
from muster.orgs.models import Person, Unit
from muster.roster import exports, services
from muster.roster.adapter import Rules, scope_shifts
from muster.roster.forms import ResolveForm, SolveForm
from muster.roster.models import PlanStatus, RosterPlan, RunStatus
from muster.tabular.writer import XLSX_CONTENT_TYPE
from muster.web.views.common import apply_service_errors

REASONS = {
    "skill": gettext_lazy("lacks a required skill"),
    "mode_remote": gettext_lazy("restricted to remote seats"),
    "mode_local": gettext_lazy("restricted to on-site tasks"),
    "site": gettext_lazy("not assigned to this site"),
    "day_off": gettext_lazy("day off"),
    "unavailable": gettext_lazy("busy elsewhere at that time"),
    "kind_limit": gettext_lazy("may not work this shift type"),
    "too_long": gettext_lazy("shift longer than the daily limit"),
    "tail_rest": gettext_lazy("too soon after the previous period's last shift"),
    "max_shifts_per_day": gettext_lazy("already working that day"),
    "clash": gettext_lazy("too close to another of their shifts (rest, overlap or no morning after night)"),
    "max_shifts_per_kind": gettext_lazy("at their limit for this shift type"),
    "max_minutes_period": gettext_lazy("at their limit of hours for the period"),
    "max_minutes_week": gettext_lazy("at their limit of hours for the week"),
    "max_minutes_day": gettext_lazy("at their limit of hours for the day"),
    "max_consecutive_days": gettext_lazy("at their limit of consecutive days"),
    "min_consecutive_days": gettext_lazy("would leave a too short run of days worked"),
    "min_consecutive_days_off": gettext_lazy("would leave a too short rest of days off"),
    "max_weekends": gettext_lazy("at their limit of weekends"),
    "max_count": gettext_lazy("the shift is full"),
    "could_take": gettext_lazy("free to take it, but at a higher total penalty elsewhere"),
}
PENALTIES = {
    "under": gettext_lazy("Missing people"),
    "over": gettext_lazy("Extra people"),
    "preferences": gettext_lazy("Changed assignments and wishes"),
    "fairness": gettext_lazy("Unfairness (spread of hours and nights)"),
}
PHASES = {
    "cover": gettext_lazy("filling seats (fairness not yet counted)"),
    "fairness": gettext_lazy("counting fairness"),
    "greedy": gettext_lazy("first roster"),
    "repair": gettext_lazy("repairing"),
    "cpsat": gettext_lazy("optimizing"),
    "reroster": gettext_lazy("re-rostering one person at a time"),
    "lns": gettext_lazy("improving by parts"),
    "polish": gettext_lazy("evening out"),
    "final": gettext_lazy("finished"),
}


def _scope(request: HttpRequest) -> tuple[Any, Any, str]:
    user = request.user
    if request.GET.get("deployment"):
        try:
            d = queries.deployment_get_or_404(user, pk=int(request.GET["deployment"]))
        except ValueError as exc:
            raise Http404 from exc
        return d, None, reverse("mobilize:batch_detail", args=[d.pk])
    if request.GET.get("post"):
        try:
            post = get_scoped_or_404(Post.objects.select_related("unit"), user, pk=int(request.GET["post"]))
        except ValueError as exc:
            raise Http404 from exc
        return None, post, reverse("mobilize:post_detail", args=[post.pk])
    raise Http404


@login_required
def plan_new(request: HttpRequest) -> HttpResponse:
    user = request.user
    deployment, post, back = _scope(request)
    if not services._may_manage(user, deployment, post):
        raise services.access.NotAllowed(services.Perm.MOBILIZE_DISPATCH)
    rules = Rules()
    if deployment is not None:
        first = timezone.localtime(deployment.start).date()
        last = min(
            timezone.localtime(deployment.end - timedelta(minutes=1)).date(), first + timedelta(days=27)
        )
    else:
        first = timezone.localdate()
        last = first + timedelta(days=6)
    initial = {"start_date": first, "end_date": last, "seconds": 10, "seed": 0, **rules.to_dict()}
    form = SolveForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            plan = services.plan_create(
                actor=user,
                deployment=deployment,
                post=post,
                start=d["start_date"],
                end=d["end_date"],
                rules=form.rules(),
                seconds=d["seconds"],
                seed=d["seed"],
            )
            services.solve_start(actor=user, plan=plan)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            return redirect("roster:plan_detail", pk=plan.pk)
    scope = deployment.code if deployment is not None else post.name
    return render(
        request,
        "roster/new.html",
        {"form": form, "back": back, "scope": scope, "deployment": deployment, "post": post},
    )


def _board(plan: RosterPlan, shifts: list[Shift], pairs: list[list[str]]) -> dict[str, Any]:
    """The per-shift and per-person tables of a roster given as (person code, shift id) pairs (the best
    roster so far of a running solve)."""
    codes = {code for code, _sid in pairs}
    people = {p.code: p for p in Person.objects.filter(code__in=codes)}
    per_shift: dict[int, list[Person]] = defaultdict(list)
    per_person: dict[str, list[Shift]] = defaultdict(list)
    by_pk = {s.pk: s for s in shifts}
    for code, sid in pairs:
        try:
            shift = by_pk.get(int(sid))
        except (TypeError, ValueError):
            shift = None
        person = people.get(code)
        if shift is None or person is None:
            continue
        per_shift[shift.pk].append(person)
        per_person[code].append(shift)
    return {
        "board_shifts": [(s, sorted(per_shift.get(s.pk, []), key=lambda p: p.code)) for s in shifts],
        "board_people": [
            (
                people[c],
                len(per_person[c]),
                round(sum((s.end - s.start).total_seconds() for s in per_person[c]) / 3600, 1),
            )
            for c in sorted(per_person)
        ],
        "board_short": sum(1 for s in shifts if len(per_shift.get(s.pk, [])) < s.seats),
    }


def _progress_context(plan: RosterPlan) -> dict[str, Any]:
    run = plan.runs.order_by("-created_at", "-id").first()
    polling = run is not None and run.active
    ctx: dict[str, Any] = {
        "plan": plan,
        "run": run,
        "phase": PHASES.get(run.phase, run.phase) if run is not None else "",
        "polling": polling,
        "percent": 0,
        "incumbent": None,
    }
    if run is None:
        return ctx
    if run.status in (RunStatus.DONE, RunStatus.CANCELLED) or run.phase == "final":
        ctx["percent"] = 100
    elif run.seconds > 0:
        ctx["percent"] = max(0, min(99, int(100 * run.elapsed / run.seconds)))
    if polling:
        shifts = list(scope_shifts(plan.deployment, plan.post, plan.start_date, plan.end_date))
        inc = run.incumbent or {}
        if inc.get("pairs") is not None:
            ctx["incumbent"] = {
                "objective": inc.get("objective"),
                "phase": PHASES.get(str(inc.get("phase", "")), inc.get("phase", "")),
                **_board(plan, shifts, inc["pairs"]),
            }
        else:
            ctx["waiting_shifts"] = shifts
    return ctx


@login_required
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    plan = services.plan_get_or_404(user, pk)
    may_manage = services.may_manage_plan(user, plan)
    shifts = list(scope_shifts(plan.deployment, plan.post, plan.start_date, plan.end_date))
    rows = list(
        plan.proposals.select_related("person", "shift").order_by("shift__start", "shift_id", "person__code")
    )
    per_shift: dict[int, list[Any]] = defaultdict(list)
    per_person: dict[int, list[Any]] = defaultdict(list)
    people: dict[int, Person] = {}
    for r in rows:
        per_shift[r.shift_id].append(r)
        per_person[r.person_id].append(r)
        people[r.person_id] = r.person
    result = plan.result or {}
    shift_by_pk = {s.pk: s for s in shifts}
    uncovered = []
    for u in result.get("uncovered", []):
        s = shift_by_pk.get(u["shift"])
        reasons = [
            (REASONS.get(code, code), n)
            for code, n in sorted(u["reasons"].items(), key=lambda kv: (-kv[1], kv[0]))
        ]
        uncovered.append({"shift": s, "missing": u["missing"], "reasons": reasons})
    breakdown = [(PENALTIES.get(k, k), v) for k, v in (result.get("breakdown") or {}).items()]
    shortfalls = [
        {"shift": shift_by_pk.get(f["shift"]), "lines": f["lines"]} for f in result.get("shortfalls") or []
    ]
    wishes = result.get("wishes") or [0, 0]
    hours = {
        pk: round(sum((r.shift.end - r.shift.start).total_seconds() for r in rs) / 3600, 1)
        for pk, rs in per_person.items()
    }
    ctx = {
        **_progress_context(plan),
        "may_manage": may_manage,
        "editable": may_manage and plan.status in (PlanStatus.PROPOSED, PlanStatus.DRAFT),
        "shift_rows": [(s, per_shift.get(s.pk, [])) for s in shifts],
        "person_rows": [
            (people[pk], per_person[pk], hours[pk]) for pk in sorted(people, key=lambda k: people[k].code)
        ],
        "uncovered": uncovered,
        "breakdown": breakdown,
        "shortfalls": shortfalls,
        "wishes_met": wishes[0],
        "wishes": wishes[1],
        "result": result,
        "shifts": shifts,
        "candidates": list(services.rostering_candidates(user, plan, [s.pk for s in shifts]))
        if may_manage
        else [],
        "resolve_form": ResolveForm(
            initial={"seconds": int(plan.options.get("seconds", 10)), "seed": plan.options.get("seed", 0)}
        ),
        "published": plan.status == PlanStatus.PUBLISHED,
        "advanced_open": bool(request.GET.get("advanced")),
    }
    return render(request, "roster/plan.html", ctx)


@login_required
def plan_progress(request: HttpRequest, pk: int) -> HttpResponse:
    plan = services.plan_get_or_404(request.user, pk)
    ctx = _progress_context(plan)
    response = render(request, "roster/_progress.html", ctx)
    if request.GET.get("poll") and not ctx["polling"]:
        response["HX-Refresh"] = "true"  # the solve is over: show the proposal
    return response


def _done(request: HttpRequest, plan: RosterPlan) -> HttpResponse:
    return redirect("roster:plan_detail", pk=plan.pk)


def _errors(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


@login_required
@require_POST
def plan_solve(request: HttpRequest, pk: int) -> HttpResponse:
    plan = services.plan_get_or_404(request.user, pk)
    form = ResolveForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for e in errors:
                messages.error(request, str(e))
        return _done(request, plan)
    try:
        services.solve_start(
            actor=request.user,
            plan=plan,
            seconds=form.cleaned_data["seconds"],
            seed=form.cleaned_data["seed"],
        )
    except ValidationError as exc:
        _errors(request, exc)
    return _done(request, plan)


@login_required
@require_POST
def plan_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    plan = services.plan_get_or_404(request.user, pk)
    services.solve_cancel(actor=request.user, plan=plan)
    return _done(request, plan)


def _shift_person(request: HttpRequest, plan: RosterPlan) -> tuple[Shift, Person]:
    """The plan's shift and a person the user may name in it; anything else (unknown, another plan's
    shift, someone out of scope) gets the same message, which names nobody."""
    shift = services.plan_shift(plan, request.POST.get("shift", ""))
    if shift is None:
        raise ValidationError(_("Choose a shift and a person."))
    try:
        person = services.plan_person_or_404(request.user, plan, pk=request.POST.get("person", ""))
    except Http404 as exc:
        raise ValidationError(_("Choose a shift and a person.")) from exc
    return shift, person


@login_required
@require_POST
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    plan = services.plan_get_or_404(request.user, pk)
    try:
        shift, person = _shift_person(request, plan)
        services.proposal_edit(
            actor=request.user, plan=plan, action=request.POST.get("action", ""), shift=shift, person=person
        )
    except ValidationError as exc:
        _errors(request, exc)
    except Http404:  # the person is out of the user's reach: the same words as for nobody
        messages.error(request, _("Choose a shift and a person."))
    return _done(request, plan)


@login_required
@require_POST
def plan_repair(request: HttpRequest, pk: int) -> HttpResponse:
    plan = services.plan_get_or_404(request.user, pk)
    try:
        person = services.plan_person_or_404(request.user, plan, pk=request.POST.get("person", ""))
        services.solve_start(actor=request.user, plan=plan, drop=person)
    except ValidationError as exc:
        _errors(request, exc)
    except Http404:  # unknown, or out of the user's reach: the same words, naming nobody
        messages.error(request, _("Choose the person who drops out."))
    return _done(request, plan)


@login_required
def plan_publish(request: HttpRequest, pk: int) -> HttpResponse:
    """GET (or a POST without a token): the summary of what publishing would do, with a confirm form
    carrying the summary's token; POST with the token: publish, unless the plan changed since."""
    plan = services.plan_get_or_404(request.user, pk)
    token = request.POST.get("token") if request.method == "POST" else None
    if token is None:
        if not services.may_manage_plan(request.user, plan):
            raise services.access.NotAllowed(services.Perm.MOBILIZE_DISPATCH)
        if request.method == "POST":
            return redirect("roster:plan_publish", pk=plan.pk)
        if plan.status != PlanStatus.PROPOSED:
            messages.error(
                request,
                _("Only a proposed roster can be published (this plan is %(status)s).")
                % {"status": plan.get_status_display()},
            )
            return _done(request, plan)
        preview = services.publish_preview(actor=request.user, plan=plan)
        return render(request, "roster/publish.html", {"plan": plan, "preview": preview})
    try:
        res = services.plan_publish(actor=request.user, plan=plan, expected=token[:64])
    except ValidationError as exc:
        _errors(request, exc)
        stale = any(e.code == "stale" for errs in getattr(exc, "error_dict", {}).values() for e in errs)
        if stale:
            return redirect("roster:plan_publish", pk=plan.pk)
    else:
        messages.success(
            request,
            _("Published: %(added)s added, %(removed)s removed, %(notified)s people notified.")
            % {"added": res.added, "removed": res.removed, "notified": res.notified},
        )
        for w in res.warnings:
            messages.warning(request, w)
    return _done(request, plan)


def _published_or_back(request: HttpRequest, plan: RosterPlan) -> HttpResponse | None:
    if plan.status != PlanStatus.PUBLISHED:
        messages.error(request, _("Only a published roster can be exported or printed."))
        return _done(request, plan)
    return None


@login_required
def plan_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The published 排班表 as Excel: people × days and a flat list (phones masked)."""
    plan = services.plan_get_or_404(request.user, pk)
    back = _published_or_back(request, plan)
    if back is not None:
        return back
    name, content = exports.roster_xlsx(actor=request.user, plan=plan)
    return HttpResponse(
        content,
        content_type=XLSX_CONTENT_TYPE,
        headers={"Content-Disposition": content_disposition_header(True, name)},
    )


@login_required
def plan_print(request: HttpRequest, pk: int) -> HttpResponse:
    """The published 排班表 laid out for printing on A4 landscape."""
    plan = services.plan_get_or_404(request.user, pk)
    back = _published_or_back(request, plan)
    if back is not None:
        return back
    table = exports.roster_table(plan)
    shifts = {e.shift.pk: e for e in table.entries}
    legend = sorted({(e.name, e.start, e.end) for e in shifts.values() if e.name}, key=lambda t: (t[1], t[0]))
    return render(
        request, "roster/print.html", {"plan": plan, "table": table, "legend": legend, "now": timezone.now()}
    )


PLANS_PER_PAGE = 25


def _int_param(request: HttpRequest, name: str) -> int | None:
    raw = request.GET.get(name, "")
    if raw.isdigit() and len(raw) <= 12:
        return int(raw)
    return None


@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    """The roster plans the user may see, newest first: filters by unit (its sub-units included), state,
    batch or post; paged.

    A POST here is an old bookmark of the staff register's import form (which lived at /roster/ before
    "roster" came to mean rostering, issue 23): it is sent on, method kept (308), to /people/import/."""
    if request.method == "POST":
        moved = HttpResponse(status=308)
        moved["Location"] = reverse("web:people_import")
        return moved
    user = request.user
    plans = services.plans_visible(user).order_by("-created_at", "-id")
    units = list(
        Unit.objects.filter(
            Q(pk__in=plans.values("deployment__unit")) | Q(pk__in=plans.values("post__unit"))
        ).order_by("path")
    )
    unit = None
    unit_pk = _int_param(request, "unit")
    if unit_pk is not None:
        unit = next((u for u in units if u.pk == unit_pk), None)
        if unit is not None:
            plans = plans.filter(
                Q(deployment__unit__path__startswith=unit.path) | Q(post__unit__path__startswith=unit.path)
            )
        else:
            plans = plans.none()  # a unit without visible plans (or unknown): nothing, named nowhere
    state = request.GET.get("state", "")
    if state in PlanStatus.values:
        plans = plans.filter(status=state)
    else:
        state = ""
    scope = ""
    deployment_pk = _int_param(request, "deployment")
    if deployment_pk is not None:
        plans = plans.filter(deployment_id=deployment_pk)
        first = plans.first()
        scope = first.scope_name if first is not None else ""
    post_pk = _int_param(request, "post")
    if post_pk is not None:
        plans = plans.filter(post_id=post_pk)
        first = plans.first()
        scope = first.scope_name if first is not None else ""
    page = Paginator(plans, PLANS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "roster/list.html",
        {
            "page_obj": page,
            "plans": page.object_list,
            "units": units,
            "unit": unit,
            "state": state,
            "states": PlanStatus.choices,
            "scope": scope,
            "deployment_pk": deployment_pk,
            "post_pk": post_pk,
            "query": query.urlencode(),
        },
    )
