"""Shifts that nobody could tell apart, merged into one: same day, times, kind, skills, remote and night
flags, weights, exactly the same people able to take them and the same wishes of the same people
(say the morning shifts of the four checkpoints of one community). One person's rules cannot see which
of them he or she works, so a roster of the merged problem (each merged shift needing the sum of the
head-counts) splits back into a roster of the original one that keeps every rule and has the SAME
objective: the split fills every member up to its head-count before any gets more, so the seats short
and the people too many are the merged shift's; the wishes and the fairness terms cannot tell the
members apart either. The merged problem has no such symmetry left: the seat-filling phase
(:func:`.solver._cover_first`) and the search after it (``Options.merge``) search it instead of the
original (500 x 28 x 50, one short community alone, seats only: 500 seats in 5 s and 505 in 15 s
instead of 496 and 501); its bounds are the original's.

Locked shifts, shifts with a head-count minimum and shifts whose maximum is below their head-count
stay alone.
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

    @property
    def n_shifts(self) -> int:
        """The original shifts it stands for."""
        return len(self.class_of)

    def sizes(self) -> str:
        """ "original->merged" shift counts (the engine's stats)."""
        return f"{self.n_shifts}->{len(self.members)}"


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
    wishes_of: dict[int, list[tuple[int, int, bool]]] = {}
    for (p, s), w in idx.pref_wanted.items():
        wishes_of.setdefault(s, []).append((p, w, True))
    for (p, s), w in idx.pref_unwanted.items():
        wishes_of.setdefault(s, []).append((p, w, False))
    classes: dict[tuple[object, ...], list[int]] = {}
    for s in shifts:
        sh = pr.shifts[s]
        alone = s in locked or sh.min_count or (sh.max_count is not None and sh.max_count < sh.required)
        key: tuple[object, ...] = (
            ("alone", s)
            if alone
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
                tuple(sorted(wishes_of.get(s, ()))),
            )
        )
        classes.setdefault(key, []).append(s)
    members = list(classes.values())
    class_of = {s: c for c, ms in enumerate(members) for s in ms}
    taken = set(idx.sid)
    new_shifts = []
    for c, ms in enumerate(members):
        first = pr.shifts[ms[0]]
        caps = [pr.shifts[s].max_count for s in ms]
        new_id = first.id
        if len(ms) > 1:
            new_id = f"{first.id}+{len(ms) - 1}"
            while new_id in taken:  # (an id of the problem's own)
                new_id += "'"
            taken.add(new_id)
        new_shifts.append(
            dataclasses.replace(
                first,
                id=new_id,
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
    # every member of a merged shift carries the same wishes: each once, on the merged shift
    wishes: dict[tuple[str, str, bool], int] = {}
    for table, wanted in ((idx.pref_wanted, True), (idx.pref_unwanted, False)):
        for (p, s), w in table.items():
            if s in class_of and pr.people[p].id in ids:
                wishes[(pr.people[p].id, new_shifts[class_of[s]].id, wanted)] = w
    prefs = [Preference(person, shift, w, wanted) for (person, shift, wanted), w in wishes.items()]
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
    each merged shift's people spread over its members, every member filled up to its head-count
    before any gets more (and none beyond its maximum), so the objective is the merged roster's."""
    pr = idx.problem
    out = [set(x) for x in sol]
    for p in agg.people:
        out[p] = set(idx.locked[p])
    counts: dict[int, int] = {}
    for p in agg.people:
        for s in out[p]:
            counts[s] = counts.get(s, 0) + 1

    def room(s: int) -> tuple[int, int, int, int]:
        shift = pr.shifts[s]
        n = counts.get(s, 0)
        full = shift.max_count is not None and n >= shift.max_count
        return (int(full), int(n >= shift.required), n, s)

    for i, p in enumerate(agg.people):
        for c in sorted(merged[i]):
            ms = agg.members[c]
            if len(ms) == 1 and ms[0] in out[p]:
                continue  # (locked)
            s = min(ms, key=room)
            out[p].add(s)
            counts[s] = counts.get(s, 0) + 1
    return out
