"""The REST API under /api/v1/: authentication, error bodies and each app's router."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as SchemaValidationError

from muster.accounts.api import router as accounts_router
from muster.api.auth import session_auth, token_auth
from muster.api.checks import MusterAPI
from muster.api.common import validation_errors
from muster.orgs.api import register_router
from muster.orgs.api import router as orgs_router

logger = logging.getLogger(__name__)

api = MusterAPI(
    title="Muster API",
    version="1",
    description="The organization (units, people, teams, partners) and the staff roster. "
    "Authenticate with a personal token (Authorization: Bearer mst_…) or the browser session "
    "(unsafe methods then need the X-CSRFToken header).",
    auth=[token_auth, session_auth],
    urls_namespace="api",
)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(request, {"detail": _("Authentication required.")}, status=401)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(request, {"detail": _("Not found.")}, status=404)


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(request, {"detail": _("You are not allowed to do this.")}, status=403)


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    body = {"detail": _("The input is not valid."), "errors": validation_errors(exc)}
    return api.create_response(request, body, status=422)


@api.exception_handler(OverflowError)
def _overflow(request: HttpRequest, exc: OverflowError) -> HttpResponse:
    """The last net under the bounded inputs (``muster.api.common``): a number or date too large for a
    computation is the request's fault, not a server error. Logged with its traceback, to be bounded."""
    logger.warning(
        "Out-of-range input reached a computation: %s %s", request.method, request.path, exc_info=exc
    )
    return api.create_response(
        request, {"detail": _("A number or a date in the request is out of range.")}, status=400
    )


_SOURCES = {"body", "query", "path", "form", "file", "header", "cookie"}


@api.exception_handler(SchemaValidationError)
def _invalid_schema(request: HttpRequest, exc: SchemaValidationError) -> HttpResponse:
    """Request-schema errors in the same shape as service errors: ``{field: [messages]}``."""
    errors: dict[str, list[str]] = {}
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", ())]
        if loc and loc[0] in _SOURCES:
            loc = loc[1:]
        if len(loc) > 1 and loc[0] in {"payload", "filters", "page"}:
            loc = loc[1:]
        field = ".".join(loc) or "__all__"
        errors.setdefault(field, []).append(str(err.get("msg", "")))
    body = {"detail": _("The input is not valid."), "errors": errors}
    return api.create_response(request, body, status=422)


api.add_router("/", register_router)  # the staff register: /people/import before /people/{code}
api.add_router("/", orgs_router)
api.add_router("/", accounts_router)
api.add_router("/mobilize/", "muster.mobilize.api.router")
api.add_router("/", "muster.reports.api.router")
api.add_router("/", "muster.partylife.api.router")
api.add_router("/", "muster.points.api.router")
api.add_router("/", "muster.honors.api.router")
api.add_router("/roster/", "muster.roster.api.router")
api.add_router("/notify/", "muster.notify.api.router")
api.add_router("/care/", "muster.care.api.router")
api.add_router("/outreach/", "muster.outreach.api.router")
api.add_router("/volunteers/", "muster.volunteers.api.router")
