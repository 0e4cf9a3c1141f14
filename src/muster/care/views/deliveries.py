"""Care pages: deliveries (one at a time or as a run), their lines and receipts."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from muster import clock
from muster.care import policy
from muster.care import services as care
from muster.care.forms import (
    DeliveryForm,
    LineMarkForm,
    ReceiptForm,
    RunForm,
    put_errors,
)
from muster.care.models import (
    DeliveryRun,
    HelpRequest,
    HelpStatus,
    LineStatus,
)
from muster.care.views.common import _attach, _errors, _form_page, _manage_units
from muster.care.views.consolations import _consolation_or_404
from muster.care.views.donations import _donation_or_404
from muster.orgs import access
from muster.orgs.access import Perm

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
