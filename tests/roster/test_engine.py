"""The pure rostering engine: rules, penalties, explanations, repair, bad input.

Every solve here is bounded by deterministic work on one thread (``Options(deterministic=True)``, its
``seconds`` CP-SAT's deterministic seconds), never by the wall clock: a test gives the same roster on any
machine at any load. The few tests of the wall clock itself assert only what holds at any speed."""

from __future__ import annotations

import dataclasses
import itertools
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ortools.sat.python import cp_model

from muster.roster.engine import (
    WEB_LIMITS,
    Infeasible,
    Lock,
    Options,
    Person,
    Preference,
    Problem,
    ProblemTooLarge,
    Progress,
    Result,
    RosterInputError,
    Shift,
    TailShift,
    VolunteerSpec,
    Weights,
    repair,
    solve,
    volunteer_problem,
)
from muster.roster.engine.budget import Budget
from muster.roster.engine.evaluate import violations
from muster.roster.engine.index import build_index
from muster.roster.engine.model import Limits

from .helpers import objective_at_current

H = 60


def day_shifts(days: int, required: int = 1, **kw: object) -> list[Shift]:
    out = []
    for d in range(days):
        out.append(Shift(f"M{d}", d, d * 1440 + 8 * H, d * 1440 + 16 * H, "M", required=required, **kw))  # type: ignore[arg-type]
        out.append(
            Shift(f"N{d}", d, d * 1440 + 22 * H, d * 1440 + 30 * H, "N", required=required, night=True, **kw)  # type: ignore[arg-type]
        )
    return out


def check(problem: Problem, result) -> None:  # type: ignore[no-untyped-def]
    idx = build_index(problem, Limits())
    sol = [set() for _ in problem.people]
    for p, s in result.assignments:
        sol[idx.pid[p]].add(idx.sid[s])
    assert violations(idx, sol) == []


def test_covers_and_keeps_rest_and_succession_rules() -> None:
    people = [Person(f"P{i}", min_rest_minutes=11 * H, max_consecutive_days=4) for i in range(4)]
    problem = Problem(
        days=7, people=people, shifts=day_shifts(7), forbidden_successions=frozenset({("N", "M")})
    )
    result = solve(problem, Options(seconds=1, seed=1, deterministic=True))
    check(problem, result)
    assert result.breakdown["under"] == 0 and result.uncovered == []
    by_person = result.by_person()
    for p, shifts in by_person.items():
        for s in shifts:
            if s.startswith("N"):
                assert f"M{int(s[1:]) + 1}" not in shifts, p


def test_skill_shortage_is_explained() -> None:
    shifts = [Shift("X", 0, 8 * H, 16 * H, required=2, skills=frozenset({"medic"}))]
    people = [Person("A", skills=frozenset({"medic"})), Person("B")]
    result = solve(Problem(days=1, people=people, shifts=shifts), Options(seconds=0.5, deterministic=True))
    assert result.assignments == [("A", "X")]
    [unc] = result.uncovered
    assert unc.shift == "X" and unc.missing == 1
    assert unc.reasons == {"skill": 1}
    assert "nobody qualifies" in unc.summary and "skill" in unc.summary


def test_everyone_at_their_limit_is_explained() -> None:
    shifts = day_shifts(3, required=2)
    people = [Person("A", max_minutes_period=16 * H), Person("B", max_minutes_period=16 * H)]
    result = solve(Problem(days=3, people=people, shifts=shifts), Options(seconds=0.5, deterministic=True))
    check(Problem(days=3, people=people, shifts=shifts), result)
    assert len(result.assignments) == 4
    reasons = {k for u in result.uncovered for k in u.reasons}
    assert "max_minutes_period" in reasons
    assert any("held back" in u.summary for u in result.uncovered)


def test_remote_only_people_get_remote_seats_only() -> None:
    shifts = [
        Shift("post", 0, 8 * H, 16 * H, required=1),
        Shift("hotline", 0, 8 * H, 16 * H, required=1, remote=True),
    ]
    people = [Person("home", mode="remote"), Person("field", mode="local")]
    result = solve(Problem(days=1, people=people, shifts=shifts), Options(seconds=0.5, deterministic=True))
    assert sorted(result.assignments) == [("field", "post"), ("home", "hotline")]


def test_preferences_and_fairness_are_weighed() -> None:
    shifts = [Shift(f"S{d}", d, d * 1440 + 8 * H, d * 1440 + 16 * H) for d in range(4)]
    people = [Person("A", group="g"), Person("B", group="g")]
    prefs = [Preference("A", "S0", 10, wanted=False), Preference("B", "S1", 7, wanted=True)]
    problem = Problem(
        days=4, people=people, shifts=shifts, preferences=prefs, weights=Weights(spread_hours=5)
    )
    result = solve(problem, Options(seconds=1, deterministic=True))
    got = result.by_shift()
    assert got["S0"] == ["B"] and got["S1"] == ["B"]
    assert len(result.by_person()["A"]) == 2  # fairness: 2 shifts each
    assert result.objective == 0 and result.status == "optimal"


