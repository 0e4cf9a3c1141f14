"""Batches (派出批次): the list per unit with 第N批 numbers, the dispatch form, a batch's page, measures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, F, Q, QuerySet, Sum
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from muster import clock
from muster.audit.services import log_action
from muster.mobilize import policy, queries, services
from muster.mobilize.batch_forms import (
    CancelForm,
    DeploymentEditForm,
    MemberAddForm,
    MemberSearchForm,
    PasteForm,
    TeamAddForm,
)
from muster.mobilize.forms import DATETIME_FORMAT, DispatchForm, MeasureForm
from muster.mobilize.models import (
    Assignment,
    CheckEvent,
    Deployment,
    DeploymentStatus,
    RequestStatus,
    ServiceEntry,
)
from muster.mobilize.views.common import (
    dispatch_units,
    may_manage_deployment,
    report_errors,
    report_warnings,
)
from muster.mobilize.views.days import chosen_day, day_nav, on_day, shift_days
from muster.orgs.access import NotAllowed, Perm, can, can_anywhere, may_see_personal, scoped
from muster.orgs.models import Partner, Person, Team, Unit
from muster.tabular.writer import XLSX_CONTENT_TYPE, SheetData, xlsx_bytes
from muster.web.forms import UnitChoiceField
from muster.web.listing import (
    ChoiceFilter,
    Column,
    CustomFilter,
    Listing,
    PeriodFilter,
    Sort,
    TextFilter,
    choice_label,
)
from muster.web.views.common import apply_service_errors, paginate, query_without_page


def plans_index_url() -> str:
    """The roster app's index of plans (linked from the batch and post pages)."""
    return reverse("roster:plan_list")


MAX_ID = 2**63 - 1  # the largest database id; a larger one in an address is no row (404, never a 500)


def _id(value: int) -> int:
    """``value`` from an address's ``<int:…>``: 404 unless it is a possible database id."""
    if not 0 < value <= MAX_ID:
        raise Http404
    return value


def _batch_label(d: Deployment) -> str:
    return _("%(unit)s · batch %(seq)s") % {"unit": d.unit.name, "seq": d.seq}


def _unit_field(options: Any) -> UnitChoiceField:
    field = UnitChoiceField(label=gettext_lazy("Unit (with sub-units)"), queryset=options, required=False)
    field.empty_label = gettext_lazy("All units")
    return field


def _in_unit(rows: Any, unit: Unit) -> Any:
    """Batches a unit dispatched or was supported by (its subtree)."""
    return rows.filter(Q(unit__path__startswith=unit.path) | Q(supported_unit__path__startswith=unit.path))


BATCHES = Listing(
    name="batches",
    title=gettext_lazy("Batches"),
    columns=[
        Column(gettext_lazy("Batch"), _batch_label, sort="unit"),
        Column(gettext_lazy("Code"), "code", sort="code"),
        Column(gettext_lazy("Task"), "title"),
        Column(gettext_lazy("Start"), "start", sort="start"),
        Column(gettext_lazy("End"), "end", sort="end"),
        Column(gettext_lazy("People"), "member_count", sort="people"),
        Column(gettext_lazy("Leader"), lambda d: d.leader.name if d.leader else ""),
        Column(gettext_lazy("Status"), "status", format=choice_label(DeploymentStatus.choices)),
    ],
    sorts={
        "unit": Sort(gettext_lazy("Batch"), ("unit__path", "seq", "pk")),
        "code": Sort(gettext_lazy("Code"), ("code", "pk")),
        "start": Sort(gettext_lazy("Start"), ("start", "code", "pk")),
        "end": Sort(gettext_lazy("End"), ("end", "code", "pk")),
        "people": Sort(gettext_lazy("People"), ("member_count", "code", "pk")),
    },
    default_sort="-start",
    filters=[
        CustomFilter("unit", _unit_field, _in_unit),
        ChoiceFilter("status", gettext_lazy("Status"), "status", DeploymentStatus.choices),
        PeriodFilter(
            "period",
            gettext_lazy("Start"),
            "start",
            is_datetime=True,
            names=("since", "until"),
            labels=(gettext_lazy("From"), gettext_lazy("To")),
        ),
        TextFilter("q", gettext_lazy("Search"), ["code", "title", "site"]),
    ],
)


