"""The mobilization entry page: organizers land on the batches, volunteers on their own service."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from muster.orgs.access import Perm, can_anywhere


@login_required
def index(request: HttpRequest) -> HttpResponse:
    if can_anywhere(request.user, Perm.MOBILIZE_DISPATCH):
        return redirect(reverse("mobilize:batches"))
    return redirect(reverse("mobilize:my_service"))
