"""Editing and closing taxpayer homes, classes and co-building agreements, and the agreement's page with the
visits and classes that belong to it. Thin: the services check every rule; a refused form is a 422 with the
reasons on its fields and nothing written; out of scope is 404, visible but not writable 403."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from muster.orgs import access, partner_activity
from muster.orgs.access import Perm
from muster.orgs.models import Partner, Unit
from muster.outreach import queries, services
from muster.outreach import services_service as svc
from muster.outreach.forms import (
    AgreementEditForm,
    AttachActivityForm,
    ClassEditForm,
    CloseForm,
    HomeEditForm,
    split_codes,
)
from muster.outreach.models import Agreement, TaxClass, TaxpayerHome, Visit
from muster.outreach.views import _form_page, _partner_lookup, _partner_name, _run, _writable_branches


def _shown_code(user: Any, partner: Partner | None) -> str:
    """A record's partner's code for the form, if the user may see the partner (else the field is empty)."""
    return partner.code if partner is not None and queries.partner_visible(user, partner) else ""


def _partner_kept(user: Any, form: Any, current: Partner | None) -> Partner | None:
    """The partner the form names; an empty field keeps a partner the user may not see (it was not shown)."""
    partner = _partner_lookup(user, form)
    if partner is None and not form.cleaned_data.get("partner") and current is not None:
        return current if not queries.partner_visible(user, current) else None
    return partner


def _may_or_403(user: Any, unit: Any, branch: Any = None) -> None:
    if not services.may_write(user, unit, branch):
        raise access.NotAllowed(Perm.CHANGE)


# ---------------------------------------------------------------- taxpayer homes


@login_required
def home_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    home = queries.home_get(user, pk)
    _may_or_403(user, home.unit)
    initial = {
        "name": home.name,
        "opened_on": home.opened_on,
        "partner": _shown_code(user, home.partner),
        "address": home.address,
    }
    form = HomeEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        partner = _partner_kept(user, form, home.partner)
        done = _run(
            form,
            lambda: svc.home_update(
                actor=user,
                home=home,
                name=d["name"],
                opened_on=d["opened_on"],
                partner=partner,
                address=d["address"],
            ),
        )
        if done is not None:
            messages.success(request, _("Saved."))
            return redirect("outreach:homes")
    return _form_page(
        request,
        form,
        title=_("Edit taxpayer home"),
        form_id="home-edit-form",
        back=reverse("outreach:homes"),
        note=home.name,
    )


@login_required
def home_close(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    home = queries.home_get(user, pk)
    _may_or_403(user, home.unit)
    form = CloseForm(request.POST or None, initial={"on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        done = _run(
            form,
            lambda: svc.home_close(actor=user, home=home, closed_on=form.cleaned_data["on"]),
            {"closed_on": "on"},
        )
        if done is not None:
            messages.success(request, _("The taxpayer home is closed."))
            return redirect("outreach:homes")
    return _form_page(
        request,
        form,
        title=_("Close taxpayer home"),
        form_id="home-close-form",
        back=reverse("outreach:homes"),
        note=home.name,
    )


# ---------------------------------------------------------------- taxpayer classes


@login_required
def class_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a taxpayer class (not its unit), choose the co-building agreement it belongs to, see and add its
    files. Those who may only see the class see it read-only."""
    user = request.user
    c = queries.class_get(user, pk)
    may = services.may_write(user, c.unit, c.branch)
    if request.method == "POST" and not may:
        raise access.NotAllowed(Perm.CHANGE)
    ents = [e for e in c.enterprises.all() if queries.enterprise_visible(user, e)]
    initial = {
        "held_on": c.held_on,
        "topic": c.topic,
        "speaker": c.speaker,
        "branch": c.branch_id,
        "home": c.home_id,
        "partner": _shown_code(user, c.partner),
        "attendees": c.attendees,
        "satisfaction": c.satisfaction,
        "enterprises": "\n".join(e.credit_code for e in ents),
        "agreement": c.agreement_id,
    }
    form = ClassEditForm(
        request.POST or None,
        # the class's own branch, home and agreement stay valid choices for whoever may edit it
        branches=Unit.objects.filter(Q(pk__in=_writable_branches(user).values("pk")) | Q(pk=c.branch_id)),
        homes=TaxpayerHome.objects.filter(
            Q(pk__in=queries.homes_visible(user).values("pk")) | Q(pk=c.home_id)
        ),
        # agreements of the branches the user writes (the same right as attaching the class to one)
        agreements=Agreement.objects.filter(
            Q(
                pk__in=queries.agreements_visible(user)
                .filter(branch__in=_writable_branches(user).values("pk"))
                .values("pk")
            )
            | Q(pk=c.agreement_id)
        ).select_related("branch", "partner", "partner__unit"),
        user=user,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        partner = _partner_kept(user, form, c.partner)
        codes = [code.upper() for code in split_codes(d["enterprises"])]
        found = {e.credit_code: e for e in queries.enterprises(user).filter(credit_code__in=codes)}
        missing = [code for code in codes if code not in found]
        if missing:
            form.add_error(
                "enterprises",
                _("There is no enterprise with the credit code %(code)s.") % {"code": ", ".join(missing)},
            )
        # Enterprises the user may not see stay on the class: the form shows and changes only the others.
        hidden = [e for e in c.enterprises.all() if not queries.enterprise_visible(user, e)]
        done = _run(
            form,
            lambda: svc.class_update(
                actor=user,
                tax_class=c,
                held_on=d["held_on"],
                topic=d["topic"],
                speaker=d["speaker"],
                branch=d["branch"],
                home=d["home"],
                partner=partner,
                attendees=d["attendees"],
                satisfaction=d["satisfaction"],
                enterprises=[found[code] for code in codes] + hidden,
                agreement=d["agreement"],
            ),
        )
        if done is not None:
            messages.success(request, _("Saved."))
            return redirect("outreach:class_edit", pk=c.pk)
    status = 422 if form.is_bound and form.errors else 200
    return render(
        request,
        "outreach/class.html",
        {
            "c": c,
            "form": form,
            "may": may,
            "files": c.attachments.all(),
            "agreement_shown": queries.agreement_label(user, c.agreement) if c.agreement else "",
        },
        status=status,
    )


# ---------------------------------------------------------------- co-building agreements


def _activity_choices(user: Any, a: Agreement) -> tuple[QuerySet[Visit], QuerySet[TaxClass]]:
    """Visits and classes the user may attach to ``a``: of its branch's subtree, in its period, not yet
    attached to an agreement (the latest 200 of each)."""
    period = Q(held_on__gte=a.start) & (Q(held_on__lte=a.end) if a.end is not None else Q())
    free = period & queries.subtree_q(a.branch) & Q(agreement__isnull=True)
    visit_ids = list(
        queries.visits(user).filter(free).order_by("-held_on", "-id").values_list("pk", flat=True)[:200]
    )
    class_ids = list(
        queries.classes_visible(user)
        .filter(free)
        .order_by("-held_on", "-id")
        .values_list("pk", flat=True)[:200]
    )
    return (
        Visit.objects.filter(pk__in=visit_ids).order_by("-held_on", "-id"),
        TaxClass.objects.filter(pk__in=class_ids).order_by("-held_on", "-id"),
    )


@login_required
def agreement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A co-building agreement with the visits and classes that belong to it (those the user may see)."""
    user = request.user
    a = queries.agreement_get(user, pk)
    may = services.may_write(user, a.branch, a.branch)
    form = None
    if may:
        visits, classes = _activity_choices(user, a)
        form = AttachActivityForm(visits=visits, classes=classes)
    return _agreement_page(request, a, may, form)


def _agreement_page(
    request: HttpRequest, a: Agreement, may: bool, form: Any, status: int = 200
) -> HttpResponse:
    user = request.user
    return render(
        request,
        "outreach/agreement.html",
        {
            "a": a,
            "partner_shown": _partner_name(user, a.partner),
            "visits": queries.visits(user).filter(agreement=a).order_by("-held_on", "-id"),
            "classes": queries.classes_visible(user).filter(agreement=a),
            # donations to the partner in the agreement's period, kept by the care ledger
            "others": partner_activity.activities(user, a.partner, a.start, a.end),
            "may": may,
            "form": form,
            "today": timezone.localdate(),
        },
        status=status,
    )


@login_required
@require_POST
def agreement_attach(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    a = queries.agreement_get(user, pk)
    _may_or_403(user, a.branch, a.branch)
    visits, classes = _activity_choices(user, a)
    form = AttachActivityForm(request.POST, visits=visits, classes=classes)
    if form.is_valid():
        d = form.cleaned_data
        done = _run(
            form,
            lambda: svc.agreement_attach(actor=user, agreement=a, visit=d["visit"], tax_class=d["tax_class"]),
        )
        if done is not None:
            messages.success(request, _("The activity now counts for this agreement."))
            return redirect("outreach:agreement_detail", pk=a.pk)
    return _agreement_page(request, a, True, form, status=422)


@login_required
@require_POST
def agreement_detach(request: HttpRequest, pk: int, kind: str, activity: int) -> HttpResponse:
    user = request.user
    a = queries.agreement_get(user, pk)
    _may_or_403(user, a.branch, a.branch)
    try:
        if kind == "visit":
            svc.agreement_detach(actor=user, agreement=a, visit=queries.visit_get(user, activity))
        elif kind == "class":
            svc.agreement_detach(actor=user, agreement=a, tax_class=queries.class_get(user, activity))
        else:
            raise Http404
    except ValidationError as exc:  # e.g. detached already (a second click): say so, nothing changes
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The activity no longer counts for this agreement."))
    return redirect("outreach:agreement_detail", pk=a.pk)


@login_required
def agreement_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    a = queries.agreement_get(user, pk)
    _may_or_403(user, a.branch, a.branch)
    initial = {"partner": _shown_code(user, a.partner), "title": a.title, "start": a.start, "end": a.end}
    form = AgreementEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        partner = _partner_kept(user, form, a.partner)
        if partner is None and not form.errors:
            form.add_error("partner", _("A partner is required."))
        done = (
            _run(
                form,
                lambda: svc.agreement_update(
                    actor=user, agreement=a, partner=partner, title=d["title"], start=d["start"], end=d["end"]
                ),
            )
            if partner is not None
            else None
        )
        if done is not None:
            messages.success(request, _("Saved."))
            return redirect("outreach:agreement_detail", pk=a.pk)
    back = reverse("outreach:agreement_detail", args=[a.pk])
    return _form_page(
        request,
        form,
        title=_("Edit co-building agreement"),
        form_id="agreement-edit-form",
        back=back,
        note=queries.agreement_label(user, a),
    )


@login_required
def agreement_close(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    a = queries.agreement_get(user, pk)
    _may_or_403(user, a.branch, a.branch)
    form = CloseForm(request.POST or None, initial={"on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        done = _run(
            form,
            lambda: svc.agreement_close(actor=user, agreement=a, end=form.cleaned_data["on"]),
            {"end": "on"},
        )
        if done is not None:
            messages.success(request, _("The co-building agreement is ended."))
            return redirect("outreach:agreement_detail", pk=a.pk)
    back = reverse("outreach:agreement_detail", args=[a.pk])
    return _form_page(
        request,
        form,
        title=_("End co-building agreement"),
        form_id="agreement-close-form",
        back=back,
        note=queries.agreement_label(user, a),
    )