def test_the_cover_phase_takes_only_the_components_with_a_seat_short() -> None:
    """Two sites nobody shares: X (two people, one seat a day) can be covered in full, Y (one person,
    two seats a day, one shift a day at most) cannot. The phase without the fairness terms solves Y
    alone; with X alone there is nothing to fill and no such phase."""
    x = [dataclasses.replace(s, id=f"X{s.id}", site="X") for s in day_shifts(4)]
    y = [dataclasses.replace(s, id=f"Y{s.id}", site="Y") for s in day_shifts(4)]
    people = [
        Person("A", sites=frozenset({"X"}), min_rest_minutes=11 * H),
        Person("B", sites=frozenset({"X"}), min_rest_minutes=11 * H),
        Person("C", sites=frozenset({"Y"}), min_rest_minutes=11 * H),
    ]
    fair = Weights(spread_hours=1)
    both = Problem(days=4, people=people, shifts=x + y, weights=fair)
    events: list[Progress] = []
    result = solve(both, Options(seconds=0.5, workers=1, deterministic=True, progress=events.append))
    check(both, result)
    assert result.stats["cover_components"] == 1
    assert any(e.phase == "cover" for e in events)
    assert len(result.uncovered) == 4  # Y keeps one seat a day short; X is whole
    assert {u.shift for u in result.uncovered} <= {s.id for s in y}
    only_x = Problem(days=4, people=people[:2], shifts=x, weights=fair)
    events = []
    result = solve(only_x, Options(seconds=0.5, workers=1, deterministic=True, progress=events.append))
    assert result.stats["cover_components"] == 0 and "cover_objective" not in result.stats
    assert events and all(e.phase not in ("cover", "fairness") for e in events)
    assert not result.uncovered


def test_the_lns_frees_people_who_could_take_a_short_seat() -> None:
    """While seats are short, this engine's LNS also frees groups drawn from the people who could take
    one; with every seat covered that kind is not drawn."""
    short = volunteer_problem(VolunteerSpec(people=30, days=7, sites=6, seed=2))
    opts = Options(
        seconds=0.5,
        workers=1,
        deterministic=True,
        lns_mode="python",
        cover_first=0,
        lns_target_vars=600,
        lns_seconds=0.1,
        merge=False,  # (merged, the small problem's full model may leave the LNS nothing to do)
    )
    result = solve(short, opts)
    check(short, result)
    assert result.uncovered  # (the generator leaves seats nobody can take)
    drawn = dict(kv.split("=") for kv in str(result.stats["lns_kinds_drawn"]).split())
    assert int(drawn["short_people"]) > 0
    # not over periods longer than lns_short_people_max_days
    result = solve(short, dataclasses.replace(opts, lns_short_people_max_days=6))
    check(short, result)
    drawn = dict(kv.split("=") for kv in str(result.stats["lns_kinds_drawn"]).split())
    assert drawn["short_people"] == "0" and int(result.stats["lns_iterations"]) > 0
    # every seat covered: two wishes for one seat (one unmet, or one too many) are all the penalty left
    wishes = [Preference("A", "M0", 5), Preference("B", "M0", 5)]
    people = [Person(c, min_rest_minutes=11 * H) for c in "ABCDEF"]
    whole = Problem(days=7, people=people, shifts=day_shifts(7), preferences=wishes)
    forced = dataclasses.replace(opts, seconds=0.2, full_model_max_vars=0)
    result = solve(whole, forced)
    check(whole, result)
    assert not result.uncovered and int(result.stats["lns_iterations"]) > 0
    drawn = dict(kv.split("=") for kv in str(result.stats["lns_kinds_drawn"]).split())
    assert drawn["short_people"] == "0" and drawn["short_window"] == "0"


def test_rerostering_one_person_trades_a_long_seat_for_two_short_ones() -> None:
    """A works a 12-hour seat and may work 16 hours in all: no single move, exchange or fill gives the
    two 8-hour seats short on the next days a taker, a one-person re-roster does (one seat short
    instead of two). Through solve(), with two components left to the LNS, the pass runs first."""
    from muster.roster.engine import solver as engine_solver
    from muster.roster.engine.balance import balance, fill
    from muster.roster.engine.evaluate import score

    def seat(sid: str, day: int, start_h: int, hours: int, site: str) -> Shift:
        start = day * 24 * H + start_h * H
        return Shift(sid, day, start, start + hours * H, "D", site, 1)

    shifts = [seat("L0", 0, 8, 12, "X"), seat("S1", 1, 8, 8, "X"), seat("S2", 2, 8, 8, "X")]
    shifts += [seat(f"Y{d}", d, 8, 8, "Y") for d in range(3)]
    people = [
        Person("A", sites=frozenset({"X"}), max_minutes_period=16 * H),
        Person("B", sites=frozenset({"Y"})),
    ]
    problem = Problem(days=3, people=people, shifts=shifts)
    idx = build_index(problem, Limits())
    start = [{0}, {3, 4, 5}]
    sol = [set(x) for x in start]
    assert fill(idx, sol, Budget.work(5)) == 0 and balance(idx, sol, Budget.work(5)) == 0
    run = engine_solver._Run(idx, Options(seconds=10, deterministic=True))
    comps = [(comp, sum(len(idx.elig[p]) for p in comp)) for comp in idx.components]
    found = engine_solver._reroster(run, [set(x) for x in start], comps, 5.0)
    assert found[0] == {1, 2} and found[1] == {3, 4, 5}
    assert not violations(idx, found) and score(idx, found)[0] == score(idx, start)[0] - 100
    assert run.stats["reroster_tried"] == 1 and run.stats["reroster_improved"] == 1
    # L0 is short now, and A (at 16 hours) cannot do better: tried, kept
    run = engine_solver._Run(idx, Options(seconds=10, deterministic=True))
    assert engine_solver._reroster(run, found, comps, 5.0) == found
    assert run.stats["reroster_tried"] == 1 and run.stats["reroster_improved"] == 0
    # no seat short: nobody to re-roster
    covered = Problem(days=3, people=[people[1]], shifts=shifts[3:])
    idx = build_index(covered, Limits())
    run = engine_solver._Run(idx, Options(seconds=10, deterministic=True))
    assert engine_solver._reroster(run, [{0, 1, 2}], [([0], 3)], 5.0) == [{0, 1, 2}]
    assert "reroster_tried" not in run.stats
    opts = Options(
        seconds=0.5, workers=1, deterministic=True, lns_mode="python", cover_first=0, full_model_max_vars=0
    )
    result = solve(volunteer_problem(VolunteerSpec(people=30, days=7, sites=6, seed=2)), opts)
    assert int(result.stats["reroster_tried"]) > 0
    result = solve(
        volunteer_problem(VolunteerSpec(people=30, days=7, sites=6, seed=2)),
        dataclasses.replace(opts, reroster_share=0),
    )
    assert "reroster_tried" not in result.stats
    with pytest.raises(ValueError, match="reroster_share"):
        Options(reroster_share=1)


