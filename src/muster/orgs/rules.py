"""One validation for every entry point: the rules a text, a code, a whole number and an ID number meet.

The services call these rules; the importers (staff register, ledger), the web forms and the API use the
same functions and the same bounds, so a value is refused by the same rule with the same message whichever
way it comes in (web form, API, import, command line) — and whatever the API accepts, an export carries
and the import takes back.

A message names the field by the label of its key (``field_label``): the key is the same on every path
(the service's argument, the form's field, the import's column key, the API's JSON member).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from muster.orgs.models import Gender
from muster.orgs.validators import (
    InvalidValue,
    id_birth_date,
    id_check_digit,
    id_gender,
    normalize_phone,
    normalize_text,
)

# ---------------------------------------------------------------- bounds (the web forms' own limits)

CODE_MAX = 40
PERSON_NAME_MAX, UNIT_NAME_MAX, TAG_MAX = 60, 120, 40
SEATS = (1, 500)  # a shift's seats (ShiftForm, ShiftTemplateForm)
SEAT_CURVE = (0, 500)  # seats needed in one hour of a post's curve
PEOPLE_NEEDED = (1, 100_000)  # a request's head-count (RequestForm)
MEASURE_VALUE = (0, 10**9)  # a measure's value (户数, 人次, 通 …)
MEASURE_ORDER = (0, 32_767)  # the display order of a measure (a small integer column)
TEMPLATE_DAYS = (1, 62)  # days a shift template covers (ShiftTemplateForm)
START_HOUR = (0, 23)
TEMPLATE_MAX_HOURS = (1, 24)
BIRTH_YEAR_MIN = 1900

# ---------------------------------------------------------------- field labels

_LABELS: dict[str, Any] = {
    "code": gettext_lazy("Code"),
    "name": gettext_lazy("Name"),
    "short_name": gettext_lazy("Short name"),
    "title": gettext_lazy("Task"),
    "site": gettext_lazy("Place"),
    "place": gettext_lazy("Place"),
    "description": gettext_lazy("Description"),
    "note": gettext_lazy("Note"),
    "notes": gettext_lazy("Notes"),
    "reason": gettext_lazy("Reason"),
    "opinion": gettext_lazy("Opinion"),
    "topic": gettext_lazy("Topic"),
    "label": gettext_lazy("Label"),
    "address": gettext_lazy("Address"),
    "district": gettext_lazy("District"),
    "tags": gettext_lazy("Tags"),
    "skills": gettext_lazy("Skills"),
    "unit_label": gettext_lazy("Unit of count"),
    "person": gettext_lazy("Staff number"),
    "person_code": gettext_lazy("Staff number"),
    "people": gettext_lazy("Staff number"),
    "leader": gettext_lazy("Staff number"),
    "phone": gettext_lazy("Phone"),
    "id_number": gettext_lazy("ID number"),
    "birth_date": gettext_lazy("Birth date"),
    "gender": gettext_lazy("Gender"),
    "seats": gettext_lazy("Seats"),
    "people_needed": gettext_lazy("People needed"),
    "value": gettext_lazy("Value"),
    "order": gettext_lazy("Order"),
    "required_seats": gettext_lazy("Seats needed per hour"),
    "curve": gettext_lazy("Seats needed per hour"),
    "days": gettext_lazy("Days"),
    "start_hour": gettext_lazy("Start hour"),
    "max_hours": gettext_lazy("Longest hotline shift (hours)"),
    "months": gettext_lazy("Months"),
    "source": gettext_lazy("Source"),
    "minutes": gettext_lazy("Minutes"),
}


def field_label(key: str, default: Any = None) -> str:
    """The translated name of the field ``key`` in messages (else ``default``, else the key itself)."""
    label = _LABELS.get(key, default)
    return str(label) if label is not None else key


# ---------------------------------------------------------------- text


# C0 and C1 control characters except tab, line feed and carriage return (whitespace: a single-line field
# folds them into one space, a multi-line one keeps them), and the lone surrogates no UTF-8 can carry.
_BAD_CHAR_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_CODE_RE = re.compile(r"^[\w.\-]+$")


def text_problem(value: str, key: str, default_label: Any = None) -> str | None:
    """Why the text ``value`` of field ``key`` cannot be stored, or ``None`` when it can."""
    m = _BAD_CHAR_RE.search(value)
    if m is None:
        return None
    char = f"U+{ord(m.group()):04X}"
    field = field_label(key, default_label)
    if 0xD800 <= ord(m.group()) <= 0xDFFF:
        return _("%(field)s contains an invalid character (%(char)s), which is not allowed.") % {
            "field": field,
            "char": char,
        }
    return _("%(field)s contains a control character (%(char)s), which is not allowed.") % {
        "field": field,
        "char": char,
    }


def too_long(key: str, max_length: int) -> str:
    return _("%(field)s has at most %(n)d characters.") % {"field": field_label(key), "n": max_length}


def clean_text(value: str, key: str, *, max_length: int | None = None, multiline: bool = False) -> str:
    """``value`` checked and normalized, or ``InvalidValue`` saying why not.

    Single-line text is normalized (full-width to half-width, runs of whitespace to one space, trimmed);
    multi-line text keeps its line breaks and tabs as written.
    """
    problem = text_problem(value, key)
    if problem:
        raise InvalidValue(problem)
    out = value if multiline else normalize_text(value)
    if max_length is not None and len(out) > max_length:
        raise InvalidValue(too_long(key, max_length))
    return out


def code_message(key: str) -> str:
    return _("%(field)s may contain only letters, digits, hyphens (-), underscores (_) and dots (.).") % {
        "field": field_label(key)
    }


def clean_code(value: str, key: str = "code", *, max_length: int = CODE_MAX) -> str:
    """A code (staff number, unit, team, partner, batch, post, request code) normalized, or ``InvalidValue``.

    Empty stays empty (the caller says whether a code is required). A code is what a list of codes, a URL
    and a spreadsheet cell carry unchanged: letters, digits, ``-``, ``_`` and ``.``.
    """
    out = clean_text(value, key)
    if out and not _CODE_RE.match(out):
        raise InvalidValue(code_message(key))
    if len(out) > max_length:
        raise InvalidValue(too_long(key, max_length))
    return out


def cell_problem(raw: Any, key: str, *, code: bool = False) -> str | None:
    """The rule an imported cell breaks (the services' own message), or ``None``; for the importers."""
    if not isinstance(raw, str):
        return None
    problem = text_problem(raw, key)
    if problem is None and code:
        value = normalize_text(raw)
        if value and not _CODE_RE.match(value):
            problem = code_message(key)
    return problem


def json_text_problems(data: Any) -> dict[str, list[str]]:
    """Every string of a decoded JSON document that ``text_problem`` refuses: {dotted path: [message]}.

    A message names the nearest member's key (``lines.0.person`` → "person").
    """
    found: dict[str, list[str]] = {}

    def walk(value: Any, path: list[str], key: str) -> None:
        if isinstance(value, str):
            problem = text_problem(value, key)
            if problem:
                found.setdefault(".".join(path) or "__all__", []).append(problem)
        elif isinstance(value, Mapping):
            for k, v in value.items():
                name = str(k)
                if text_problem(name, name):
                    shown = name.encode("ascii", "backslashreplace").decode()
                    found.setdefault(".".join(path) or "__all__", []).append(text_problem(name, shown) or "")
                    continue
                walk(v, [*path, name], name)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, [*path, str(i)], key)

    walk(data, [], "")
    return found


