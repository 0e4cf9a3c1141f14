"""The outreach API's router, error responses and the look-ups the sub-domains share (people by staff
number, enterprises by credit code, partners by code: unknown or out of scope is the same 422)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router

from muster.api.common import (
    ErrorOut,
)
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Partner, Person
from muster.outreach import queries
from muster.outreach.models import (
    Enterprise,
)

router = Router(tags=["outreach"])

NOT_FOUND = {404: ErrorOut}
WRITE_ERRORS = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def _as_of(value: datetime | None) -> datetime:
    if value is None:
        return timezone.now()
    return value if timezone.is_aware(value) else value.replace(tzinfo=ZoneInfo(settings.TIME_ZONE))


def _people(user: Any, codes: Sequence[str], field: str) -> list[Person]:
    found = {p.code: p for p in access.scoped(Person.objects.all(), user, Perm.VIEW).filter(code__in=codes)}
    missing = [c for c in codes if c not in found]
    if missing:
        raise ValidationError(
            {field: _("There is no person with the staff number %(code)s.") % {"code": ", ".join(missing)}}
        )
    return [found[c] for c in dict.fromkeys(codes)]


def _enterprises(user: Any, codes: Sequence[str], field: str) -> list[Enterprise]:
    wanted = [c.strip().upper() for c in codes]
    found = {e.credit_code: e for e in queries.enterprises(user).filter(credit_code__in=wanted)}
    missing = [c for c in wanted if c not in found]
    if missing:
        raise ValidationError(
            {field: _("There is no enterprise with the credit code %(code)s.") % {"code": ", ".join(missing)}}
        )
    return [found[c] for c in dict.fromkeys(wanted)]


def _partners(user: Any, codes: Sequence[str]) -> list[Partner]:
    found = {p.code: p for p in access.scoped(Partner.objects.all(), user, Perm.VIEW).filter(code__in=codes)}
    missing = [c for c in codes if c not in found]
    if missing:
        raise ValidationError(
            {"partners": _("There is no partner with the code %(code)s.") % {"code": ", ".join(missing)}}
        )
    return [found[c] for c in dict.fromkeys(codes)]


def _partner_opt(user: Any, code: str | None) -> Partner | None:
    return _partners(user, [code])[0] if code else None
