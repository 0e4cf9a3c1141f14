"""The per-person dynamic programme of the repair, and neighbourhoods that post period totals over
their own decisions: checked against the one-person CP-SAT model and the full rule check. Every solve
is bounded by deterministic work on one thread, never by the wall clock."""

from __future__ import annotations

import random
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from ortools.sat.python import cp_model

from muster.roster import benchmark_io as bio
from muster.roster.engine import Infeasible, Options, Person, Problem, Shift, TailShift, solve
from muster.roster.engine.budget import Budget
from muster.roster.engine.cpsat import SubModel
from muster.roster.engine.dp import DPContext, PersonDP
from muster.roster.engine.evaluate import person_violations, score, violations
from muster.roster.engine.greedy import greedy
from muster.roster.engine.index import build_index
from muster.roster.engine.model import Limits

from .helpers import objective_at_current

H = 60
DATA = Path(__file__).parent / "data"
KINDS = {"D": (7 * H, 15 * H), "E": (14 * H, 22 * H), "N": (22 * H, 30 * H)}


def _problem(seed: int, days: int, tail: bool, totals: bool) -> Problem:
    """A small random roster: three shift types (no day shift after an evening or a night), run
    rules, days off, a lock, a previous period's tail; with ``totals`` also minute windows, weekend
    and type limits."""
    rng = random.Random(seed)
    shifts = []
    for d in range(days):
        for kind, (a, b) in KINDS.items():
            if rng.random() < 0.85:
                shifts.append(
                    Shift(
                        f"{kind}{d}",
                        d,
                        d * 1440 + a,
                        d * 1440 + b,
                        kind,
                        required=rng.randint(0, 3),
                        weight_under=rng.choice([1, 5, 30, 100]),
                        weight_over=rng.choice([0, 1, 10]),
                    )
                )
    people = []
    for i in range(rng.randint(2, 6)):
        kw: dict[str, object] = {}
        if totals:
            n = rng.randint(1, days)
            kw["min_minutes_period"] = rng.choice([0, 480 * max(0, n - 3)])
            kw["max_minutes_period"] = rng.choice([None, 480 * (n + 1)])
            kw["max_weekends"] = rng.choice([None, 0, 1])
            kw["max_shifts_per_kind"] = {"N": rng.randint(0, 4)} if rng.random() < 0.5 else {}
        people.append(
            Person(
                f"P{i}",
                days_off=frozenset(d for d in range(1, days) if rng.random() < 0.15),
                max_consecutive_days=rng.choice([None, 2, 3, 5]),
                min_consecutive_days=rng.choice([1, 2, 3]),
                min_consecutive_days_off=rng.choice([1, 2]),
                min_rest_minutes=rng.choice([0, 8 * H]),
                **kw,  # type: ignore[arg-type]
            )
        )
    tails = []
    if tail:
        for person in people:
            for d in (-3, -2, -1):
                if rng.random() < 0.5:
                    tails.append(TailShift(person.id, d, d * 1440 + 7 * H, d * 1440 + 15 * H, "D"))
    return Problem(
        days=days,
        people=people,
        shifts=shifts,
        forbidden_successions=frozenset({("E", "D"), ("N", "D"), ("N", "E")}),
        tail=tails,
        tail_days=3 if tail else 0,
        start_weekday=rng.randint(0, 6),
    )


def _one_person_optimum(idx, sol, p):  # type: ignore[no-untyped-def]
    sub = SubModel(idx, sol, [p], hint=False)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_deterministic_time = 20
    status = solver.solve(sub.model)
    if status == cp_model.INFEASIBLE:
        return None
    assert status == cp_model.OPTIMAL
    return sub.extract(solver)[p]


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 100_000), days=st.integers(1, 16), tail=st.booleans())
def test_the_programme_finds_the_one_person_optimum_under_the_sequence_rules(
    seed: int, days: int, tail: bool
) -> None:
    """Without period totals the programme is exact: its roster keeps every rule of the person and
    costs what the one-person CP-SAT optimum costs (everybody else fixed); when CP-SAT proves no
    roster exists, the programme finds none either."""
    problem = _problem(seed, days, tail, totals=False)
    idx = build_index(problem, Limits())
    sol = greedy(idx, seed)
    ctx = DPContext(idx, noise=0.0)
    ctx.refresh(sol)
    for p in range(len(problem.people)):
        dp = PersonDP(ctx, p)
        found = dp.solve(sol)
        best = _one_person_optimum(idx, sol, p)
        if best is None:
            assert found is None
            continue
        assert found is not None, p
        assert person_violations(idx, p, found) == []
        assert dp.gain(sol, found) == dp.gain(sol, best)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 100_000), days=st.integers(7, 21), tail=st.booleans())
def test_with_period_totals_the_repair_by_the_programme_ends_valid(seed: int, days: int, tail: bool) -> None:
    """With minute windows, weekend and type limits (priced, not exact) the programme may give up on
    a person (CP-SAT then repairs them): whatever it gives keeps the person's rules, and the solver
    with the programme on from the start returns a roster without a broken rule or names the clash."""
    problem = _problem(seed, days, tail, totals=True)
    idx = build_index(problem, Limits())
    sol = greedy(idx, seed)
    ctx = DPContext(idx)
    ctx.refresh(sol)
    for p in range(len(problem.people)):
        found = PersonDP(ctx, p).solve(sol)
        if found is not None:
            assert person_violations(idx, p, found) == []
    try:
        res = solve(
            problem, Options(seconds=0.3, seed=seed, workers=1, deterministic=True, dp_repair_min_pairs=0)
        )
    except Infeasible as exc:
        assert exc.conflicts
        return
    got: list[set[int]] = [set() for _ in problem.people]
    for person_id, shift_id in res.assignments:
        got[idx.pid[person_id]].add(idx.sid[shift_id])
    if res.status != "infeasible_start":
        assert violations(idx, got) == []


