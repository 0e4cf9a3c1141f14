"""Pieces every API router uses: the acting user, pagination, error bodies, unit references."""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Schema

from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Unit

M = TypeVar("M", bound=Model)

MAX_PAGE_SIZE = 500


def actor(request: HttpRequest) -> Any:
    """The authenticated user of an API request (set by the token or session authentication)."""
    return request.auth  # type: ignore[attr-defined]


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] | None = None


class PageParams(Schema):
    page: int = Field(1, ge=1, description="1-based page number")
    page_size: int = Field(50, ge=1, le=MAX_PAGE_SIZE, description="items per page")


def paginate(qs: QuerySet[M], params: PageParams) -> tuple[list[M], dict[str, Any]]:
    """One page of ``qs`` and the page's metadata (``count`` is the total over all pages)."""
    count = qs.count()
    start = (params.page - 1) * params.page_size
    items = list(qs[start : start + params.page_size])
    return items, {"count": count, "page": params.page, "page_size": params.page_size}


class UnitRef(Schema):
    code: str
    name: str


def unit_ref(user: Any, unit: Unit | None) -> dict[str, str] | None:
    """A reference to ``unit``, or ``None`` when it is absent or outside what ``user`` may see.

    Hiding out-of-scope references (a person's party branch, a unit's parent) keeps the rule that a user
    never learns of units outside their scope.
    """
    if unit is None or not access.can(user, Perm.VIEW, unit):
        return None
    return {"code": unit.code, "name": unit.name}


def resolve_unit(user: Any, code: str | None, field: str) -> Unit | None:
    """The visible unit with ``code`` for an input field; unknown and out-of-scope codes: the same error."""
    if code is None:
        return None
    unit = access.scoped(Unit.objects.all(), user, Perm.VIEW).filter(code=code).first()
    if unit is None:
        raise ValidationError({field: _("There is no unit with the code %(code)s.") % {"code": code}})
    return unit


def required_unit(user: Any, code: str, field: str) -> Unit:
    unit = resolve_unit(user, code, field)
    assert unit is not None
    return unit


def validation_errors(exc: ValidationError) -> dict[str, list[str]]:
    """A Django ``ValidationError`` as ``{field: [messages]}`` (``__all__`` for errors of no field)."""
    if hasattr(exc, "error_dict"):
        return {field: [str(m) for m in msgs] for field, msgs in exc.message_dict.items()}
    return {"__all__": [str(m) for m in exc.messages]}


def resolve_units(user: Any, refs: dict[str, str | None]) -> dict[str, Unit | None]:
    """Resolve several unit-code fields at once, reporting every bad one together."""
    errors: dict[str, list[str]] = {}
    out: dict[str, Unit | None] = {}
    for field, code in refs.items():
        try:
            out[field] = resolve_unit(user, code, field)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return out
