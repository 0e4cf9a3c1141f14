"""A long batch one local day at a time: the batch page and the batch roll-call share these helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from muster.clock import local_midnight
from muster.mobilize.models import Shift
from muster.web.views.common import param_date

# A batch with more shifts than this shows them one day at a time (a 14-day batch: 42 shifts and more).
SHIFTS_ON_ONE_PAGE = 30


def shift_days(shifts: QuerySet[Shift]) -> dict[date, int]:
    """The local days on which ``shifts`` start (in order), with the number of shifts of each."""
    days: dict[date, int] = {}
    for start in shifts.order_by("start").values_list("start", flat=True):
        day = timezone.localdate(start)
        days[day] = days.get(day, 0) + 1
    return days


def chosen_day(request: HttpRequest, days: dict[date, int]) -> date | None:
    """``None`` (every shift) for a short batch; else ``?day=`` (400 unless a real day), today, or the
    nearest later day with shifts (past the last one, the last)."""
    asked = param_date(request.GET, "day")  # checked on a short batch too
    if sum(days.values()) <= SHIFTS_ON_ONE_PAGE:
        return None
    asked = asked or timezone.localdate()
    if asked in days:
        return asked
    later = [x for x in days if x > asked]
    return later[0] if later else max(days)


def on_day(shifts: QuerySet[Shift], day: date | None) -> QuerySet[Shift]:
    """The shifts starting on the local ``day`` (all of them for ``None``)."""
    if day is None:
        return shifts
    return shifts.filter(start__gte=local_midnight(day), start__lt=local_midnight(day + timedelta(days=1)))


@dataclass(frozen=True)
class DayNav:
    """What the « day picker » needs: the shown day (``None``: everything on one page) and its neighbours."""

    day: date | None
    days: list[date] = field(default_factory=list)
    prev_day: date | None = None
    next_day: date | None = None


def day_nav(days: dict[date, int], day: date | None) -> DayNav:
    if day is None:
        return DayNav(None)
    return DayNav(
        day=day,
        days=list(days),
        prev_day=max((x for x in days if x < day), default=None),
        next_day=min((x for x in days if x > day), default=None),
    )
