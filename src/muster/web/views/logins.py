"""Logins for people (issue 27 item 2): a manager creates a person's login — or a team's members' logins
at once — and gets printable activation slips (a QR code and the one-time link, shown only in this
response). The rules are in ``muster.accounts.activation``."""

from __future__ import annotations

from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from muster.accounts.activation import Activation, person_login_create, team_logins_create
from muster.orgs.access import get_scoped_or_404
from muster.orgs.models import Person, Team


def _slip(request: HttpRequest, activation: Activation) -> dict[str, Any]:
    url = request.build_absolute_uri(reverse("activate", args=[activation.token]))
    qr = segno.make(url, error="m").svg_inline(scale=3, border=2, title=activation.person.name)
    return {"activation": activation, "url": url, "qr": qr}


def _slips(request: HttpRequest, activations: list[Activation], back: str) -> HttpResponse:
    response = render(
        request,
        "web/people/login_slips.html",
        {"slips": [_slip(request, a) for a in activations], "back": back},
    )
    response["Cache-Control"] = "no-store"  # the links are shown once
    return response


@never_cache
@login_required
@require_POST
def person_login(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_scoped_or_404(Person.objects.select_related("unit"), request.user, pk=pk)
    back = reverse("web:person_detail", args=[person.pk])
    try:
        activation = person_login_create(actor=request.user, person=person)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect(back)
    return _slips(request, [activation], back)


@never_cache
@login_required
@require_POST
def team_logins(request: HttpRequest, pk: int) -> HttpResponse:
    team = get_scoped_or_404(Team.objects.select_related("unit"), request.user, pk=pk)
    activations = team_logins_create(actor=request.user, team=team)
    return _slips(request, activations, reverse("web:team_detail", args=[team.pk]))
