"""Care pages: the liaison's "今天要联系的人" (a phone page: one tap records "联系上，一切正常"), a subject
(health details only with the care-data permission, read-audited), a help request form, the manager's
overdue contacts by unit or liaison, and a round's coverage.

Thin: objects come through ``muster.care.policy`` (out of scope = 404); writes go through the services.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from muster import clock
from muster.care import policy, queries
from muster.care import services as care
from muster.care.models import HelpCategory, SurveyRound, Urgency
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Person


def _errors(exc: ValidationError) -> str:
    return "; ".join(exc.messages)


@login_required
def today(request: HttpRequest) -> HttpResponse:
    uid = request.user.pk
    person = Person.objects.filter(user_id=uid).first() if uid is not None else None
    day = clock.today()
    due = list(queries.due_list(person, today=day)[:300]) if person else []
    for s in due:  # the risk level is health data: only with the care-data permission
        s.show_risk = policy.may_see_health(request.user, s)  # type: ignore[attr-defined]
    return render(request, "care/today.html", {"due": due, "day": day, "person": person})


@login_required
def subject(request: HttpRequest, code: str) -> HttpResponse:
    s = policy.subject_by_code_or_404(request.user, code)
    health = policy.may_see_health(request.user, s)
    ctx = {
        "s": s,
        "health": health,
        "liaison": policy.is_liaison(request.user, s),
        "phone": s.phone if (health or policy.is_liaison(request.user, s)) else s.phone_masked,
        "categories": HelpCategory.choices,
        "urgencies": Urgency.choices,
    }
    if health:
        care.health_read_log(actor=request.user, subject=s, where="web")
        ctx["tags"] = care.current_tags(s)
        ctx["answers"] = queries.subject_answers(s)[:100]
    return render(request, "care/subject.html", ctx)


@login_required
@require_POST
def contact_ok(request: HttpRequest, code: str) -> HttpResponse:
    """One tap: "联系上，一切正常"."""
    s = policy.subject_by_code_or_404(request.user, code)
    try:
        care.contact_record(
            actor=request.user, subject=s, channel=request.POST.get("channel", "phone"), outcome="ok"
        )
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    except PermissionDenied:
        raise
    else:
        messages.success(request, _("%(name)s: reached, all well.") % {"name": s.name})
    return redirect("care:today")


@login_required
@require_POST
def help_raise(request: HttpRequest, code: str) -> HttpResponse:
    s = policy.subject_by_code_or_404(request.user, code)
    try:
        r = care.help_request_raise(
            actor=request.user,
            unit=s.unit,
            subject=s,
            source="contact",
            category=request.POST.get("category", ""),
            urgency=request.POST.get("urgency", "normal"),
            description=request.POST.get("description", ""),
        )
    except ValidationError as exc:
        messages.error(request, _errors(exc))
        return redirect("care:subject", code=s.code)
    messages.success(request, _("Help request #%(id)s raised.") % {"id": r.pk})
    return redirect("care:today")


@login_required
def overdue(request: HttpRequest) -> HttpResponse:
    code = request.GET.get("unit", "")
    unit = (
        policy.unit_get_or_404(request.user, code)
        if code
        else next((u for u in access.visible_roots(request.user) if not u.is_party), None)
    )
    if unit is None:
        raise Http404
    by = "liaison" if request.GET.get("by") == "liaison" else "unit"
    rows = queries.overdue_by(request.user, unit=unit, by=by)
    over_time = queries.over_time_help(request.user, unit=unit)[:100]
    return render(
        request, "care/overdue.html", {"unit": unit, "by": by, "rows": rows, "over_time": over_time}
    )


@login_required
def round_detail(request: HttpRequest, pk: int) -> HttpResponse:
    r = (
        SurveyRound.objects.filter(access.path_q(request.user, Perm.VIEW, "unit__path"), pk=pk)
        .select_related("unit")
        .first()
    )
    if r is None:
        raise Http404
    cov = queries.round_coverage(r)
    missing = list(queries.not_reached(r).select_related("liaison")[:300])
    return render(request, "care/round.html", {"r": r, "cov": cov, "missing": missing})
