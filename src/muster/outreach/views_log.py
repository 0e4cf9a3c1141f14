"""The service log (after-hours, appointment and green-channel services, 延时服务 / 预约服务 / 绿色通道):
a unit's list with the counts per kind and outside office hours, and the form to log one (usable on a
phone). Thin: ``queries`` to read, ``services_service.service_log`` to write."""

from __future__ import annotations

from typing import cast
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Person
from muster.outreach import queries
from muster.outreach import services_service as svc
from muster.outreach.forms import ServiceLogForm
from muster.outreach.models import ServiceKind
from muster.outreach.views import _form_page, _require_any, _run, _unit_param, _writable_units
from muster.web.views.common import BadQuery, paginate, param_date


@login_required
def service_log_list(request: HttpRequest) -> HttpResponse:
    """The services logged by a unit's subtree in a period, with how many of each kind and how many of
    them outside office hours."""
    user = request.user
    unit = _unit_param(request)
    start = param_date(request.GET, "start")
    end = param_date(request.GET, "end")
    if start is not None and end is not None and end < start:
        raise BadQuery(_("The period cannot end before it starts."))
    kind = request.GET.get("kind") or ""
    if kind not in ServiceKind.values:
        kind = ""
    counts = []
    page = None
    if unit is not None:
        all_kinds = queries.service_log_entries(user, unit, start=start, end=end)
        counts = queries.service_log_counts(all_kinds)
        page = paginate(request, all_kinds.filter(kind=kind) if kind else all_kinds)
        for e in page:
            e.staff_shown = e.staff.name if queries.person_visible(user, e.staff) else _("another unit")
    return render(
        request,
        "outreach/service_log.html",
        {
            "unit": unit,
            "roots": access.visible_roots(user),
            "start": start,
            "end": end,
            "kind": kind,
            "kinds": ServiceKind.choices,
            "counts": counts,
            "total": sum(c.total for c in counts),
            "outside": sum(c.outside_hours for c in counts),
            "page": page,
            "may_add": _writable_units(user).exists(),
        },
    )


@login_required
def service_log_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    units = _writable_units(user)
    _require_any(units)
    now = timezone.localtime(timezone.now(), ZoneInfo(settings.TIME_ZONE)).replace(second=0, microsecond=0)
    form = ServiceLogForm(request.POST or None, units=units, initial={"at": now.replace(tzinfo=None)})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        staff = access.scoped(Person.objects.all(), user, Perm.VIEW).filter(code=d["staff"].strip()).first()
        if staff is None:
            form.add_error(
                "staff",
                _("No person with the staff number %(code)s was found.") % {"code": d["staff"].strip()},
            )
        enterprise = None
        code = (d["enterprise"] or "").strip().upper()
        if code:
            enterprise = queries.enterprises(user).filter(credit_code=code).first()
            if enterprise is None:
                form.add_error(
                    "enterprise", _("There is no enterprise with the credit code %(code)s.") % {"code": code}
                )
        if not d["taxpayer"] and enterprise is None and "enterprise" not in form.errors:
            form.add_error("taxpayer", _("Name the taxpayer, or give the enterprise's credit code."))
        entry = _run(
            form,
            lambda: svc.service_log(
                actor=user,
                at=d["at"],
                kind=d["kind"],
                unit=d["unit"],
                matter=d["matter"],
                staff=cast(Person, staff),  # None only with an error on the form: not called
                enterprise=enterprise,
                taxpayer=d["taxpayer"],
                outside_hours=d["outside_hours"],
            ),
        )
        if entry is not None:
            messages.success(request, _("The service is logged."))
            return redirect(f"{reverse('outreach:service_log')}?unit={entry.unit.code}")
    return _form_page(
        request,
        form,
        title=_("Log a service"),
        form_id="service-log-form",
        back=reverse("outreach:service_log"),
    )