@login_required
def deployment_index(request: HttpRequest) -> HttpResponse:
    """Batches in scope: filter (unit, state, start, text), sort, page and export (shared list component)."""
    user = request.user
    units = scoped(Unit.objects.all(), user, Perm.VIEW).order_by("path")
    lst = BATCHES.apply(request, queries.deployment_list(user), options={"unit": units})
    if lst.export_response is not None:
        return lst.export_response
    return render(
        request,
        "mobilize/batches/list.html",
        {"lst": lst, "can_add": can_anywhere(user, Perm.MOBILIZE_DISPATCH)},
        status=lst.status,
    )


def _people_by_codes(user: Any, codes: list[str]) -> tuple[list[Person], list[str]]:
    found = {p.code: p for p in scoped(Person.objects.all(), user, Perm.VIEW).filter(code__in=codes)}
    return [found[c] for c in codes if c in found], [c for c in codes if c not in found]


@login_required
def deployment_create(request: HttpRequest) -> HttpResponse:
    """The dispatch form: unit, teams, hand-picked people, request/partner/site, times, leader."""
    user = request.user
    if not can_anywhere(user, Perm.MOBILIZE_DISPATCH):
        raise NotAllowed(Perm.MOBILIZE_DISPATCH)
    initial: dict[str, Any] = {}
    req_pk = request.GET.get("request")
    if req_pk and req_pk.isdigit() and 0 < int(req_pk) <= MAX_ID:
        req = queries.request_list(user, status=None).filter(pk=int(req_pk)).first()
        if req is not None:
            initial = {
                "request": req,
                "partner": req.partner,
                "title": req.title,
                "site": req.site,
                "start": req.start,
                "end": req.end,
                "unit": req.unit if req.unit in dispatch_units(user) else None,
            }
    form = DispatchForm(
        request.POST or None,
        initial=initial,
        units=dispatch_units(user),
        teams=scoped(Team.objects.filter(is_active=True), user).select_related("unit").order_by("code"),
        requests=queries.request_list(user, status=RequestStatus.OPEN),
        partners=scoped(Partner.objects.filter(is_active=True), user).order_by("name"),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        people, unknown = _people_by_codes(user, data["people"])
        leader = None
        if data.get("leader"):
            found, missing = _people_by_codes(user, [data["leader"].strip()])
            leader = found[0] if found else None
            if missing:
                form.add_error(
                    "leader", _("No person with the staff number %(code)s was found.") % {"code": missing[0]}
                )
        supported = None
        if data.get("supported_unit"):
            supported = policy.supportable_unit(user, data["supported_unit"].strip())
            if supported is None:
                form.add_error(
                    "supported_unit", _("No unit with the code %(code)s.") % {"code": data["supported_unit"]}
                )
        if unknown:
            form.add_error(
                "people",
                _("No person with the staff number %(code)s was found.") % {"code": ", ".join(unknown)},
            )
        if not form.errors:
            try:
                result = services.deployment_dispatch(
                    actor=user,
                    unit=data["unit"],
                    title=data["title"],
                    start=data["start"],
                    end=data["end"],
                    teams=list(data.get("teams") or []),
                    people=people,
                    leader=leader,
                    request=data.get("request"),
                    partner=data.get("partner"),
                    site=data.get("site") or "",
                    supported_unit=supported,
                    note=data.get("note") or "",
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                d = result.deployment
                messages.success(
                    request,
                    _("Batch %(seq)s of %(unit)s (%(code)s) was dispatched with %(n)s people.")
                    % {"seq": d.seq, "unit": d.unit.name, "code": d.code, "n": d.memberships.count()},
                )
                report_warnings(request, result.warnings)
                return redirect(reverse("mobilize:batch_detail", args=[d.pk]))
    return render(
        request,
        "mobilize/form.html",
        {
            "form": form,
            "title": _("Dispatch a batch"),
            "back": reverse("mobilize:batches"),
            "form_id": "dispatch-form",
        },
    )


@login_required
def deployment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    d = queries.deployment_get_or_404(user, pk=_id(pk))
    may_manage = may_manage_deployment(user, d)
    members = d.memberships.select_related("person", "person__unit", "team").order_by("person__code")
    days = shift_days(d.shifts.all())
    day = chosen_day(request, days)
    nav = day_nav(days, day)
    shifts = on_day(d.shifts.select_related("deployment").order_by("start", "id"), day)
    shifts = shifts.annotate(assigned=Count("assignments"))
    rows = ServiceEntry.objects.filter(deployment=d)
    return render(
        request,
        "mobilize/batches/detail.html",
        {
            "d": d,
            "members": members,
            "shifts": [(s, s.assigned) for s in shifts],
            "shift_total": sum(days.values()),
            "day": nav.day,
            "days": nav.days,
            "prev_day": nav.prev_day,
            "next_day": nav.next_day,
            # a member who sees the batch through their membership opens only their own shifts
            "openable": set(queries.visible_shifts(user).filter(deployment=d).values_list("pk", flat=True)),
            "measures": d.measures.select_related("kind").order_by("kind__order", "on", "id"),
            "measure_form": MeasureForm() if may_manage else None,
            "may_manage": may_manage,
            "may_change": can(user, Perm.MOBILIZE_DISPATCH, d.unit),
            # roster plans reach back through their relation (mobilize does not import the roster app)
            "plans": list(d.roster_plans.order_by("start_date", "pk")) if may_manage else [],
            "plans_url": plans_index_url(),
            "cancelled": d.status == DeploymentStatus.CANCELLED,
            "approved_hours": clock.minutes_to_hours(queries.approved_minutes(rows)),
            "pending_count": queries.pending_rows(rows).count(),
        },
    )


@login_required
@require_POST
def deployment_measure(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    d: Deployment = queries.deployment_get_or_404(user, pk=_id(pk))
    form = MeasureForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.measure_record(
                actor=user,
                kind=data["kind"],
                value=data["value"],
                deployment=d,
                on=data.get("on"),
                note=data.get("note") or "",
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("%(measure)s was recorded.") % {"measure": data["kind"].name})
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
    return redirect(reverse("mobilize:batch_detail", args=[d.pk]) + "#measures")


# ---------------------------------------------------------------- a batch's own pages (issue 27, item 7)


def _manageable(request: HttpRequest, pk: int) -> Deployment:
    """The batch for a change: out of scope → 404; in scope without dispatch rights on its unit → 403.

    Edit, cancel and members are the dispatching unit's (the services require ``MOBILIZE_DISPATCH`` there).
    """
    d = queries.deployment_get_or_404(request.user, pk=_id(pk))
    if not can(request.user, Perm.MOBILIZE_DISPATCH, d.unit):
        raise NotAllowed(Perm.MOBILIZE_DISPATCH)
    return d


def _local_input(dt: datetime) -> str:
    return timezone.localtime(dt).strftime(DATETIME_FORMAT)


@login_required
def deployment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a batch's task, place, times, leader and note (``services.deployment_update``)."""
    user = request.user
    d = _manageable(request, pk)
    initial = {
        "title": d.title,
        "site": d.site,
        "start": _local_input(d.start),
        "end": _local_input(d.end),
        "leader": d.leader.code if d.leader else "",
        "note": d.note,
    }
    form = DeploymentEditForm(request.POST or None, initial=initial, has_leader=d.leader_id is not None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        leader = None
        code = data.get("leader") or ""
        if code and code != (d.leader.code if d.leader else ""):
            found, _missing = _people_by_codes(user, [code])
            if found:
                leader = found[0]
            else:
                form.add_error(
                    "leader", _("No person with the staff number %(code)s was found.") % {"code": code}
                )
        if not form.errors:
            try:
                result = services.deployment_update(
                    actor=user,
                    deployment=d,
                    title=data["title"],
                    site=data.get("site") or "",
                    start=data["start"],
                    end=data["end"],
                    leader=leader,
                    note=data.get("note") or "",
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("The batch %(code)s was saved.") % {"code": d.code})
                report_warnings(request, result.warnings)
                return redirect(reverse("mobilize:batch_detail", args=[d.pk]))
    return render(
        request,
        "mobilize/form.html",
        {
            "form": form,
            "title": _("Edit batch %(code)s") % {"code": d.code},
            "subtitle": d.title,
            "back": reverse("mobilize:batch_detail", args=[d.pk]),
            "form_id": "batch-edit-form",
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
def deployment_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel a batch: a page that says what happens, a required reason and a confirmation box."""
    user = request.user
    d = _manageable(request, pk)
    back = reverse("mobilize:batch_detail", args=[d.pk])
    if d.status == DeploymentStatus.CANCELLED:
        messages.info(request, _("The batch is already cancelled."))
        return redirect(back)
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.deployment_cancel(actor=user, deployment=d, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The batch %(code)s was cancelled.") % {"code": d.code})
            return redirect(back)
    members = d.memberships.count()
    return render(
        request,
        "mobilize/batches/cancel.html",
        {
            "d": d,
            "form": form,
            "back": back,
            "member_count": members,
            "shift_count": d.shifts.count(),
            "entry_count": ServiceEntry.objects.filter(deployment=d).values("chain").distinct().count(),
        },
        status=400 if form.is_bound and form.errors else 200,
    )


# ---------------------------------------------------------------- members


def _members_context(request: HttpRequest, d: Deployment, **extra: Any) -> dict[str, Any]:
    user = request.user
    members = d.memberships.select_related("person", "person__unit", "team").order_by("person__code")
    served = set(
        ServiceEntry.objects.filter(deployment=d).values_list("person_id", flat=True).distinct()
    ) | set(
        CheckEvent.objects.filter(assignment__shift__deployment=d)
        .values_list("assignment__person_id", flat=True)
        .distinct()
    )
    ctx: dict[str, Any] = {
        "d": d,
        "page": paginate(request, members),
        "query": query_without_page(request),
        "page_url": _members_url(d),
        "served": served,
        "cancelled": d.status == DeploymentStatus.CANCELLED,
        "team_form": TeamAddForm(teams=_teams_for(user)),
        "paste_form": PasteForm(),
        "report": None,
    }
    ctx.update(extra)
    return ctx


def _teams_for(user: Any) -> QuerySet[Team]:
    return scoped(Team.objects.filter(is_active=True), user).select_related("unit").order_by("code")


def _members_page(request: HttpRequest, d: Deployment, *, status: int = 200, **extra: Any) -> HttpResponse:
    return render(
        request, "mobilize/batches/members.html", _members_context(request, d, **extra), status=status
    )


def _members_url(d: Deployment) -> str:
    return reverse("mobilize:batch_members", args=[d.pk])


@login_required
def deployment_members(request: HttpRequest, pk: int) -> HttpResponse:
    """A batch's members with the picker, the team and the pasted list (dispatching unit only)."""
    return _members_page(request, _manageable(request, pk))


@login_required
def deployment_member_search(request: HttpRequest, pk: int) -> HttpResponse:
    """The picker (htmx): people in the user's scope by name or staff number; phones masked."""
    user = request.user
    d = _manageable(request, pk)
    form = MemberSearchForm(request.GET)
    q = form.cleaned_data["q"].strip() if form.is_valid() else ""
    people: list[Person] = []
    if form.is_valid() and q:
        people = list(
            scoped(Person.objects.all(), user, Perm.VIEW)
            .filter(Q(name__icontains=q) | Q(code__istartswith=q))
            .select_related("unit")
            .order_by("code")[:SEARCH_LIMIT]
        )
    member_ids = set(d.memberships.filter(person__in=people).values_list("person_id", flat=True))
    return render(
        request,
        "mobilize/batches/_picker_results.html",
        {"d": d, "q": q, "people": people, "member_ids": member_ids, "limit": SEARCH_LIMIT},
        status=200 if form.is_valid() else 400,
    )


@login_required
@require_POST
def deployment_member_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Add one person chosen in the picker."""
    user = request.user
    d = _manageable(request, pk)
    form = MemberAddForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_("Choose a person."))
    person = scoped(Person.objects.all(), user, Perm.VIEW).filter(pk=form.cleaned_data["person"]).first()
    if person is None:
        raise Http404
    try:
        result = services.deployment_member_add(actor=user, deployment=d, person=person)
    except ValidationError as exc:
        report_errors(request, exc)
    else:
        if result.created:
            messages.success(request, _("%(person)s joined the batch.") % {"person": person})
        else:
            messages.info(request, _("%(person)s is already in the batch.") % {"person": person})
        report_warnings(request, result.warnings)
    return redirect(_members_url(d))


@login_required
@require_POST
def deployment_member_team(request: HttpRequest, pk: int) -> HttpResponse:
    """Add every member of a team (each with the team they came from)."""
    user = request.user
    d = _manageable(request, pk)
    form = TeamAddForm(request.POST, teams=_teams_for(user))
    if not form.is_valid():
        return _members_page(request, d, status=400, team_form=form)
    team: Team = form.cleaned_data["team"]
    lines = _add_all(
        user,
        d,
        [m.person for m in team.memberships.select_related("person").order_by("person__code")],
        team=team,
    )
    return _members_page(request, d, report=_report(lines), report_title=team.name)


@login_required
@require_POST
def deployment_member_paste(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a pasted list of staff numbers; every line is reported (added, already in, not found, refused)."""
    user = request.user
    d = _manageable(request, pk)
    form = PasteForm(request.POST)
    if not form.is_valid():
        return _members_page(request, d, status=400, paste_form=form)
    codes: list[str] = form.cleaned_data["codes"]
    # Out of scope and unknown read the same: the user never learns that someone outside exists.
    found = {p.code: p for p in scoped(Person.objects.all(), user, Perm.VIEW).filter(code__in=codes)}
    people = [found[c] for c in codes if c in found]
    lines = {line.code: line for line in _add_all(user, d, people)}
    ordered = [
        lines.get(c) or PasteLine(c, None, NOT_FOUND, _("No person with this staff number in your units."))
        for c in codes
    ]
    return _members_page(request, d, report=_report(ordered), report_title=_("Pasted list"))


@login_required
@require_POST
def deployment_member_remove(request: HttpRequest, pk: int, person_pk: int) -> HttpResponse:
    user = request.user
    d = _manageable(request, pk)
    m = d.memberships.select_related("person").filter(person_id=_id(person_pk)).first()
    if m is None:
        raise Http404
    try:
        services.deployment_member_remove(actor=user, deployment=d, person=m.person)
    except ValidationError as exc:
        report_errors(request, exc)
    else:
        messages.success(request, _("%(person)s left the batch.") % {"person": m.person})
    return redirect(_members_url(d))


ADDED, ALREADY, NOT_FOUND, REFUSED = "added", "already", "not_found", "refused"
SEARCH_LIMIT = 20


@dataclass
class PasteLine:
    code: str
    person: Person | None
    outcome: str
    message: str = ""


def _add_all(user: Any, d: Deployment, people: list[Person], *, team: Team | None = None) -> list[PasteLine]:
    """Add each person through the service; each line succeeds or is refused on its own (a per-line
    report, not all-or-nothing: one person's conflict does not keep the others out)."""
    lines: list[PasteLine] = []
    for p in people:
        try:
            result = services.deployment_member_add(actor=user, deployment=d, person=p, team=team)
        except ValidationError as exc:
            lines.append(PasteLine(p.code, p, REFUSED, " ".join(exc.messages)))
            continue
        if result.created:
            lines.append(PasteLine(p.code, p, ADDED, " ".join(w.message for w in result.warnings)))
        else:
            lines.append(PasteLine(p.code, p, ALREADY))
    return lines


def _report(lines: list[PasteLine]) -> dict[str, Any]:
    counts = {k: sum(1 for line in lines if line.outcome == k) for k in (ADDED, ALREADY, NOT_FOUND, REFUSED)}
    return {"lines": lines, "counts": counts}


# ---------------------------------------------------------------- the 名单: Excel and print


def _member_rows(user: Any, d: Deployment) -> list[dict[str, Any]]:
    members = list(d.memberships.select_related("person", "person__unit", "team").order_by("person__code"))
    shifts = dict(
        Assignment.objects.filter(shift__deployment=d)
        .values_list("person_id")
        .annotate(n=Count("id"))
        .values_list("person_id", "n")
    )
    minutes = dict(
        ServiceEntry.objects.filter(deployment=d)
        .exclude(sign=0)
        .values("person_id")
        .annotate(t=Sum(F("sign") * F("minutes")))
        .values_list("person_id", "t")
    )
    rows = []
    for m in members:
        p = m.person
        see_phone = may_see_personal(user, p, Perm.VIEW_PHONE)
        rows.append(
            {
                "code": p.code,
                "name": p.name,
                "unit": p.unit.name,
                "team": m.team.name if m.team else "",
                "political_status": p.get_political_status_display(),
                "phone": p.phone if see_phone else p.phone_masked,
                "leader": d.leader_id == p.pk,
                "shifts": shifts.get(p.pk, 0),
                "hours": clock.minutes_to_hours(int(minutes.get(p.pk) or 0)),
            }
        )
    return rows


def _viewable_member_list(request: HttpRequest, pk: int) -> Deployment:
    """The 名单 is for those who manage the batch (a member sees the batch, not everyone's phone)."""
    d = queries.deployment_get_or_404(request.user, pk=_id(pk))
    if not may_manage_deployment(request.user, d):
        raise NotAllowed(Perm.MOBILIZE_DISPATCH)
    return d


@login_required
def deployment_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The batch's 名单 as an Excel workbook (headers and values translated, phones masked unless allowed)."""
    d = _viewable_member_list(request, pk)
    rows = _member_rows(request.user, d)
    yes, no = _("Yes"), ""
    headers = [
        _("Staff number"),
        _("Name"),
        _("Unit"),
        _("Team"),
        _("Political status"),
        _("Phone"),
        _("Leader"),
        _("Shifts"),
        _("Approved hours"),
    ]
    sheet = SheetData(
        title=_("Members"),
        headers=headers,
        rows=[
            [
                r["code"],
                r["name"],
                r["unit"],
                r["team"],
                r["political_status"],
                r["phone"],
                yes if r["leader"] else no,
                r["shifts"],
                float(r["hours"]),
            ]
            for r in rows
        ],
        widths=[12, 10, 28, 18, 12, 15, 8, 8, 12],
    )
    about = SheetData(
        title=_("Batch"),
        headers=[_("Field"), _("Value")],
        rows=[
            [_("Batch"), d.code],
            [_("Dispatching unit"), d.unit.name],
            [_("Batch number"), d.seq],
            [_("Task"), d.title],
            [_("Place"), d.site],
            [_("Start"), timezone.localtime(d.start).replace(tzinfo=None)],
            [_("End"), timezone.localtime(d.end).replace(tzinfo=None)],
            [_("Status"), d.get_status_display()],
            [_("People"), len(rows)],
        ],
        widths=[16, 40],
    )
    log_action(
        request.user, action="mobilize.deployment.exported", target=d, unit_path=d.unit.path, changes={}
    )
    response = HttpResponse(xlsx_bytes([sheet, about]), content_type=XLSX_CONTENT_TYPE)
    filename = f"{d.code}-{_('members')}.xlsx"
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


@login_required
def deployment_print(request: HttpRequest, pk: int) -> HttpResponse:
    """The batch's 名单 laid out for paper (A4; the browser's print dialog)."""
    d = _viewable_member_list(request, pk)
    log_action(
        request.user, action="mobilize.deployment.printed", target=d, unit_path=d.unit.path, changes={}
    )
    return render(
        request,
        "mobilize/batches/print.html",
        {"d": d, "rows": _member_rows(request.user, d), "printed_at": timezone.localtime()},
    )
