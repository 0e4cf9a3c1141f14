"""The merged problem of the seat-filling phase (engine/aggregate.py): shifts nobody could tell apart
become one, and a roster of it splits back into a valid roster covering the same seats. The solves are
bounded by deterministic work on one thread (never the wall clock): the same result at any load."""

from __future__ import annotations

import dataclasses
import random
from collections import Counter

import pytest

from muster.roster.engine import (
    Lock,
    Options,
    Person,
    Preference,
    Problem,
    Shift,
    VolunteerSpec,
    solve,
    volunteer_problem,
)
from muster.roster.engine.aggregate import aggregate, merge, split
from muster.roster.engine.evaluate import score, violations
from muster.roster.engine.greedy import greedy
from muster.roster.engine.index import build_index
from muster.roster.engine.model import Limits

H = 60


def _covered(problem: Problem, sol: list[set[int]]) -> int:
    count = Counter(s for x in sol for s in x)
    return sum(min(count[s], shift.required) for s, shift in enumerate(problem.shifts))


def _seat(sid: str, site: str, start_h: int = 8, hours: int = 8, **kw: object) -> Shift:
    return Shift(sid, 0, start_h * H, (start_h + hours) * H, "D", site, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_roster_merges_and_splits_back_keeping_every_rule_and_seat(seed: int) -> None:
    pr = volunteer_problem(VolunteerSpec(people=60, days=14, sites=8, seed=seed))
    idx = build_index(pr, Limits())
    sol = greedy(idx, seed)
    assert not violations(idx, sol)
    people = list(range(len(pr.people)))
    agg = aggregate(idx, people)
    # the checkpoints of a community share their shift times and takers: far fewer shifts
    assert len(agg.members) < len(pr.shifts) * 0.7
    assert sorted(s for ms in agg.members for s in ms) == sorted({s for p in people for s in idx.elig[p]})
    agg_idx = build_index(agg.problem, Limits())
    merged = merge(agg, sol)
    # the merged problem sees the same roster: same rules kept, same seats covered
    assert not violations(agg_idx, merged)
    assert _covered(agg.problem, merged) == _covered(pr, sol)
    assert score(agg_idx, merged) == score(idx, sol)  # the whole objective, term by term
    back = split(idx, agg, merged, sol)
    assert not violations(idx, back)
    assert _covered(pr, back) == _covered(pr, sol)
    hours = [sum(idx.hours[s] for s in x) for x in sol]
    assert [sum(idx.hours[s] for s in x) for x in back] == hours
    # any merged roster (here: the start with a fifth of its shifts dropped) splits into a roster of
    # the same objective
    rng = random.Random(seed)
    thinned = [{c for c in x if rng.random() >= 0.2} for x in merged]
    out = split(idx, agg, thinned, sol)
    assert not violations(idx, out) and score(idx, out) == score(agg_idx, thinned)
    # a better merged roster (the engine's, seats only) splits into a valid roster of as many seats
    found = solve(agg.problem, Options(seconds=1, seed=seed, deterministic=True))
    f_idx = agg_idx
    f_sol = [set() for _ in agg.problem.people]
    for pid, sid in found.assignments:
        f_sol[f_idx.pid[pid]].add(f_idx.sid[sid])
    out = split(idx, agg, f_sol, sol)
    assert not violations(idx, out)
    assert _covered(pr, out) == _covered(agg.problem, f_sol) >= _covered(pr, sol)
    assert score(idx, out)[0] == found.objective


def test_only_shifts_nobody_could_tell_apart_merge() -> None:
    """Same times, takers and wishes merge; another time, another set of takers, a skill, a wish of
    one member only, a lock, a head-count minimum or a maximum below the head-count keeps a shift
    alone; a merged shift's id never takes one of the problem's own."""
    shifts = [
        _seat("A1", "A"),
        _seat("A2", "A"),
        _seat("B1", "B"),  # the same as A1 and A2 to P0 and P1: merges with them
        _seat("A3", "A", start_h=9),  # another time
        _seat("C1", "C"),  # only P2 may work at C
        _seat("A4", "A", skills=frozenset({"medic"})),
        _seat("A5", "A"),  # locked below
        _seat("A6", "A", min_count=1),
        _seat("A7", "A", required=2, max_count=1),
        _seat("B2", "B"),  # P0 wishes for it
        _seat("A1+2", "A", start_h=9),  # the id the merged A1, A2, B1 would take
    ]
    people = [
        Person("P0", sites=frozenset({"A", "B"}), skills=frozenset({"medic"})),
        Person("P1", sites=frozenset({"A", "B"}), skills=frozenset({"medic"})),
        Person("P2", sites=frozenset({"C"})),
    ]
    pr = Problem(
        days=1,
        people=people,
        shifts=shifts,
        locks=[Lock("P1", "A5")],
        preferences=[Preference("P0", "B2", 7)],
    )
    idx = build_index(pr, Limits())
    agg = aggregate(idx, [0, 1, 2])
    groups = sorted(sorted(pr.shifts[s].id for s in ms) for ms in agg.members)
    assert groups == [["A1", "A2", "B1"], ["A1+2", "A3"], ["A4"], ["A5"], ["A6"], ["A7"], ["B2"], ["C1"]]
    merged = agg.problem.shifts[agg.class_of[idx.sid["A1"]]]
    assert merged.required == 3 and merged.id not in idx.sid
    assert len({s.id for s in agg.problem.shifts}) == len(agg.problem.shifts)
    assert agg.problem.preferences == [Preference("P0", "B2", 7)]
    assert agg.problem.locks == [Lock("P1", "A5")]
    build_index(agg.problem, Limits())  # a valid problem
    # two people at the merged shift: two of its three seats, one each
    c = agg.class_of[idx.sid["A1"]]
    a5 = idx.sid["A5"]
    back = split(idx, agg, [{c}, {c, agg.class_of[a5]}, set()], [set(), {a5}, set()])
    seats = {idx.sid[x] for x in ("A1", "A2", "B1")}
    assert len(back[0]) == 1 and back[0] <= seats
    assert back[1] - {a5} <= seats and len(back[1] - {a5}) == 1 and a5 in back[1]
    assert back[0] != back[1] - {a5}


def test_the_seat_filling_phase_searches_the_merged_problem() -> None:
    pr = volunteer_problem(VolunteerSpec(people=120, days=14, sites=16, seed=4))
    opts = Options(seconds=0.5, seed=0, deterministic=True)
    result = solve(pr, opts)
    idx = build_index(pr, Limits())
    sol = [set() for _ in pr.people]
    for p, s in result.assignments:
        sol[idx.pid[p]].add(idx.sid[s])
    assert not violations(idx, sol) and score(idx, sol)[0] == result.objective
    assert int(result.stats["cover_components"]) > 0
    before, after = str(result.stats["cover_merged_shifts"]).split("->")
    assert int(after) < int(before)
    # and so does the search after it (Options.merge)
    before, after = str(result.stats["merged_shifts"]).split("->")
    assert int(after) < int(before)
    # off: both search the original problem
    plain = solve(pr, dataclasses.replace(opts, cover_merge=False, merge=False))
    assert "cover_merged_shifts" not in plain.stats and int(plain.stats["cover_components"]) > 0
    assert "merged_shifts" not in plain.stats
    check = build_index(pr, Limits())
    sol = [set() for _ in pr.people]
    for p, s in plain.assignments:
        sol[check.pid[p]].add(check.sid[s])
    assert not violations(check, sol)


def test_a_benchmark_instance_has_nothing_to_merge() -> None:
    """One shift per day and type (the public benchmark): every shift stays alone and the search runs
    on the problem as it is."""
    from pathlib import Path

    from muster.roster import benchmark_io as bio

    pr = bio.to_problem(bio.read_instance(Path(__file__).parent / "data" / "Instance1.txt"))
    idx = build_index(pr, Limits())
    agg = aggregate(idx, list(range(len(pr.people))))
    assert all(len(ms) == 1 for ms in agg.members)
    result = solve(pr, Options(seconds=0.5, seed=0, deterministic=True))
    assert "merged_shifts" not in result.stats
