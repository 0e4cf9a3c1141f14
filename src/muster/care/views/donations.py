"""Care pages: donations and charity drives (individual amounts only for the drive's manager)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from muster.care import policy
from muster.care import services as care
from muster.care.forms import (
    ContributionForm,
    DonationForm,
    DriveForm,
    ReceiptForm,
    put_errors,
)
from muster.care.models import (
    CharityDrive,
    Donation,
)
from muster.care.views.common import _attach, _form_page, _in_unit_or_404, _manage_units, _person_or_error
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Partner

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