# ---------------------------------------------------------------- whole numbers


def int_message(key: str, lo: int, hi: int) -> str:
    return _("%(field)s must be a whole number from %(min)d to %(max)d.") % {
        "field": field_label(key),
        "min": lo,
        "max": hi,
    }


int_message_lazy = lazy(int_message, str)


def clean_int(value: Any, key: str, bounds: tuple[int, int]) -> int:
    """``value`` when it is a whole number within ``bounds`` (inclusive), else ``InvalidValue``."""
    lo, hi = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise InvalidValue(int_message(key, lo, hi))
    return value


def int_error_messages(key: str, bounds: tuple[int, int]) -> dict[str, Any]:
    """A form ``IntegerField``'s messages for values out of ``bounds``: the rule's own message."""
    msg = int_message_lazy(key, *bounds)
    return {"min_value": msg, "max_value": msg}


# ---------------------------------------------------------------- people


_ID_RE = re.compile(r"^\d{17}[\dX]$")


def clean_id_number(value: str) -> str:
    """A valid 18-character resident ID number (GB 11643-1999), or ``InvalidValue`` saying precisely why."""
    problem = text_problem(value, "id_number")
    if problem:
        raise InvalidValue(problem)
    v = value.strip() if value.isascii() else normalize_text(value)
    v = v.replace(" ", "").upper()
    if not _ID_RE.match(v):
        raise InvalidValue(_("an ID number has 17 digits and a check digit (0-9 or X)"))
    try:
        date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        raise InvalidValue(
            _("the birth date %(date)s in the ID number does not exist") % {"date": v[6:14]}
        ) from None
    right = id_check_digit(v[:17])
    if right != v[17]:
        raise InvalidValue(
            _("the check digit should be %(right)s, not %(wrong)s") % {"right": right, "wrong": v[17]}
        )
    return v


