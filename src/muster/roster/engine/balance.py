"""Evening out hours inside the fairness groups: move single shifts from the person with the most hours
to one with fewer, when both rosters stay valid and the objective does not get worse.

A move keeps the shift's head-count, so the cover terms do not change; only the two people's
preferences and their group's spread do. Moves that leave the objective equal are taken when they
bring the two people's hours closer (a move of h > 0 hours needs a gap of more than h, so the sum of
squared hours strictly falls; shifts that round to 0 hours only ever move towards the least busy, so
the pass ends).
It is plain Python and fast (a few thousand checks of one person's rules), so it runs on rosters far
too big for the CP-SAT model to reach every group in time. Each check of a person's rules is charged
to the :class:`.budget.Budget` given (deterministic work counts them; the wall clock runs anyway).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator

from .budget import CHECK_UNITS, CHECK_UNITS_PER_DAY, Budget
from .evaluate import Solution, part_penalty, person_violations, shift_counts
from .index import Index


def _checked(idx: Index, budget: Budget, n: int = 1) -> None:
    """Charge ``n`` checks of a person's rules."""
    budget.charge(n * (CHECK_UNITS + CHECK_UNITS_PER_DAY * idx.problem.days))


def balance(
    idx: Index,
    sol: Solution,
    budget: Budget,
    groups: list[list[int]] | None = None,
    stop: Callable[[], bool] | None = None,
) -> int:
    """Improve ``sol`` in place until no move helps, ``budget`` is spent or ``stop()`` says so; returns
    the number of shifts moved."""

    def over() -> bool:
        return budget.over() or (stop is not None and stop())

    moved = 0
    for group in idx.fair_groups if groups is None else groups:
        while True:
            if over():
                return moved
            hours = {p: sum(idx.hours[s] for s in sol[p]) for p in group}
            top = max(group, key=lambda p: (hours[p], p))
            bottom = min(group, key=lambda p: (hours[p], p))
            # from the busiest person to anyone with fewer hours, else to the least busy from anyone
            by_hours = sorted(group, key=lambda p: (hours[p], p))
            if (
                not any(
                    _move(idx, sol, group, top, q, hours, over, budget)
                    for q in by_hours
                    if hours[q] < hours[top]
                )
                and not any(
                    _move(idx, sol, group, p, bottom, hours, over, budget)
                    for p in reversed(by_hours)
                    if hours[p] > hours[bottom] and p != top
                )
                and not any(
                    _swap(idx, sol, group, top, q, hours, over, budget)
                    for q in by_hours[:SWAP_PARTNERS]
                    if hours[q] < hours[top]
                )
                and not any(
                    _swap(idx, sol, group, p, bottom, hours, over, budget)
                    for p in list(reversed(by_hours))[:SWAP_PARTNERS]
                    if hours[p] > hours[bottom] and p != top
                )
            ):
                break
            moved += 1
    return moved


# the people tried as the other side of a swap: the least (most) busy few
SWAP_PARTNERS = 3


def _swap(
    idx: Index,
    sol: Solution,
    group: list[int],
    top: int,
    q: int,
    hours: dict[int, int],
    over: Callable[[], bool],
    budget: Budget,
) -> bool:
    """Exchange shifts of ``top`` for a shorter one of ``q`` if that keeps both valid and the objective
    no worse: one for one (a 12-hour seat for an 8-hour one), then two for one (two 8-hour seats for a
    12-hour one: a person held at three 12-hour shifts a week by a 40-hour limit reaches 40 with two of
    each). Every shift keeps its head-count. Only exchanges that bring the two closer (the hours moved
    below the gap between them) are tried, so the pass ends."""
    if over():
        return False
    pr = idx.problem
    gap = hours[top] - hours[q]
    day = [s.day for s in pr.shifts]
    per_day_top = Counter(day[s] for s in sol[top])
    per_day_q = Counter(day[s] for s in sol[q])
    cap_top = pr.people[top].max_shifts_per_day
    cap_q = pr.people[q].max_shifts_per_day
    give = sorted(
        (s for s in sol[top] - idx.locked[top] - sol[q] if s in idx.elig_set[q]),
        key=lambda s: (-idx.pref_unwanted.get((top, s), 0), s),
    )
    take = sorted(s for s in sol[q] - idx.locked[q] - sol[top] if s in idx.elig_set[top])
    if not give or not take:
        return False

    def days_fit(gives: tuple[int, ...], t: int) -> bool:
        for d in {day[s] for s in gives}:
            if per_day_q[d] - (day[t] == d) + sum(day[s] == d for s in gives) > cap_q:
                return False
        return per_day_top[day[t]] - sum(day[s] == day[t] for s in gives) + 1 <= cap_top

    def exchanges() -> Iterator[tuple[tuple[int, ...], int]]:
        for s in give:
            for t in take:
                yield (s,), t
        for i, s1 in enumerate(give):
            for s2 in give[i + 1 :]:
                for t in take:
                    yield (s1, s2), t

    before: int | None = None
    for gives, t in exchanges():
        moved = sum(idx.hours[s] for s in gives) - idx.hours[t]
        if not 0 < moved < gap or not days_fit(gives, t):
            continue
        new_top, new_q = (sol[top] - set(gives)) | {t}, (sol[q] - {t}) | set(gives)
        done, before = _trade(idx, sol, group, top, q, new_top, new_q, before, budget)
        if done:
            return True
        if over():
            return False
    return False


