"""Why a shift stays short of people: for each other person, the first rule that keeps them out."""

from __future__ import annotations

from collections import Counter

from .evaluate import Solution, person_days, person_violations, shift_counts
from .index import STATIC_REASONS, Index, profile_reason, static_reason
from .model import Uncovered

DYNAMIC_REASONS = {
    "max_shifts_per_day": "already working that day",
    "clash": "too close to another of their shifts (rest, overlap or forbidden succession)",
    "max_shifts_per_kind": "at their limit for this shift type",
    "max_minutes_period": "at their limit of hours for the period",
    "max_minutes_week": "at their limit of hours for the week",
    "max_minutes_day": "at their limit of hours for the day",
    "max_consecutive_days": "at their limit of consecutive days",
    "min_consecutive_days": "would leave a too short run of days worked",
    "min_consecutive_days_off": "would leave a too short rest of days off",
    "max_weekends": "at their limit of weekends",
    "max_count": "the shift is at its maximum head-count",
    "could_take": "free to take it, but at a higher total penalty elsewhere",
}

REASON_TEXT = {**STATIC_REASONS, **DYNAMIC_REASONS}


def explain(idx: Index, sol: Solution) -> list[Uncovered]:
    pr = idx.problem
    counts = shift_counts(idx, sol)
    base: dict[int, set[str]] = {}
    cache: dict[int, _Load] = {}
    # people with the same skills, mode and sites are kept out of a shift of another site (skill,
    # mode) alike: one check per such profile, not per person (2,000 people × 1,000 short shifts)
    profiles: dict[tuple[object, ...], list[int]] = {}
    for p, person in enumerate(pr.people):
        profiles.setdefault((person.skills, person.mode, person.sites), []).append(p)
    out = []
    for s, shift in enumerate(pr.shifts):
        missing = shift.required - counts[s]
        if missing <= 0:
            continue
        reasons: Counter[str] = Counter()
        for members in profiles.values():
            shared = profile_reason(pr.people[members[0]], shift)
            if shared is not None:
                reasons[shared] += len(members)  # none of them can be on the shift
                continue
            for p in members:
                _person_reason(idx, sol, s, p, counts, base, reasons, cache)
        out.append(Uncovered(shift.id, missing, dict(reasons), _summary(shift.id, missing, reasons)))
    return out


def _person_reason(
    idx: Index,
    sol: Solution,
    s: int,
    p: int,
    counts: list[int],
    base: dict[int, set[str]],
    reasons: Counter[str],
    cache: dict[int, _Load],
) -> None:
    pr = idx.problem
    shift = pr.shifts[s]
    person = pr.people[p]
    if s in sol[p]:
        return
    reason = static_reason(pr, person, shift)
    if reason is None and s not in idx.elig_set[p]:
        reason = "tail_rest"
    if reason is None:
        if shift.max_count is not None and counts[s] >= shift.max_count:
            reason = "max_count"
        else:
            if p not in base:
                base[p] = {r for r, _ in person_violations(idx, p, sol[p])}
            # the rules the shift would newly break, checked around it (exactly the full check's
            # on a valid roster; on one that already breaks rules, those are left out as before)
            new = sorted(added_violations(idx, sol, p, s, cache) - base[p])
            reason = _first(new) if new else "could_take"
    reasons[reason] += 1


def _first(codes: list[str]) -> str:
    order = list(DYNAMIC_REASONS)
    return min(codes, key=lambda c: order.index(c) if c in order else len(order))


def _summary(shift: str, missing: int, reasons: Counter[str]) -> str:
    static = {k: v for k, v in reasons.items() if k in STATIC_REASONS}
    dynamic = {k: v for k, v in reasons.items() if k not in STATIC_REASONS}
    if not dynamic:
        if not static:
            return f"{shift}: {missing} missing; nobody can be rostered on it."
        top = max(static, key=lambda k: static[k])
        return f"{shift}: {missing} missing; nobody qualifies (mostly: {STATIC_REASONS[top]})."
    parts = ", ".join(
        f"{n} {REASON_TEXT.get(k, k)}" for k, n in sorted(dynamic.items(), key=lambda kv: -kv[1])
    )
    return f"{shift}: {missing} missing; every qualified person is held back: {parts}."


