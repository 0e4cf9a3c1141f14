"""The care figures as steps in time (pure: no Django).

Every care figure of a unit subtree as of a cutoff ``t`` is the sum of *marks* ``(figure, at, delta)``
with ``at < t`` over the records of the subtree. A record (a subject, a help request, a delivery line, a
payment, a donation) contributes a short list of marks computed from its rows here; ``muster.care.facts``
stores them and sums them by local day per unit, in the transaction of the write.

The marks reproduce the straight definitions of ``muster.care.queries`` exactly:

- ``subjects``: +1 when created; ``surveyed``: +1 at the first answer; ``contacts``: +1 per contact
  that reached the subject; ``deceased``: +1 from the local midnight of the day of death (a figure "on or
  before the cutoff's last day" is a mark at that midnight: ``midnight(d) < t`` ⇔ ``d <= last_day(t)``);
- ``tag:<code>``: +1 / −1 where the latest event of the tag (by time, then id) puts it on / takes it off;
- ``high``: a high-risk tag on, and the subject not moved away or deceased by the cutoff's last day;
- ``overdue``: the subject exists, is not gone, and its next contact (the day of the last contact that
  reached it plus the frequency of its risk level at the cutoff, or the day it was created) is before
  the cutoff's last day — a step that turns on at the midnight after that day, possibly in the future;
- ``help_raised`` / ``help_resolved`` / ``help_closed`` (resolved or cancelled, counted from the later
  of raising and closing), ``deliveries:<kind>``, ``payments``, ``donations`` (the value).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal

Mark = tuple[str, datetime, Decimal]

ONE = Decimal(1)
GONE = ("deceased", "moved")


def midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz)


def local_day(at: datetime, tz: tzinfo) -> date:
    return at.astimezone(tz).date()


@dataclass
class TagEvent:
    at: datetime
    pk: int
    code: str
    high: bool
    on: bool


@dataclass
class SubjectRows:
    created_at: datetime
    status: str
    status_on: date | None
    contacts: list[datetime] = field(default_factory=list)  # instants of contacts that reached the subject
    first_answer: datetime | None = None
    tags: list[TagEvent] = field(default_factory=list)


def _steps(points: Iterable[tuple[datetime, bool]]) -> list[tuple[datetime, int]]:
    """(instant, value after the instant) → the ±1 changes."""
    out: list[tuple[datetime, int]] = []
    value = False
    for at, v in points:
        if v != value:
            out.append((at, 1 if v else -1))
            value = v
    return out


def tag_states(events: Sequence[TagEvent]) -> list[tuple[datetime, dict[str, bool], bool]]:
    """After each instant with events: ({tag code: on}, any high-risk tag on). Events of one instant are
    taken in id order, the last one of a tag deciding (as the straight query's ordering does)."""
    state: dict[str, tuple[bool, bool]] = {}
    out: list[tuple[datetime, dict[str, bool], bool]] = []
    ordered = sorted(events, key=lambda e: (e.at, e.pk))
    i = 0
    while i < len(ordered):
        at = ordered[i].at
        while i < len(ordered) and ordered[i].at == at:
            e = ordered[i]
            state[e.code] = (e.on, e.high)
            i += 1
        out.append((at, {c: on for c, (on, _h) in state.items()}, any(on and h for on, h in state.values())))
    return out


def subject_marks(s: SubjectRows, *, tz: tzinfo, every_days: dict[str, int]) -> list[Mark]:
    """The marks of one subject. ``every_days``: the contact frequency by risk level ("high", "normal")."""
    marks: list[Mark] = [("subjects", s.created_at, ONE)]
    if s.first_answer is not None:
        marks.append(("surveyed", s.first_answer, ONE))
    marks.extend(("contacts", at, ONE) for at in s.contacts)
    cut = midnight(s.status_on, tz) if s.status in GONE and s.status_on is not None else None
    if s.status == "deceased" and cut is not None:
        marks.append(("deceased", max(cut, s.created_at), ONE))
    states = tag_states(s.tags)
    codes = sorted({e.code for e in s.tags})
    for code in codes:
        for at, d in _steps((at, tags.get(code, False)) for at, tags, _h in states):
            marks.append((f"tag:{code}", at, Decimal(d)))
    high_points = [(at, h) for at, _t, h in states if cut is None or at < cut]
    if cut is not None:
        high_points.append((cut, False))
    for at, d in _steps(high_points):
        marks.append(("high", at, Decimal(d)))
    marks.extend(("overdue", at, Decimal(d)) for at, d in _overdue_steps(s, states, cut, tz, every_days))
    return marks


def _overdue_steps(
    s: SubjectRows,
    states: list[tuple[datetime, dict[str, bool], bool]],
    cut: datetime | None,
    tz: tzinfo,
    every_days: dict[str, int],
) -> list[tuple[datetime, int]]:
    # Between two consecutive instants where an input changes (creation, a contact, the high-risk state,
    # the day the subject left), the due day is fixed; the figure turns on at the midnight after it.
    breaks = sorted({s.created_at, *s.contacts, *(at for at, _t, _h in states), *([cut] if cut else [])})
    contacts = sorted(s.contacts)
    points: list[tuple[datetime, bool]] = []
    ci = si = 0
    last_contact: datetime | None = None
    high = False
    for i, b in enumerate(breaks):
        while ci < len(contacts) and contacts[ci] <= b:
            last_contact = contacts[ci]
            ci += 1
        while si < len(states) and states[si][0] <= b:
            high = states[si][2]
            si += 1
        exists = s.created_at <= b
        gone = cut is not None and cut <= b
        if not exists or gone:
            points.append((b, False))
            continue
        if last_contact is None:
            due = local_day(s.created_at, tz)
        else:
            due = local_day(last_contact, tz) + timedelta(
                days=every_days.get("high" if high else "normal", 7)
            )
        turn = midnight(due + timedelta(days=1), tz)
        end = breaks[i + 1] if i + 1 < len(breaks) else None
        if turn <= b:
            points.append((b, True))
        else:
            points.append((b, False))
            if end is None or turn < end:
                points.append((turn, True))
    return _steps(points)


def help_marks(
    *, raised_at: datetime, status: str, resolved_at: datetime | None, cancelled_at: datetime | None
) -> list[Mark]:
    marks: list[Mark] = [("help_raised", raised_at, ONE)]
    if status == "resolved" and resolved_at is not None:
        marks.append(("help_resolved", resolved_at, ONE))
        marks.append(("help_closed", max(raised_at, resolved_at), ONE))
    if status == "cancelled" and cancelled_at is not None:
        marks.append(("help_closed", max(raised_at, cancelled_at), ONE))
    return marks


def delivery_marks(*, kind: str, status: str, done_at: datetime | None) -> list[Mark]:
    if status in ("delivered", "confirmed") and done_at is not None:
        return [(f"deliveries:{kind}", done_at, ONE)]
    return []


def payment_marks(*, kind: str, approved_at: datetime | None) -> list[Mark]:
    return [("payments", approved_at, ONE)] if kind == "payment" and approved_at is not None else []


def donation_marks(*, given_at: datetime, value: Decimal) -> list[Mark]:
    return [("donations", given_at, value)]


def day_cells(
    marks: Iterable[tuple[str, str, datetime, Decimal]], ancestors: dict[str, list[int]], tz: tzinfo
) -> dict[tuple[int, str, date], Decimal]:
    """Sum marks ``(unit path, figure, at, delta)`` into ``{(unit id, figure, local day): total}`` for every
    ancestor of the path (``ancestors``: path → unit ids, the unit itself included)."""
    cells: dict[tuple[int, str, date], Decimal] = {}
    for path, figure, at, delta in marks:
        day = local_day(at, tz)
        for uid in ancestors[path]:
            key = (uid, figure, day)
            cells[key] = cells.get(key, Decimal(0)) + delta
    return cells


def local_hour(at: datetime, tz: tzinfo) -> datetime:
    """The start of the local hour of ``at`` (hours counted from local midnight)."""
    return at.astimezone(tz).replace(minute=0, second=0, microsecond=0)


def hour_cells(
    marks: Iterable[tuple[str, str, datetime, Decimal]], ancestors: dict[str, list[int]], tz: tzinfo
) -> dict[tuple[int, str, datetime], Decimal]:
    """Like ``day_cells``, by local hour: ``{(unit id, figure, start of the hour): total}``."""
    cells: dict[tuple[int, str, datetime], Decimal] = {}
    for path, figure, at, delta in marks:
        hour = local_hour(at, tz)
        for uid in ancestors[path]:
            key = (uid, figure, hour)
            cells[key] = cells.get(key, Decimal(0)) + delta
    return cells
