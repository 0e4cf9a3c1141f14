"""The engine hands the best roster so far to the progress callback (``Progress.roster``): always in
the problem's own ids (also from the merged-shift and seat-filling phases), with the objective the
event reports. Deterministic work, never the wall clock."""

from __future__ import annotations

from typing import Any

from muster.roster.engine import Options, Progress, VolunteerSpec, solve, volunteer_problem
from muster.roster.engine.evaluate import score
from muster.roster.engine.index import build_index


def _solution(idx: Any, pairs: list[tuple[str, str]]) -> list[set[int]]:
    pr = idx.problem
    person = {p.id: i for i, p in enumerate(pr.people)}
    shift = {s.id: i for i, s in enumerate(pr.shifts)}
    sol: list[set[int]] = [set() for _ in pr.people]
    for p, s in pairs:
        sol[person[p]].add(shift[s])
    return sol


def test_progress_offers_the_roster_behind_each_objective() -> None:
    problem = volunteer_problem(VolunteerSpec(people=30, days=7, sites=6, seed=2))
    idx = build_index(problem, Options().limits)
    people = {p.id for p in problem.people}
    shifts = {s.id for s in problem.shifts}
    seen: list[tuple[Progress, list[tuple[str, str]]]] = []

    def on_progress(ev: Progress) -> None:
        if ev.roster is not None:
            seen.append((ev, ev.roster()))  # read inside the callback, as documented

    result = solve(problem, Options(seconds=3, seed=1, deterministic=True, progress=on_progress))
    phases = [ev.phase for ev, _pairs in seen]
    assert phases[0] == "greedy" and len(phases) > 2
    for ev, pairs in seen:
        assert pairs and all(p in people and s in shifts for p, s in pairs)
        if ev.phase != "cover":  # (the seat-filling phase reports its objective without fairness)
            assert score(idx, _solution(idx, pairs))[0] == ev.objective, ev.phase
    # rosters come with the improvements the engine holds a roster for (CP-SAT's own callbacks carry
    # none; the app stores the result itself): the last one offered is never better than the result
    assert seen[-1][0].objective >= result.objective
    # the history keeps no rosters (nothing holds on to the engine's working copies)
    assert all(ev.roster is None for ev in result.history)
