"""Benchmark: generated volunteer rosters (issue 5, volunteer instances).

    .venv/bin/python bench/roster_volunteer.py [--seconds 30] [--sizes 50x7x5,500x28x50,2000x28x200]
        [--seed 0]

For each size (volunteers × days × sites, from ``muster.roster.engine.generator``): the engine for
``--seconds``; time to the first feasible roster; final objective; seats covered against an INDEPENDENT
upper bound — a max-flow relaxation (person → week (hours cap) → day (one shift) → eligible shift →
required seats; rest, consecutive and weekend rules relaxed), so covered == bound proves the coverage
is the maximum coverable; the largest spread of hours inside a group of comparable people (same group,
same sites), in hours and in shifts; the same figures for the greedy baseline; peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from ortools.graph.python import max_flow  # noqa: E402

from engine_options import add_set_flag, overrides  # noqa: E402
from muster.roster.engine import Options, Problem, VolunteerSpec, solve, volunteer_problem  # noqa: E402


def eligible(person, shift) -> bool:  # type: ignore[no-untyped-def]
    if not shift.skills <= person.skills:
        return False
    if person.mode == "remote" and not shift.remote:
        return False
    if person.mode == "local" and shift.remote:
        return False
    if person.sites is not None and shift.site not in person.sites:
        return False
    return shift.day not in person.days_off


def flow_bound(problem: Problem) -> int:
    """Max number of seats coverable when only skills/sites/days off, one shift a day and the weekly
    hours count (as a number of the person's shortest shifts) are kept."""
    mf = max_flow.SimpleMaxFlow()
    nid: dict[object, int] = {}

    def node(key: object) -> int:
        if key not in nid:
            nid[key] = len(nid)
        return nid[key]

    src, snk = node("src"), node("snk")
    by_day = defaultdict(list)
    for s in problem.shifts:
        by_day[s.day].append(s)
        mf.add_arc_with_capacity(node(("s", s.id)), snk, s.required)
    for p in problem.people:
        el = (
            [s for s in problem.shifts if eligible(p, s)]
            if p.sites is None
            else [s for s in problem.shifts if s.site in p.sites and eligible(p, s)]
        )
        if not el:
            continue
        shortest = min(s.minutes for s in el)
        total = len(el) if p.max_minutes_period is None else p.max_minutes_period // shortest
        mf.add_arc_with_capacity(src, node(("p", p.id)), total)
        weeks = set()
        days = set()
        for s in el:
            w = s.day // 7
            if w not in weeks:
                weeks.add(w)
                cap = 7 if p.max_minutes_week is None else p.max_minutes_week // shortest
                mf.add_arc_with_capacity(node(("p", p.id)), node(("w", p.id, w)), cap)
            if s.day not in days:
                days.add(s.day)
                mf.add_arc_with_capacity(node(("w", p.id, w)), node(("d", p.id, s.day)), p.max_shifts_per_day)
            mf.add_arc_with_capacity(node(("d", p.id, s.day)), node(("s", s.id)), 1)
    mf.solve(src, snk)
    return int(mf.optimal_flow())


def measures(problem: Problem, assignments: list[tuple[str, str]]) -> dict[str, float]:
    shifts = {s.id: s for s in problem.shifts}
    count: dict[str, int] = defaultdict(int)
    hours: dict[str, float] = defaultdict(float)
    for p, s in assignments:
        count[s] += 1
        hours[p] += shifts[s].minutes / 60
    covered = sum(min(count[s.id], s.required) for s in problem.shifts)
    groups = defaultdict(list)
    for p in problem.people:
        groups[(p.group, p.sites)].append(p)
    spread_h = 0.0
    spread_shifts = 0.0
    for members in groups.values():
        if len(members) < 2:
            continue
        hs = [hours[m.id] for m in members]
        spread = max(hs) - min(hs)
        el = [s for s in problem.shifts if eligible(members[0], s)]
        longest = max((s.minutes for s in el), default=60) / 60
        if spread > spread_h:
            spread_h = spread
        spread_shifts = max(spread_shifts, spread / longest)
    return {"covered": covered, "spread_h": spread_h, "spread_shifts": spread_shifts}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--sizes", default="50x7x5,500x7x50,500x28x50,2000x28x200")
    ap.add_argument("--seed", type=int, default=0)
    add_set_flag(ap)
    args = ap.parse_args()
    chosen = overrides(ap, args.set)
    print(
        f"# engine {args.seconds:g} s{' ' + ' '.join(args.set) if args.set else ''}; "
        f"baseline: greedy construction alone; seed {args.seed}"
    )
    print(
        f"{'size':>13} {'shifts':>6} {'seats':>6} {'bound':>6} | {'1st(s)':>6} {'wall':>5} {'obj':>8} "
        f"{'covered':>7} {'gap':>4} {'spread h':>8} {'(shifts)':>8} {'viol':>4} | {'g.obj':>8} "
        f"{'g.cov':>6} {'g.spread':>8} {'g.s':>5}"
    )
    for size in args.sizes.split(","):
        n, d, s = (int(x) for x in size.split("x"))
        problem = volunteer_problem(VolunteerSpec(people=n, days=d, sites=s, seed=args.seed))
        seats = sum(x.required for x in problem.shifts)
        t0 = time.monotonic()
        bound = flow_bound(problem)
        tb = time.monotonic() - t0
        res = solve(problem, Options(seconds=args.seconds, seed=args.seed, **chosen))  # type: ignore[arg-type]
        m = measures(problem, res.assignments)
        g = solve(problem, Options(seconds=args.seconds, seed=args.seed, cpsat=False))
        gm = measures(problem, g.assignments)
        print(
            f"{size:>13} {len(problem.shifts):>6} {seats:>6} {bound:>6} | "
            f"{res.time_to_first_feasible or -1:>6.1f} {res.elapsed:>5.1f} {res.objective:>8} "
            f"{m['covered']:>7} {bound - m['covered']:>4} {m['spread_h']:>8.1f} {m['spread_shifts']:>8.2f} "
            f"{res.stats['violations']:>4} | {g.objective:>8} {gm['covered']:>6} {gm['spread_h']:>8.1f} "
            f"{g.stats['violations']:>5}   (bound {tb:.1f} s)",
            flush=True,
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"# peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
