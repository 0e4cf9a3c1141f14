"""Shifts that nobody could tell apart, merged into one: same day, times, kind, skills, remote and night
flags, weights and exactly the same people able to take them (say the morning shifts of the four
checkpoints of one community). One person's rules cannot see which of them he or she works, so a
roster of the merged problem (each merged shift needing the sum of the head-counts) splits back into
a roster of the original one that keeps every rule and covers the same seats. The merged problem has
no such symmetry left: the seat-filling phase (:func:`.solver._cover_first`) and the search after it
(``Options.merge``) search it instead of the original (500 x 28 x 50, one short community alone,
seats only: 500 seats in 5 s and 505 in 15 s instead of 496 and 501). The fairness terms count hours,
nights and weekends of people, which merged shifts share, so they carry over exactly.

Locked shifts stay alone. A wish for one shift of a merged group becomes a wish for the group (the
split gives the person that very shift when it can), so the merged problem's wishes are close to,
not exactly, the original's; the whole objective is counted again on the split roster.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .evaluate import Solution
from .index import Index
from .model import Lock, Person, Preference, Problem, TailShift


@dataclass
class Aggregate:
    problem: Problem
    people: list[int]  # original index of each merged problem's person
    members: list[list[int]]  # original shifts of each merged shift
    class_of: dict[int, int]  # original shift -> merged shift


def aggregate(idx: Index, people: list[int]) -> Aggregate:
    """The merged problem of ``people`` (whole components: nobody else can take their shifts) and the
    shifts they can take."""
    pr = idx.problem
    people = sorted(people)
    shifts = sorted({s for p in people for s in idx.elig[p]})
    takers: dict[int, list[int]] = {s: [] for s in shifts}
    for p in people:
        for s in idx.elig[p]:
            takers[s].append(p)
    locked = {s for p in people for s in idx.locked[p]}
    classes: dict[tuple[object, ...], list[int]] = {}
    for s in shifts:
        sh = pr.shifts[s]
        key: tuple[object, ...] = (
            ("locked", s)
            if s in locked or sh.min_count
            else (
                sh.day,
                sh.start,
                sh.end,
                sh.kind,
                sh.skills,
                sh.remote,
                sh.night,
                sh.weight_under,
                sh.weight_over,
                sh.max_count is None,
                tuple(takers[s]),
            )
        )
        classes.setdefault(key, []).append(s)
    members = list(classes.values())
    class_of = {s: c for c, ms in enumerate(members) for s in ms}
    new_shifts = []
    for c, ms in enumerate(members):
        first = pr.shifts[ms[0]]
        caps = [pr.shifts[s].max_count for s in ms]
        new_shifts.append(
            dataclasses.replace(
                first,
                id=first.id if len(ms) == 1 else f"{first.id}+{len(ms) - 1}",
                site=f"class-{c}",
                required=sum(pr.shifts[s].required for s in ms),
                min_count=sum(pr.shifts[s].min_count for s in ms),
                max_count=None if any(m is None for m in caps) else sum(m for m in caps if m is not None),
            )
        )
    sites_of: dict[int, set[str]] = {p: set() for p in people}
    for c, ms in enumerate(members):
        for p in takers[ms[0]]:
            sites_of[p].add(f"class-{c}")
    new_people: list[Person] = [
        dataclasses.replace(pr.people[p], sites=frozenset(sites_of[p])) for p in people
    ]
    ids = {pr.people[p].id for p in people}
    wishes: dict[tuple[str, str, bool], int] = {}
    for pref in pr.preferences:
        if pref.person not in ids or pref.shift not in idx.sid:
            continue
        s = idx.sid[pref.shift]
        if s not in class_of:
            continue
        key2 = (pref.person, new_shifts[class_of[s]].id, pref.wanted)
        wishes[key2] = max(wishes.get(key2, 0), pref.weight)
    prefs = [Preference(p, s, w, wanted) for (p, s, wanted), w in wishes.items()]
    locks = [
        Lock(lk.person, new_shifts[class_of[idx.sid[lk.shift]]].id)
        for lk in pr.locks
        if lk.person in ids and lk.shift in idx.sid and idx.sid[lk.shift] in class_of
    ]
    tail: list[TailShift] = [t for t in pr.tail if t.person in ids]
    problem = dataclasses.replace(
        pr, people=new_people, shifts=new_shifts, preferences=prefs, locks=locks, tail=tail
    )
    return Aggregate(problem, people, members, class_of)


def merge(agg: Aggregate, sol: Solution) -> Solution:
    """The roster ``sol`` of the original problem as a roster of the merged one."""
    return [{agg.class_of[s] for s in sol[p]} for p in agg.people]


def split(idx: Index, agg: Aggregate, merged: Solution, sol: Solution) -> Solution:
    """A copy of ``sol`` with the people of ``agg`` taking the shifts of the merged roster ``merged``:
    each merged shift's people spread over its members, the seats short first, a person's wished
    shift (and not an unwanted one) where there is a choice."""
    pr = idx.problem
    out = [set(x) for x in sol]
    for p in agg.people:
        out[p] = set(idx.locked[p])
    counts: dict[int, int] = {}
    for p in agg.people:
        for s in out[p]:
            counts[s] = counts.get(s, 0) + 1
    by_class: dict[int, list[int]] = {}
    for i, p in enumerate(agg.people):
        for c in merged[i]:
            ms = agg.members[c]
            if len(ms) == 1:
                if ms[0] not in out[p]:
                    out[p].add(ms[0])
                    counts[ms[0]] = counts.get(ms[0], 0) + 1
            else:
                by_class.setdefault(c, []).append(p)
    for c, takers in by_class.items():
        ms = agg.members[c]

        def wish(p: int, s: int) -> int:
            return idx.pref_wanted.get((p, s), 0) - idx.pref_unwanted.get((p, s), 0)

        # those with a wish inside the group choose first
        takers.sort(key=lambda p: (-max(abs(wish(p, s)) for s in ms), p))

        def room(p: int, s: int) -> tuple[int, int, int, int, int]:
            shift = pr.shifts[s]
            n = counts.get(s, 0)
            full = shift.max_count is not None and n >= shift.max_count
            return (int(full), int(n >= shift.required), -wish(p, s), n, s)

        for p in takers:
            s = min(ms, key=lambda s: room(p, s))
            out[p].add(s)
            counts[s] = counts.get(s, 0) + 1
    return out
