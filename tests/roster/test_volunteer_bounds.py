"""The upper bounds of the volunteer benchmark (bench/roster_volunteer.py): they must bound every valid
roster's cover, and the LP one must see the rules the flow relaxes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from muster.roster.engine import Options, Person, Problem, Shift, VolunteerSpec, solve, volunteer_problem

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from roster_volunteer import flow_bound, lp_bound, measures, person_caps


def _shift(sid: str, day: int, start_h: int, hours: int, kind: str, site: str = "A") -> Shift:
    start = day * 1440 + start_h * 60
    return Shift(id=sid, day=day, start=start, end=start + hours * 60, kind=kind, site=site, required=1)


def test_the_lp_sees_the_rest_rule_the_flow_relaxes() -> None:
    # one person, a night (22-06) and the next morning (08-16): 11 h rest allows only one
    pr = Problem(
        days=2,
        people=[Person(id="p", min_rest_minutes=11 * 60)],
        shifts=[_shift("n0", 0, 22, 8, "N"), _shift("m1", 1, 8, 8, "M")],
    )
    assert flow_bound(pr) == 2
    assert lp_bound(pr) == 1


def test_the_lp_sees_weekly_minutes_consecutive_days_and_weekends() -> None:
    # 7 days of one 12 h seat; 40 h a week: at most 3 (the flow's count at the shortest length too)
    seats = [_shift(f"d{d}", d, 8, 12, "D") for d in range(7)]
    week = Problem(days=7, people=[Person(id="p", max_minutes_week=40 * 60)], shifts=seats)
    assert lp_bound(week) == 3
    # 8-hour seats, at most 2 days in a row: 5 of 7 (days 0-1, 3-4, 6)
    seats8 = [_shift(f"d{d}", d, 8, 8, "D") for d in range(7)]
    row = Problem(days=7, people=[Person(id="p", max_consecutive_days=2)], shifts=seats8)
    assert flow_bound(row) == 7
    assert lp_bound(row) == 5
    # no weekend allowed (day 0 is a Monday): the Saturday and the Sunday seats are out
    no_weekend = Problem(days=7, people=[Person(id="p", max_weekends=0)], shifts=seats8)
    assert lp_bound(no_weekend) == 5


def test_the_caps_see_the_weekend_off_the_lp_splits() -> None:
    """Four weeks of one 8-hour seat a day, 40 h a week, three weekends in four, a day off on a weekday
    of every week: the LP works 0.75 of every weekend day and five shifts in every week (20); a
    whole roster takes one weekend off, and that week has only four weekdays left (19)."""
    seats = [_shift(f"d{d}", d, 8, 8, "D") for d in range(28)]
    person = Person(id="p", max_minutes_week=40 * 60, max_weekends=3)
    person.days_off = frozenset({1, 9, 16, 23})
    pr = Problem(days=28, people=[person], shifts=seats)
    assert lp_bound(pr) == 20
    caps = person_caps(pr)
    assert caps == {"p": 19}
    assert lp_bound(pr, caps) == 19
    assert flow_bound(pr, caps) == 19
    res = solve(pr, Options(seconds=0.5, seed=0, deterministic=True))
    assert measures(pr, res.assignments)["covered"] == 19


@pytest.mark.parametrize("seed", [0, 1])
def test_both_bounds_hold_for_the_engines_roster(seed: int) -> None:
    pr = volunteer_problem(VolunteerSpec(people=50, days=7, sites=5, seed=seed))
    res = solve(pr, Options(seconds=0.5, seed=seed, deterministic=True))
    assert res.status in ("optimal", "feasible")
    covered = measures(pr, res.assignments)["covered"]
    lp, flow = lp_bound(pr), flow_bound(pr)
    assert covered <= lp <= flow  # the LP keeps every constraint of the flow (start_weekday 0)
    caps = person_caps(pr)
    assert covered <= lp_bound(pr, caps) <= lp
    assert covered <= flow_bound(pr, caps) <= flow
    assert pr.start_weekday == 0


@pytest.mark.parametrize("seed", range(40))
def test_no_valid_roster_covers_more_than_either_bound(seed: int) -> None:
    """Every roster of a tiny random problem that the engine's rule check accepts (two shifts a day,
    a week starting mid-week, rest, consecutive days, weekends, weekly minutes) covers at most what
    both bounds say."""
    import itertools
    import random

    from muster.roster.engine.evaluate import violations
    from muster.roster.engine.index import build_index
    from muster.roster.engine.model import Limits

    rng = random.Random(seed)
    days = rng.randint(3, 5)
    shifts = []
    for d in range(days):
        for k in range(rng.randint(1, 3)):
            start = d * 1440 + rng.choice([0, 6, 8, 14, 20, 22]) * 60
            shifts.append(
                Shift(
                    id=f"s{d}{k}", day=d, start=start, end=start + rng.choice([4, 8, 12]) * 60, kind=f"K{k}"
                )
            )
    shifts = rng.sample(shifts, min(len(shifts), 11))
    person = Person(
        id="p",
        max_shifts_per_day=rng.choice([1, 1, 2]),
        max_minutes_week=rng.choice([None, 16 * 60, 24 * 60]),
        min_rest_minutes=rng.choice([0, 8 * 60, 11 * 60]),
        max_consecutive_days=rng.choice([None, 1, 2]),
        max_weekends=rng.choice([None, 0, 1]),
    )
    pr = Problem(
        days=days,
        people=[person],
        shifts=shifts,
        start_weekday=rng.randrange(7),
        forbidden_successions=frozenset({("K2", "K0")}),
    )
    idx = build_index(pr, Limits())
    best = 0
    for n in range(len(shifts), 0, -1):
        if any(not violations(idx, [set(c)]) for c in itertools.combinations(range(len(shifts)), n)):
            best = n
            break
    assert best <= lp_bound(pr)
    assert best <= flow_bound(pr)
    caps = person_caps(pr)
    if person.max_shifts_per_day == 1:
        # the person's cap is their exact maximum here (every rule of this problem is in it) ...
        assert caps == {"p": best}
    else:
        assert caps == {}  # (no cap with two shifts a day)
    # ... and the bounds with it still bound every valid roster
    assert best <= lp_bound(pr, caps) <= lp_bound(pr)
    assert best <= flow_bound(pr, caps) <= flow_bound(pr)
