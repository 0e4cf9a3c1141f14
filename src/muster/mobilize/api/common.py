"""What the mobilization API's routers share: the router, the 422 body with the services' codes
(``coded``), reading times, and resolving people, teams and partners within the caller's scope.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from muster import clock
from muster.api.common import ErrorOut, PageParams, validation_errors
from muster.clock import local_tz
from muster.mobilize import services
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Partner, Person, Team

router = Router(tags=["mobilization"])


class MobilizeErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] | None = None
    code: str | None = Field(None, description="the first machine-readable code, if the service gave one")
    codes: dict[str, list[str]] | None = None


NOT_FOUND = {404: ErrorOut}


WRITE_ERRORS = {403: ErrorOut, 404: ErrorOut, 422: MobilizeErrorOut}


# ================================================================ helpers


def error_codes(exc: ValidationError) -> dict[str, list[str]]:
    """``{field: [codes]}`` of a ``ValidationError`` (only the errors that carry a code)."""
    out: dict[str, list[str]] = {}
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            codes = [e.code for e in errors if e.code]
            if codes:
                out[field] = codes
    else:
        codes = [e.code for e in exc.error_list if e.code]
        if codes:
            out["__all__"] = codes
    return out


def invalid_response(exc: ValidationError) -> JsonResponse:
    codes = error_codes(exc)
    first = next((c for cs in codes.values() for c in cs), None)
    body = {
        "detail": _("The input is not valid."),
        "errors": validation_errors(exc),
        "code": first,
        "codes": codes,
    }
    return JsonResponse(body, status=422, json_dumps_params={"ensure_ascii": False})


def coded(view: Callable[..., Any]) -> Callable[..., Any]:
    """Answer a ``ValidationError`` 422 with the service's codes (the API-wide handler drops them)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except ValidationError as exc:
            return invalid_response(exc)

    # Ninja reads the parameters' string annotations in the namespace of the function it is given — this
    # module's, not the view's: hand it the view's signature with the annotations already resolved there.
    wrapper.__signature__ = inspect.signature(view, eval_str=True)  # type: ignore[attr-defined]
    return wrapper


def when(value: str | None, field: str) -> datetime | None:
    """A date-time input, read the way people write it; ``None`` stays ``None``."""
    if value is None:
        return None
    from muster.mobilize.ledger_io import describe_time_error

    try:
        return clock.parse_datetime(value, local_tz())
    except clock.TimeParseError as exc:
        raise ValidationError({field: ValidationError(describe_time_error(exc), code="bad_time")}) from None


def required_when(value: str, field: str) -> datetime:
    dt = when(value, field)
    assert dt is not None
    return dt


def iso(dt: datetime | None) -> str | None:
    return timezone.localtime(dt, local_tz()).isoformat() if dt is not None else None


def _label(obj: Any, field: str) -> str:
    return str(getattr(obj, f"get_{field}_display")()) if getattr(obj, field) else ""


def _ref(obj: Any) -> dict[str, str] | None:
    return {"code": obj.code, "name": obj.name} if obj is not None else None


def _page(items: Sequence[Any], params: PageParams) -> tuple[list[Any], dict[str, Any]]:
    start = (params.page - 1) * params.page_size
    return list(items[start : start + params.page_size]), {
        "count": len(items),
        "page": params.page,
        "page_size": params.page_size,
    }


def _people(user: Any, codes: Sequence[str], field: str) -> list[Person]:
    found = {p.code: p for p in access.scoped(Person.objects.filter(code__in=codes), user, Perm.VIEW)}
    missing = [c for c in codes if c not in found]
    if missing:
        raise ValidationError(
            {field: _("There is no person with the staff number %(code)s.") % {"code": ", ".join(missing)}}
        )
    return [found[c] for c in codes]


def _teams(user: Any, codes: Sequence[str]) -> list[Team]:
    found = {t.code: t for t in access.scoped(Team.objects.filter(code__in=codes), user, Perm.VIEW)}
    missing = [c for c in codes if c not in found]
    if missing:
        raise ValidationError(
            {"teams": _("There is no team with the code %(code)s.") % {"code": ", ".join(missing)}}
        )
    return [found[c] for c in codes]


def _partner(user: Any, code: str | None, field: str = "partner") -> Partner | None:
    if not code:
        return None
    partner = access.scoped(Partner.objects.all(), user, Perm.VIEW).filter(code=code).first()
    if partner is None:
        raise ValidationError({field: _("There is no partner with the code %(code)s.") % {"code": code}})
    return partner


def _my_person(user: Any) -> Person:
    pk = getattr(user, "pk", None)
    person = Person.objects.filter(user_id=pk).first() if pk is not None else None
    if person is None:
        raise ValidationError({"person": _("Your login is not linked to a person.")})
    return person


def _warnings(ws: Sequence[services.ConflictWarning]) -> list[dict[str, Any]]:
    return [
        {"person": w.person.code, "other": w.other, "gap_minutes": w.gap_minutes, "message": w.message}
        for w in ws
    ]
