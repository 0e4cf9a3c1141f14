"""Why a shift stays short of people: for each other person, the first rule that keeps them out."""

from __future__ import annotations

from collections import Counter

from .evaluate import Solution, person_violations, shift_counts
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
                _person_reason(idx, sol, s, p, counts, base, reasons)
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
            if (
                person.max_shifts_per_day <= 1
                and "max_shifts_per_day" not in base[p]
                and any(pr.shifts[x].day == shift.day for x in sol[p])
            ):
                # already working that day: the first reason in order, without checking every rule
                reasons["max_shifts_per_day"] += 1
                return
            new = [
                r
                for r, _ in person_violations(idx, p, sol[p] | {s})
                if r not in base[p] and r != "ineligible"
            ]
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