def _move(
    idx: Index,
    sol: Solution,
    group: list[int],
    top: int,
    q: int,
    hours: dict[int, int],
    over: Callable[[], bool],
    budget: Budget,
) -> bool:
    """Move one shift of ``top`` to ``q`` if that keeps both valid and the objective no worse."""
    if over():
        return False
    # the person's own unwanted shifts first: giving one away helps twice
    mine = sorted(sol[top] - idx.locked[top], key=lambda s: (-idx.pref_unwanted.get((top, s), 0), s))
    before: int | None = None
    for s in mine:
        if s not in idx.elig_set[q] or s in sol[q] or hours[top] - hours[q] <= idx.hours[s]:
            continue
        done, before = _trade(idx, sol, group, top, q, sol[top] - {s}, sol[q] | {s}, before, budget)
        if done:
            return True
    return False


def _trade(
    idx: Index,
    sol: Solution,
    group: list[int],
    top: int,
    q: int,
    new_top: set[int],
    new_q: set[int],
    before: int | None,
    budget: Budget,
) -> tuple[bool, int | None]:
    """Give ``top`` and ``q`` the rosters ``new_top`` and ``new_q`` if both keep their rules and the
    two people's share of the objective (``before``: computed on first need and handed back) does not
    get worse; head-counts do not change, so no shift's cover terms enter."""
    _checked(idx, budget, 4)  # (two people's rules, then their share of the objective twice)
    if person_violations(idx, q, new_q) or person_violations(idx, top, new_top):
        return False, before
    if before is None:
        before = part_penalty(idx, sol, [top, q], [], [group])[0]
    old_top, old_q = sol[top], sol[q]
    sol[top], sol[q] = new_top, new_q
    if part_penalty(idx, sol, [top, q], [], [group])[0] <= before:
        return True, before
    sol[top], sol[q] = old_top, old_q
    return False, before


def fill(idx: Index, sol: Solution, budget: Budget, stop: Callable[[], bool] | None = None) -> int:
    """Give seats still short (and below their maximum head-count) to people who can take them with
    every rule kept (after moves elsewhere, someone may have room again) until ``budget`` is spent or
    ``stop()`` says so; returns the number of seats filled."""
    pr = idx.problem
    counts = shift_counts(idx, sol)
    takers: dict[int, list[int]] = {}
    short = {s for s, shift in enumerate(pr.shifts) if counts[s] < shift.required}
    if not short:
        return 0
    for p, el in enumerate(idx.elig):
        for s in el:
            if s in short:
                takers.setdefault(s, []).append(p)
    group_of = {p: g for g in idx.fair_groups for p in g}
    filled = 0
    for s in sorted(short, key=lambda s: (pr.shifts[s].start, s)):
        for p in sorted(takers.get(s, ()), key=lambda p: (sum(idx.hours[x] for x in sol[p]), p)):
            if budget.over() or (stop is not None and stop()):
                return filled
            cap = pr.shifts[s].max_count
            if counts[s] >= pr.shifts[s].required or (cap is not None and counts[s] >= cap):
                break
            if s in sol[p]:
                continue
            _checked(idx, budget)
            if person_violations(idx, p, sol[p] | {s}):
                continue
            groups = [group_of[p]] if p in group_of else []
            before = part_penalty(idx, sol, [p], [s], groups)[0]
            sol[p].add(s)
            if part_penalty(idx, sol, [p], [s], groups)[0] < before:
                counts[s] += 1
                filled += 1
            else:
                sol[p].discard(s)
    return filled
