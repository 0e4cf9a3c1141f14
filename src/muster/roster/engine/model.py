"""Input and output types of the rostering engine (pure Python, no Django).

Time is measured in whole minutes from the start of the horizon (day 0, 00:00); day ``d`` covers
minutes ``[d * 1440, (d + 1) * 1440)``. A shift belongs to one day (``Shift.day``, normally the day it
starts on); the day-based rules (one shift a day, consecutive days worked / off, weekends, minutes per
day and week) use that day. ``Problem.start_weekday`` says which weekday day 0 is (0 = Monday), so the
engine knows the weekends and the calendar weeks.

Every message the engine produces is English with a stable ``code`` and ``params`` so that the app can
translate it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Mode = Literal["any", "remote", "local"]

DAY = 1440


@dataclass(frozen=True)
class Shift:
    """One shift (or seat) to fill: ``required`` people from ``start`` to ``end`` (minutes)."""

    id: str
    day: int
    start: int
    end: int
    kind: str = ""  # the shift type: forbidden successions, per-type limits, nights
    site: str = ""
    required: int = 1
    min_count: int = 0  # hard lower bound on the head-count
    max_count: int | None = None  # hard upper bound on the head-count (None: no bound)
    skills: frozenset[str] = frozenset()  # every assigned person must hold all of them
    remote: bool = False  # can be done from home (hotline seat)
    night: bool = False
    weight_under: int | None = None  # per missing person; None: Weights.under
    weight_over: int | None = None  # per extra person; None: Weights.over

    @property
    def minutes(self) -> int:
        return self.end - self.start


@dataclass
class Person:
    """Someone who can be rostered, with his or her hard limits.

    ``None`` for a limit means "no limit". Consecutive-day rules count days with at least one shift.
    """

    id: str
    skills: frozenset[str] = frozenset()
    home_unit: str = ""
    sites: frozenset[str] | None = None  # the sites the person may work at (None: any)
    mode: Mode = "any"  # "remote": only remote shifts (home observation); "local": never remote
    days_off: frozenset[int] = frozenset()
    availability: tuple[tuple[int, int], ...] | None = None  # minute windows; None: always available
    max_shifts_per_day: int = 1
    max_shifts_per_kind: dict[str, int] = field(default_factory=dict)
    max_minutes_day: int | None = None
    max_minutes_week: int | None = None
    max_minutes_period: int | None = None
    min_minutes_period: int = 0
    max_consecutive_days: int | None = None
    min_consecutive_days: int = 1
    min_consecutive_days_off: int = 1
    max_weekends: int | None = None
    min_rest_minutes: int = 0
    group: str = ""  # people of the same group (able to do the same shifts) are compared for fairness


@dataclass(frozen=True)
class Preference:
    """A wish: ``wanted`` — penalty ``weight`` if the person does NOT get the shift; else if they do."""

    person: str
    shift: str
    weight: int
    wanted: bool = True


@dataclass(frozen=True)
class Lock:
    """An assignment that must stay (edited or published by a coordinator)."""

    person: str
    shift: str


@dataclass(frozen=True)
class TailShift:
    """A shift worked in the previous period: ``day`` < 0, minutes relative to day 0 (negative)."""

    person: str
    day: int
    start: int
    end: int
    kind: str = ""


@dataclass
class Weights:
    under: int = 100  # default per missing person
    over: int = 1  # default per extra person
    spread_hours: int = 0  # per hour between the most and least loaded comparable people
    spread_nights: int = 0
    spread_weekends: int = 0


@dataclass
class Problem:
    days: int
    people: list[Person]
    shifts: list[Shift]
    forbidden_successions: frozenset[tuple[str, str]] = frozenset()  # (kind, kind next day)
    preferences: list[Preference] = field(default_factory=list)
    locks: list[Lock] = field(default_factory=list)
    tail: list[TailShift] = field(default_factory=list)
    tail_days: int = 0  # how many days before day 0 the tail describes (0: unknown history)
    start_weekday: int = 0  # weekday of day 0, Monday = 0
    weights: Weights = field(default_factory=Weights)


@dataclass(frozen=True)
class Limits:
    """Size limits: a bigger request is refused with :class:`ProblemTooLarge` before any work."""

    max_people: int = 10_000
    max_shifts: int = 50_000
    max_days: int = 400
    max_pairs: int = 6_000_000  # person × shift candidates


WEB_LIMITS = Limits(max_people=3_000, max_shifts=8_000, max_days=92, max_pairs=2_000_000)


class RosterError(Exception):
    """Base class; ``code`` is stable, ``params`` fill the English ``message`` (and translations)."""

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.params = params


class RosterInputError(RosterError):
    """The input is malformed (unknown ids, end before start, empty horizon, …)."""


class ProblemTooLarge(RosterInputError):
    pass


class Infeasible(RosterError):
    """The hard rules cannot all hold; ``conflicts`` lists the rules that clash."""

    def __init__(self, message: str, conflicts: list[RuleRef]) -> None:
        super().__init__("infeasible", message, conflicts=[c.describe() for c in conflicts])
        self.conflicts = conflicts


@dataclass(frozen=True)
class RuleRef:
    """A hard rule of one subject: ``rule`` is a code such as ``min_minutes_period``."""

    rule: str
    subject: str  # person id or shift id
    detail: str = ""

    def describe(self) -> str:
        text = f"{self.rule} of {self.subject}"
        return f"{text} ({self.detail})" if self.detail else text


@dataclass(frozen=True)
class Uncovered:
    """A shift short of people, and why nobody else could be added."""

    shift: str
    missing: int
    reasons: dict[str, int]  # reason code -> number of people excluded by it
    summary: str


@dataclass(frozen=True)
class Progress:
    elapsed: float
    phase: str  # "greedy", "repair", "polish", "cover", "fairness", "cpsat", "lns", "final"
    # the best so far; in phase "cover" (Options.cover_first) without the fairness terms, so the value
    # may rise at "fairness", where the whole objective takes over
    objective: int
    bound: int | None = None
    # The roster that has this objective, as (person id, shift id) pairs, computed on demand: given to
    # the progress callback where the engine holds that roster at hand (not on every event; never in
    # ``Result.history``). Call it only inside the callback: the roster it reads changes afterwards.
    roster: Callable[[], list[tuple[str, str]]] | None = field(default=None, compare=False, repr=False)


ProgressCallback = Callable[[Progress], None]


@dataclass
class Result:
    status: str  # "optimal", "feasible", "infeasible_start" (greedy only, not all rules hold)
    assignments: list[tuple[str, str]]  # (person id, shift id)
    objective: int
    breakdown: dict[str, int]
    uncovered: list[Uncovered]
    bound: int | None
    time_to_first_feasible: float | None
    elapsed: float
    history: list[Progress] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    def by_person(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for p, s in self.assignments:
            out.setdefault(p, []).append(s)
        return out

    def by_shift(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for p, s in self.assignments:
            out.setdefault(s, []).append(p)
        return out
