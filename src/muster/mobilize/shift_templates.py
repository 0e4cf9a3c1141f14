"""Shift templates and post coverage — pure functions (no Django), the zone passed in.

Templates turn a few parameters into ``ShiftSpec`` values; ``services.shifts_create`` stores them.

- ``three_rotations`` (三班倒): three consecutive 8-hour shifts per day starting at ``start_hour``
  (default 8: 08–16, 16–24, 00–08 of the next day), for ``days`` days.
- ``duty_24h`` (24小时值班值守): one 24-hour shift per day from ``start_hour`` to the same hour next day.
- ``hotline_curve`` (坐席曲线): a required number of seats for every hour of the week (24 values used
  every day, or 7×24 values, Monday first). Consecutive hours with the same non-zero seat count are
  merged into one shift of at most ``max_hours`` hours; a shift never crosses a change of seat count,
  so the shifts' seats reproduce the curve exactly. ``remote`` marks remote seats (居家坐席).

Coverage (``coverage_grid``): for each clock hour, *required* is the post's curve for that hour (or,
when the post has no curve, the sum of the seats of the shifts that cover the hour) and *covered* is
the number of people assigned to shifts that cover the **whole** hour. A slot is green when
covered ≥ required > 0, red when covered < required, and idle when nothing is required.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from muster.clock import Interval, at_local, hour_slots


@dataclass(frozen=True)
class ShiftSpec:
    start: datetime
    end: datetime
    seats: int = 1
    label: str = ""
    remote: bool = False


def _days(first_day: date, days: int) -> list[date]:
    if days < 1:
        raise ValueError("days must be at least 1")
    return [first_day + timedelta(days=i) for i in range(days)]


def three_rotations(
    first_day: date, days: int, tz: tzinfo, *, start_hour: int = 8, seats: int = 1, remote: bool = False
) -> list[ShiftSpec]:
    """三班倒: three 8-hour shifts per day; the third crosses midnight when ``start_hour`` > 0."""
    if not 0 <= start_hour <= 23:
        raise ValueError("start_hour must be 0..23")
    out: list[ShiftSpec] = []
    for day in _days(first_day, days):
        base = at_local(day, start_hour, tz)
        for i, label in enumerate(("1", "2", "3")):
            s = base + timedelta(hours=8 * i)
            out.append(ShiftSpec(s, s + timedelta(hours=8), seats, label, remote))
    return out


def duty_24h(
    first_day: date, days: int, tz: tzinfo, *, start_hour: int = 8, seats: int = 1, remote: bool = False
) -> list[ShiftSpec]:
    """24-hour duty: one shift per day from ``start_hour`` to the same hour the next day."""
    if not 0 <= start_hour <= 23:
        raise ValueError("start_hour must be 0..23")
    out = []
    for day in _days(first_day, days):
        s = at_local(day, start_hour, tz)
        out.append(ShiftSpec(s, at_local(day + timedelta(days=1), start_hour, tz), seats, "24h", remote))
    return out


def normalize_curve(curve: Sequence[int] | Sequence[Sequence[int]]) -> list[list[int]]:
    """A seat curve as 7 rows of 24 non-negative ints (Monday first); 24 values mean every day alike."""
    rows: list[list[int]]
    if len(curve) == 24 and all(isinstance(v, int) for v in curve):
        rows = [
            [int(v) for v in curve]  # type: ignore[arg-type]
            for _ in range(7)
        ]
    elif len(curve) == 7 and all(not isinstance(r, int) and len(r) == 24 for r in curve):
        rows = [[int(v) for v in r] for r in curve]  # type: ignore[union-attr]
    else:
        raise ValueError("a seat curve has 24 values (every day) or 7 rows of 24 values (Monday first)")
    if any(v < 0 for r in rows for v in r):
        raise ValueError("seat counts cannot be negative")
    return rows


def hotline_curve(
    first_day: date,
    days: int,
    tz: tzinfo,
    curve: Sequence[int] | Sequence[Sequence[int]],
    *,
    max_hours: int = 4,
    remote: bool = False,
) -> list[ShiftSpec]:
    """Shifts reproducing a seats-per-hour curve (7×24), merged into blocks of at most ``max_hours``."""
    if max_hours < 1:
        raise ValueError("max_hours must be at least 1")
    rows = normalize_curve(curve)
    out: list[ShiftSpec] = []
    for day in _days(first_day, days):
        row = rows[day.weekday()]
        h = 0
        while h < 24:
            n = row[h]
            if n == 0:
                h += 1
                continue
            end = h + 1
            while end < 24 and row[end] == n and end - h < max_hours:
                end += 1
            out.append(
                ShiftSpec(at_local(day, h, tz), at_local(day, end, tz), n, f"{h:02d}-{end:02d}", remote)
            )
            h = end
    return out


# ---------------------------------------------------------------- coverage


@dataclass(frozen=True)
class ShiftCover:
    start: datetime
    end: datetime
    seats: int
    assigned: int


@dataclass(frozen=True)
class HourCoverage:
    start: datetime
    end: datetime
    required: int
    covered: int

    @property
    def state(self) -> str:
        """ "green" (covered), "red" (a seat or slot empty) or "idle" (nothing required)."""
        if self.required <= 0:
            return "idle"
        return "green" if self.covered >= self.required else "red"

    @property
    def missing(self) -> int:
        return max(0, self.required - self.covered)


def coverage_grid(
    start: datetime,
    end: datetime,
    tz: tzinfo,
    shifts: Sequence[ShiftCover],
    curve: Sequence[int] | Sequence[Sequence[int]] | None = None,
) -> list[HourCoverage]:
    """Required vs covered for every clock hour of ``[start, end)`` (see the module docstring)."""
    rows = normalize_curve(curve) if curve else None
    out = []
    for slot in hour_slots(start, end, tz):
        whole = [s for s in shifts if s.start <= slot.start and s.end >= slot.end]
        if rows is not None:
            local = slot.start.astimezone(tz)
            required = rows[local.weekday()][local.hour]
        else:
            required = sum(s.seats for s in whole)
        covered = sum(s.assigned for s in whole)
        out.append(HourCoverage(slot.start, slot.end, required, covered))
    return out


def specs_as_intervals(specs: Sequence[ShiftSpec]) -> list[Interval]:
    return [Interval(s.start, s.end) for s in specs]
