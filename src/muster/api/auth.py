"""API authentication: a personal token (``Authorization: Bearer mst_…``) or the browser session.

The session is checked for CSRF on unsafe methods, and only once the user is known to be logged in, so an
anonymous request is always answered 401 (not a CSRF 403).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.errors import HttpError
from ninja.security import HttpBearer
from ninja.security.session import SessionAuth as NinjaSessionAuth
from ninja.utils import check_csrf

from muster.accounts.services import token_authenticate

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class TokenAuth(HttpBearer):
    """A personal API token created with ``POST /api/v1/tokens``."""

    def authenticate(self, request: HttpRequest, token: str) -> Any | None:
        user = token_authenticate(token.strip())
        if user is None:
            return None
        request.user = user
        return user


class SessionAuth(NinjaSessionAuth):
    """ninja's ``django_auth``, with the CSRF check after the login check (so anonymous is 401)."""

    def __init__(self) -> None:
        super().__init__(csrf=False)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any | None:
        user = request.user
        if not user.is_authenticated or not user.is_active:
            return None
        if request.method not in SAFE_METHODS and not getattr(request, "_ninja_csrf_exempt", False):
            if check_csrf(request) is not None:
                raise HttpError(
                    403, _("CSRF check failed: send the csrftoken cookie's value in X-CSRFToken.")
                )
        return user


token_auth = TokenAuth()
session_auth = SessionAuth()
