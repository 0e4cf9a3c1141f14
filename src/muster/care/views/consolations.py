"""Care pages: condolences and consolation payments, with second-person approval."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from muster.care import policy
from muster.care import services as care
from muster.care.forms import (
    ConsolationForm,
    ReceiptForm,
    put_errors,
)
from muster.care.models import (
    Consolation,
    ConsolationKind,
)
from muster.care.views.common import _attach, _errors, _form_page

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
