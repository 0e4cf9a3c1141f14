"""Requests (需求): open requests with their coverage; create and edit."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from muster.mobilize import queries, services
from muster.mobilize.forms import RequestEditForm, RequestForm
from muster.mobilize.models import Request, RequestStatus
from muster.mobilize.views.common import dispatch_units
from muster.orgs.access import NotAllowed, Perm, can, can_anywhere, get_scoped_or_404, require, scoped
from muster.orgs.models import Partner
from muster.web.views.common import apply_service_errors, paginate


@login_required
def request_index(request: HttpRequest) -> HttpResponse:
    user = request.user
    status = request.GET.get("status", RequestStatus.OPEN)
    if status not in RequestStatus.values and status != "all":
        status = RequestStatus.OPEN
    qs = queries.request_list(user, status=None if status == "all" else status)
    page = paginate(request, qs)
    rows = []
    for r in page:
        coverage = queries.RequestCoverage(r.people_needed, r.assigned)
        rows.append((r, coverage, min(100, round(100 * coverage.ratio))))
    return render(
        request,
        "mobilize/requests/list.html",
        {
            "page": page,
            "rows": rows,
            "query": f"status={status}",
            "status": status,
            "statuses": [("all", _("All")), *RequestStatus.choices],
            "can_add": can_anywhere(user, Perm.MOBILIZE_DISPATCH),
        },
    )


@login_required
def request_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not can_anywhere(user, Perm.MOBILIZE_DISPATCH):
        raise NotAllowed(Perm.MOBILIZE_DISPATCH)
    form = RequestForm(
        request.POST or None,
        units=dispatch_units(user),
        partners=scoped(Partner.objects.filter(is_active=True), user).order_by("name"),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            req = services.request_create(
                actor=user,
                unit=data["unit"],
                partner=data["partner"],
                title=data["title"],
                people_needed=data["people_needed"],
                start=data["start"],
                end=data["end"],
                site=data.get("site") or "",
                description=data.get("description") or "",
                skills=data["skills"],
                code=data.get("code") or "",
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The request %(code)s was created.") % {"code": req.code})
            return redirect(reverse("mobilize:requests"))
    return render(
        request,
        "mobilize/form.html",
        {"form": form, "title": _("New request"), "back": reverse("mobilize:requests")},
    )


@login_required
def request_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    req = get_scoped_or_404(Request.objects.select_related("unit", "partner"), user, pk=pk)
    require(user, Perm.MOBILIZE_DISPATCH, req)
    form = RequestEditForm(
        request.POST or None,
        initial={
            "title": req.title,
            "site": req.site,
            "people_needed": req.people_needed,
            "start": req.start,
            "end": req.end,
            "status": req.status,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.request_update(
                actor=user,
                request=req,
                status=data["status"],
                people_needed=data["people_needed"],
                title=data["title"],
                site=data.get("site") or "",
                start=data["start"],
                end=data["end"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The changes were saved."))
            return redirect(reverse("mobilize:requests"))
    coverage = queries.request_coverage(req)
    return render(
        request,
        "mobilize/form.html",
        {
            "form": form,
            "title": _("Edit request %(code)s") % {"code": req.code},
            "back": reverse("mobilize:requests"),
            "subtitle": f"{req.partner.name} · {req.unit.name}",
            "coverage": coverage,
            "may_dispatch": can(user, Perm.MOBILIZE_DISPATCH, req.unit),
        },
    )
