"""Honors pages: a person's volunteer record (志愿服务记录) with its star tier and certificates, the
certificate PDF, requests waiting for approval, the star-tier table, and the public verification page.

Thin: reads through ``muster.honors.queries`` (scoped; out of scope = 404), writes through
``muster.honors.services``; a refused write is shown on the page with a 4xx status, nothing half done.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from muster.honors import exports, queries, services
from muster.honors.models import CertificateStatus, StarTier
from muster.honors.pdf import certificate_pdf
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Person, Unit
from muster.web.views.common import param_date


def _as_of(request: HttpRequest) -> datetime:
    day = param_date(request.POST if request.method == "POST" else request.GET, "as_of")
    return queries.cutoff_of_day(day) if day else queries.default_cutoff()


def _messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [m for msgs in exc.message_dict.values() for m in msgs]
    return list(exc.messages)


def _record_page(
    request: HttpRequest,
    person: Person,
    *,
    as_of: datetime | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    as_of = as_of or _as_of(request)
    record = queries.record_seen_by(user, queries.volunteer_record(person, as_of))
    if request.GET.get("format") == "xlsx":
        return exports.record_response(record)
    own = person.user_id is not None and person.user_id == user.pk
    certs = list(queries.person_certificates(user, person))
    may_decide = queries.may_decide(user, person)
    as_of_day = timezone.localtime(as_of, queries.local_tz()).date()
    if as_of_day and as_of.hour == 0 and as_of.minute == 0:
        as_of_day = as_of_day.fromordinal(as_of_day.toordinal() - 1)
    return render(
        request,
        "honors/record.html",
        {
            "person": person,
            "record": record,
            "tier": record.tier,
            "tiers": queries.thresholds(),
            "tier_names": queries.tier_names(),
            "certificates": certs,
            "own": own,
            "may_issue": may_decide,
            "may_request": own and not any(c.status == CertificateStatus.REQUESTED for c in certs),
            "as_of_day": as_of_day,
            "errors": errors or [],
            "units": _issuing_units(user, person) if may_decide else [],
        },
        status=status,
    )


def _issuing_units(user: Any, person: Person) -> list[Unit]:
    """The person's units the user may issue in the name of (they lead them)."""
    return [u for u in access.units_of(person) if access.can(user, Perm.MOBILIZE_APPROVE, u)]


@login_required
def my_record(request: HttpRequest) -> HttpResponse:
    person = queries.own_person(request.user)
    if person is None:
        return render(request, "honors/no_person.html")
    return _record_page(request, person)


@login_required
def person_record(request: HttpRequest, code: str) -> HttpResponse:
    person = queries.person_get_or_404(request.user, code=code)
    return _record_page(request, person)


def _unit_choice(request: HttpRequest, person: Person) -> Unit | None:
    code = (request.POST.get("issuing_unit") or "").strip()
    if not code:
        return None
    unit = access.scoped(Unit.objects.all(), request.user, Perm.VIEW).filter(code=code).first()
    if unit is None:
        raise ValidationError({"issuing_unit": _("Unknown unit %(code)s.") % {"code": code[:40]}})
    return unit


@login_required
@require_POST
def certificate_issue(request: HttpRequest, code: str) -> HttpResponse:
    person = queries.person_get_or_404(request.user, code=code)
    as_of = _as_of(request)
    try:
        cert = services.certificate_issue(
            actor=request.user,
            person=person,
            as_of=as_of,
            issuing_unit=_unit_choice(request, person),
            person_in_charge=request.POST.get("person_in_charge", ""),
            handler=request.POST.get("handler", ""),
            contact=request.POST.get("contact", ""),
            volunteer_number=request.POST.get("volunteer_number", ""),
        )
    except ValidationError as exc:
        return _record_page(request, person, as_of=as_of, errors=_messages(exc), status=400)
    messages.success(request, _("Certificate %(serial)s issued.") % {"serial": cert.serial})
    return redirect("honors:record", code=person.code)