def test_locks_and_previous_period_tail() -> None:
    shifts = day_shifts(3)
    people = [Person("A", max_consecutive_days=2, min_rest_minutes=11 * H), Person("B"), Person("C")]
    # A worked the night of day -1 (ends 06:00 on day 0) and day -2: may work only one more day first,
    # and not the morning of day 0 (rest).
    tail = [TailShift("A", -1, -2 * H, 6 * H, "N"), TailShift("A", -2, -26 * H, -18 * H, "N")]
    problem = Problem(days=3, people=people, shifts=shifts, tail=tail, tail_days=2, locks=[Lock("C", "M1")])
    result = solve(problem, Options(seconds=0.5, deterministic=True))
    check(problem, result)
    a_shifts = result.by_person().get("A", [])
    assert "M0" not in a_shifts
    assert not {"M0", "N0"} & set(a_shifts) or not {"M1", "N1"} & set(a_shifts)
    assert ("C", "M1") in result.assignments


def test_progress_is_reported_and_a_seed_makes_it_repeatable() -> None:
    problem = volunteer_problem(VolunteerSpec(people=40, days=7, sites=4, seed=3))
    opts = Options(seconds=0.5, seed=5, workers=1, deterministic=True)
    events: list[Progress] = []
    r1 = solve(problem, dataclasses.replace(opts, progress=events.append))
    g1 = solve(problem, dataclasses.replace(opts, cpsat=False))
    g2 = solve(problem, dataclasses.replace(opts, cpsat=False))
    g3 = solve(problem, dataclasses.replace(opts, seed=6, cpsat=False))
    assert events and events[-1].objective == r1.objective
    # the fairness weights make half the budget after the repair a solve without them (phase "cover"),
    # then the whole objective: each part improves strictly, and the budget spent only grows
    phases = [e.phase for e in events]
    first, last = phases.index("cover"), len(phases) - phases[::-1].index("cover")
    assert set(phases[first:last]) == {"cover"} and 0 < first and last < len(events)
    for part in (events[:first], events[first:last], events[last:]):
        assert all(a.objective > b.objective for a, b in itertools.pairwise(part))
    assert all(a.elapsed <= b.elapsed for a, b in itertools.pairwise(events))
    assert events[last - 1].objective == r1.stats["cover_objective"]  # the roster it handed on,
    assert events[last].phase == "fairness"  # then its whole objective
    assert r1.history == events
    # without that phase, or without fairness weights, no "cover" progress
    for other, prob in (
        (dataclasses.replace(opts, cover_first=0), problem),
        (opts, dataclasses.replace(problem, weights=Weights())),
    ):
        seen: list[Progress] = []
        r0 = solve(prob, dataclasses.replace(other, progress=seen.append))
        assert seen and all(e.phase != "cover" for e in seen)
        assert "cover_objective" not in r0.stats
    with pytest.raises(ValueError, match="cover_first"):
        Options(cover_first=1.0)
    assert r1.time_to_first_feasible is not None and r1.time_to_first_feasible <= r1.elapsed
    check(problem, r1)
    # the construction is deterministic for a seed, and with a deterministic budget the search too:
    # the same roster by the same steps, each reported at the same point of the budget
    assert g1.assignments == g2.assignments and g1.assignments != g3.assignments
    assert r1.objective <= g1.objective
    again: list[Progress] = []
    r2 = solve(problem, dataclasses.replace(opts, progress=again.append))
    assert r2.assignments == r1.assignments and again == events