class _Load:
    """What one person's (valid) roster already holds, for checking one more shift locally."""

    def __init__(self, idx: Index, p: int, shifts: set[int]) -> None:
        sh = idx.problem.shifts
        self.days = person_days(idx, p, shifts)
        self.kinds = Counter(sh[s].kind for s in shifts)
        self.minutes = sum(sh[s].minutes for s in shifts)
        self.day_minutes: Counter[int] = Counter()
        self.week_minutes: Counter[int] = Counter()
        for s in shifts:
            self.day_minutes[sh[s].day] += sh[s].minutes
            self.week_minutes[idx.week_of_day[sh[s].day]] += sh[s].minutes
        self.weekends = {idx.weekend_of_day[sh[s].day] for s in shifts} - {-1}
        self.by_day: dict[int, list[int]] = {}
        for s in shifts:
            self.by_day.setdefault(sh[s].day, []).append(s)
        # a shift can clash only with shifts this many days away (rest after the longest shift)
        longest = max((sh[s].end - sh[s].day * 1440 for s in idx.elig[p]), default=0)
        self.reach = 1 + (longest + idx.problem.people[p].min_rest_minutes) // 1440


def added_violations(idx: Index, sol: Solution, p: int, s: int, cache: dict[int, _Load]) -> set[str]:
    """The rules (codes of :func:`person_violations`) that adding eligible shift ``s`` to person ``p``'s
    VALID roster would break, checked around the shift instead of over the whole period (4,000 short
    shifts × 100 people on a year-long roster otherwise take half a minute)."""
    pr = idx.problem
    person = pr.people[p]
    shift = pr.shifts[s]
    load = cache.get(p)
    if load is None:
        load = cache[p] = _Load(idx, p, sol[p])
    out: set[str] = set()
    t = pr.tail_days
    d = shift.day
    if load.days[d + t] + 1 > person.max_shifts_per_day:
        out.add("max_shifts_per_day")
    if any(
        idx.clash(p, s, other)
        for day in range(d - load.reach, d + load.reach + 1)
        for other in load.by_day.get(day, ())
    ):
        out.add("clash")
    limit = person.max_shifts_per_kind.get(shift.kind)
    if limit is not None and load.kinds[shift.kind] + 1 > limit:
        out.add("max_shifts_per_kind")
    m = shift.minutes
    if person.max_minutes_period is not None and load.minutes + m > person.max_minutes_period:
        out.add("max_minutes_period")
    if person.max_minutes_day is not None and load.day_minutes[d] + m > person.max_minutes_day:
        out.add("max_minutes_day")
    wk = idx.week_of_day[d]
    if person.max_minutes_week is not None and load.week_minutes[wk] + m > person.max_minutes_week:
        out.add("max_minutes_week")
    we = idx.weekend_of_day[d]
    if person.max_weekends is not None and we >= 0 and len(load.weekends | {we}) > person.max_weekends:
        out.add("max_weekends")
    flags = load.days
    i = d + t
    if flags[i] == 0:
        # the day becomes worked: the run through it, and the days-off runs on either side
        last = len(flags) - 1
        a = i
        while a > 0 and flags[a - 1] > 0:
            a -= 1
        b = i
        while b < last and flags[b + 1] > 0:
            b += 1
        length = b - a + 1
        if person.max_consecutive_days is not None and length > person.max_consecutive_days:
            out.add("max_consecutive_days")
        if length < person.min_consecutive_days and a > 0 and b < last:
            out.add("min_consecutive_days")
        if person.min_consecutive_days_off > 1:
            if a == i and i > 0:  # a days-off run ends the day before
                a0 = i - 1
                while a0 > 0 and flags[a0 - 1] == 0:
                    a0 -= 1
                if i - a0 < person.min_consecutive_days_off and a0 > 0 and i - 1 >= t:
                    out.add("min_consecutive_days_off")
            if b == i and i < last:  # a days-off run starts the day after
                b0 = i + 1
                while b0 < last and flags[b0 + 1] == 0:
                    b0 += 1
                if b0 - i < person.min_consecutive_days_off and b0 < last:
                    out.add("min_consecutive_days_off")
    return out
