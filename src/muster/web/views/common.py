"""Helpers shared by the web views: htmx-aware requests, pagination, service errors onto forms."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import BadRequest, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, QueryDict
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django_htmx.middleware import HtmxDetails

from muster import dates

PAGE_SIZE = 50


class HtmxHttpRequest(HttpRequest):
    """A request that has passed through django-htmx's middleware (``request.htmx``)."""

    htmx: HtmxDetails


def paginate(request: HttpRequest, qs: QuerySet[Any] | list[Any], per_page: int = PAGE_SIZE) -> Page[Any]:
    paginator = Paginator(qs, per_page)
    return paginator.get_page(request.GET.get("page"))


class BadQuery(BadRequest):
    """A query-string value a page cannot use: answered 400 with this (translated) message."""


def param_year(params: QueryDict, name: str = "year") -> int | None:
    """The year in a query string or form (``None`` when absent); ``BadQuery`` unless it is in range."""
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        year = int(raw)
    except ValueError:
        raise BadQuery(_("The year must be a number, like 2024.")) from None
    if not dates.year_in_range(year):
        raise BadQuery(dates.year_range_message())
    return year


def param_date(params: QueryDict, name: str) -> date | None:
    """The day in a query string or form (``None`` when absent); ``BadQuery`` unless a real day in range."""
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        day = parse_date(raw)
    except ValueError:  # well formed but not a day (2023-02-31)
        day = None
    if day is None:
        raise BadQuery(_("Enter a date like 2024-03-18."))
    if not dates.day_in_range(day):
        raise BadQuery(dates.date_range_message())
    return day


def form_status(*bound: forms.BaseForm) -> int:
    """400 when a form bound to the query string has errors (the page shows them), else 200."""
    return 400 if any(f.is_bound and f.errors for f in bound) else 200


def query_without_page(request: HttpRequest) -> str:
    """The current query string minus ``page`` (for pagination links that keep the filters)."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def apply_service_errors(
    form: forms.BaseForm, exc: ValidationError, rename: dict[str, str] | None = None
) -> None:
    """Put a service's ``ValidationError`` onto the form: per field where the form has it, else on top.

    ``rename`` maps a service's field names to the form's (``{"parent": "new_parent"}``).
    """
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            field = (rename or {}).get(field, field)
            target = field if field in form.fields else None
            for message in errors:
                form.add_error(target, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)
