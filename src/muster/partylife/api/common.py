"""What the party-life API's routers share: the router, error bodies, times read as Shanghai time,
people and periods.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router

from muster.api.common import ErrorOut, required_person, required_unit
from muster.clock import local_tz
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Person, Unit
from muster.partylife import compliance

router = Router(tags=["party life"])


NOT_FOUND = {404: ErrorOut}


WRITE_ERRORS = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


# ================================================================ helpers


def _aware(value: datetime | None) -> datetime | None:
    """A naive date-time is Shanghai time."""
    if value is None or timezone.is_aware(value):
        return value
    return value.replace(tzinfo=local_tz())


def _as_of(value: datetime | None) -> datetime:
    return _aware(value) or timezone.now()


def _iso(value: datetime | None) -> str | None:
    return timezone.localtime(value, local_tz()).isoformat() if value is not None else None


def _person_opt(user: Any, code: str | None, field: str) -> Person | None:
    return None if not code else required_person(user, code, field)


def _people(user: Any, codes: Sequence[str], field: str) -> list[Person]:
    found = {p.code: p for p in access.scoped(Person.objects.all(), user, Perm.VIEW).filter(code__in=codes)}
    missing = [c for c in codes if c not in found]
    if missing:
        raise ValidationError(
            {field: _("There is no person with the staff number %(code)s.") % {"code": ", ".join(missing)}}
        )
    return [found[c] for c in dict.fromkeys(codes)]


def _code(p: Person | None) -> str | None:
    return p.code if p is not None else None


def _quarter(today: date) -> tuple[date, date]:
    start = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    return start, compliance.add_months(start, 3)


def _period(start: date | None, end: date | None) -> tuple[date, date]:
    qs, qe = _quarter(timezone.localdate())
    start, end = start or qs, end or qe
    if end <= start:
        raise ValidationError({"end": _("The period must end after it starts.")})
    return start, end


def _scope_unit(user: Any, code: str | None, field: str = "unit") -> Unit | None:
    return required_unit(user, code, field) if code else None
