"""Turning raw cell values into clean Python values; each parser raises ``CellError`` saying why not."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils.translation import gettext as _

from muster.orgs.validators import normalize_text


class CellError(ValueError):
    """A cell value that cannot be accepted; the message (translated) says why."""


_EXCEL_EPOCH = date(1899, 12, 30)
_DATE_RE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_COMPACT_DATE_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_TAG_SPLIT_RE = re.compile(r"[,;、，；\s]+")
_HEADER_DROP_RE = re.compile(r"[\s_\-*:：]+")
_SPACES_RE = re.compile(r"\s+")


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text(value: Any) -> str:
    """A cell as clean text: full-width → half-width, trimmed; whole numbers without ``.0``."""
    if value is None:
        return ""
    if isinstance(value, str):
        if not value:
            return ""
        # The same result as ``normalize_text``, faster for the usual clean value.
        s = value if value.isascii() else unicodedata.normalize("NFKC", value)
        if "  " in s or not s.isprintable():
            s = _SPACES_RE.sub(" ", s)
        return s.strip()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return normalize_text(str(value))


def header_key(value: Any) -> str:
    """How headers and sheet names compare: NFKC, lower case, without spaces, ``_``, ``-``, ``*``, colons."""
    return _HEADER_DROP_RE.sub("", unicodedata.normalize("NFKC", text(value)).lower())


def parse_date(value: Any) -> date | None:
    """A date from a date/datetime cell, an Excel serial number, or text: 2022-03-18, 2022/3/18,
    2022.3.18, 2022年3月18日, 20220318. Empty → ``None``."""
    if is_blank(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        n = float(value)
        if n.is_integer() and 10000101 <= n <= 99991231:
            return _ymd(str(int(n))[:4], str(int(n))[4:6], str(int(n))[6:])
        if 1 <= n < 2958466:  # Excel serial day numbers (1900-01-01 … 9999-12-31)
            return _EXCEL_EPOCH + timedelta(days=int(n))
        raise CellError(_("not a date; write it like 2022-03-18"))
    s = text(value)
    m = _DATE_RE.match(s) or _COMPACT_DATE_RE.match(s)
    if m:
        return _ymd(m.group(1), m.group(2), m.group(3))
    if s.isdigit() and len(s) <= 5:
        return _EXCEL_EPOCH + timedelta(days=int(s))
    raise CellError(_("not a date; write it like 2022-03-18"))


def _ymd(y: str, m: str, d: str) -> date:
    year, month, day = int(y), int(m), int(d)
    if not 1 <= month <= 12:
        raise CellError(_("there is no month %(month)d") % {"month": month})
    try:
        return date(year, month, day)
    except ValueError:
        raise CellError(
            _("there is no day %(day)d in %(year)04d-%(month)02d")
            % {"day": day, "year": year, "month": month}
        ) from None


def choice_table(entries: Iterable[tuple[str, Iterable[str]]]) -> dict[str, str]:
    """{normalized spelling: code} from (code, spellings) pairs; the code itself is always a spelling."""
    table: dict[str, str] = {}
    for code, spellings in entries:
        for s in (code, *spellings):
            table.setdefault(header_key(s), code)
    return table


def parse_choice(value: Any, table: Mapping[str, str], allowed: str) -> str | None:
    """The code for a choice given by code or label (any of the spellings in ``table``); empty → ``None``."""
    if is_blank(value):
        return None
    code = table.get(header_key(value))
    if code is None:
        raise CellError(_("unknown value; use one of: %(allowed)s") % {"allowed": allowed})
    return code


def split_tags(value: Any) -> list[str]:
    """Tags separated by commas, semicolons, 、 or spaces (full-width or not), without repeats."""
    out: list[str] = []
    for part in _TAG_SPLIT_RE.split(text(value)):
        if part and part not in out:
            out.append(part)
    return out
