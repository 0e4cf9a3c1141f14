"""Honors (commendations 通报表扬 and awards): propose with evidence, the approval chain, decide."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from muster.orgs.access import NotAllowed, Perm, can, get_scoped_or_404, scoped
from muster.orgs.models import Unit
from muster.partylife import queries, services
from muster.partylife.forms import HonorDecideForm, HonorForm
from muster.partylife.models import Honor, HonorStatus
from muster.partylife.views.common import party_units, resolve_person
from muster.web.views.common import apply_service_errors, paginate


@login_required
def honor_index(request: HttpRequest) -> HttpResponse:
    user = request.user
    qs = scoped(Honor.objects.select_related("person", "unit", "branch"), user, Perm.VIEW)
    status = request.GET.get("status", "")
    if status in HonorStatus.values:
        qs = qs.filter(status=status)
    return render(
        request,
        "partylife/honors/list.html",
        {
            "page": paginate(request, qs),
            "query": f"status={status}" if status else "",
            "status": status,
            "statuses": HonorStatus.choices,
            "can_add": party_units(user, Perm.PARTY_RECORD).exists(),
        },
    )


@login_required
def honor_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    units = party_units(user, Perm.PARTY_RECORD)
    if not units.exists():
        raise NotAllowed(Perm.PARTY_RECORD)
    form = HonorForm(
        request.POST or None, request.FILES or None, units=units, initial={"awarded_on": timezone.localdate()}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        person = resolve_person(form, user, "person")
        unit = None
        code = (data.get("unit") or "").strip()
        if code:
            unit = scoped(Unit.objects.all(), user, Perm.VIEW).filter(code=code).first()
            if unit is None:
                form.add_error("unit", _("No unit with the code %(code)s.") % {"code": code})
        if not form.errors:
            try:
                honor = services.honor_propose(
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
                return redirect(reverse("partylife:honor_detail", args=[honor.pk]))
    return render(
        request,
        "partylife/form.html",
        {
            "form": form,
            "title": _("Propose an honor"),
            "back": reverse("partylife:honors"),
            "form_id": "honor-form",
            "multipart": True,
        },
    )


def _chain(honor: Honor) -> list[dict[str, Any]]:
    approvals = {a.step: a for a in honor.approvals.all()}
    return [
        {"step": i + 1, "unit": u, "approval": approvals.get(i)}
        for i, u in enumerate(services.honor_chain(honor))
    ]


@login_required
def honor_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    honor = get_scoped_or_404(Honor.objects.select_related("person", "unit", "branch"), user, pk=pk)
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
                services.honor_decide(
                    actor=user,
                    honor=honor,
                    approve=data["decision"] == "approve",
                    opinion=data.get("opinion") or "",
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("Your decision was recorded."))
                return redirect(reverse("partylife:honor_detail", args=[honor.pk]))
    return render(
        request,
        "partylife/honors/detail.html",
        {"honor": honor, "chain": chain, "next_step": next_step, "may_decide": may_decide, "form": form},
    )


@login_required
def honor_evidence(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The evidence file, for those who may see the honor (404 otherwise)."""
    honor = get_scoped_or_404(Honor.objects.all(), request.user, pk=pk)
    return queries.evidence_response(honor)
