"""The engine's own scoring and hard-rule check of a roster (a set of shift indexes per person)."""

from __future__ import annotations

from collections import Counter

from .index import Index

Solution = list[set[int]]  # per person: the shift indexes worked


def person_days(idx: Index, p: int, shifts: set[int]) -> list[int]:
    """Shift count per day for days ``-tail_days .. days-1`` (index 0 is day ``-tail_days``)."""
    t = idx.problem.tail_days
    counts = [0] * (t + idx.problem.days)
    for d in idx.tail_days_worked[p]:
        if d >= -t:
            counts[d + t] += 1
    for s in shifts:
        counts[idx.problem.shifts[s].day + t] += 1
    return counts


def _runs(flags: list[bool]) -> list[tuple[int, int, bool]]:
    """Maximal runs as (first, last, value)."""
    runs = []
    i = 0
    n = len(flags)
    while i < n:
        j = i
        while j + 1 < n and flags[j + 1] == flags[i]:
            j += 1
        runs.append((i, j, flags[i]))
        i = j + 1
    return runs


def person_violations(idx: Index, p: int, shifts: set[int]) -> list[tuple[str, str]]:
    """The hard rules of person ``p`` that ``shifts`` breaks, as (rule code, detail)."""
    pr = idx.problem
    person = pr.people[p]
    sh = pr.shifts
    out: list[tuple[str, str]] = []
    for s in shifts:
        if s not in idx.elig_set[p]:
            out.append(("ineligible", sh[s].id))
    for s in idx.locked[p] - shifts:
        out.append(("lock", sh[s].id))
    ordered = sorted(shifts, key=lambda s: (sh[s].start, s))
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            if sh[b].start >= sh[a].end + person.min_rest_minutes + 2 * 1440:
                break
            if idx.clash(p, a, b):
                out.append(("clash", f"{sh[a].id}/{sh[b].id}"))
    kinds = Counter(sh[s].kind for s in shifts)
    for kind, n in kinds.items():
        limit = person.max_shifts_per_kind.get(kind)
        if limit is not None and n > limit:
            out.append(("max_shifts_per_kind", f"{kind}: {n} > {limit}"))
    total = sum(sh[s].minutes for s in shifts)
    if person.max_minutes_period is not None and total > person.max_minutes_period:
        out.append(("max_minutes_period", f"{total} > {person.max_minutes_period}"))
    if total < person.min_minutes_period:
        out.append(("min_minutes_period", f"{total} < {person.min_minutes_period}"))
    if person.max_minutes_day is not None:
        per_day = Counter[int]()
        for s in shifts:
            per_day[sh[s].day] += sh[s].minutes
        for d, m in per_day.items():
            if m > person.max_minutes_day:
                out.append(("max_minutes_day", f"day {d}: {m} > {person.max_minutes_day}"))
    if person.max_minutes_week is not None:
        per_week = Counter[int]()
        for s in shifts:
            per_week[idx.week_of_day[sh[s].day]] += sh[s].minutes
        for w, m in per_week.items():
            if m > person.max_minutes_week:
                out.append(("max_minutes_week", f"week {w}: {m} > {person.max_minutes_week}"))
    counts = person_days(idx, p, shifts)
    for d, c in enumerate(counts):
        if c > person.max_shifts_per_day and d >= pr.tail_days:
            out.append(("max_shifts_per_day", f"day {d - pr.tail_days}"))
    t = pr.tail_days
    last = len(counts) - 1
    for a, b, worked in _runs([c > 0 for c in counts]):
        if b < t:
            continue  # entirely in the previous period
        length = b - a + 1
        if worked:
            if person.max_consecutive_days is not None and length > person.max_consecutive_days:
                out.append(("max_consecutive_days", f"days {a - t}..{b - t}"))
            if length < person.min_consecutive_days and a > 0 and b < last:
                out.append(("min_consecutive_days", f"days {a - t}..{b - t}"))
        elif length < person.min_consecutive_days_off and a > 0 and b < last:
            out.append(("min_consecutive_days_off", f"days {a - t}..{b - t}"))
    if person.max_weekends is not None:
        weekends = {idx.weekend_of_day[sh[s].day] for s in shifts} - {-1}
        if len(weekends) > person.max_weekends:
            out.append(("max_weekends", f"{len(weekends)} > {person.max_weekends}"))
    return out