def test_the_programme_hits_an_exact_minute_total() -> None:
    """Minimum and maximum minutes equal (five 8-hour shifts in 14 days, runs of two to three days,
    two days off between): the price search and the swaps must land on exactly 2,400 minutes."""
    shifts = [Shift(f"D{d}", d, d * 1440 + 8 * H, d * 1440 + 16 * H, "D", required=2) for d in range(14)]
    shifts += [Shift(f"L{d}", d, d * 1440 + 8 * H, d * 1440 + 20 * H, "L", required=1) for d in range(14)]
    person = Person(
        "A",
        min_minutes_period=2400 + 240,
        max_minutes_period=2400 + 240,
        min_consecutive_days=2,
        max_consecutive_days=3,
        min_consecutive_days_off=2,
    )
    problem = Problem(days=14, people=[person, Person("B")], shifts=shifts)
    idx = build_index(problem, Limits())
    sol: list[set[int]] = [set(), set()]
    ctx = DPContext(idx)
    ctx.refresh(sol)
    found = PersonDP(ctx, 0).solve(sol)
    assert found is not None
    assert sum(problem.shifts[s].minutes for s in found) == 2640
    assert person_violations(idx, 0, found) == []


def test_solve_repairs_with_the_programme_and_ends_valid() -> None:
    """Instance 7 (28 days, minute windows, weekend limits): the greedy breaks rules of most people;
    with the programme forced on from the start, the repair is by the programme and the roster the
    solver returns keeps every rule (checked by the independent benchmark evaluator too)."""
    inst = bio.read_instance(DATA / "Instance7.txt")
    problem = bio.to_problem(inst)
    res = solve(problem, Options(seconds=1, seed=1, deterministic=True, dp_repair_min_pairs=0))
    assert res.stats["repaired_people"] > 0
    assert res.stats["repaired_by_dp"] > 0
    assert res.status in ("feasible", "optimal")
    ev = bio.evaluate(inst, bio.roster_from_assignments(inst, res.assignments))
    assert ev.violations == []
    assert ev.objective == res.objective


_STARTS: dict[str, tuple[Problem, object, list[set[int]]]] = {}


def _valid_start(source: str):  # type: ignore[no-untyped-def]
    """A valid roster of the instance (solved once per test session)."""
    if source not in _STARTS:
        problem = bio.to_problem(bio.read_instance(DATA / f"{source}.txt"))
        idx = build_index(problem, Limits())
        res = solve(problem, Options(seconds=2, seed=0, workers=1, deterministic=True, target=10**9))
        sol: list[set[int]] = [set() for _ in problem.people]
        for person_id, shift_id in res.assignments:
            sol[idx.pid[person_id]].add(idx.sid[shift_id])
        assert violations(idx, sol) == []
        _STARTS[source] = (problem, idx, sol)
    return _STARTS[source]


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    source=st.sampled_from(["Instance4", "Instance7"]),
    first=st.integers(0, 27),
    width=st.integers(1, 10),
    weekends=st.booleans(),
    n_people=st.integers(1, 8),
)
def test_neighbourhoods_post_period_totals_as_constants_plus_their_own_decisions(
    seed: int, source: str, first: int, width: int, weekends: bool, n_people: int
) -> None:
    """A neighbourhood of a few days posts each person's period totals (minutes, weekends, types) over
    its free decisions plus the rest of the person's roster as a constant: the current (valid) roster
    must be a solution of it with the roster's objective, and what it finds must keep every rule."""
    problem, idx, start = _valid_start(source)
    sol = [set(x) for x in start]
    rng = random.Random(seed)
    people = rng.sample(range(len(problem.people)), min(n_people, len(problem.people)))
    days: tuple[int, int] | frozenset[int] = (first, min(problem.days - 1, first + width - 1))
    if weekends:
        days = frozenset(d for d in range(problem.days) if idx.weekend_of_day[d] >= 0)
    now = score(idx, sol)[0]
    sub = SubModel(idx, sol, people, days, current_objective=now)
    assert objective_at_current(sub, sol) == now
    status, found = sub.solve(0.1, seed=seed, budget=Budget.work(0.1))
    assert status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    new = sub.extract(found)
    assert violations(idx, new) == []
    assert round(found.objective_value) == score(idx, new)[0] <= now


def test_the_walk_back_prices_weekends_as_the_forward_pass_does() -> None:
    """A weekend price must steer the walk back the way it steered the values: Saturday and Sunday
    both worth taking, a price per weekend worked below their sum, so the best path takes both (one
    weekend paid once), not Sunday alone."""
    import numpy as np

    shifts = [
        Shift("SAT", 0, 8 * H, 16 * H, "D", required=1, weight_under=3),
        Shift("SUN", 1, 1440 + 8 * H, 1440 + 16 * H, "D", required=1, weight_under=100),
    ]
    problem = Problem(days=2, people=[Person("A")], shifts=shifts, tail_days=1, start_weekday=5)
    idx = build_index(problem, Limits())
    sol: list[set[int]] = [set()]
    ctx = DPContext(idx, noise=0.0)
    ctx.refresh(sol)
    dp = PersonDP(ctx, 0)
    base = dp.base_costs(sol)
    lam = np.array([0.0])
    nu = np.zeros(1)
    ws, os_ = dp._forward(base, lam, 50.0, nu)
    assert dp._final(ws[-1], os_[-1])[0] == -103 + 50
    path = dp._back(ws, os_, 0, base, lam, 50.0, nu)
    assert path is not None and sorted(problem.shifts[s].id for s in path) == ["SAT", "SUN"]
