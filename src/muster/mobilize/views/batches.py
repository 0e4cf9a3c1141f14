"""Batches (派出批次): the list per unit with 第N批 numbers, the dispatch form, a batch's page, measures."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from muster import clock
from muster.mobilize import queries, services
from muster.mobilize.forms import DeploymentFilterForm, DispatchForm, MeasureForm
from muster.mobilize.models import Deployment, DeploymentStatus, RequestStatus, ServiceEntry
from muster.mobilize.views.common import dispatch_units, may_manage_deployment, report_warnings
from muster.orgs.access import NotAllowed, Perm, can_anywhere, scoped
from muster.orgs.models import Partner, Person, Team, Unit
from muster.web.views.common import apply_service_errors, form_status, paginate, query_without_page


def _day_start(day: Any) -> datetime:
    return datetime.combine(day, time(0), tzinfo=timezone.get_current_timezone())


@login_required
def deployment_index(request: HttpRequest) -> HttpResponse:
    user = request.user
    units = scoped(Unit.objects.all(), user, Perm.VIEW).order_by("path")
    form = DeploymentFilterForm(request.GET or None, units=units)
    unit = since = until = None
    status = ""
    if form.is_valid():
        data = form.cleaned_data
        unit = data.get("unit")
        since = _day_start(data["since"]) if data.get("since") else None
        until = _day_start(data["until"]) + timedelta(days=1) if data.get("until") else None
        status = data.get("status") or ""
    qs = queries.deployment_list(user, unit=unit, since=since, until=until)
    if status:
        qs = qs.filter(status=status)
    return render(
        request,
        "mobilize/batches/list.html",
        {
            "form": form,
            "page": paginate(request, qs),
            "query": query_without_page(request),
            "can_add": can_anywhere(user, Perm.MOBILIZE_DISPATCH),
        },
        status=form_status(form),
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
    if req_pk and req_pk.isdigit():
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
            supported = Unit.objects.filter(code=data["supported_unit"].strip(), is_active=True).first()
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
    d = queries.deployment_get_or_404(user, pk=pk)
    may_manage = may_manage_deployment(user, d)
    members = d.memberships.select_related("person", "person__unit", "team").order_by("person__code")
    shifts = d.shifts.select_related("deployment").order_by("start", "id")
    assigned = {s.pk: s.assignments.count() for s in shifts}
    rows = ServiceEntry.objects.filter(deployment=d)
    return render(
        request,
        "mobilize/batches/detail.html",
        {
            "d": d,
            "members": members,
            "shifts": [(s, assigned[s.pk]) for s in shifts],
            # a member who sees the batch through their membership opens only their own shifts
            "openable": set(queries.visible_shifts(user).filter(deployment=d).values_list("pk", flat=True)),
            "measures": d.measures.select_related("kind").order_by("kind__order", "on", "id"),
            "measure_form": MeasureForm() if may_manage else None,
            "may_manage": may_manage,
            "cancelled": d.status == DeploymentStatus.CANCELLED,
            "approved_hours": clock.minutes_to_hours(queries.approved_minutes(rows)),
            "pending_count": queries.pending_rows(rows).count(),
        },
    )


@login_required
@require_POST
def deployment_measure(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    d: Deployment = queries.deployment_get_or_404(user, pk=pk)
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
