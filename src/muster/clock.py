"""Time in one place: the clock, the configured zone, local days, month and quarter ends, and the pure
arithmetic and parsing of service times and cutoffs.

The clock
---------
Services and queries ask this module for the time (``now()``, ``today()``) and for the configured zone
(``local_tz()``, ``settings.TIME_ZONE``, Asia/Shanghai by default) — never ``datetime.now()``,
``timezone.localdate()`` or ``ZoneInfo(settings.TIME_ZONE)`` of their own. ``now()`` reads
``datetime.now``, so tests freeze it with time-machine (or the ``fixed_clock`` fixture). From Django this
module reads ``settings.TIME_ZONE`` only; it touches no database and imports no app (an import-linter
contract keeps it so). Everything below the clock takes the zone as an argument and is pure: easy to test
on its own (see the hypothesis tests in tests/mobilize/test_timeutil.py).

Conventions
-----------
- An interval is half-open, ``[start, end)``, with aware datetimes. Two intervals that only touch
  (one ends at 10:00, the next starts at 10:00) do not overlap.
- The ledger works in whole minutes. Service times are truncated to the minute (``floor_minute``)
  before they are stored, and cutoffs are truncated the same way in ``clip_minutes``; with both ends
  on a minute boundary every figure is an exact integer and clipping is additive: the minutes before
  a cutoff plus the minutes after it are the whole interval.
- "24:00" (or "24时") is the end of the day: "2022-03-18 24:00" is "2022-03-19 00:00"; a cutoff
  includes the days before it (``last_day``).
- Hours are only made when a figure is shown (``minutes_to_hours``), with two decimals.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings

from muster.dates import FIRST_DAY, LAST_DAY, day_in_range

# ---------------------------------------------------------------- the clock and the local calendar


def local_tz() -> ZoneInfo:
    """The configured zone (``settings.TIME_ZONE``)."""
    return ZoneInfo(settings.TIME_ZONE)


def now() -> datetime:
    """The current instant, aware (UTC). The one clock services call; tests freeze it."""
    return datetime.now(UTC)


def local_date(dt: datetime, tz: tzinfo | None = None) -> date:
    """The local calendar date of an instant (in ``tz``, by default the configured zone)."""
    return dt.astimezone(tz or local_tz()).date()


def today() -> date:
    """Today's local date."""
    return local_date(now())


def last_day(as_of: datetime, tz: tzinfo | None = None) -> date:
    """The last calendar day a cutoff includes: '3月18日24时' (= 19th 00:00) includes the 18th."""
    return (as_of.astimezone(tz or local_tz()) - timedelta(microseconds=1)).date()


def month_end(day: date) -> date:
    """The last day of ``day``'s month."""
    first_next = date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)
    return first_next - timedelta(days=1)


