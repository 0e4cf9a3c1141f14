"""The compliance engine for organizational life — pure Python, no Django.

Rules are data (``partylife.models.MeetingRequirement``, defaults from RULES.md); this module only
evaluates them. Everything here works on plain dates and dataclasses, so it is tested directly.

Windows
-------
A requirement "``count`` meetings of ``kind`` per ``period``" is checked in aligned calendar windows
[start, end): months, quarters (Jan/Apr/Jul/Oct) or years. A report for [start, end) covers every
window that overlaps it, so a quarter's report also shows the year's 组织生活会 requirement.

Status of a line, as of the last included day ``through``
----------------------------------------------------------
- ``exempt``: an exemption for this requirement covers the whole window;
- ``met``: enough meetings counted (held, approved, dated on or before ``through``, quorum met where
  the requirement sets one, lecturer role matching where it sets one);
- ``missed``: the window closed (its last day ≤ ``through``) with a gap — the branch is *behind*;
- ``due``: the window is still open and the gap can still be closed;
- ``upcoming``: the window starts after ``through``.

Quorum (RULES.md): 支部党员大会 — more than half of the voting (full) members expected;
支委会 — more than half of the committee members. A meeting that fails the quorum a requirement
asks for does not count for it and is listed among that line's quorum failures.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from itertools import combinations

MONTH, QUARTER, YEAR = "month", "quarter", "year"
PERIODS = (MONTH, QUARTER, YEAR)

QUORUM_NONE = ""
MAJORITY_EXPECTED = "majority_expected"
MAJORITY_VOTING = "majority_voting"
MAJORITY_COMMITTEE = "majority_committee"
QUORUMS = (QUORUM_NONE, MAJORITY_EXPECTED, MAJORITY_VOTING, MAJORITY_COMMITTEE)

EXEMPT, MET, MISSED, DUE, UPCOMING = "exempt", "met", "missed", "due", "upcoming"
BEHIND, OK = "behind", "ok"


# ---------------------------------------------------------------- calendar arithmetic


def add_months(d: date, n: int) -> date:
    """``d`` moved by ``n`` months, the day clipped to the month's length."""
    m = d.month - 1 + n
    y, m = d.year + m // 12, m % 12 + 1
    last = (date(y + (m == 12), m % 12 + 1, 1) - timedelta(days=1)).day
    return date(y, m, min(d.day, last))


def window_of(period: str, d: date) -> tuple[date, date]:
    """The aligned window [start, end) of ``period`` containing ``d``."""
    if period == MONTH:
        s = date(d.year, d.month, 1)
        return s, add_months(s, 1)
    if period == QUARTER:
        s = date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)
        return s, add_months(s, 3)
    if period == YEAR:
        return date(d.year, 1, 1), date(d.year + 1, 1, 1)
    raise ValueError(f"unknown period {period!r}")


def windows(period: str, start: date, end: date) -> list[tuple[date, date]]:
    """Every aligned window of ``period`` overlapping [start, end)."""
    return list(_windows(period, start, end))


@lru_cache(maxsize=256)
def _windows(period: str, start: date, end: date) -> tuple[tuple[date, date], ...]:
    """(cached: a list page evaluates the same windows for every organization)"""
    out: list[tuple[date, date]] = []
    if end <= start:
        return tuple(out)
    s, e = window_of(period, start)
    while s < end:
        out.append((s, e))
        s, e = window_of(period, e)
    return tuple(out)


def months_between(a: date, b: date) -> int:
    """Whole months from ``a`` to ``b`` (0 if ``b`` is before ``a`` + 1 month)."""
    n = (b.year - a.year) * 12 + b.month - a.month
    if b.day < a.day and not (b + timedelta(days=1)).day == 1:  # the end of a month completes a month
        n -= 1
    return max(n, 0)


# ---------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Requirement:
    code: str  # "party_lesson", "secretary_lesson", …
    kind: str  # a meeting kind
    period: str
    count: int = 1
    quorum: str = QUORUM_NONE
    lecturer_role: str = ""  # "secretary": only meetings whose lecturer held that role count


@dataclass(frozen=True)
class MeetingFact:
    """A held, approved meeting with its attendance counts."""

    id: int
    on: date
    kinds: frozenset[str]
    expected: int = 0
    present: int = 0
    expected_voting: int = 0
    present_voting: int = 0
    expected_committee: int = 0
    present_committee: int = 0
    lecturer_roles: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ExemptionFact:
    code: str  # requirement code
    start: date
    end: date  # exclusive


def quorum_met(quorum: str, m: MeetingFact) -> bool:
    """More than half present, of the group the quorum names."""
    if quorum == QUORUM_NONE:
        return True
    if quorum == MAJORITY_EXPECTED:
        return m.present * 2 > m.expected
    if quorum == MAJORITY_VOTING:
        return m.present_voting * 2 > m.expected_voting
    if quorum == MAJORITY_COMMITTEE:
        return m.present_committee * 2 > m.expected_committee
    raise ValueError(f"unknown quorum {quorum!r}")


# ---------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class Line:
    code: str
    kind: str
    period: str
    start: date
    end: date  # exclusive
    required: int
    held: int
    exempt: bool
    status: str
    meetings: tuple[int, ...] = ()
    quorum_failures: tuple[int, ...] = ()

    @property
    def gap(self) -> int:
        return 0 if self.exempt else max(self.required - self.held, 0)


