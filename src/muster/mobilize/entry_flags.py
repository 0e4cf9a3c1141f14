"""The check-in window and the flags an approver sees on a service entry — pure time arithmetic.

No Django here (the services and the approvals page call it with plain values; the property tests in
``tests/mobilize/test_entry_flags.py`` drive it with hypothesis).

The check-in window of a shift opens ``early`` minutes before its start and closes ``late`` minutes
after its end (both ends included). A check-in or check-out outside it is refused (issue 27: a member
checked in and out two days before the shift and 0.02 h was recorded).

Flags on an entry (none of them refuses anything; they tell the approver where to look):

- ``outside_shift``: the entry starts before its shift's window opens or ends after it closes;
- ``outside_batch``: the same against its batch's start/end, when the shift is inside the window (or the
  entry has no shift);
- ``overlap``: another entry of the same person overlaps it (intervals are half-open: one ending at
  10:00 and the next starting at 10:00 do not overlap);
- ``short``: shorter than ``short`` minutes;
- ``long``: longer than its shift's length plus ``long_extra`` minutes, or, without a shift, longer
  than ``long_alone`` minutes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum


class Flag(StrEnum):
    OUTSIDE_SHIFT = "outside_shift"
    OUTSIDE_BATCH = "outside_batch"
    OVERLAP = "overlap"
    SHORT = "short"
    LONG = "long"


@dataclass(frozen=True)
class Window:
    opens: datetime
    closes: datetime

    def holds(self, at: datetime) -> bool:
        return self.opens <= at <= self.closes


@dataclass(frozen=True)
class Thresholds:
    early: int = 60  # minutes before a shift's start its check-in opens
    late: int = 120  # minutes after a shift's end its check-in closes
    short: int = 15  # an entry shorter than this is flagged
    long_extra: int = 120  # an entry longer than its shift plus this is flagged
    long_alone: int = 720  # an entry without a shift longer than this is flagged

    def __post_init__(self) -> None:
        for name in ("early", "late", "short", "long_extra", "long_alone"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0 or value > 10 * 24 * 60:
                raise ValueError(f"{name} must be a whole number of minutes from 0 to 14400, not {value!r}")


def checkin_window(start: datetime, end: datetime, *, early: int, late: int) -> Window:
    """The times a check-in/out on a shift ``[start, end)`` is accepted."""
    if end < start:
        raise ValueError("a shift ends after it starts")
    return Window(start - timedelta(minutes=early), end + timedelta(minutes=late))


def minutes(start: datetime, end: datetime) -> int:
    """Whole minutes from ``start`` to ``end`` (negative when reversed), independent of time zones."""
    return int((end - start).total_seconds() // 60)


@dataclass(frozen=True)
class Span:
    """One entry as the flags see it: its interval and those of its shift and batch (if any)."""

    key: Hashable
    person: Hashable
    start: datetime
    end: datetime
    shift_start: datetime | None = None
    shift_end: datetime | None = None
    batch_start: datetime | None = None
    batch_end: datetime | None = None


@dataclass(frozen=True)
class Hit:
    flag: Flag
    other: Hashable | None = None  # the overlapping entry
    minutes: int = 0  # the entry's length (short/long)
    limit: int = 0  # the threshold it crossed (short/long), minutes
    window: Window | None = None  # the window it left (outside_shift/outside_batch)


@dataclass
class Flags:
    hits: dict[Hashable, list[Hit]] = field(default_factory=dict)

    def of(self, key: Hashable) -> list[Hit]:
        return self.hits.get(key, [])

    def flagged(self, key: Hashable) -> bool:
        return bool(self.hits.get(key))


def _outside(span: Span, t: Thresholds) -> Hit | None:
    if span.shift_start is not None and span.shift_end is not None:
        w = checkin_window(span.shift_start, span.shift_end, early=t.early, late=t.late)
        if span.start < w.opens or span.end > w.closes:
            return Hit(Flag.OUTSIDE_SHIFT, window=w)
    if span.batch_start is not None and span.batch_end is not None:
        w = checkin_window(span.batch_start, span.batch_end, early=t.early, late=t.late)
        if span.start < w.opens or span.end > w.closes:
            return Hit(Flag.OUTSIDE_BATCH, window=w)
    return None


def _duration(span: Span, t: Thresholds) -> Hit | None:
    length = minutes(span.start, span.end)
    if length < t.short:
        return Hit(Flag.SHORT, minutes=length, limit=t.short)
    if span.shift_start is not None and span.shift_end is not None:
        limit = minutes(span.shift_start, span.shift_end) + t.long_extra
    else:
        limit = t.long_alone
    if length > limit:
        return Hit(Flag.LONG, minutes=length, limit=limit)
    return None


def overlaps(spans: Iterable[Span]) -> dict[Hashable, Hashable]:
    """For each span overlapping another span of the same person: the key of one such span (the one
    starting first among those it overlaps). A sweep per person, O(n log n + overlapping pairs)."""
    by_person: dict[Hashable, list[Span]] = defaultdict(list)
    for s in spans:
        by_person[s.person].append(s)
    found: dict[Hashable, Hashable] = {}
    for rows in by_person.values():
        rows.sort(key=lambda s: (s.start, s.end))
        active: list[Span] = []
        for s in rows:
            active = [a for a in active if a.end > s.start]
            for a in active:
                if a.start < s.end and s.start < a.end and a.key != s.key:
                    found.setdefault(s.key, a.key)
                    found.setdefault(a.key, s.key)
            active.append(s)
    return found


def entry_flags(spans: Sequence[Span], *, thresholds: Thresholds, others: Iterable[Span] = ()) -> Flags:
    """The flags of ``spans``; ``others`` are further entries of the same people that count for overlaps
    (their own flags are not reported)."""
    result = Flags()
    pairs = overlaps([*spans, *others])
    for s in spans:
        hits: list[Hit] = []
        if (h := _outside(s, thresholds)) is not None:
            hits.append(h)
        if s.key in pairs:
            hits.append(Hit(Flag.OVERLAP, other=pairs[s.key]))
        if (h := _duration(s, thresholds)) is not None:
            hits.append(h)
        if hits:
            result.hits[s.key] = hits
    return result
