"""The party-life landing page: what needs attention."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse


@login_required
def index(request: HttpRequest) -> HttpResponse:
    return redirect(reverse("partylife:meetings"))
