"""A user's own API tokens: list, create (the token is shown once), revoke."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from muster.accounts.models import ApiToken
from muster.accounts.services import token_create, token_revoke
from muster.web.forms import TokenForm


@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    form = TokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        try:
            _token, new_token = token_create(actor=user, user=user, name=form.cleaned_data["name"])
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            form = TokenForm()
    tokens = ApiToken.objects.filter(user=user).order_by("revoked_at", "-created_at")
    response = render(
        request, "web/tokens/list.html", {"form": form, "tokens": tokens, "new_token": new_token}
    )
    if new_token:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    owner: Any = request.user
    token = ApiToken.objects.filter(pk=pk, user=owner, revoked_at__isnull=True).first()
    if token is None:
        raise Http404
    token_revoke(actor=request.user, token=token)
    messages.success(request, _("The token %(name)s was revoked.") % {"name": token.name})
    return redirect(reverse("web:tokens"))
