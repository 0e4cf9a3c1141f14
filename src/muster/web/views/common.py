"""Helpers shared by the web views: htmx-aware requests, pagination, service errors onto forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

PAGE_SIZE = 50


class HtmxHttpRequest(HttpRequest):
    """A request that has passed through django-htmx's middleware (``request.htmx``)."""

    htmx: HtmxDetails


def paginate(request: HttpRequest, qs: QuerySet[Any] | list[Any], per_page: int = PAGE_SIZE) -> Page[Any]:
    paginator = Paginator(qs, per_page)
    return paginator.get_page(request.GET.get("page"))


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
