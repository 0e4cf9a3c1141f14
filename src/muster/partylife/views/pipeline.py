"""The membership pipeline (发展党员): cases per branch with stage, dates, introducers and due dates."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from muster.orgs.access import NotAllowed, Perm, can, get_scoped_or_404
from muster.partylife import pipeline as engine
from muster.partylife import queries, services
from muster.partylife.forms import CaseAdvanceForm, CaseOpenForm, CaseTalkForm, split_codes
from muster.partylife.models import MembershipCase
from muster.partylife.views.common import (
    default_scope,
    end_of_day,
    meeting_units,
    party_units,
    people_by_codes,
    resolve_person,
)
from muster.web.views.common import apply_service_errors

MILESTONES = {
    "talk_due": gettext_lazy("First talk with the applicant (within a month)"),
    "candidate_eligible": gettext_lazy("May become a candidate (a year as an activist)"),
    "training": gettext_lazy("Candidate training (at least three days)"),
    "committee_approval": gettext_lazy("Approval by the committee above (within three months)"),
    "full_membership_due": gettext_lazy("Probation ends: decide on full membership"),
}


STATUS = {
    "waiting": gettext_lazy("not yet"),
    "due": gettext_lazy("due now"),
    "overdue": gettext_lazy("overdue"),
}


def milestone_label(code: str) -> str:
    return str(MILESTONES.get(code, code))


@login_required
def pipeline_index(request: HttpRequest) -> HttpResponse:
    user = request.user
    units = party_units(user)
    raw = request.GET.get("unit", "")
    if raw:
        unit = units.filter(pk=int(raw)).first() if raw.isdigit() else None
        if unit is None:
            raise Http404
    else:
        unit = default_scope(user)
        if unit is None:
            raise Http404
    as_of = end_of_day(timezone.localdate())
    cases = list(
        queries.pipeline_cases(user, unit)
        .prefetch_related("introducers")
        .order_by("branch__path", "applied_on")
    )
    due: dict[int, list[tuple[str, object, str]]] = {}
    for d in queries.pipeline_due(user, unit, as_of=as_of):
        due.setdefault(d.case.pk, []).append(
            (milestone_label(d.milestone.code), d.milestone.date, d.milestone.status)
        )
    rows = [(c, due.get(c.pk, [])) for c in cases]
    return render(
        request,
        "partylife/pipeline/list.html",
        {
            "unit": unit,
            "units": units,
            "rows": rows,
            "can_add": meeting_units(user).exists(),
        },
    )


@login_required
def case_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    units = meeting_units(user)
    if not units.exists():
        raise NotAllowed(Perm.PARTY_RECORD)
    form = CaseOpenForm(request.POST or None, units=units, initial={"applied_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        person = resolve_person(form, user, "person")
        if person is not None:
            try:
                case = services.membership_case_open(
                    actor=user,
                    person=person,
                    branch=data["branch"],
                    applied_on=data["applied_on"],
                    note=data.get("note") or "",
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("The application was recorded."))
                return redirect(reverse("partylife:case_detail", args=[case.pk]))
    return render(
        request,
        "partylife/form.html",
        {
            "form": form,
            "title": _("Record an application to join the party"),
            "back": reverse("partylife:pipeline"),
            "form_id": "case-form",
        },
    )


def _case(user: object, pk: int) -> MembershipCase:
    return get_scoped_or_404(
        MembershipCase.objects.select_related("person", "branch").prefetch_related("introducers", "steps"),
        user,
        pk=pk,
    )


@login_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    case = _case(user, pk)
    nxt = engine.next_stage(case.stage)
    advance = CaseAdvanceForm(request.POST or None, initial={"stage": nxt, "on": timezone.localdate()})
    if request.method == "POST":
        if not can(user, Perm.PARTY_RECORD, case.branch):
            raise NotAllowed(Perm.PARTY_RECORD)
        if advance.is_valid():
            data = advance.cleaned_data
            introducers, unknown = people_by_codes(user, split_codes(data.get("introducers") or ""))
            if unknown:
                advance.add_error(
                    "introducers",
                    _("No person with the staff number %(code)s was found.") % {"code": ", ".join(unknown)},
                )
            else:
                try:
                    services.membership_case_advance(
                        actor=user,
                        case=case,
                        stage=data["stage"],
                        on=data["on"],
                        introducers=introducers,
                        note=data.get("note") or "",
                    )
                except ValidationError as exc:
                    apply_service_errors(advance, exc)
                else:
                    messages.success(request, _("The case moved to its next stage."))
                    return redirect(reverse("partylife:case_detail", args=[case.pk]))
    through = timezone.localdate()
    milestones = [
        (milestone_label(m.code), m.date, STATUS.get(m.status, m.status))
        for m in engine.milestones(case.stage, case.dates(), through=through)
    ]
    earliest = engine.earliest(nxt, case.dates()) if nxt else None
    return render(
        request,
        "partylife/pipeline/detail.html",
        {
            "case": case,
            "next_stage": nxt,
            "earliest": earliest,
            "milestones": milestones,
            "advance_form": advance,
            "talk_form": CaseTalkForm(initial={"on": timezone.localdate()}),
            "may_record": can(user, Perm.PARTY_RECORD, case.branch) and not case.closed,
        },
    )


@login_required
@require_POST
def case_talk(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    case = _case(user, pk)
    form = CaseTalkForm(request.POST)
    if form.is_valid():
        try:
            services.membership_case_talk(actor=user, case=case, on=form.cleaned_data["on"])
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("The first talk was recorded."))
    else:
        messages.error(request, _("Enter the date of the talk."))
    return redirect(reverse("partylife:case_detail", args=[case.pk]))
