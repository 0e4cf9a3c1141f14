"""Care pages: survey rounds, their coverage and the phone answer form."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from muster.care import policy, queries
from muster.care import services as care
from muster.care.forms import (
    AnswerForm,
    RoundForm,
    put_errors,
)
from muster.care.models import (
    CareSubject,
    SurveyRound,
)
from muster.care.views.common import _errors, _form_page, _in_unit_or_404, _manage_units
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Unit

# ---------------------------------------------------------------- survey rounds


def _round_or_404(user: Any, pk: int) -> SurveyRound:
    return _in_unit_or_404(SurveyRound, user, pk)


@login_required
def rounds(request: HttpRequest) -> HttpResponse:
    rows = SurveyRound.objects.filter(access.path_q(request.user, Perm.VIEW, "unit__path")).select_related(
        "unit"
    )
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request, "care/rounds.html", {"page": page, "may_add": _manage_units(request.user).exists()}
    )


@login_required
def round_new(request: HttpRequest) -> HttpResponse:
    units = _manage_units(request.user)
    if not units.exists():
        raise PermissionDenied
    form = RoundForm(request.POST or None, units=units)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            r = care.round_open(
                actor=request.user,
                unit=d["unit"],
                name=d["name"],
                dimensions=[x.code for x in d["dimensions"]],
            )
        except ValidationError as exc:
            put_errors(form, exc)
        else:
            messages.success(request, _("Round %(name)s opened.") % {"name": r.name})
            return redirect("care:round", pk=r.pk)
    return _form_page(request, form, title=_("Open a survey round"), back=reverse("care:rounds"))


@login_required
@require_POST
def round_close(request: HttpRequest, pk: int) -> HttpResponse:
    r = _round_or_404(request.user, pk)
    try:
        care.round_close(actor=request.user, round=r)
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    else:
        messages.success(request, _("Round closed."))
    return redirect("care:round", pk=r.pk)


def open_rounds_for(user: Any, subject: CareSubject) -> list[SurveyRound]:
    """The open rounds covering a subject (its unit or an ancestor)."""
    paths = [subject.unit.path[:i] for i in range(Unit.steplen, len(subject.unit.path) + 1, Unit.steplen)]
    return list(
        SurveyRound.objects.filter(closed_at__isnull=True, unit__path__in=paths).order_by("-opened_at")
    )


@login_required
def answer(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    """A subject's answers in a round: the liaison's phone form (door to door or on the phone)."""
    s = policy.subject_by_code_or_404(request.user, code)
    r = SurveyRound.objects.filter(pk=pk).select_related("unit").first()
    # the round is reached through the subject (a liaison may not view the round's unit)
    if r is None or not s.unit.path.startswith(r.unit.path):
        raise Http404
    if not policy.may_record(request.user, s):
        raise PermissionDenied
    form = AnswerForm(request.POST or None, round=r)
    if request.method == "POST" and form.is_valid():
        try:
            care.survey_answer_record(
                actor=request.user,
                subject=s,
                round=r,
                answers=form.answers(),
                channel=form.cleaned_data["channel"],
                at=form.cleaned_data["at"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            put_errors(
                form, exc, aliases={c: f"d_{c}" for c in form.dimension_codes} | {"answers": "__all__"}
            )
        else:
            messages.success(request, _("%(name)s: answers recorded.") % {"name": s.name})
            return redirect("care:today")
    return render(
        request,
        "care/answer.html",
        {"form": form, "s": s, "r": r},
        status=422 if form.is_bound and form.errors else 200,
    )


@login_required
def round_detail(request: HttpRequest, pk: int) -> HttpResponse:
    r = _round_or_404(request.user, pk)
    cov = queries.round_coverage(r)
    missing = list(queries.not_reached(r).select_related("liaison")[:300])
    return render(
        request,
        "care/round.html",
        {"r": r, "cov": cov, "missing": missing, "manage": policy.may_manage(request.user, r.unit)},
    )
