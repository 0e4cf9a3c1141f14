"""Care pages: the liaison's "今天要联系的人" (a phone page: one tap records "联系上，一切正常"), a subject
(health details only with the care-data permission, read-audited), a help request form, the manager's
overdue contacts by unit or liaison, and a round's coverage.

Thin: objects come through ``muster.care.policy`` (out of scope = 404); writes go through the services.
"""

from __future__ import annotations

from typing import Any, TypeVar
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, F, Q, QuerySet, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from muster import clock
from muster.care import policy, queries
from muster.care import services as care
from muster.care.forms import (
    AnswerForm,
    ConsolationForm,
    ContributionForm,
    DeliveryForm,
    DonationForm,
    DriveForm,
    HelpForm,
    HelpStepForm,
    LineMarkForm,
    ReceiptForm,
    RoundForm,
    RunForm,
    StatusForm,
    SubjectEditForm,
    SubjectForm,
    put_errors,
)
from muster.care.models import (
    CareSubject,
    CharityDrive,
    Consolation,
    ConsolationKind,
    DeliveryRun,
    Donation,
    HelpCategory,
    HelpRequest,
    HelpStatus,
    LineStatus,
    SurveyRound,
    Urgency,
)
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import PARTY_KINDS, Partner, Person, Unit


def _errors(exc: ValidationError) -> str:
    return "; ".join(exc.messages)


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
def round_detail(request: HttpRequest, pk: int) -> HttpResponse:
    r = _round_or_404(request.user, pk)
    cov = queries.round_coverage(r)
    missing = list(queries.not_reached(r).select_related("liaison")[:300])
    return render(
        request,
        "care/round.html",
        {"r": r, "cov": cov, "missing": missing, "manage": policy.may_manage(request.user, r.unit)},
    )


# ---------------------------------------------------------------- forms (thin: services decide)


def _manage_units(user: Any) -> QuerySet[Unit]:
    """The administrative units the user may manage (the choices of a unit field)."""
    units = access.scoped(Unit.objects.filter(is_active=True), user, Perm.CHANGE).order_by("path")
    return units.exclude(kind__in=PARTY_KINDS)


def _person_or_error(user: Any, code: str, field: str) -> Person | None:
    """A person by code in the user's view; anyone else reads like a code that does not exist."""
    code = (code or "").strip()
    if not code:
        return None
    p = access.scoped(Person.objects.all(), user, Perm.VIEW).filter(code=code).first()
    if p is None:
        raise ValidationError({field: _("There is no person with the code %(code)s.") % {"code": code}})
    return p


def _form_page(
    request: HttpRequest, form: Any, *, title: str, back: str, multipart: bool = False, form_id: str = ""
) -> HttpResponse:
    return render(
        request,
        "care/form.html",
        {"form": form, "title": title, "back": back, "multipart": multipart, "form_id": form_id},
        status=422 if form.is_bound and form.errors else 200,
    )


def _upload(form: Any) -> tuple[bytes, str] | None:
    f = form.cleaned_data.get("receipt")
    if not f:
        return None
    from muster.care import receipts

    data = f.read(receipts.max_bytes() + 1)
    return data, f.name


def _attach(request: HttpRequest, form: Any, **target: Any) -> None:
    got = _upload(form)
    if got is not None:
        care.receipt_attach(actor=request.user, data=got[0], filename=got[1], **target)


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


# ---------------------------------------------------------------- survey rounds


M = TypeVar("M", SurveyRound, CharityDrive)


def _in_unit_or_404(model: type[M], user: Any, pk: int) -> M:
    """A row of a care model kept by a unit (``unit``), if ``user`` sees that unit; else 404 alike."""
    row = (
        model.objects.filter(access.path_q(user, Perm.VIEW, "unit__path"), pk=pk)
        .select_related("unit")
        .first()
    )
    if row is None:
        raise Http404
    return row


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


# ---------------------------------------------------------------- deliveries


_run_or_404 = policy.run_get_or_404


@login_required
def deliveries(request: HttpRequest) -> HttpResponse:
    rows = DeliveryRun.objects.filter(access.path_q(request.user, Perm.VIEW, "unit__path")).select_related(
        "unit"
    )
    rows = rows.annotate(n=Count("lines"))
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request, "care/deliveries.html", {"page": page, "may_add": _manage_units(request.user).exists()}
    )