@login_required
@require_POST
def certificate_request(request: HttpRequest) -> HttpResponse:
    person = queries.own_person(request.user)
    if person is None:
        raise Http404
    as_of = _as_of(request)
    try:
        services.certificate_request(actor=request.user, as_of=as_of, note=request.POST.get("note", ""))
    except ValidationError as exc:
        return _record_page(request, person, as_of=as_of, errors=_messages(exc), status=400)
    messages.success(request, _("Your request was sent to your leaders."))
    return redirect("honors:record", code=person.code)


@login_required
def certificate_download(request: HttpRequest, pk: int) -> HttpResponse:
    cert = queries.certificate_get_or_404(request.user, pk=pk)
    if cert.status not in (CertificateStatus.ISSUED, CertificateStatus.REVOKED):
        raise Http404
    full_id = access.may_see_personal(request.user, cert.person, Perm.VIEW_ID)
    base = request.build_absolute_uri("/").rstrip("/")
    data = certificate_pdf(cert, full_id=full_id, base_url=base)
    resp = HttpResponse(data, content_type="application/pdf")
    resp["Content-Disposition"] = f'inline; filename="certificate-{cert.serial}.pdf"'
    return resp


@login_required
@require_POST
def certificate_decide(request: HttpRequest, pk: int) -> HttpResponse:
    cert = queries.certificate_get_or_404(request.user, pk=pk)
    action = request.POST.get("action")
    try:
        if action == "approve":
            services.certificate_approve(
                actor=request.user,
                certificate=cert,
                issuing_unit=_unit_choice(request, cert.person),
                person_in_charge=request.POST.get("person_in_charge", ""),
                handler=request.POST.get("handler", ""),
                contact=request.POST.get("contact", ""),
            )
            messages.success(request, _("Request approved; the certificate is issued."))
        elif action == "reject":
            services.certificate_reject(
                actor=request.user, certificate=cert, reason=request.POST.get("reason", "")
            )
            messages.success(request, _("Request rejected."))
        elif action == "revoke":
            services.certificate_revoke(
                actor=request.user, certificate=cert, reason=request.POST.get("reason", "")
            )
            messages.success(request, _("Certificate revoked."))
        else:
            return _record_page(request, cert.person, errors=[_("Unknown action.")], status=400)
    except ValidationError as exc:
        return _record_page(request, cert.person, errors=_messages(exc), status=400)
    if request.POST.get("next") == "approvals":
        return redirect("honors:approvals")
    return redirect("honors:record", code=cert.person.code)


@login_required
def approvals(request: HttpRequest) -> HttpResponse:
    return render(request, "honors/approvals.html", {"requests": queries.pending_requests(request.user)})


@login_required
def tiers(request: HttpRequest) -> HttpResponse:
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        try:
            level = int(request.POST.get("level", ""))
            hours = int(request.POST.get("min_hours", ""))
        except ValueError:
            errors.append(_("Level and hours must be whole numbers."))
            status = 400
        else:
            try:
                services.star_tier_set(
                    actor=request.user, level=level, min_hours=hours, name=request.POST.get("name", "")
                )
            except ValidationError as exc:
                errors, status = _messages(exc), 400
            else:
                messages.success(request, _("Star tier saved."))
                return redirect("honors:tiers")
    admin = access.is_all_powerful(request.user) or any(
        access.can(request.user, Perm.MOBILIZE_CATALOG, r) for r in Unit.objects.get_root_nodes()
    )
    return render(
        request,
        "honors/tiers.html",
        {"tiers": StarTier.objects.order_by("level"), "may_edit": admin, "errors": errors},
        status=status,
    )


def verify(request: HttpRequest, token: str) -> HttpResponse:
    """The public verification page (no login): masked name, hours, issuer, valid or revoked. An unknown
    token gets the same page saying so, with nothing else."""
    result = services.certificate_verify(actor=request.user, token=token)
    resp = render(request, "honors/verify.html", {"v": result}, status=200 if result.found else 404)
    resp["X-Robots-Tag"] = "noindex"
    resp["Cache-Control"] = "no-store"
    return resp
