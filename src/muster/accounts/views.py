"""The activation page: a person opens the one-time link of their slip and sets their password."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from muster.accounts.activation import activation_user, login_activate


@never_cache
def activate(request: HttpRequest, token: str) -> HttpResponse:
    user = activation_user(token)
    if user is None:
        return render(request, "accounts/activate_invalid.html", status=404)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = login_activate(token=token, password=form.cleaned_data["new_password1"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
            return redirect("web:home")
    return render(
        request,
        "accounts/activate.html",
        {"form": form, "username": user.get_username(), "token": token},
        status=422 if form.errors else 200,
    )
