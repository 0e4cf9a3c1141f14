"""Whether a shift fits a person: skills (held and not expired), home observation (remote seats only),
the overall period, days off, weekly windows and "no nights". Pure Python (no Django): the sign-up, the
list of open shifts that fit and the roster adapter all ask here.

Times are *local* (aware datetimes in the configured zone). A shift held on a date needs the skill
valid on its start date (``valid_until`` included). A weekly window is ``(weekday, from, to)`` in minutes
of the day, Monday = 0, ``to`` up to 1440; windows of consecutive days that touch (Monday until 24:00,
Tuesday from 00:00) join, so a night shift fits a pair of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

WEEK = 7 * 1440


@dataclass(frozen=True)
class PersonFacts:
    skills: dict[str, date | None] = field(default_factory=dict)  # skill code -> valid until
    windows: tuple[tuple[int, int, int], ...] = ()  # (weekday, from minute, to minute); none: any time
    days_off: frozenset[date] = frozenset()
    home_observation: tuple[tuple[date, date], ...] = ()
    available_from: date | None = None
    available_until: date | None = None
    no_nights: bool = False


@dataclass(frozen=True)
class ShiftFacts:
    start: datetime  # local
    end: datetime  # local
    remote: bool = False
    skills_all: frozenset[str] = frozenset()
    skills_any: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Misfit:
    code: str  # skill_missing, skill_expired, skill_any, home_observation, period, day_off, window, night
    skill: str = ""
    day: date | None = None


def is_night(start: datetime) -> bool:
    """The roster's shift kinds: a shift starting from 20:00 to 04:00 is a night shift."""
    return start.hour >= 20 or start.hour < 4


def holds(p: PersonFacts, skill: str, on: date) -> bool:
    if skill not in p.skills:
        return False
    until = p.skills[skill]
    return until is None or until >= on


def days_of(start: datetime, end: datetime) -> list[date]:
    """The local days ``[start, end)`` touches."""
    last = (end - timedelta(microseconds=1)).date()
    out, d = [], start.date()
    while d <= last:
        out.append(d)
        d += timedelta(days=1)
    return out


def under_observation(p: PersonFacts, days: Iterable[date]) -> bool:
    return any(a <= d <= b for d in days for a, b in p.home_observation)


def merged_week(windows: Iterable[tuple[int, int, int]]) -> list[tuple[int, int]]:
    """The windows as minute-of-week intervals, joined where they touch (Sunday 24:00 joins Monday 00:00
    by repeating the week once)."""
    spans = sorted((wd * 1440 + a, wd * 1440 + b) for wd, a, b in windows)
    spans += [(a + WEEK, b + WEEK) for a, b in spans]
    out: list[tuple[int, int]] = []
    for a, b in spans:
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def within_windows(windows: tuple[tuple[int, int, int], ...], start: datetime, end: datetime) -> bool:
    return _within(merged_week(windows) if windows else None, start, end)


def _within(merged: list[tuple[int, int]] | None, start: datetime, end: datetime) -> bool:
    if merged is None:
        return True
    a = start.weekday() * 1440 + start.hour * 60 + start.minute
    length = int((end - start).total_seconds() // 60)
    if length > WEEK:
        return False
    b = a + length
    return any(x <= a and b <= y for x, y in merged)


class Fitter:
    """The fit rules for one person, made ready once (their windows joined) to judge many shifts."""

    def __init__(self, p: PersonFacts) -> None:
        self.p = p
        self.merged = merged_week(p.windows) if p.windows else None

    def misfits(self, s: ShiftFacts) -> list[Misfit]:
        """Every reason the shift does not fit the person (empty: it fits)."""
        p = self.p
        out: list[Misfit] = []
        on = s.start.date()
        for code in sorted(s.skills_all):
            if not holds(p, code, on):
                out.append(Misfit("skill_expired" if code in p.skills else "skill_missing", skill=code))
        if s.skills_any and not any(holds(p, c, on) for c in s.skills_any):
            out.append(Misfit("skill_any", skill=", ".join(sorted(s.skills_any))))
        days = days_of(s.start, s.end)
        if not s.remote and under_observation(p, days):
            out.append(Misfit("home_observation"))
        if (p.available_from is not None and days[0] < p.available_from) or (
            p.available_until is not None and days[-1] > p.available_until
        ):
            out.append(Misfit("period"))
        off = [d for d in days if d in p.days_off]
        if off:
            out.append(Misfit("day_off", day=off[0]))
        if not _within(self.merged, s.start, s.end):
            out.append(Misfit("window"))
        if p.no_nights and is_night(s.start):
            out.append(Misfit("night"))
        return out


def misfits(p: PersonFacts, s: ShiftFacts) -> list[Misfit]:
    """Every reason the shift does not fit the person (empty: it fits); for many shifts, ``Fitter``."""
    return Fitter(p).misfits(s)


def window_problems(windows: list[tuple[int, int, int]]) -> list[tuple[int, str]]:
    """(index, code) of bad windows: ``end_before_start``, ``bounds``, ``overlap`` (with an earlier one)."""
    out: list[tuple[int, str]] = []
    for i, (wd, a, b) in enumerate(windows):
        if not (0 <= wd <= 6 and 0 <= a < 1440 and 0 < b <= 1440):
            out.append((i, "bounds"))
        elif b <= a:
            out.append((i, "end_before_start"))
        else:
            for wd2, a2, b2 in windows[:i]:
                if wd2 == wd and a < b2 and a2 < b:
                    out.append((i, "overlap"))
                    break
    return out