@login_required
def subject_delivery(request: HttpRequest, code: str) -> HttpResponse:
    """Record a delivery to one subject (the liaison at the door): item, quantity, the help request it
    fulfils, a receipt photo."""
    s = policy.subject_by_code_or_404(request.user, code)
    if not (policy.may_record(request.user, s) or policy.may_manage(request.user, s.unit)):
        raise PermissionDenied
    open_requests = list(
        HelpRequest.objects.filter(
            subject=s, status__in=[HelpStatus.NEW, HelpStatus.ASSIGNED, HelpStatus.IN_PROGRESS]
        ).order_by("-raised_at")
    )
    form = DeliveryForm(request.POST or None, request.FILES or None, requests=open_requests)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        hr = next((r for r in open_requests if r.pk == d["help_request"]), None)
        try:
            with transaction.atomic():
                run = care.delivery_run_create(
                    actor=request.user,
                    unit=s.unit,
                    name=d["item"],
                    kind=d["kind"],
                    lines=[care.LineIn(s, d["item"], d["quantity"], d["note"], help_request=hr)],
                )
                if d["delivered"]:
                    care.delivery_line_mark(
                        actor=request.user, line=run.lines.get(), status=LineStatus.DELIVERED
                    )
                _attach(request, form, run=run)
        except ValidationError as exc:
            put_errors(
                form,
                exc,
                aliases={
                    "lines.1.item": "item",
                    "lines.1.quantity": "quantity",
                    "lines.1.note": "note",
                    "lines.1": "__all__",
                    "file": "receipt",
                },
            )
        else:
            messages.success(request, _("%(name)s: delivery recorded.") % {"name": s.name})
            return redirect("care:today")
    return render(
        request,
        "care/delivery.html",
        {"form": form, "s": s},
        status=422 if form.is_bound and form.errors else 200,
    )


def _parse_lines(user: Any, text: str) -> list[care.LineIn]:
    out = []
    for n, raw in enumerate([x for x in text.splitlines() if x.strip()], start=1):
        parts = [p.strip() for p in raw.replace("，", ",").split(",")]
        if len(parts) < 3:
            raise ValidationError(
                {"lines": _("Line %(n)s: give the subject code, the item and the quantity.") % {"n": n}}
            )
        s = policy.subjects(user).filter(code=parts[0]).select_related("unit").first()
        if s is None:
            raise ValidationError(
                {"lines": _("Line %(n)s: there is no care subject %(code)s.") % {"n": n, "code": parts[0]}}
            )
        out.append(care.LineIn(s, parts[1], parts[2], ",".join(parts[3:])))
    return out


@login_required
def run_new(request: HttpRequest) -> HttpResponse:
    units = _manage_units(request.user)
    if not units.exists():
        raise PermissionDenied
    form = RunForm(request.POST or None, units=units)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            lines = _parse_lines(request.user, d["lines"])
            run = care.delivery_run_create(
                actor=request.user,
                unit=d["unit"],
                name=d["name"],
                kind=d["kind"],
                lines=lines,
                at=d["at"],
                delivered_at=(d["at"] or clock.now()) if d["delivered"] else None,
            )
        except ValidationError as exc:
            put_errors(form, exc)
        else:
            messages.success(request, _("Delivery run %(name)s recorded.") % {"name": run.name})
            return redirect("care:run", pk=run.pk)
    return _form_page(request, form, title=_("New delivery run"), back=reverse("care:deliveries"))


