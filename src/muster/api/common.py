"""Pieces every API router uses: the acting user, pagination, error bodies, unit and person references."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import AfterValidator, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

from muster import dates
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Person, Unit

M = TypeVar("M", bound=Model)

MAX_PAGE_SIZE = 500
MAX_PAGE = 1_000_000  # page x page size stays far below the databases' 2^63 offset limit


# ---------------------------------------------------------------- bounded inputs
# Dates and years a person enters fall in ``muster.dates``' range; the OpenAPI document shows the bounds
# (``formatMinimum``/``formatMaximum`` for dates, ``minimum``/``maximum`` for years).


def _check_day(value: date) -> date:
    if not dates.day_in_range(value):
        raise PydanticCustomError("date_range", dates.date_range_message())
    return value


def _check_moment(value: datetime) -> datetime:
    _check_day(value.date())
    return value


def _check_year(value: int) -> int:
    if not dates.year_in_range(value):
        raise PydanticCustomError("year_range", dates.year_range_message())
    return value


class _Documented:
    """Adds the bounds to a type's JSON schema (the validator after it enforces them)."""

    def __init__(self, **extra: Any) -> None:
        self.extra = extra

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema.update(self.extra)
        return schema


_DAY_BOUNDS = {"formatMinimum": dates.FIRST_DAY.isoformat(), "formatMaximum": dates.LAST_DAY.isoformat()}
_MOMENT_BOUNDS = {
    "formatMinimum": f"{dates.FIRST_DAY.isoformat()}T00:00:00",
    "formatMaximum": f"{dates.LAST_DAY.isoformat()}T23:59:59",
}

BoundedDate = Annotated[date, AfterValidator(_check_day), _Documented(**_DAY_BOUNDS)]
"""A date a person enters: ``muster.dates.FIRST_DAY`` .. ``LAST_DAY``."""

BoundedDateTime = Annotated[datetime, AfterValidator(_check_moment), _Documented(**_MOMENT_BOUNDS)]
"""A date-time a person enters: its day in ``muster.dates.FIRST_DAY`` .. ``LAST_DAY``."""

Year = Annotated[
    int, AfterValidator(_check_year), _Documented(minimum=dates.FIRST_YEAR, maximum=dates.LAST_YEAR)
]
"""A year a person enters: ``muster.dates.FIRST_YEAR`` .. ``LAST_YEAR``."""


def actor(request: HttpRequest) -> Any:
    """The authenticated user of an API request (set by the token or session authentication)."""
    return request.auth  # type: ignore[attr-defined]


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] | None = None


class PageParams(Schema):
    page: int = Field(1, ge=1, le=MAX_PAGE, description="1-based page number")
    page_size: int = Field(50, ge=1, le=MAX_PAGE_SIZE, description="items per page")


def paginate(qs: QuerySet[M], params: PageParams) -> tuple[list[M], dict[str, Any]]:
    """One page of ``qs`` and the page's metadata (``count`` is the total over all pages)."""
    count = qs.count()
    start = (params.page - 1) * params.page_size
    items = list(qs[start : start + params.page_size])
    return items, {"count": count, "page": params.page, "page_size": params.page_size}


class ReasonIn(Schema):
    reason: str


class RowErrorOut(Schema):
    """One refused cell or row of an import."""

    file: str | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    value: Any = None
    reason: str


class ImportErrorOut(Schema):
    detail: str
    errors: list[RowErrorOut]


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


def required_person(user: Any, code: str, field: str) -> Person:
    """The person with staff number ``code`` whom ``user`` may see (their own included), for an input
    field; unknown and out-of-scope numbers give the same error."""
    person = access.scoped(Person.objects.all(), user, Perm.VIEW).filter(code=code).first()
    if person is None:
        raise ValidationError(
            {field: _("There is no person with the staff number %(code)s.") % {"code": code}}
        )
    return person


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
