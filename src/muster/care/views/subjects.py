"""Care pages: the liaison's "今天要联系的人" (a phone page: one tap records "联系上，一切正常"), a
subject (health details only with the care-data permission, read-audited), the manager's overdue
contacts by unit or liaison, and the subjects' list and forms."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from muster import clock
from muster.care import policy, queries
from muster.care import services as care
from muster.care.forms import (
    StatusForm,
    SubjectEditForm,
    SubjectForm,
    put_errors,
)
from muster.care.models import (
    HelpCategory,
    SurveyRound,
    Urgency,
)
from muster.care.views.common import _errors, _form_page, _manage_units, _person_or_error
from muster.care.views.surveys import open_rounds_for
from muster.orgs import access
from muster.orgs.models import Person


@login_required
def today(request: HttpRequest) -> HttpResponse:
    uid = request.user.pk
    person = Person.objects.filter(user_id=uid).first() if uid is not None else None
    day = clock.today()
    due = list(queries.due_list(person, today=day)[:300]) if person else []
    open_rounds = list(
        SurveyRound.objects.filter(closed_at__isnull=True).select_related("unit").order_by("-opened_at")[:50]
    )
    for s in due:  # the risk level is health data: only with the care-data permission
        s.show_risk = policy.may_see_health(request.user, s)  # type: ignore[attr-defined]
        s.open_round = next(  # type: ignore[attr-defined]
            (r for r in open_rounds if s.unit.path.startswith(r.unit.path)), None
        )
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
        "manage": policy.may_manage(request.user, s.unit),
        "may_deliver": policy.may_record(request.user, s) or policy.may_manage(request.user, s.unit),
        "open_rounds": open_rounds_for(request.user, s),
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
    if unit is None:  # only party organizations in sight: care is kept by administrative units
        return render(request, "care/overdue.html", {"unit": None, "by": "unit", "rows": [], "over_time": []})
    by = "liaison" if request.GET.get("by") == "liaison" else "unit"
    rows = queries.overdue_by(request.user, unit=unit, by=by)
    over_time = queries.over_time_help(request.user, unit=unit)[:100]
    return render(
        request, "care/overdue.html", {"unit": unit, "by": by, "rows": rows, "over_time": over_time}
    )


@login_required
def subjects(request: HttpRequest) -> HttpResponse:
    """The care subjects the user may see (search by code or name)."""
    q = (request.GET.get("q") or "").strip()[:60]
    rows = policy.subjects(request.user).select_related("unit", "liaison").order_by("code")
    if q:
        rows = rows.filter(Q(code__icontains=q) | Q(name__icontains=q))
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    may_add = _manage_units(request.user).exists()
    return render(request, "care/subjects.html", {"page": page, "q": q, "may_add": may_add})


@login_required
def subject_new(request: HttpRequest) -> HttpResponse:
    units = _manage_units(request.user)
    if not units.exists():
        raise PermissionDenied
    form = SubjectForm(request.POST or None, units=units)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            with transaction.atomic():
                person = _person_or_error(request.user, d["person"], "person")
                liaison = _person_or_error(request.user, d["liaison"], "liaison")
                s = care.subject_create(
                    actor=request.user,
                    unit=d["unit"],
                    code=d["code"],
                    person=person,
                    name=d["name"],
                    birth_date=d["birth_date"],
                    phone=d["phone"],
                    id_number=d["id_number"],
                    address=d["address"],
                    community=d["community"],
                    liaison=liaison,
                )
        except ValidationError as exc:
            put_errors(form, exc)
        else:
            messages.success(request, _("Care subject %(name)s added.") % {"name": s.name})
            return redirect("care:subject", code=s.code)
    return _form_page(request, form, title=_("New care subject"), back=reverse("care:subjects"))


@login_required
def subject_edit(request: HttpRequest, code: str) -> HttpResponse:
    s = policy.subject_by_code_or_404(request.user, code)
    if not policy.may_manage(request.user, s.unit):
        raise PermissionDenied
    initial = {"liaison": s.liaison.code if s.liaison else "", "community": s.community}
    form = SubjectEditForm(request.POST or None, initial=initial)
    # the current phone and address are shown masked; a new value replaces them
    form.fields["phone"].help_text = _("Now %(masked)s. Leave empty to keep it.") % {
        "masked": s.phone_masked or "—"
    }
    form.fields["address"].help_text = _("Now %(masked)s. Leave empty to keep it.") % {
        "masked": s.address_masked or "—"
    }
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            with transaction.atomic():
                care.subject_update(
                    actor=request.user,
                    subject=s,
                    liaison=_person_or_error(request.user, d["liaison"], "liaison"),
                    community=d["community"],
                    phone=d["phone"] or None,
                    address=d["address"] or None,
                )
        except ValidationError as exc:
            put_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("care:subject", code=s.code)
    return _form_page(
        request,
        form,
        title=_("Edit %(name)s") % {"name": s.name},
        back=reverse("care:subject", args=[s.code]),
    )


@login_required
def subject_status(request: HttpRequest, code: str) -> HttpResponse:
    s = policy.subject_by_code_or_404(request.user, code)
    if not policy.may_manage(request.user, s.unit):
        raise PermissionDenied
    form = StatusForm(request.POST or None, initial={"status": s.status, "on": clock.today()})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            care.subject_status_set(
                actor=request.user, subject=s, status=d["status"], on=d["on"], note=d["note"]
            )
        except ValidationError as exc:
            put_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("care:subject", code=s.code)
    return _form_page(
        request,
        form,
        title=_("Status of %(name)s") % {"name": s.name},
        back=reverse("care:subject", args=[s.code]),
    )
