"""Validation of a :class:`Problem` and the integer index every other module works on."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from dataclasses import field as dataclass_field

from .model import (
    DAY,
    Infeasible,
    Limits,
    Person,
    Problem,
    ProblemTooLarge,
    RosterInputError,
    RuleRef,
    Shift,
)

# Static reasons why a person can never take a shift (also used to explain uncovered shifts).
STATIC_REASONS = {
    "skill": "lacks a required skill",
    "mode_remote": "restricted to remote seats",
    "mode_local": "restricted to local (on-site) tasks",
    "site": "not assigned to this site",
    "day_off": "day off",
    "unavailable": "outside the availability windows",
    "kind_limit": "may not work this shift type",
    "too_long": "shift longer than the daily limit",
    "tail_rest": "too soon after the previous period's last shift",
}


def validate(problem: Problem, limits: Limits) -> None:
    """Raise :class:`RosterInputError` (or :class:`ProblemTooLarge`) for bad input, before any work."""
    if problem.days <= 0:
        raise RosterInputError("empty_horizon", "The horizon must have at least one day.", days=problem.days)
    if problem.days > limits.max_days:
        raise ProblemTooLarge(
            "too_many_days",
            f"The horizon has {problem.days} days; the limit is {limits.max_days}.",
            days=problem.days,
            limit=limits.max_days,
        )
    if len(problem.people) > limits.max_people:
        raise ProblemTooLarge(
            "too_many_people",
            f"{len(problem.people)} people; the limit is {limits.max_people}.",
            count=len(problem.people),
            limit=limits.max_people,
        )
    if len(problem.shifts) > limits.max_shifts:
        raise ProblemTooLarge(
            "too_many_shifts",
            f"{len(problem.shifts)} shifts; the limit is {limits.max_shifts}. Split the period or the posts.",
            count=len(problem.shifts),
            limit=limits.max_shifts,
        )
    if not problem.people:
        raise RosterInputError("no_people", "There is nobody to roster.")
    seen: set[str] = set()
    for person in problem.people:
        if person.id in seen:
            raise RosterInputError("duplicate_person", f"Person {person.id} appears twice.", person=person.id)
        seen.add(person.id)
        if person.mode not in ("any", "remote", "local"):
            raise RosterInputError(
                "bad_mode", f"Person {person.id}: unknown mode {person.mode!r}.", person=person.id
            )
        if person.availability is not None:
            for a, b in person.availability:
                if b <= a:
                    raise RosterInputError(
                        "bad_window",
                        f"Person {person.id}: an availability window ends before it starts.",
                        person=person.id,
                    )
        if all(d in person.days_off for d in range(problem.days)) or person.availability == ():
            raise RosterInputError(
                "no_availability",
                f"Person {person.id} is not available on any day of the period; leave them out.",
                person=person.id,
            )
        if person.max_minutes_period is not None and person.min_minutes_period > person.max_minutes_period:
            raise RosterInputError(
                "min_above_max",
                f"Person {person.id}: the minimum minutes exceed the maximum.",
                person=person.id,
            )
    seen = set()
    for shift in problem.shifts:
        if shift.id in seen:
            raise RosterInputError("duplicate_shift", f"Shift {shift.id} appears twice.", shift=shift.id)
        seen.add(shift.id)
        if shift.end <= shift.start:
            raise RosterInputError(
                "end_before_start",
                f"Shift {shift.id} ends before (or when) it starts.",
                shift=shift.id,
            )
        if not 0 <= shift.day < problem.days:
            raise RosterInputError(
                "shift_outside_horizon",
                f"Shift {shift.id} is on day {shift.day}, outside the {problem.days}-day horizon.",
                shift=shift.id,
            )
        if (
            shift.required < 0
            or shift.min_count < 0
            or (shift.max_count is not None and shift.max_count < shift.min_count)
        ):
            raise RosterInputError(
                "bad_count", f"Shift {shift.id}: inconsistent head-counts.", shift=shift.id
            )
    people = {p.id for p in problem.people}
    shifts = {s.id for s in problem.shifts}
    for pref in problem.preferences:
        if pref.person not in people or pref.shift not in shifts:
            raise RosterInputError(
                "unknown_reference",
                f"A preference names an unknown person or shift ({pref.person}, {pref.shift}).",
            )
    for lock in problem.locks:
        if lock.person not in people or lock.shift not in shifts:
            raise RosterInputError(
                "unknown_reference",
                f"A locked assignment names an unknown person or shift ({lock.person}, {lock.shift}).",
            )
    for t in problem.tail:
        if t.person not in people:
            raise RosterInputError("unknown_reference", f"The tail names an unknown person ({t.person}).")
        if t.day >= 0 or t.end <= t.start:
            raise RosterInputError(
                "bad_tail", f"A tail shift of {t.person} is not a valid shift before day 0.", person=t.person
            )


def profile_reason(person: Person, shift: Shift) -> str | None:
    """The part of :func:`static_reason` that depends only on the person's skills, mode and sites (so
    it holds for everybody with the same three)."""
    if not shift.skills <= person.skills:
        return "skill"
    if person.mode == "remote" and not shift.remote:
        return "mode_remote"
    if person.mode == "local" and shift.remote:
        return "mode_local"
    if person.sites is not None and shift.site not in person.sites:
        return "site"
    return None


def static_reason(problem: Problem, person: Person, shift: Shift) -> str | None:
    """Why ``person`` can never take ``shift`` (ignoring the rest of the roster), or None."""
    reason = profile_reason(person, shift)
    if reason is not None:
        return reason
    if shift.day in person.days_off:
        return "day_off"
    if person.availability is not None and not any(
        a <= shift.start and shift.end <= b for a, b in person.availability
    ):
        return "unavailable"
    if person.max_shifts_per_kind.get(shift.kind, 1) <= 0:
        return "kind_limit"
    if person.max_minutes_day is not None and shift.minutes > person.max_minutes_day:
        return "too_long"
    if person.max_minutes_period is not None and shift.minutes > person.max_minutes_period:
        return "too_long"
    return None


@dataclass
class Index:
    """Integer view of a problem: people ``p``, shifts ``s``, candidate shifts per person."""

    problem: Problem
    pid: dict[str, int]
    sid: dict[str, int]
    elig: list[list[int]]  # per person: eligible shift indices sorted by start
    elig_by_day: list[dict[int, list[int]]]
    elig_set: list[set[int]]
    locked: list[set[int]]
    tail_days_worked: list[set[int]]  # negative day indexes worked in the tail
    tail_shifts: list[list[tuple[int, int, int, str]]]  # (day, start, end, kind)
    pref_wanted: dict[tuple[int, int], int]
    pref_unwanted: dict[tuple[int, int], int]
    under_w: list[int]
    over_w: list[int]
    weekend_of_day: list[int]  # -1 if not a weekend day, else the weekend's number
    week_of_day: list[int]
    n_weekends: int
    forbidden_next: dict[str, frozenset[str]]
    # the preferences per person: [(shift, weight)]
    pref_wanted_of: dict[int, list[tuple[int, int]]] = dataclass_field(default_factory=dict)
    pref_unwanted_of: dict[int, list[tuple[int, int]]] = dataclass_field(default_factory=dict)
    component_of_person: list[int] = dataclass_field(default_factory=list)
    components: list[list[int]] = dataclass_field(default_factory=list)  # people per component
    fair_groups: list[list[int]] = dataclass_field(default_factory=list)
    hours: list[int] = dataclass_field(default_factory=list)  # per shift, rounded
    # per person, filled as needed: how many days after a shift's day a rest or overlap can reach
    look_ahead: dict[int, int] = dataclass_field(default_factory=dict)

    @property
    def n_pairs(self) -> int:
        return sum(len(e) for e in self.elig)

    def clash(self, p: int, s1: int, s2: int) -> bool:
        """True when person ``p`` cannot work both shifts (overlap, rest, succession, same day)."""
        sh = self.problem.shifts
        a, b = sh[s1], sh[s2]
        if a.start > b.start or (a.start == b.start and s1 > s2):
            a, b = b, a
        person = self.problem.people[p]
        if a.day == b.day and person.max_shifts_per_day <= 1:
            return True
        if b.start < a.end + person.min_rest_minutes:
            return True
        return b.day == a.day + 1 and b.kind in self.forbidden_next.get(a.kind, frozenset())

    def clash_tail(self, p: int, s: int) -> bool:
        person = self.problem.people[p]
        b = self.problem.shifts[s]
        for day, _start, end, kind in self.tail_shifts[p]:
            if b.start < end + person.min_rest_minutes:
                return True
            if b.day == day + 1 and b.kind in self.forbidden_next.get(kind, frozenset()):
                return True
        return False


def build_index(problem: Problem, limits: Limits) -> Index:
    validate(problem, limits)
    pid = {p.id: i for i, p in enumerate(problem.people)}
    sid = {s.id: i for i, s in enumerate(problem.shifts)}
    forbidden: dict[str, set[str]] = defaultdict(set)
    for a, b in problem.forbidden_successions:
        forbidden[a].add(b)
    forbidden_next = {k: frozenset(v) for k, v in forbidden.items()}
    order = sorted(range(len(problem.shifts)), key=lambda s: (problem.shifts[s].start, s))
    tail_shifts: list[list[tuple[int, int, int, str]]] = [[] for _ in problem.people]
    tail_days: list[set[int]] = [set() for _ in problem.people]
    for t in problem.tail:
        i = pid[t.person]
        tail_shifts[i].append((t.day, t.start, t.end, t.kind))
        tail_days[i].add(t.day)
    locked: list[set[int]] = [set() for _ in problem.people]
    for lock in problem.locks:
        locked[pid[lock.person]].add(sid[lock.shift])
    weekend_of_day = []
    week_of_day = []
    for d in range(problem.days):
        wd = (d + problem.start_weekday) % 7
        week = (d + problem.start_weekday) // 7
        week_of_day.append(week)
        weekend_of_day.append(week if wd >= 5 else -1)
    n_weekends = max(weekend_of_day) + 1 if any(w >= 0 for w in weekend_of_day) else 0
    idx = Index(
        problem=problem,
        pid=pid,
        sid=sid,
        elig=[],
        elig_by_day=[],
        elig_set=[],
        locked=locked,
        tail_days_worked=tail_days,
        tail_shifts=tail_shifts,
        pref_wanted={},
        pref_unwanted={},
        under_w=[problem.weights.under if s.weight_under is None else s.weight_under for s in problem.shifts],
        over_w=[problem.weights.over if s.weight_over is None else s.weight_over for s in problem.shifts],
        weekend_of_day=weekend_of_day,
        week_of_day=week_of_day,
        n_weekends=n_weekends,
        forbidden_next=forbidden_next,
    )
    # candidates per site, in start order: a person restricted to some sites is only checked against
    # their shifts (2,000 people × 18,000 shifts would otherwise be 36M checks)
    rank = {s: i for i, s in enumerate(order)}
    by_site: dict[str, list[int]] = defaultdict(list)
    for s in order:
        by_site[problem.shifts[s].site].append(s)
    total = 0
    for p, person in enumerate(problem.people):
        el = []
        if person.sites is None:
            cands = order
        else:
            cands = sorted((s for site in person.sites for s in by_site.get(site, ())), key=rank.__getitem__)
        for s in cands:
            shift = problem.shifts[s]
            if static_reason(problem, person, shift) is None and not (
                tail_shifts[p] and idx.clash_tail(p, s)
            ):
                el.append(s)
        for s in locked[p]:
            if s not in el:
                shift = problem.shifts[s]
                reason = static_reason(problem, person, shift) or "tail_rest"
                raise Infeasible(
                    f"The locked assignment of {person.id} to {shift.id} breaks a rule: "
                    f"{STATIC_REASONS[reason]}.",
                    [RuleRef("lock", person.id, shift.id), RuleRef(reason, person.id)],
                )
        total += len(el)
        if total > limits.max_pairs:
            raise ProblemTooLarge(
                "too_many_candidates",
                f"More than {limits.max_pairs} person × shift candidates; split the problem.",
                limit=limits.max_pairs,
            )
        by_day: dict[int, list[int]] = defaultdict(list)
        for s in el:
            by_day[problem.shifts[s].day].append(s)
        idx.elig.append(el)
        idx.elig_by_day.append(dict(by_day))
        idx.elig_set.append(set(el))
    for pref in problem.preferences:
        key = (pid[pref.person], sid[pref.shift])
        target = idx.pref_wanted if pref.wanted else idx.pref_unwanted
        target[key] = target.get(key, 0) + pref.weight
    for (p, s), w in idx.pref_wanted.items():
        idx.pref_wanted_of.setdefault(p, []).append((s, w))
    for (p, s), w in idx.pref_unwanted.items():
        idx.pref_unwanted_of.setdefault(p, []).append((s, w))
    _components(idx)
    idx.hours = [round(s.minutes / 60) for s in problem.shifts]
    return idx


def _components(idx: Index) -> None:
    n_people = len(idx.problem.people)
    parent = list(range(n_people + len(idx.problem.shifts)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for p, el in enumerate(idx.elig):
        rp = find(p)
        for s in el:
            rs = find(n_people + s)
            if rs != rp:
                parent[rs] = rp
    roots: dict[int, int] = {}
    comp = []
    for p in range(n_people):
        comp.append(roots.setdefault(find(p), len(roots)))
    idx.component_of_person = comp
    idx.components = [[] for _ in roots]
    for p, c in enumerate(comp):
        idx.components[c].append(p)
    groups: dict[tuple[str, int], list[int]] = defaultdict(list)
    for p, person in enumerate(idx.problem.people):
        if idx.elig[p]:
            groups[(person.group, comp[p])].append(p)
    idx.fair_groups = [g for g in groups.values() if len(g) >= 2]


def day_range_minutes(day: int) -> tuple[int, int]:
    return day * DAY, (day + 1) * DAY
