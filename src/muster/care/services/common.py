"""Care services: the small checks every write shares (text, choices, instants, amounts)."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from muster import clock, dates
from muster.care.models import (
    CareSubject,
    SubjectStatus,
    Urgency,
)

# Hours until a help request is over time, by urgency.
HELP_DUE_HOURS = {Urgency.URGENT: 4, Urgency.HIGH: 24, Urgency.NORMAL: 72}
MAX_QUANTITY = Decimal("100000")
MAX_AMOUNT = Decimal("100000000")


# ---------------------------------------------------------------- small checks


def clean_text(value: str | None, *, field: str, max_length: int, required: bool = False) -> str:
    """Trimmed NFKC text without control characters (a 4xx, never a 500)."""
    value = value or ""
    # (``isprintable``: none of the characters the check looks for, tested in C: the usual case)
    if not value.isprintable() and any(
        unicodedata.category(ch) in {"Cc", "Cs"} and ch not in "\t\n\r" for ch in value
    ):
        raise ValidationError({field: _("This text contains control characters or invalid characters.")})
    value = unicodedata.normalize("NFKC", value).strip()
    if required and not value:
        raise ValidationError({field: _("This field is required.")})
    if len(value) > max_length:
        raise ValidationError({field: _("At most %(n)s characters.") % {"n": max_length}})
    return value


def _choice(value: str, choices: Any, field: str) -> str:
    if value not in choices.values:
        raise ValidationError(
            {
                field: _("%(value)s is not one of: %(allowed)s.")
                % {"value": value, "allowed": ", ".join(choices.values)}
            }
        )
    return str(value)


def _moment(value: datetime | None, field: str, *, not_future: bool = True) -> datetime:
    now = clock.now()
    if value is None:
        return now
    if value.tzinfo is None:
        value = value.replace(tzinfo=clock.local_tz())
    if not dates.day_in_range(value.date()):
        raise ValidationError({field: dates.date_range_message()})
    if not_future and value > now + timedelta(minutes=1):
        raise ValidationError({field: _("This time is in the future.")})
    return value


def _day(value: date | None, field: str) -> date | None:
    if value is not None and not dates.day_in_range(value):
        raise ValidationError({field: dates.date_range_message()})
    return value


def positive_decimal(value: Any, *, field: str, maximum: Decimal) -> Decimal:
    """A positive number (quantity, amount): refuses negatives, zero, non-numbers and absurd sizes."""
    try:
        d = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({field: _("%(value)s is not a number.") % {"value": value}}) from exc
    if not d.is_finite() or d <= 0:
        raise ValidationError({field: _("Must be a number greater than zero.")})
    if d > maximum:
        raise ValidationError({field: _("At most %(max)s.") % {"max": maximum}})
    if d != d.quantize(Decimal("0.01")):
        raise ValidationError({field: _("At most two decimals.")})
    return d.quantize(Decimal("0.01"))


def _name(actor: Any) -> str:
    return str(getattr(actor, "get_username", lambda: getattr(actor, "display_name", "system"))())


def _require_alive(subject: CareSubject, field: str = "subject") -> None:
    if subject.status == SubjectStatus.DECEASED:
        raise ValidationError(
            {field: _("%(name)s is deceased; nothing more can be planned.") % {"name": subject.name}}
        )
