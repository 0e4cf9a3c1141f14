from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm, AdminPasswordChangeForm
from django.contrib.admin.sites import AdminSite
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.contrib.auth.views import PasswordChangeView
from django.http import HttpRequest, HttpResponseBase
from django.urls import reverse
from django.utils.translation import ngettext

from muster.accounts import services
from muster.accounts.backends import login_wait_of
from muster.audit.context import current_origin


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


class ThrottledPasswordChangeForm(PasswordChangeForm):
    """Changing one's password (the app's page, the Django admin's): the old password is a password check
    like a login's, so a wrong one counts and backs off in the same throttle (per user name and address,
    the client's address as the audit log has it) — a stolen session cannot guess the password faster than
    the login page allows."""

    def clean_old_password(self) -> str:
        old: str = self.cleaned_data["old_password"]
        username = self.user.get_username()
        ip = current_origin().ip
        wait = services.login_attempt_start(username=username, ip=ip)
        if wait:
            raise forms.ValidationError(
                ngettext(
                    "Too many wrong passwords. Try again in %(seconds)s second.",
                    "Too many wrong passwords. Try again in %(seconds)s seconds.",
                    wait,
                ),
                code="locked",
                params={"seconds": wait},
            )
        if not self.user.check_password(old):
            services.password_change_failed(username=username)
            raise forms.ValidationError(self.error_messages["password_incorrect"], code="password_incorrect")
        services.login_succeeded(username=username, ip=ip)
        return old


class ThrottledAdminPasswordChangeForm(ThrottledPasswordChangeForm, AdminPasswordChangeForm):
    """The Django admin's "change password" page (``/admin/password_change/``), throttled the same way."""


def throttled_admin_password_change(
    site: AdminSite, request: HttpRequest, extra_context: dict[str, Any] | None = None
) -> HttpResponseBase:
    """``AdminSite.password_change`` with the throttled form (the rest as Django's)."""
    defaults: dict[str, Any] = {
        "form_class": ThrottledAdminPasswordChangeForm,
        "success_url": reverse("admin:password_change_done", current_app=site.name),
        "extra_context": {**site.each_context(request), **(extra_context or {})},
    }
    if site.password_change_template is not None:
        defaults["template_name"] = site.password_change_template
    request.current_app = site.name
    return PasswordChangeView.as_view(**defaults)(request)
