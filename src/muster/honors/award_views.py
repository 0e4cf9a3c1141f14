"""Pages of awards and commendations (表彰: 通报表扬 and awards): propose with evidence, the approval
chain, decide, the evidence file. At ``/honors/awards/`` (the old ``/party/honors/`` addresses redirect
here); shown under party life's tabs, where people look for them.

Thin: reads through ``muster.honors.queries`` (scoped; out of scope = 404), writes through
``muster.honors.awards`` (visible but not allowed = 403; bad input shown on the form).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from muster.honors import awards, queries
from muster.honors.forms import HonorDecideForm, HonorForm
from muster.honors.models import Honor, HonorStatus
from muster.orgs.access import NotAllowed, Perm, can, get_scoped_or_404, scoped
from muster.orgs.models import PARTY_KINDS, Person, Unit
from muster.web.views.common import apply_service_errors, paginate


def _party_units(user: Any, perm: Perm) -> QuerySet[Unit]:
    """Active party organizations where ``user`` holds ``perm``, in tree order."""
    return scoped(Unit.objects.filter(kind__in=PARTY_KINDS, is_active=True), user, perm).order_by("path")


def _person(form: HonorForm, user: Any) -> Person | None:
    """The person whose staff number was entered (a form error when unknown or out of sight)."""
    code = (form.cleaned_data.get("person") or "").strip()
    if not code:
        return None
    person = scoped(Person.objects.all(), user, Perm.VIEW).filter(code=code).first()
    if person is None:
        form.add_error("person", _("No person with the staff number %(code)s was found.") % {"code": code})
    return person


def _unit(form: HonorForm, user: Any) -> Unit | None:
    code = (form.cleaned_data.get("unit") or "").strip()
    if not code:
        return None
    unit = scoped(Unit.objects.all(), user, Perm.VIEW).filter(code=code).first()
    if unit is None:
        form.add_error("unit", _("No unit with the code %(code)s.") % {"code": code})
    return unit


@login_required
def honor_index(request: HttpRequest) -> HttpResponse:
    user = request.user
    qs = queries.visible_honors(user)
    status = request.GET.get("status", "")
    if status in HonorStatus.values:
        qs = qs.filter(status=status)
    return render(
        request,
        "honors/awards/list.html",
        {
            "page": paginate(request, qs),
            "query": f"status={status}" if status else "",
            "status": status,
            "statuses": HonorStatus.choices,
            "can_add": _party_units(user, Perm.PARTY_RECORD).exists(),
        },
    )


@login_required
def honor_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    units = _party_units(user, Perm.PARTY_RECORD)
    if not units.exists():
        raise NotAllowed(Perm.PARTY_RECORD)
    form = HonorForm(
        request.POST or None, request.FILES or None, units=units, initial={"awarded_on": timezone.localdate()}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        person = _person(form, user)
        unit = _unit(form, user)
        if not form.errors:
            try:
                honor = awards.honor_propose(
                    actor=user,
                    kind=data["kind"],
                    name=data["name"],
                    level=data["level"],
                    awarded_on=data["awarded_on"],
                    branch=data["branch"],
                    person=person,
                    unit=unit,
                    issuer=data.get("issuer") or "",
                    evidence=data.get("evidence"),
                    evidence_note=data.get("evidence_note") or "",
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(
                    request, _("The honor was proposed; it now goes through its approval chain.")
                )
                return redirect(reverse("honors:award_detail", args=[honor.pk]))
    return render(
        request,
        "honors/awards/form.html",
        {
            "form": form,
            "title": _("Propose an honor"),
            "back": reverse("honors:awards"),
            "form_id": "honor-form",
            "multipart": True,
        },
    )


def _chain(honor: Honor) -> list[dict[str, Any]]:
    approvals = {a.step: a for a in honor.approvals.all()}
    return [
        {"step": i + 1, "unit": u, "approval": approvals.get(i)}
        for i, u in enumerate(awards.honor_chain(honor))
    ]


@login_required
def honor_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    honor = get_scoped_or_404(queries.visible_honors(user), user, pk=pk)
    chain = _chain(honor)
    next_step = next((c for c in chain if c["approval"] is None), None)
    may_decide = (
        honor.status == HonorStatus.IN_APPROVAL
        and next_step is not None
        and can(user, Perm.PARTY_APPROVE, next_step["unit"])
    )
    form = HonorDecideForm(request.POST or None)
    if request.method == "POST":
        if not may_decide:
            raise NotAllowed(Perm.PARTY_APPROVE)
        if form.is_valid():
            data = form.cleaned_data
            try:
                awards.honor_decide(
                    actor=user,
                    honor=honor,
                    approve=data["decision"] == "approve",
                    opinion=data.get("opinion") or "",
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("Your decision was recorded."))
                return redirect(reverse("honors:award_detail", args=[honor.pk]))
    return render(
        request,
        "honors/awards/detail.html",
        {"honor": honor, "chain": chain, "next_step": next_step, "may_decide": may_decide, "form": form},
    )


@login_required
def honor_evidence(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The evidence file, for those who may see the honor (404 otherwise)."""
    honor = get_scoped_or_404(Honor.objects.all(), request.user, pk=pk)
    return queries.evidence_response(honor)
