"""The one password check: Django's, behind the login throttle.

Every caller of ``django.contrib.auth.authenticate`` — the login page, the Django admin's login, any later
entry point that takes a password — goes through this backend (it is the only one in
``AUTHENTICATION_BACKENDS``), so none of them can be used to guess passwords faster than the throttle
allows. The API takes tokens, never passwords.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from muster.accounts import services
from muster.audit.middleware import client_ip

_WAIT = "_muster_login_wait"


def login_wait_of(request: HttpRequest | None) -> int:
    """The seconds to wait if this request's password check was refused by the throttle, else 0."""
    return int(getattr(request, _WAIT, 0) or 0)


class ThrottledModelBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        ip = client_ip(request) if request is not None else None
        wait = services.login_attempt_start(username=str(username), ip=ip)
        if request is not None:
            setattr(request, _WAIT, wait)
        if wait:
            raise PermissionDenied  # stop: no other backend, no password check
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            services.login_failed(username=str(username))
        else:
            services.login_succeeded(username=str(username), ip=ip)
        return user

    async def aauthenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        return await sync_to_async(self.authenticate)(request, username, password, **kwargs)
