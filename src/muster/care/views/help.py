"""Care pages: help requests and their steps."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from muster import clock
from muster.care import policy, queries
from muster.care import services as care
from muster.care.forms import (
    HelpForm,
    HelpStepForm,
    put_errors,
)
from muster.care.models import (
    HelpRequest,
    HelpStatus,
)
from muster.care.views.common import _form_page, _manage_units, _person_or_error

# ---------------------------------------------------------------- help requests


def _help_or_404(user: Any, pk: int) -> HelpRequest:
    r = queries.help_requests(user).filter(pk=pk).select_related("unit", "subject", "assignee").first()
    if r is None:
        raise Http404
    return r


@login_required
def help_list(request: HttpRequest) -> HttpResponse:
    rows = queries.help_requests(request.user).select_related("unit", "subject")
    state = request.GET.get("state", "open")
    if state == "open":
        rows = rows.filter(status__in=[HelpStatus.NEW, HelpStatus.ASSIGNED, HelpStatus.IN_PROGRESS])
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "care/help_list.html",
        {"page": page, "state": state, "may_add": _manage_units(request.user).exists(), "now": clock.now()},
    )


@login_required
def help_new(request: HttpRequest) -> HttpResponse:
    units = _manage_units(request.user)
    if not units.exists():
        raise PermissionDenied
    form = HelpForm(request.POST or None, units=units)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            subject = None
            if d["subject"]:
                subject = (
                    policy.subjects(request.user).filter(code=d["subject"]).select_related("unit").first()
                )
                if subject is None:
                    raise ValidationError(
                        {"subject": _("There is no care subject %(code)s.") % {"code": d["subject"]}}
                    )
            r = care.help_request_raise(
                actor=request.user,
                unit=d["unit"],
                subject=subject,
                source=d["source"],
                category=d["category"],
                urgency=d["urgency"],
                description=d["description"],
                requester_name=d["requester_name"],
            )
        except ValidationError as exc:
            put_errors(form, exc)
        else:
            messages.success(request, _("Help request #%(id)s raised.") % {"id": r.pk})
            return redirect("care:help", pk=r.pk)
    return _form_page(request, form, title=_("New help request"), back=reverse("care:help_list"))


@login_required
def help_detail(request: HttpRequest, pk: int) -> HttpResponse:
    r = _help_or_404(request.user, pk)
    form = HelpStepForm(request.POST or None)
    may = policy.may_manage(request.user, r.unit)
    if request.method == "POST":
        if not may:
            raise PermissionDenied
        if form.is_valid():
            d = form.cleaned_data
            try:
                with transaction.atomic():
                    care.help_request_step(
                        actor=request.user,
                        request=r,
                        status=d["status"],
                        note=d["note"],
                        assignee=_person_or_error(request.user, d["assignee"], "assignee"),
                    )
            except ValidationError as exc:
                put_errors(form, exc)
            else:
                messages.success(request, _("Saved."))
                return redirect("care:help", pk=r.pk)
    return render(
        request,
        "care/help.html",
        {
            "r": r,
            "steps": r.steps.order_by("at", "pk"),
            "form": form,
            "may": may,
            "lines": r.delivery_lines.select_related("run"),
        },
        status=422 if form.is_bound and form.errors else 200,
    )