def violations(idx: Index, sol: Solution) -> list[tuple[str, str, str]]:
    """Every broken hard rule as (rule code, subject id, detail); empty when the roster is valid."""
    pr = idx.problem
    out = []
    for p, shifts in enumerate(sol):
        for rule, detail in person_violations(idx, p, shifts):
            out.append((rule, pr.people[p].id, detail))
    counts = shift_counts(idx, sol)
    for s, shift in enumerate(pr.shifts):
        if counts[s] < shift.min_count:
            out.append(("min_count", shift.id, f"{counts[s]} < {shift.min_count}"))
        if shift.max_count is not None and counts[s] > shift.max_count:
            out.append(("max_count", shift.id, f"{counts[s]} > {shift.max_count}"))
    return out


def shift_counts(idx: Index, sol: Solution) -> list[int]:
    counts = [0] * len(idx.problem.shifts)
    for shifts in sol:
        for s in shifts:
            counts[s] += 1
    return counts


def score(idx: Index, sol: Solution) -> tuple[int, dict[str, int]]:
    """The weighted objective (lower is better) and its parts."""
    pr = idx.problem
    counts = shift_counts(idx, sol)
    under = over = 0
    for s, shift in enumerate(pr.shifts):
        c = counts[s]
        if c < shift.required:
            under += (shift.required - c) * idx.under_w[s]
        elif c > shift.required:
            over += (c - shift.required) * idx.over_w[s]
    prefs = 0
    for (p, s), w in idx.pref_wanted.items():
        if s not in sol[p]:
            prefs += w
    for (p, s), w in idx.pref_unwanted.items():
        if s in sol[p]:
            prefs += w
    fairness = spread_penalty(idx, sol, idx.fair_groups)
    parts = {"under": under, "over": over, "preferences": prefs, "fairness": fairness}
    return under + over + prefs + fairness, parts


def part_penalty(
    idx: Index, sol: Solution, people: list[int], shifts: list[int], groups: list[list[int]]
) -> tuple[int, list[int]]:
    """The objective's terms of one part of the roster (the cover of ``shifts``, the preferences of
    ``people``, the spread inside ``groups``) and the days of ``shifts`` that lack people. For one
    component (its people, the shifts they can take, its fairness groups) it is the part of
    :func:`score` that changes when only that component's rosters change."""
    pr = idx.problem
    counts: dict[int, int] = {}
    for p in people:
        for s in sol[p]:
            counts[s] = counts.get(s, 0) + 1
    total = 0
    short_days: list[int] = []
    for s in shifts:
        c = counts.get(s, 0)
        req = pr.shifts[s].required
        if c < req:
            total += (req - c) * idx.under_w[s]
            short_days.append(pr.shifts[s].day)
        elif c > req:
            total += (c - req) * idx.over_w[s]
    for p in people:
        for s, w in idx.pref_wanted_of.get(p, ()):
            if s not in sol[p]:
                total += w
        for s, w in idx.pref_unwanted_of.get(p, ()):
            if s in sol[p]:
                total += w
    total += spread_penalty(idx, sol, groups)
    return total, short_days


def spread_penalty(idx: Index, sol: Solution, groups: list[list[int]]) -> int:
    """The fairness terms: the weighted spread of hours, nights and weekends inside each group."""
    pr = idx.problem
    weights = pr.weights
    total = 0
    if weights.spread_hours or weights.spread_nights or weights.spread_weekends:
        for group in groups:
            hours = [sum(idx.hours[s] for s in sol[p]) for p in group]
            nights = [sum(1 for s in sol[p] if pr.shifts[s].night) for p in group]
            weekends = [len({idx.weekend_of_day[pr.shifts[s].day] for s in sol[p]} - {-1}) for p in group]
            total += weights.spread_hours * (max(hours) - min(hours))
            total += weights.spread_nights * (max(nights) - min(nights))
            total += weights.spread_weekends * (max(weekends) - min(weekends))
    return total