def test_a_deterministic_budget_ignores_the_wall_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``deterministic=True`` nothing the solver decides reads the clock: a clock that jumps a
    minute at every reading (a machine slower than any) gives the same roster by the same steps, and
    the budget is kept. On the wall clock the same jumps leave time for the start roster only."""
    problem = volunteer_problem(VolunteerSpec(people=30, days=7, sites=4, seed=1))
    opts = Options(seconds=0.5, seed=0, deterministic=True)
    calm = solve(problem, opts)
    real = time.monotonic
    jumps = itertools.count()

    def slow_clock() -> float:
        return real() + 60.0 * next(jumps)

    monkeypatch.setattr(time, "monotonic", slow_clock)
    busy = solve(problem, opts)
    assert next(jumps) > 1  # the clock was read, and jumped
    assert busy.assignments == calm.assignments and busy.objective == calm.objective
    assert busy.history == calm.history
    # (all but the wall-clock measurements: index_seconds, lns_build_seconds, ...)
    assert {k: v for k, v in busy.stats.items() if not k.endswith("_seconds")} == {
        k: v for k, v in calm.stats.items() if not k.endswith("_seconds")
    }
    assert any(e.phase in ("cpsat", "lns") for e in calm.history)  # (the search did run)
    assert calm.elapsed <= opts.seconds * 1.05  # spent the budget, hardly more
    wall = solve(problem, dataclasses.replace(opts, deterministic=False, seconds=30))
    assert not any(e.phase in ("cpsat", "lns") for e in wall.history)
    assert wall.stats["violations"] == 0


def test_repair_after_a_drop_out_changes_little() -> None:
    problem = volunteer_problem(VolunteerSpec(people=40, days=7, sites=4, seed=1))
    first = solve(problem, Options(seconds=1, seed=0, deterministic=True))
    victim = first.assignments[0][0]
    lost = set(first.by_person()[victim])
    fixed = repair(problem, first.assignments, [victim], Options(seconds=1, deterministic=True))
    check(problem, fixed)
    assert victim not in fixed.by_person()
    before = {a for a in first.assignments if a[0] != victim}
    after = set(fixed.assignments)
    assert before <= after  # nobody else lost a shift
    assert all(s in lost for _, s in after - before)  # only the freed shifts were refilled
    assert fixed.stats["changes"] == len(after - before)


# ---------------------------------------------------------------------------- bad input
def test_infeasible_rules_are_named() -> None:
    shifts = day_shifts(5)
    people = [Person("A", min_minutes_period=40 * H, max_consecutive_days=2, days_off=frozenset({4}))]
    with pytest.raises(Infeasible) as exc:
        solve(Problem(days=5, people=people, shifts=shifts), Options(seconds=1, deterministic=True))
    rules = {c.rule for c in exc.value.conflicts}
    assert "min_minutes_period" in rules and "max_consecutive_days" in rules
    assert "min_minutes_period of A" in exc.value.message


def test_shift_ending_before_it_starts() -> None:
    with pytest.raises(RosterInputError) as exc:
        solve(Problem(days=1, people=[Person("A")], shifts=[Shift("X", 0, 600, 500)]))
    assert exc.value.code == "end_before_start" and "X" in exc.value.message


def test_person_with_no_availability() -> None:
    people = [Person("A", days_off=frozenset({0, 1}))]
    with pytest.raises(RosterInputError) as exc:
        solve(Problem(days=2, people=people, shifts=day_shifts(2)))
    assert exc.value.code == "no_availability"
    with pytest.raises(RosterInputError):
        solve(Problem(days=2, people=[Person("B", availability=())], shifts=day_shifts(2)))


def test_zero_length_horizon() -> None:
    with pytest.raises(RosterInputError) as exc:
        solve(Problem(days=0, people=[Person("A")], shifts=[]))
    assert exc.value.code == "empty_horizon"


def test_oversized_request_is_refused_fast() -> None:
    """Refused on its sizes alone, before any shift is even looked at (whatever the machine's speed)."""

    class Unread(list):  # type: ignore[type-arg]
        def __iter__(self):  # type: ignore[no-untyped-def]
            raise AssertionError("a shift was read")

        def __getitem__(self, i):  # type: ignore[no-untyped-def]
            raise AssertionError("a shift was read")

    shifts = [Shift(f"S{i}", i % 30, (i % 30) * 1440, (i % 30) * 1440 + 60) for i in range(10_000)]
    problem = Problem(days=30, people=[Person("A")], shifts=Unread(shifts))
    with pytest.raises(ProblemTooLarge) as exc:
        solve(problem, Options(seconds=60, limits=WEB_LIMITS))
    assert exc.value.code == "too_many_shifts" and exc.value.params["limit"] == WEB_LIMITS.max_shifts


def test_volunteer_instance_small() -> None:
    problem = volunteer_problem(VolunteerSpec(people=50, days=7, sites=5, seed=0))
    assert any(p.mode == "remote" for p in problem.people)
    result = solve(problem, Options(seconds=1, deterministic=True))
    check(problem, result)
    by_shift = result.by_shift()
    for person, shift in result.assignments:
        p = next(x for x in problem.people if x.id == person)
        s = next(x for x in problem.shifts if x.id == shift)
        assert (p.mode == "remote") == s.remote
    assert by_shift


def test_engine_does_not_import_django() -> None:
    import subprocess
    import sys

    code = (
        "import sys, muster.roster.engine, muster.roster.benchmark_io as b; "
        "b.to_problem; print(any(m.split('.')[0] == 'django' for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_people=st.integers(1, 12),
    first=st.integers(0, 13),
    width=st.integers(1, 14),
    scattered=st.booleans(),
)
def test_neighbourhood_objective_is_the_roster_objective(
    seed: int, n_people: int, first: int, width: int, scattered: bool
) -> None:
    """A neighbourhood posts only the items its free decisions touch and keeps the rest as one
    constant: its objective, at the current roster and at the roster it finds, must be exactly the
    full objective of that roster."""
    import random

    from muster.roster.engine.cpsat import SubModel
    from muster.roster.engine.evaluate import score
    from muster.roster.engine.greedy import greedy

    problem = volunteer_problem(VolunteerSpec(people=40, days=14, sites=5, seed=seed % 7))
    idx = build_index(problem, Limits())
    sol = greedy(idx, seed)
    rng = random.Random(seed)
    people = rng.sample(range(len(problem.people)), n_people)
    days: tuple[int, int] | frozenset[int] = (first, min(problem.days - 1, first + width - 1))
    if scattered:  # any set of days (the LNS frees every weekend day at once)
        days = frozenset(rng.sample(range(problem.days), min(problem.days, width)))
    now = score(idx, sol)[0]
    for given_objective in (None, now):
        sub = SubModel(idx, sol, people, days, current_objective=given_objective)
        if not sub.x:
            continue
        if violations(idx, sol):
            continue  # greedy left a rule to the repair: the fixed model is infeasible, nothing to compare
        # at the current roster (every free decision fixed to its current value)
        assert objective_at_current(sub, sol) == now
        # at the roster the neighbourhood search finds (bounded by deterministic work: any machine)
        status, found = sub.solve(0.1, seed=seed, budget=Budget.work(0.1))
        assert status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
        new = sub.extract(found)
        assert round(found.objective_value) == score(idx, new)[0] <= now


@pytest.mark.parametrize("source", ["volunteer", "Instance4", "Instance7"])
def test_explanations_per_profile_match_a_check_per_person(source: str) -> None:
    """explain() checks skills, mode and sites once per profile of people and the other rules around
    the shift only: the counts it gives must be those of checking every rule of every person on their
    own with the shift added. The benchmark instances bring minimum runs of days on and off."""
    from collections import Counter
    from pathlib import Path

    from muster.roster import benchmark_io as bio
    from muster.roster.engine.evaluate import person_violations, shift_counts
    from muster.roster.engine.explain import explain
    from muster.roster.engine.greedy import greedy
    from muster.roster.engine.index import static_reason

    if source == "volunteer":
        problem = volunteer_problem(VolunteerSpec(people=60, days=14, sites=12, seed=3))
        idx = build_index(problem, Limits())
        sol = greedy(idx, 0)
    else:
        problem = bio.to_problem(bio.read_instance(Path(__file__).parent / "data" / f"{source}.txt"))
        idx = build_index(problem, Limits())
        res = solve(problem, Options(seconds=0.5, seed=0, deterministic=True))
        sol = [set() for _ in problem.people]
        for person_id, shift_id in res.assignments:
            sol[idx.pid[person_id]].add(idx.sid[shift_id])
        assert not violations(idx, sol)
    counts = shift_counts(idx, sol)
    found = {u.shift: u for u in explain(idx, sol)}
    assert found, "the instance should leave some seats short"
    for s, shift in enumerate(problem.shifts):
        missing = shift.required - counts[s]
        if missing <= 0:
            assert shift.id not in found
            continue
        expected: Counter[str] = Counter()
        for p, person in enumerate(problem.people):
            if s in sol[p]:
                continue
            reason = static_reason(problem, person, shift)
            if reason is None and s not in idx.elig_set[p]:
                reason = "tail_rest"
            if reason is None:
                if shift.max_count is not None and counts[s] >= shift.max_count:
                    reason = "max_count"
                else:
                    before = {r for r, _ in person_violations(idx, p, sol[p])}
                    new = [r for r, _ in person_violations(idx, p, sol[p] | {s}) if r not in before]
                    new = [r for r in new if r != "ineligible"]
                    reason = min(new, key=_reason_rank) if new else "could_take"
            expected[reason] += 1
        assert found[shift.id].missing == missing
        assert found[shift.id].reasons == dict(expected), shift.id


def _reason_rank(code: str) -> int:
    from muster.roster.engine.explain import DYNAMIC_REASONS

    order = list(DYNAMIC_REASONS)
    return order.index(code) if code in order else len(order)


def test_the_clock_includes_building_the_index() -> None:
    """The wall clock starts before the index is built: the first roster is reported after the index
    and the greedy, however long they took (their stats are rounded to 1 ms). A deterministic budget
    is charged for them too, before its first roster."""
    from muster.roster.engine.budget import INDEX_UNITS_PER_PAIR

    problem = volunteer_problem(VolunteerSpec(people=200, days=14, sites=20, seed=1))
    res = solve(problem, Options(seconds=0.5, seed=0))
    assert res.stats["index_seconds"] >= 0 and res.stats["greedy_seconds"] >= 0
    assert res.time_to_first_feasible is not None
    assert res.time_to_first_feasible >= res.stats["index_seconds"] + res.stats["greedy_seconds"] - 0.001
    assert res.elapsed >= res.time_to_first_feasible
    det = solve(problem, Options(seconds=0.5, seed=0, deterministic=True))
    pairs = build_index(problem, Limits()).n_pairs
    assert det.time_to_first_feasible == pytest.approx(INDEX_UNITS_PER_PAIR * pairs)
    assert det.history[0].phase == "greedy" and det.elapsed >= det.time_to_first_feasible


def _unfair_problem() -> Problem:
    """Four interchangeable people, 14 day shifts of one seat: a roster where one person works them all
    (as far as the rules let them) is valid but as unfair as it gets."""
    people = [Person(f"P{i}", max_consecutive_days=5, min_rest_minutes=11 * H, group="g") for i in range(4)]
    shifts = [Shift(f"D{d}", d, d * 1440 + 8 * H, d * 1440 + 16 * H, "D", required=1) for d in range(14)]
    return Problem(days=14, people=people, shifts=shifts, weights=Weights(spread_hours=1))


def test_balance_evens_out_hours_without_breaking_rules() -> None:
    from muster.roster.engine.balance import balance
    from muster.roster.engine.evaluate import score

    problem = _unfair_problem()
    idx = build_index(problem, Limits())
    # P0 works days 0-4 and 6-10, P1 the rest
    sol = [{d for d in range(14) if d not in (5, 11, 12, 13)}, {5, 11, 12, 13}, set(), set()]
    assert not violations(idx, sol)
    before = score(idx, sol)[0]
    moved = balance(idx, sol, Budget.work(10))
    hours = sorted(sum(idx.hours[s] for s in x) for x in sol)
    assert moved > 0
    assert not violations(idx, sol)
    assert score(idx, sol)[0] < before
    assert hours[-1] - hours[0] <= 8  # within one shift
    assert sum(hours) == 14 * 8  # every seat still covered


def test_rerostering_counts_head_counts_over_the_whole_component() -> None:
    """(From a review.) A person's share of the objective counts the seats others cover: the progress
    reported is a roster's true objective, and moving off a seat someone else covers too to a short one
    is an improvement."""
    from muster.roster.engine import solver as engine_solver
    from muster.roster.engine.evaluate import score

    day = 24 * H
    shifts = [Shift("A", 0, 8 * H, 16 * H, "D"), Shift("B", 1, day + 8 * H, day + 16 * H, "D")]
    people = [Person("p", max_minutes_period=8 * H), Person("q", days_off=frozenset({1}))]
    problem = Problem(days=2, people=people, shifts=shifts)
    idx = build_index(problem, Limits())
    start = [{0}, {0}]  # A twice (one too many), B short
    events: list[Progress] = []
    run = engine_solver._Run(idx, Options(seconds=5, workers=1, deterministic=True, progress=events.append))
    found = engine_solver._reroster(run, start, [(c, 1) for c in idx.components], 2.0)
    assert found == [{1}, {0}] and score(idx, found)[0] == 0 < score(idx, start)[0]
    assert [(e.phase, e.objective) for e in events] == [("reroster", 0)]


def test_balance_exchanges_shifts_where_no_single_move_keeps_the_rules() -> None:
    """B holds three 12-hour seats and may work 40 hours: no 8-hour seat fits beside them, and A has
    no 12-hour seat to trade one for one. Two of A's 8-hour seats for one of B's 12-hour ones brings
    them to 44 and 40 hours (from 48 and 36), every seat still taken."""
    from muster.roster.engine.balance import balance
    from muster.roster.engine.evaluate import score

    def seat(sid: str, day: int, hours: int) -> Shift:
        return Shift(sid, day, day * 1440 + 8 * H, day * 1440 + (8 + hours) * H, "D", required=1)

    shifts = [seat(f"L{d}", d, 12) for d in range(3)] + [seat(f"S{d}", d, 8) for d in range(3, 9)]
    people = [Person("A", group="g"), Person("B", group="g", max_minutes_period=40 * H)]
    problem = Problem(days=9, people=people, shifts=shifts, weights=Weights(spread_hours=1))
    idx = build_index(problem, Limits())
    sol = [set(range(3, 9)), {0, 1, 2}]
    before = score(idx, sol)[0]
    assert balance(idx, sol, Budget.work(10)) == 1
    assert not violations(idx, sol)
    assert [sum(idx.hours[s] for s in x) for x in sol] == [44, 40]
    assert len(sol[0]) == 5 and len(sol[1]) == 4 and sorted(sol[0] | sol[1]) == list(range(9))
    assert score(idx, sol)[0] == before - 8
    # one for one: A's 12-hour seat for B's 8-hour one (B may work 16 hours: no move fits)
    shifts = [seat("L0", 0, 12), seat("L1", 1, 12), seat("L2", 2, 12), seat("S3", 3, 8), seat("S4", 3, 8)]
    people = [Person("A", group="g"), Person("B", group="g", max_minutes_period=16 * H)]
    problem = Problem(days=4, people=people, shifts=shifts, weights=Weights(spread_hours=1))
    idx = build_index(problem, Limits())
    sol = [{0, 1, 2}, {3}]
    assert balance(idx, sol, Budget.work(10)) == 1
    assert not violations(idx, sol)
    assert sorted(sum(idx.hours[s] for s in x) for x in sol) == [12, 32]


def test_even_out_re_rosters_the_least_and_most_busy_together() -> None:
    """A group still more than its longest shift apart: its least and most busy people re-rostered
    together (everyone else fixed) until it is within one shift; a group within one shift is left
    alone."""
    from muster.roster.engine import solver as engine_solver
    from muster.roster.engine.evaluate import score

    problem = _unfair_problem()
    idx = build_index(problem, Limits())
    sol = [{d for d in range(14) if d not in (5, 11, 12, 13)}, {5, 11, 12, 13}, set(), set()]
    before = score(idx, sol)[0]
    run = engine_solver._Run(idx, Options(seconds=30, deterministic=True))
    evened = engine_solver._even_out(run, sol, run.budget.part(10))
    hours = [sum(idx.hours[s] for s in x) for x in sol]
    assert evened >= 1 and not violations(idx, sol)
    assert max(hours) - min(hours) <= 8
    assert all(any(s in x for x in sol) for s in range(14))  # every seat still taken
    assert score(idx, sol)[0] < before
    again = [set(x) for x in sol]
    assert engine_solver._even_out(run, again, run.budget.part(10)) == 0 and again == sol


def test_fill_gives_short_seats_to_whoever_can_take_them() -> None:
    from muster.roster.engine.balance import fill
    from muster.roster.engine.evaluate import score

    problem = _unfair_problem()
    idx = build_index(problem, Limits())
    sol: list[set[int]] = [{0, 1}, {2, 3}, set(), set()]
    before = score(idx, sol)[0]
    filled = fill(idx, sol, Budget.work(10))
    assert filled == 10
    assert not violations(idx, sol)
    assert score(idx, sol)[0] < before
    # a spent budget does nothing (on the wall clock: a deadline in the past)
    sol2: list[set[int]] = [set(), set(), set(), set()]
    assert fill(idx, sol2, Budget.work(0)) == 0 and fill(idx, sol2, Budget.wall(0)) == 0
    assert sol2 == [set(), set(), set(), set()]


def test_fill_keeps_the_maximum_head_count() -> None:
    """A shift may ask for more people than its maximum (required 2, at most 1): the polish must not
    staff it past the maximum (from a review: it did, and the result broke a hard rule)."""
    people = [Person("a", sites=frozenset("x")), Person("b", sites=frozenset("x"))] + [
        Person(f"p{i}", sites=frozenset("y"), min_rest_minutes=660) for i in range(6)
    ]
    shifts = [Shift("X", 0, 480, 960, site="x", required=2, max_count=1)] + [
        Shift(f"y{d}{k}", d, d * 1440 + a * 60, d * 1440 + b * 60, "MEN"[k], site="y", required=2)
        for d in range(7)
        for k, (a, b) in enumerate([(6, 14), (14, 22), (22, 30)])
    ]
    from muster.roster.engine.balance import fill

    problem = Problem(days=7, people=people, shifts=shifts)
    idx = build_index(problem, Limits())
    sol: list[set[int]] = [{0}] + [set() for _ in people[1:]]  # a on X: one short, at the maximum
    fill(idx, sol, Budget.work(10))
    assert 0 not in sol[1]
    assert not violations(idx, sol)
    res = solve(problem, Options(seconds=1, workers=1, deterministic=True, lns_small_vars=10))
    assert res.stats["violations"] == 0
    assert res.status in ("feasible", "optimal")
    assert sum(1 for _, s in res.assignments if s == "X") == 1


def test_a_single_big_component_still_gets_the_full_model_at_short_limits() -> None:
    """The skip of the full model (many big components sharing little time) must not hit a problem
    with one big component at the app's 10 s default (from a review)."""
    from muster.roster.engine.aggregate import aggregate

    problem = volunteer_problem(VolunteerSpec(people=30, days=7, sites=4, seed=0))
    idx = build_index(problem, Limits())
    # the search runs on the problem with indistinguishable shifts merged (Options.merge), or not
    merged = build_index(aggregate(idx, list(range(len(problem.people)))).problem, Limits())
    sizes = [sum(len(merged.elig[p]) for p in c) for c in merged.components]
    res = solve(problem, Options(seconds=0.3, seed=0, deterministic=True))
    assert "merged_shifts" in res.stats
    assert res.stats["full_model_vars"] >= max(sizes)  # (merged, no component is big any more)
    res = solve(problem, Options(seconds=0.3, seed=0, deterministic=True, merge=False))
    assert "merged_shifts" not in res.stats
    big = [c for c in idx.components if sum(len(idx.elig[p]) for p in c) > Options().lns_small_vars]
    assert len(big) == 1
    assert res.stats["full_model_vars"] >= sum(len(idx.elig[p]) for p in big[0])


@pytest.mark.parametrize("source", ["volunteer", "Instance1", "Instance4", "Instance7"])
def test_local_check_of_one_more_shift_equals_the_full_rule_check(source: str) -> None:
    """added_violations() checks one more shift around it; for every person and every shift they could
    take, it must name exactly the rules that the full check of the roster with the shift added names."""
    from pathlib import Path

    from muster.roster import benchmark_io as bio
    from muster.roster.engine.evaluate import person_violations
    from muster.roster.engine.explain import added_violations

    if source == "volunteer":
        problem = volunteer_problem(VolunteerSpec(people=60, days=14, sites=12, seed=3))
    else:
        problem = bio.to_problem(bio.read_instance(Path(__file__).parent / "data" / f"{source}.txt"))
    idx = build_index(problem, Limits())
    res = solve(problem, Options(seconds=0.3, seed=0, deterministic=True))
    sol: list[set[int]] = [set() for _ in problem.people]
    for person_id, shift_id in res.assignments:
        sol[idx.pid[person_id]].add(idx.sid[shift_id])
    cache: dict = {}  # type: ignore[type-arg]
    checked = set()
    for p in range(len(problem.people)):
        assert not person_violations(idx, p, sol[p])
        for s in idx.elig[p]:
            if s in sol[p]:
                continue
            full = {r for r, _ in person_violations(idx, p, sol[p] | {s})}
            assert added_violations(idx, sol, p, s, cache) == full, (p, problem.shifts[s].id)
            checked |= full
    if source != "volunteer":
        # the instances exercise the run rules (else this test would not guard them)
        assert {"min_consecutive_days_off", "max_consecutive_days"} & checked


def test_patched_up_starts_are_not_hinted_and_the_result_is_never_worse_than_the_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A small component whose greedy roster broke the rules of many of its people (Instance4: 9 of
    10, rewritten by the repair) gets the full model without that start as hint; a greedy roster that
    kept the rules (the volunteer generator) stays the hint. When the unhinted search ends with a worse
    roster, or with one that breaks a rule (however good its score), the start is kept."""
    from pathlib import Path

    from muster.roster import benchmark_io as bio
    from muster.roster.engine import cpsat
    from muster.roster.engine.evaluate import score

    volunteers = volunteer_problem(VolunteerSpec(people=30, days=7, sites=4, seed=0))
    res = solve(volunteers, Options(seconds=0.3, seed=0, deterministic=True))
    assert res.stats["repaired_people"] == 0
    assert res.stats["full_models_hinted"] >= 1
    assert "full_models_unhinted" not in res.stats

    problem = bio.to_problem(bio.read_instance(Path(__file__).parent / "data" / "Instance4.txt"))
    idx = build_index(problem, Limits())
    res = solve(problem, Options(seconds=0.3, seed=0, deterministic=True))
    assert int(res.stats["repaired_people"]) >= 3
    assert res.stats["full_models_unhinted"] == 1
    assert "full_models_hinted" not in res.stats
    assert res.stats["violations"] == 0
    hinted = solve(problem, Options(seconds=0.3, seed=0, deterministic=True, unhinted_max_vars=0))
    assert hinted.stats["full_models_hinted"] == 1
    # the plain model (no greedy, no hint) is not a fallback case: its result is CP-SAT's own
    plain = solve(
        problem, Options(seconds=0.3, seed=0, deterministic=True, greedy=False, hint=False, lns=False)
    )
    assert "unhinted_kept_start" not in plain.stats

    real_extract = cpsat.SubModel.extract

    def worse(self: cpsat.SubModel, solver: cp_model.CpSolver) -> list[set[int]]:
        found = real_extract(self, solver)
        if not self.use_hint and len(self.free_people) > 1:  # the full model (not a one-person repair)
            return [set(self.idx.locked[p]) for p in range(len(found))]  # nobody works
        return found

    def broken(self: cpsat.SubModel, solver: cp_model.CpSolver) -> list[set[int]]:
        found = real_extract(self, solver)
        if not self.use_hint and len(self.free_people) > 1:
            found = [set(x) | set(self.idx.elig[p]) for p, x in enumerate(found)]  # everyone works all
            assert violations(self.idx, found)
        return found

    for patched in (worse, broken):
        monkeypatch.setattr(cpsat.SubModel, "extract", patched)
        kept = solve(problem, Options(seconds=0.3, seed=0, deterministic=True))
        start = [ev.objective for ev in kept.history if ev.phase in ("greedy", "repair", "polish")]
        assert start
        assert kept.stats["unhinted_kept_start"] == 1
        assert kept.stats["violations"] == 0
        assert kept.objective <= min(start)
        assert kept.objective == min(ev.objective for ev in kept.history)
    # the broken roster would have scored better: only the rule check keeps it out
    everyone = [set(idx.elig[p]) for p in range(len(problem.people))]
    assert score(idx, everyone)[0] < min(start)


def test_big_patched_up_components_skip_the_full_model_for_the_lns() -> None:
    """A component over ``patched_full_max_vars`` decisions whose start the repair patched up goes
    straight to the LNS (and still ends valid and no worse than its start); the same component with a
    higher threshold, and a component nobody had to be repaired in, get the full model first."""
    from pathlib import Path

    from muster.roster import benchmark_io as bio

    problem = bio.to_problem(bio.read_instance(Path(__file__).parent / "data" / "Instance4.txt"))
    # Instance4 is one component of 468 decisions: make it "big" and keep it hinted
    common = {"seconds": 0.5, "seed": 0, "deterministic": True, "lns_small_vars": 100, "unhinted_max_vars": 0}
    res = solve(problem, Options(patched_full_max_vars=400, **common))  # type: ignore[arg-type]
    assert int(res.stats["repaired_people"]) >= 3
    assert res.stats["lns_only_patched"] == 1
    assert "full_models_hinted" not in res.stats and "full_models_unhinted" not in res.stats
    assert res.stats["lns_cpsat_models"] == 1  # 28 days: CP-SAT's own LNS
    assert res.stats["violations"] == 0
    start = [ev.objective for ev in res.history if ev.phase in ("greedy", "repair", "polish")]
    assert res.objective <= min(start)
    assert any(ev.phase == "lns" for ev in res.history)

    full = solve(problem, Options(patched_full_max_vars=500, **common))  # type: ignore[arg-type]
    assert "lns_only_patched" not in full.stats
    assert full.stats["full_models_hinted"] == 1

    volunteers = volunteer_problem(VolunteerSpec(people=30, days=7, sites=4, seed=0))
    vol = solve(
        volunteers,
        Options(
            seconds=0.3,
            seed=0,
            deterministic=True,
            lns_small_vars=0,
            patched_full_max_vars=0,
            full_model_min_seconds=0,
        ),
    )
    assert vol.stats["repaired_people"] == 0
    assert "lns_only_patched" not in vol.stats
    assert int(vol.stats["full_models_hinted"]) >= 1


def test_the_lns_is_cpsats_own_over_short_periods_and_this_engines_over_long_ones() -> None:
    """Up to ``lns_cpsat_max_days`` days the LNS is CP-SAT's own on the whole component (hinted with
    the start, never worse than it); over longer periods, with one worker (deterministic) or with
    ``lns_mode="python"`` it is the engine's own neighbourhoods; an unknown mode is refused. (With a
    deterministic budget CP-SAT's neighbourhoods take turns on its one thread.)"""
    from pathlib import Path

    from muster.roster import benchmark_io as bio

    problem = bio.to_problem(bio.read_instance(Path(__file__).parent / "data" / "Instance4.txt"))
    common = {
        "seconds": 0.5,
        "seed": 0,
        "deterministic": True,
        "lns_small_vars": 100,
        "unhinted_max_vars": 0,
        "patched_full_max_vars": 400,
    }

    def run(**kw: object) -> Result:
        res = solve(problem, Options(**{**common, **kw}))  # type: ignore[arg-type]
        assert res.stats["violations"] == 0
        start = [ev.objective for ev in res.history if ev.phase in ("greedy", "repair", "polish")]
        assert res.objective <= min(start)
        assert any(ev.phase == "lns" for ev in res.history)
        return res

    short = run()
    assert problem.days == 28 == Options().lns_cpsat_max_days
    assert short.stats["lns_cpsat_models"] == 1
    for kw in ({"lns_cpsat_max_days": 27}, {"workers": 1}, {"lns_mode": "python"}):
        own = run(**kw)
        assert "lns_cpsat_models" not in own.stats, kw
        assert int(own.stats["lns_iterations"]) > 0, kw
    forced = run(lns_mode="cpsat", lns_cpsat_max_days=7)
    assert forced.stats["lns_cpsat_models"] == 1
    with pytest.raises(ValueError, match="lns_mode"):
        Options(lns_mode="fast")
