"""The merged problem of the seat-filling phase (engine/aggregate.py): shifts nobody could tell apart
become one, and a roster of it splits back into a valid roster covering the same seats."""

from __future__ import annotations

import dataclasses
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
    back = split(idx, agg, merged, sol)
    assert not violations(idx, back)
    assert _covered(pr, back) == _covered(pr, sol)
    hours = [sum(idx.hours[s] for s in x) for x in sol]
    assert [sum(idx.hours[s] for s in x) for x in back] == hours
    # a better merged roster (the engine's, seats only) splits into a valid roster of as many seats
    found = solve(agg.problem, Options(seconds=2, seed=seed))
    f_idx = agg_idx
    f_sol = [set() for _ in agg.problem.people]
    for pid, sid in found.assignments:
        f_sol[f_idx.pid[pid]].add(f_idx.sid[sid])
    out = split(idx, agg, f_sol, sol)
    assert not violations(idx, out)
    assert _covered(pr, out) == _covered(agg.problem, f_sol) >= _covered(pr, sol)


def test_only_shifts_nobody_could_tell_apart_merge() -> None:
    """Same times and takers merge; another time, another set of takers, a skill, a lock or a head-count
    minimum keeps a shift alone. A wish for one member is a wish for the group, and the split gives
    the person that very shift."""
    shifts = [
        _seat("A1", "A"),
        _seat("A2", "A"),
        _seat("B1", "B"),  # the same as A1 and A2 to A and B: merges with them
        _seat("A3", "A", start_h=9),  # another time
        _seat("C1", "C"),  # only P2 may work at C
        _seat("A4", "A", skills=frozenset({"medic"})),
        _seat("A5", "A"),  # locked below
        _seat("A6", "A", min_count=1),
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
        preferences=[Preference("P0", "B1", 7), Preference("P1", "A2", 3, wanted=False)],
    )
    idx = build_index(pr, Limits())
    agg = aggregate(idx, [0, 1, 2])
    groups = sorted(sorted(pr.shifts[s].id for s in ms) for ms in agg.members)
    assert groups == [["A1", "A2", "B1"], ["A3"], ["A4"], ["A5"], ["A6"], ["C1"]]
    merged_id = next(agg.problem.shifts[c].id for c, ms in enumerate(agg.members) if len(ms) == 3)
    assert agg.problem.shifts[agg.class_of[idx.sid["A1"]]].required == 3
    assert Preference("P0", merged_id, 7) in agg.problem.preferences
    assert Preference("P1", merged_id, 3, wanted=False) in agg.problem.preferences
    assert Lock("P1", "A5") in agg.problem.locks
    # everyone at the merged shift (P1 keeps the lock): P0 gets the wished B1, P1 not the unwanted A2
    c = agg.class_of[idx.sid["A1"]]
    merged = [{c}, {agg.class_of[idx.sid["A5"]]}, set()]
    back = split(idx, agg, merged, [set(), {idx.sid["A5"]}, set()])
    assert back[0] == {idx.sid["B1"]}
    assert back[1] == {idx.sid["A5"]}
    merged = [{c}, {c}, set()]
    back = split(idx, agg, merged, [set(), {idx.sid["A5"]}, set()])
    assert back[0] == {idx.sid["B1"]} and back[1] == {idx.sid["A5"], idx.sid["A1"]}


def test_the_seat_filling_phase_searches_the_merged_problem() -> None:
    pr = volunteer_problem(VolunteerSpec(people=120, days=14, sites=16, seed=4))
    opts = Options(seconds=6, seed=0)
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
    result = solve(pr, Options(seconds=2, seed=0))
    assert "merged_shifts" not in result.stats
