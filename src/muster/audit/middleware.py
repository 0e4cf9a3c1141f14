from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from muster.audit.context import origin


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


class AuditContextMiddleware:
    """Records the client address and channel (web or api) for every audit event of the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        channel = "api" if request.path.startswith("/api/") else "web"
        with origin(client_ip(request), channel):
            return self.get_response(request)