def evaluate(
    requirements: Iterable[Requirement],
    meetings: Sequence[MeetingFact],
    exemptions: Sequence[ExemptionFact] = (),
    *,
    start: date,
    end: date,
    through: date,
) -> list[Line]:
    """One line per (requirement, window overlapping [start, end)), as of the last included day
    ``through``."""
    lines: list[Line] = []
    for req in requirements:
        for ws, we in windows(req.period, start, end):
            counted: list[int] = []
            failures: list[int] = []
            for m in meetings:
                if not (ws <= m.on < we and m.on <= through and req.kind in m.kinds):
                    continue
                if req.lecturer_role and req.lecturer_role not in m.lecturer_roles:
                    continue
                if quorum_met(req.quorum, m):
                    counted.append(m.id)
                else:
                    failures.append(m.id)
            exempt = any(x.code == req.code and x.start <= ws and we <= x.end for x in exemptions)
            held = len(counted)
            if exempt:
                status = EXEMPT
            elif held >= req.count:
                status = MET
            elif we - timedelta(days=1) <= through:
                status = MISSED
            elif ws > through:
                status = UPCOMING
            else:
                status = DUE
            lines.append(
                Line(
                    req.code,
                    req.kind,
                    req.period,
                    ws,
                    we,
                    req.count,
                    held,
                    exempt,
                    status,
                    tuple(counted),
                    tuple(failures),
                )
            )
    return lines


def overall(lines: Iterable[Line]) -> str:
    """``behind`` if any window closed with a gap, ``due`` if an open one still has a gap, else ``ok``."""
    statuses = {ln.status for ln in lines}
    if MISSED in statuses:
        return BEHIND
    if DUE in statuses or UPCOMING in statuses:
        return DUE
    return OK


# ---------------------------------------------------------------- a year by month

WORST_FIRST = (MISSED, DUE, UPCOMING, MET, EXEMPT)


@dataclass
class MonthCell:
    """What an organization had to do by the end of one month: the lines whose window closes in it."""

    month: int
    required: int = 0
    held: int = 0
    gap: int = 0
    statuses: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        """The worst status of the month's lines ("" when nothing closes in it)."""
        return min(self.statuses, key=WORST_FIRST.index) if self.statuses else ""


def month_grid(lines: Iterable[Line], year: int) -> list[MonthCell]:
    """Twelve cells for ``year``: each line counted in the month its window closes (its last day), so a
    monthly requirement shows every month, a quarterly one in Mar/Jun/Sep/Dec and a yearly one in Dec."""
    cells = [MonthCell(m) for m in range(1, 13)]
    for ln in lines:
        due = ln.end - timedelta(days=1)
        if due.year != year:
            continue
        c = cells[due.month - 1]
        c.required += ln.required
        c.held += min(ln.held, ln.required)
        c.gap += ln.gap
        c.statuses.append(ln.status)
        c.codes.append(ln.code)
    return cells


# ---------------------------------------------------------------- the six-month rule

WARNING_MONTHS = (3, 4, 5)
SIX_MONTHS = 6  # 党章: six consecutive months without organizational life → treated as having left


def warning_level(months: int, thresholds: Sequence[int] = WARNING_MONTHS) -> int | None:
    """The highest warning threshold reached (6 once the six-month line is crossed), or ``None``."""
    if months >= SIX_MONTHS:
        return SIX_MONTHS
    reached = [t for t in thresholds if months >= t]
    return max(reached) if reached else None


def inactivity_months(last_life: date | None, since: date, through: date) -> int:
    """Whole months without organizational life up to ``through``, counted from the later of the last
    meeting attended and ``since`` (when the member joined the branch)."""
    ref = max(last_life, since) if last_life else since
    return months_between(ref, through)


# ---------------------------------------------------------------- heart-to-heart talk coverage

CC, CM, MM = "committee-committee", "committee-member", "member-member"


@dataclass(frozen=True)
class Pair:
    a: int
    b: int
    category: str


@dataclass
class Coverage:
    people: list[int]
    required: int
    covered: int
    by_category: dict[str, tuple[int, int]]  # category → (required, covered)
    gaps: list[Pair]
    counts: dict[tuple[int, int], int] = field(default_factory=dict)  # talks per pair

    @property
    def ratio(self) -> float:
        return self.covered / self.required if self.required else 1.0


def pair_coverage(people: Mapping[int, bool], talks: Iterable[Iterable[int]]) -> Coverage:
    """Coverage of the pairs RULES.md requires each year (every pair of the branch: committee↔committee,
    committee↔member, member↔member). ``people`` maps person id → is a committee member; a talk covers
    every pair among its participants who are in ``people``."""
    counts: dict[tuple[int, int], int] = {}
    for t in talks:
        ids = sorted({p for p in t if p in people})
        for a, b in combinations(ids, 2):
            counts[(a, b)] = counts.get((a, b), 0) + 1
    ids = sorted(people)
    by_cat: dict[str, list[int]] = {CC: [0, 0], CM: [0, 0], MM: [0, 0]}
    gaps: list[Pair] = []
    for a, b in combinations(ids, 2):
        ca, cb = people[a], people[b]
        cat = CC if ca and cb else CM if ca or cb else MM
        by_cat[cat][0] += 1
        if counts.get((a, b)):
            by_cat[cat][1] += 1
        else:
            gaps.append(Pair(a, b, cat))
    required = sum(v[0] for v in by_cat.values())
    covered = sum(v[1] for v in by_cat.values())
    return Coverage(ids, required, covered, {k: (v[0], v[1]) for k, v in by_cat.items()}, gaps, counts)
