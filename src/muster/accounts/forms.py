from __future__ import annotations

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import ngettext

from muster.accounts.backends import login_wait_of


class ThrottledAuthenticationForm(AuthenticationForm):
    """The login form. The throttle itself is in the authentication backend (``muster.accounts.backends``);
    this says why a refused attempt was refused — the same words whether or not the user name exists."""

    def get_invalid_login_error(self) -> forms.ValidationError:
        wait = login_wait_of(self.request)
        if wait:
            return forms.ValidationError(
                ngettext(
                    "Too many failed logins. Try again in %(seconds)s second.",
                    "Too many failed logins. Try again in %(seconds)s seconds.",
                    wait,
                ),
                code="locked",
                params={"seconds": wait},
            )
        return super().get_invalid_login_error()


class ThrottledAdminAuthenticationForm(ThrottledAuthenticationForm, AdminAuthenticationForm):
    """The Django admin's login form, saying the same when the throttle refuses an attempt."""