def clean_phone(value: str) -> str:
    """A mobile number (11 digits) or a landline, normalized; or ``InvalidValue`` (translated)."""
    problem = text_problem(value, "phone")
    if problem:
        raise InvalidValue(problem)
    try:
        return normalize_phone(value)
    except InvalidValue:
        raise InvalidValue(
            _("a phone is an 11-digit mobile number (1xxxxxxxxxx) or a landline like 021-12345678")
        ) from None


def birth_date_problem(birth: date, today: date) -> str | None:
    if birth > today:
        return _("the birth date is in the future")
    if birth.year < BIRTH_YEAR_MIN:
        return _("the birth date is before 1900")
    return None


def id_birth_problem(id_number: str, birth: date) -> str | None:
    """Why ``birth`` contradicts the (valid) ``id_number``, or ``None``."""
    said = id_birth_date(id_number)
    if birth != said:
        return _("the ID number says the birth date is %(date)s") % {"date": said.isoformat()}
    return None


def id_gender_problem(id_number: str, gender: str) -> str | None:
    """Why ``gender`` ("M"/"F") contradicts the (valid) ``id_number``, or ``None``."""
    said = id_gender(id_number)
    if gender != said:
        return _("the ID number says the gender is %(gender)s") % {"gender": Gender(said).label}
    return None


def identity_problems(id_number: str, *, birth_date: date | None, gender: str, today: date) -> dict[str, str]:
    """The birth date and gender given must be real and agree with the (valid) ID number: {field: why}."""
    out: dict[str, str] = {}
    if birth_date is not None:
        problem = birth_date_problem(birth_date, today)
        if problem is None and id_number:
            problem = id_birth_problem(id_number, birth_date)
        if problem:
            out["birth_date"] = problem
    if gender and id_number:
        problem = id_gender_problem(id_number, gender)
        if problem:
            out["gender"] = problem
    return out


# ---------------------------------------------------------------- collecting a service's errors


class Problems:
    """A service's field errors, collected so that every bad field is reported at once.

    Each method returns the clean value, or (after noting the problem) the value as given.
    """

    def __init__(self, errors: dict[str, Any] | None = None) -> None:
        self.errors: dict[str, Any] = errors if errors is not None else {}

    def add(self, key: str, message: str) -> None:
        self.errors.setdefault(key, message)

    def text(self, key: str, value: str, *, max_length: int | None = None, multiline: bool = False) -> str:
        try:
            return clean_text(value, key, max_length=max_length, multiline=multiline)
        except InvalidValue as exc:
            self.add(key, str(exc))
            return value

    def code(self, key: str, value: str, *, max_length: int = CODE_MAX) -> str:
        try:
            return clean_code(value, key, max_length=max_length)
        except InvalidValue as exc:
            self.add(key, str(exc))
            return value

    def integer(self, key: str, value: Any, bounds: tuple[int, int]) -> Any:
        try:
            return clean_int(value, key, bounds)
        except InvalidValue as exc:
            self.add(key, str(exc))
            return value

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


def check_text(key: str, value: str, *, max_length: int | None = None, multiline: bool = False) -> str:
    """``clean_text`` for one field of a service: ``ValidationError`` keyed by the field."""
    p = Problems()
    out = p.text(key, value, max_length=max_length, multiline=multiline)
    p.raise_if_any()
    return out


def check_int(key: str, value: Any, bounds: tuple[int, int]) -> int:
    """``clean_int`` for one field of a service: ``ValidationError`` keyed by the field."""
    p = Problems()
    out = p.integer(key, value, bounds)
    p.raise_if_any()
    return int(out)
