"""Care pages: what the pages share (errors, the form page, uploads, rows of a unit or 404)."""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from muster.care import services as care
from muster.care.models import (
    CharityDrive,
    SurveyRound,
)
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import PARTY_KINDS, Person, Unit


def _errors(exc: ValidationError) -> str:
    return "; ".join(exc.messages)


# ---------------------------------------------------------------- forms (thin: services decide)


def _manage_units(user: Any) -> QuerySet[Unit]:
    """The administrative units the user may manage (the choices of a unit field)."""
    units = access.scoped(Unit.objects.filter(is_active=True), user, Perm.CHANGE).order_by("path")
    return units.exclude(kind__in=PARTY_KINDS)


def _person_or_error(user: Any, code: str, field: str) -> Person | None:
    """A person by code in the user's view; anyone else reads like a code that does not exist."""
    code = (code or "").strip()
    if not code:
        return None
    p = access.scoped(Person.objects.all(), user, Perm.VIEW).filter(code=code).first()
    if p is None:
        raise ValidationError({field: _("There is no person with the code %(code)s.") % {"code": code}})
    return p


def _form_page(
    request: HttpRequest, form: Any, *, title: str, back: str, multipart: bool = False, form_id: str = ""
) -> HttpResponse:
    return render(
        request,
        "care/form.html",
        {"form": form, "title": title, "back": back, "multipart": multipart, "form_id": form_id},
        status=422 if form.is_bound and form.errors else 200,
    )


def _upload(form: Any) -> tuple[bytes, str] | None:
    f = form.cleaned_data.get("receipt")
    if not f:
        return None
    from muster.care import receipts

    data = f.read(receipts.max_bytes() + 1)
    return data, f.name


def _attach(request: HttpRequest, form: Any, **target: Any) -> None:
    got = _upload(form)
    if got is not None:
        care.receipt_attach(actor=request.user, data=got[0], filename=got[1], **target)


M = TypeVar("M", SurveyRound, CharityDrive)


def _in_unit_or_404(model: type[M], user: Any, pk: int) -> M:
    """A row of a care model kept by a unit (``unit``), if ``user`` sees that unit; else 404 alike."""
    row = (
        model.objects.filter(access.path_q(user, Perm.VIEW, "unit__path"), pk=pk)
        .select_related("unit")
        .first()
    )
    if row is None:
        raise Http404
    return row
