from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from muster.orgs.access import Perm, can_anywhere, visible_roots
from muster.orgs.models import RoleGrant
from muster.orgs.queries import unit_counts
from muster.reports.views import home_party, home_report


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    grants = RoleGrant.objects.filter(user=user).select_related("unit").order_by("unit__path", "role")
    roots = [(unit, unit_counts(unit)) for unit in visible_roots(user)]
    return render(
        request,
        "web/home.html",
        {
            "grants": grants,
            "roots": roots,
            "can_import": can_anywhere(user, Perm.IMPORT),
            "can_audit": can_anywhere(user, Perm.AUDIT),
            "report_card": home_report(user),
            "party_card": home_party(user),
        },
    )