@login_required
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run_or_404(request.user, pk)
    lines = list(run.lines.select_related("subject", "help_request").order_by("pk"))
    if request.method == "POST":
        line = next((x for x in lines if str(x.pk) == request.POST.get("line")), None)
        if line is None:
            raise Http404
        form = LineMarkForm(request.POST)
        if form.is_valid():
            try:
                care.delivery_line_mark(
                    actor=request.user,
                    line=line,
                    status=form.cleaned_data["status"],
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as exc:
                messages.error(request, _errors(exc))
            else:
                messages.success(request, _("Saved."))
        else:
            messages.error(request, "; ".join(str(e) for errs in form.errors.values() for e in errs))
        return redirect("care:run", pk=run.pk)
    return render(
        request,
        "care/run.html",
        {
            "run": run,
            "lines": lines,
            "mark": LineMarkForm(),
            "receipts": run.receipts.all(),
            "receipt_form": ReceiptForm(),
        },
    )


@login_required
@require_POST
def receipt_upload(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """Attach a receipt to a delivery run, a consolation payment or a donation (the target in scope)."""
    target: dict[str, Any]
    if kind == "run":
        run = _run_or_404(request.user, pk)
        target, back = {"run": run}, reverse("care:run", args=[run.pk])
    elif kind == "consolation":
        c = _consolation_or_404(request.user, pk)
        target, back = {"consolation": c}, reverse("care:consolations")
    elif kind == "donation":
        dn = _donation_or_404(request.user, pk)
        target, back = {"donation": dn}, reverse("care:donations")
    else:
        raise Http404
    form = ReceiptForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            _attach(request, form, **target)
        except ValidationError as exc:
            messages.error(request, _errors(exc))
        else:
            messages.success(request, _("Receipt attached."))
    else:
        messages.error(request, "; ".join(str(e) for errs in form.errors.values() for e in errs))
    return redirect(back)


@login_required
def receipt_file(request: HttpRequest, pk: int) -> HttpResponse:
    """A receipt file, to those who may see what it belongs to (404 otherwise); every opening audited."""
    from muster.care import receipts

    r = policy.receipt_get_or_404(request.user, pk)
    care.receipt_read_log(actor=request.user, receipt=r)
    resp = HttpResponse(receipts.read(r.stored_as), content_type=r.content_type)
    resp["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(r.name)}"
    resp["X-Content-Type-Options"] = "nosniff"
    resp["Cache-Control"] = "private, no-store"
    resp["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return resp


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


# ---------------------------------------------------------------- consolations


_consolation_or_404 = policy.consolation_get_or_404


@login_required
def consolation_new(request: HttpRequest, code: str) -> HttpResponse:
    s = policy.subject_by_code_or_404(request.user, code)
    if not policy.may_manage(request.user, s.unit):
        raise PermissionDenied
    form = ConsolationForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            with transaction.atomic():
                c = care.consolation_record(
                    actor=request.user,
                    subject=s,
                    kind=d["kind"],
                    at=d["at"],
                    note=d["note"],
                    to_family=d["to_family"],
                    amount=d["amount"] or None,
                    channel=d["channel"],
                )
                _attach(request, form, consolation=c)
        except ValidationError as exc:
            put_errors(form, exc, aliases={"file": "receipt"})
        else:
            messages.success(request, _("Consolation recorded."))
            return redirect("care:subject", code=s.code)
    return _form_page(
        request,
        form,
        title=_("Consolation for %(name)s") % {"name": s.name},
        back=reverse("care:subject", args=[s.code]),
        multipart=True,
    )


@login_required
def consolations(request: HttpRequest) -> HttpResponse:
    """Consolation payments: those waiting for a second person's approval first."""
    rows = (
        Consolation.objects.filter(policy.visible_q(request.user, "subject__"), kind=ConsolationKind.PAYMENT)
        .select_related("subject__unit")
        .prefetch_related("receipts")
        .order_by(F("approved_at").asc(nulls_first=True), "-at")
    )
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    for c in page:
        c.may_approve = (  # type: ignore[attr-defined]
            c.approved_at is None
            and c.requested_by_id != request.user.pk
            and policy.has_care_data(request.user, c.subject.unit)
            and policy.may_manage(request.user, c.subject.unit)
        )
        c.may_attach = policy.may_manage(request.user, c.subject.unit)  # type: ignore[attr-defined]
    return render(request, "care/consolations.html", {"page": page, "receipt_form": ReceiptForm()})


@login_required
@require_POST
def consolation_approve(request: HttpRequest, pk: int) -> HttpResponse:
    c = _consolation_or_404(request.user, pk)
    try:
        care.consolation_approve(actor=request.user, consolation=c)
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    else:
        messages.success(request, _("Payment approved."))
    return redirect("care:consolations")


# ---------------------------------------------------------------- donations and drives


_donation_or_404 = policy.donation_get_or_404


def _drive_or_404(user: Any, pk: int) -> CharityDrive:
    return _in_unit_or_404(CharityDrive, user, pk)


@login_required
def donations(request: HttpRequest) -> HttpResponse:
    rows = (
        Donation.objects.filter(access.path_q(request.user, Perm.VIEW, "unit__path"))
        .select_related("unit", "partner", "subject")
        .prefetch_related("receipts")
    )
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    drives = (
        CharityDrive.objects.filter(access.path_q(request.user, Perm.VIEW, "unit__path"))
        .select_related("unit")
        .annotate(total=Sum("contributions__amount"), n=Count("contributions"))
        .order_by("-opened_at")[:50]
    )
    for d in page:
        d.may_attach = policy.may_manage(request.user, d.unit)  # type: ignore[attr-defined]
    return render(
        request,
        "care/donations.html",
        {
            "page": page,
            "drives": drives,
            "may_add": _manage_units(request.user).exists(),
            "receipt_form": ReceiptForm(),
        },
    )


@login_required
def donation_new(request: HttpRequest) -> HttpResponse:
    units = _manage_units(request.user)
    if not units.exists():
        raise PermissionDenied
    form = DonationForm(request.POST or None, request.FILES or None, units=units)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            with transaction.atomic():
                partner = None
                if d["partner"]:
                    partner = (
                        access.scoped(Partner.objects.all(), request.user, Perm.VIEW)
                        .filter(code=d["partner"])
                        .first()
                    )
                    if partner is None:
                        raise ValidationError(
                            {"partner": _("There is no partner %(code)s.") % {"code": d["partner"]}}
                        )
                subject = None
                if d["subject"]:
                    subject = policy.subjects(request.user).filter(code=d["subject"]).first()
                    if subject is None:
                        raise ValidationError(
                            {"subject": _("There is no care subject %(code)s.") % {"code": d["subject"]}}
                        )
                dn = care.donation_record(
                    actor=request.user,
                    unit=d["unit"],
                    donor=d["donor"],
                    kind=d["kind"],
                    value=d["value"],
                    items=d["items"],
                    partner=partner,
                    subject=subject,
                    beneficiary=d["beneficiary"],
                    at=d["at"],
                )
                _attach(request, form, donation=dn)
        except ValidationError as exc:
            put_errors(form, exc, aliases={"file": "receipt"})
        else:
            messages.success(request, _("Donation recorded."))
            return redirect("care:donations")
    return _form_page(
        request, form, title=_("Record a donation"), back=reverse("care:donations"), multipart=True
    )


@login_required
def drive_new(request: HttpRequest) -> HttpResponse:
    units = _manage_units(request.user)
    if not units.exists():
        raise PermissionDenied
    form = DriveForm(request.POST or None, units=units)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            drive = care.drive_open(
                actor=request.user,
                unit=d["unit"],
                name=d["name"],
                beneficiary=d["beneficiary"],
                manager=request.user,
            )
        except ValidationError as exc:
            put_errors(form, exc)
        else:
            messages.success(request, _("Charity drive %(name)s opened.") % {"name": drive.name})
            return redirect("care:drive", pk=drive.pk)
    return _form_page(request, form, title=_("Open a charity drive"), back=reverse("care:donations"))


@login_required
def drive_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A drive's total and number of contributions; the individual amounts only for its manager."""
    drive = _drive_or_404(request.user, pk)
    is_manager = request.user.pk == drive.manager_id
    may_record = is_manager or policy.may_manage(request.user, drive.unit)
    form = ContributionForm(request.POST or None)
    if request.method == "POST":
        if not may_record:
            raise PermissionDenied
        if form.is_valid():
            d = form.cleaned_data
            try:
                with transaction.atomic():
                    care.drive_contribute(
                        actor=request.user,
                        drive=drive,
                        amount=d["amount"],
                        person=_person_or_error(request.user, d["person"], "person"),
                        name=d["name"],
                    )
            except ValidationError as exc:
                put_errors(form, exc)
            else:
                messages.success(request, _("Contribution recorded."))
                return redirect("care:drive", pk=drive.pk)
    agg = drive.contributions.aggregate(t=Sum("amount"), n=Count("pk"))
    items = list(drive.contributions.order_by("pk")) if is_manager else []
    return render(
        request,
        "care/drive.html",
        {
            "drive": drive,
            "total": agg["t"] or 0,
            "n": agg["n"],
            "items": items,
            "is_manager": is_manager,
            "may_record": may_record,
            "form": form,
        },
        status=422 if form.is_bound and form.errors else 200,
    )
