from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from muster.accounts import services
from muster.audit.middleware import client_ip


class ThrottledAuthenticationForm(AuthenticationForm):
    """The login form, refusing further attempts after too many recent failures."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "locked": _("Too many failed logins. Wait %(minutes)s minutes and try again."),
    }

    def clean(self) -> dict[str, Any]:
        from django.conf import settings

        username = (self.data.get("username") or "").strip()
        ip = client_ip(self.request) if self.request else None
        if username and services.login_locked(username=username, ip=ip):
            raise forms.ValidationError(
                self.error_messages["locked"],
                code="locked",
                params={"minutes": max(1, settings.MUSTER_LOGIN_WINDOW_SECONDS // 60)},
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            if username:
                services.login_failed(username=username, ip=ip)
            raise
        services.login_succeeded(username=username)
        return cleaned