def quarter_end(day: date) -> date:
    """The last day of ``day``'s quarter."""
    return month_end(date(day.year, (day.month - 1) // 3 * 3 + 3, 1))


def year_bounds(year: int, tz: tzinfo | None = None) -> tuple[datetime, datetime]:
    """The instants ``[1 January, next 1 January)`` of a local year."""
    return local_midnight(date(year, 1, 1), tz), local_midnight(date(year + 1, 1, 1), tz)


# ---------------------------------------------------------------- service times: intervals and minutes

MAX_ENTRY_MINUTES = 24 * 60
EXCEL_EPOCH = datetime(1899, 12, 30)  # Excel's 1900 date system (serial 1 = 1900-01-01, after the leap bug)


class TimeParseError(ValueError):
    """A value that is not a time Muster understands. ``code`` says why; ``value`` is the input."""

    def __init__(self, value: object, code: str, message: str) -> None:
        super().__init__(message)
        self.value = value
        self.code = code


@dataclass(frozen=True, order=True)
class Interval:
    start: datetime
    end: datetime

    @property
    def minutes(self) -> int:
        return minutes_between(self.start, self.end)

    def overlaps(self, other: Interval) -> bool:
        return overlaps(self.start, self.end, other.start, other.end)

    def clip(self, cutoff: datetime) -> int:
        return clip_minutes(self.start, self.end, cutoff)


# ---------------------------------------------------------------- arithmetic


def check_day(value: object, day: date) -> None:
    """``TimeParseError`` (code ``out_of_range``) unless a person may enter ``day`` (``muster.dates``)."""
    if not day_in_range(day):
        raise TimeParseError(
            value, "out_of_range", f"{value!r}: dates must fall between {FIRST_DAY} and {LAST_DAY}"
        )


def floor_minute(dt: datetime) -> datetime:
    """``dt`` without seconds and microseconds."""
    return dt.replace(second=0, microsecond=0)


def minutes_between(start: datetime, end: datetime) -> int:
    """Whole minutes from ``start`` to ``end`` (floored; exact for minute-aligned times).

    Elapsed time, not wall-clock time: Python subtracts two aware datetimes of the same zone by their
    wall clocks, so a night across a summer-time change would count an hour too many or too few.
    """
    if start.tzinfo is not None and end.tzinfo is not None:
        start, end = start.astimezone(UTC), end.astimezone(UTC)
    seconds = (end - start).total_seconds()
    return int(seconds // 60)


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """Whether the half-open intervals ``[a_start, a_end)`` and ``[b_start, b_end)`` share any instant."""
    return a_start < b_end and b_start < a_end


def gap_minutes(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> int:
    """Minutes between two intervals (0 when they touch or overlap)."""
    if overlaps(a_start, a_end, b_start, b_end):
        return 0
    if a_end <= b_start:
        return minutes_between(a_end, b_start)
    return minutes_between(b_end, a_start)


def clip_minutes(start: datetime, end: datetime, cutoff: datetime) -> int:
    """Minutes of ``[start, end)`` before ``cutoff`` (the cutoff is truncated to the minute)."""
    c = floor_minute(cutoff)
    upper = min(end, c)
    if upper <= start:
        return 0
    return minutes_between(start, upper)


def clip_between(start: datetime, end: datetime, lo: datetime, hi: datetime) -> int:
    """Minutes of ``[start, end)`` inside ``[lo, hi)``: ``clip(hi) - clip(lo)``, hence additive."""
    return max(0, clip_minutes(start, end, hi) - clip_minutes(start, end, lo))


def minutes_to_hours(minutes: int) -> Decimal:
    """Hours with two decimals (half up), for display and reports only."""
    return (Decimal(minutes) / Decimal(60)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def crosses_midnight(start: datetime, end: datetime, tz: tzinfo) -> bool:
    """Whether the local dates of ``start`` and the last instant before ``end`` differ."""
    last = end - timedelta(microseconds=1)
    return start.astimezone(tz).date() != last.astimezone(tz).date()


def local_midnight(day: date, tz: tzinfo | None = None) -> datetime:
    """The first instant of the local ``day`` (in ``tz``, by default the configured zone)."""
    return datetime.combine(day, time(0), tzinfo=tz or local_tz())


def at_local(day: date, hour: int, tz: tzinfo, minute: int = 0) -> datetime:
    """The aware datetime at ``hour:minute`` on the local ``day``; hour 24 is the next day's 00:00."""
    if hour == 24 and minute == 0:
        return local_midnight(day + timedelta(days=1), tz)
    return datetime.combine(day, time(hour, minute), tzinfo=tz)


def split_by_day(start: datetime, end: datetime, tz: tzinfo) -> list[tuple[date, int]]:
    """Minutes of ``[start, end)`` per local day, in order (a shift 22:00–06:00 gives two days)."""
    out: list[tuple[date, int]] = []
    day = start.astimezone(tz).date()
    while True:
        lo = local_midnight(day, tz)
        hi = local_midnight(day + timedelta(days=1), tz)
        m = clip_between(start, end, lo, hi)
        if m:
            out.append((day, m))
        if hi >= end:
            return out
        day += timedelta(days=1)


def hour_slots(start: datetime, end: datetime, tz: tzinfo) -> Iterator[Interval]:
    """The local clock hours that ``[start, end)`` touches, each as an interval of one hour."""
    local = start.astimezone(tz)
    cur = datetime.combine(local.date(), time(local.hour), tzinfo=tz)
    while cur < end:
        nxt = cur + timedelta(hours=1)
        yield Interval(cur, nxt)
        cur = nxt


# ---------------------------------------------------------------- parsing

_FULLWIDTH_SEPARATORS = str.maketrans({"：": ":", "／": "/", "－": "-", "．": ".", "　": " "})
_NUMERIC = re.compile(r"^\d+(\.\d+)?$")
_CJK = re.compile(
    r"^(?:(?P<y>\d{4})年)?(?P<m>\d{1,2})月(?P<d>\d{1,2})日"
    r"\s*(?:(?:(?P<h>\d{1,2})[时點点](?:(?P<mi>\d{1,2})分?)?)|(?:(?P<h2>\d{1,2}):(?P<mi2>\d{2})(?::(?P<s2>\d{2}))?))?$"
)
_NUMERIC_DATE = re.compile(
    r"^(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})"
    r"(?:[ T]+(?P<h>\d{1,2})(?::(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.\d+)?)?)?)?"
    r"(?P<tz>Z|[+-]\d{2}:?\d{2})?$"
)


def _build(
    value: object, y: int, m: int, d: int, h: int, mi: int, s: int, tz: tzinfo, offset: str | None = None
) -> datetime:
    if h == 24:
        if mi or s:
            raise TimeParseError(value, "bad_time", f"{value!r}: after 24:00 there is no time of day")
        extra_day = True
        h = 0
    else:
        extra_day = False
    try:
        base = datetime(y, m, d, h, mi, s)
    except ValueError as exc:
        raise TimeParseError(value, "impossible", f"{value!r}: not a real date or time ({exc})") from exc
    check_day(value, base.date())
    if extra_day:
        base += timedelta(days=1)
    if offset:
        off = datetime.strptime(offset.replace("Z", "+0000").replace(":", ""), "%z").tzinfo
        return base.replace(tzinfo=off).astimezone(tz)
    return base.replace(tzinfo=tz)


def from_excel_serial(serial: float, tz: tzinfo) -> datetime:
    """An Excel date-time serial (days since 1899-12-30, fraction = time of day), rounded to the second."""
    if not 1 <= serial <= 2958465:  # 1900-01-01 .. 9999-12-31 (and not NaN)
        raise TimeParseError(serial, "bad_serial", f"{serial!r}: not an Excel date serial")
    seconds = round(serial * 86400)
    moment = EXCEL_EPOCH + timedelta(seconds=seconds)
    check_day(serial, moment.date())
    return moment.replace(tzinfo=tz)


def parse_datetime(value: object, tz: tzinfo, *, default_year: int | None = None) -> datetime:
    """Read a date-time the way people write it, as an aware datetime in ``tz``.

    Accepts: ``datetime`` (naive = local time in ``tz``; aware = converted), ``date`` (midnight), Excel
    serials (int/float or numeric text), "2022-03-18 08:00", "2022-03-18 24:00" (= next day 00:00),
    "2022/3/18 8:00", "2022.3.18 8:00", ISO 8601 with "T" and an offset, "2022年3月18日 8时",
    "2022年3月18日8时30分", "2022年3月18日 08:30", "3月18日24时" (with ``default_year``). Full-width digits
    and punctuation are understood. A date alone means its midnight. Days outside ``FIRST_DAY`` ..
    ``LAST_DAY`` are refused (code ``out_of_range``); "2100-12-31 24:00" is the last cutoff.
    """
    if isinstance(value, datetime):
        check_day(value, value.date())
        return value.astimezone(tz) if value.tzinfo is not None else value.replace(tzinfo=tz)
    if isinstance(value, date):
        check_day(value, value)
        return local_midnight(value, tz)
    if isinstance(value, bool):
        raise TimeParseError(value, "unreadable", f"{value!r}: not a date and time")
    if isinstance(value, int | float):
        return from_excel_serial(float(value), tz)
    if not isinstance(value, str):
        raise TimeParseError(value, "unreadable", f"{value!r}: not a date and time")
    text = unicodedata.normalize("NFKC", value).translate(_FULLWIDTH_SEPARATORS).strip()
    text = re.sub(r"\s+", " ", text)
    if not text:
        raise TimeParseError(value, "empty", "a date and time is required")
    if _NUMERIC.match(text):
        return from_excel_serial(float(text), tz)
    m = _NUMERIC_DATE.match(text)
    if m:
        return _build(
            value,
            int(m["y"]),
            int(m["m"]),
            int(m["d"]),
            int(m["h"] or 0),
            int(m["mi"] or 0),
            int(m["s"] or 0),
            tz,
            m["tz"],
        )
    m = _CJK.match(text.replace(" ", "") if "时" in text or "点" in text else text)
    if m:
        if m["y"] is None and default_year is None:
            raise TimeParseError(value, "no_year", f"{value!r}: the year is missing")
        year = int(m["y"]) if m["y"] else int(default_year or 0)
        hour = m["h"] if m["h"] is not None else m["h2"]
        minute = m["mi"] if m["h"] is not None else m["mi2"]
        sec = m["s2"] if m["h2"] is not None else None
        return _build(
            value, year, int(m["m"]), int(m["d"]), int(hour or 0), int(minute or 0), int(sec or 0), tz
        )
    raise TimeParseError(value, "unreadable", f"{value!r}: not a date and time Muster understands")
