"""Benchmark: generated volunteer rosters (issue 5, volunteer instances).

    .venv/bin/python bench/roster_volunteer.py [--seconds 30] [--sizes 50x7x5,500x28x50,2000x28x200]
        [--seed 0]

For each size (volunteers × days × sites, from ``muster.roster.engine.generator``): the engine for
``--seconds``; time to the first feasible roster; final objective; seats covered against two
INDEPENDENT upper bounds (built from the problem alone, not from the engine): a max-flow relaxation
(person → week (hours cap) → day (one shift) → eligible shift → required seats; rest, consecutive and
weekend rules relaxed) and the LP relaxation of the hard rules (:func:`lp_bound`: minutes per day, week
and period, rest and successions, consecutive days, weekends), solved by GLOP per group of people who
could share shifts. Both take each person's most shifts alone as a cap (:func:`person_caps`, one small
integer programme per person: the LP splits weekends and weeks; 500 x 28 x 50's LP bound is 7,419
without the caps and 7,402 with them). The gap is taken to the smaller bound: covered == bound proves
the coverage is the maximum coverable. Then the largest spread of hours inside a group of comparable
people (same group, same sites), in hours and in shifts; the same figures for the greedy baseline; peak
RSS.
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from ortools.graph.python import max_flow  # noqa: E402
from ortools.linear_solver import pywraplp  # noqa: E402
from ortools.sat.python import cp_model  # noqa: E402

from engine_options import add_set_flag, overrides  # noqa: E402
from muster.roster.engine import Options, Person, Problem, Shift, VolunteerSpec, solve, volunteer_problem  # noqa: E402


def eligible(person: Person, shift: Shift) -> bool:
    if not shift.skills <= person.skills:
        return False
    if person.mode == "remote" and not shift.remote:
        return False
    if person.mode == "local" and shift.remote:
        return False
    if person.sites is not None and shift.site not in person.sites:
        return False
    return shift.day not in person.days_off


def flow_bound(problem: Problem, caps: dict[str, int] | None = None) -> int:
    """Max number of seats coverable when only skills/sites/days off, one shift a day and the weekly
    hours count (as a number of the person's shortest shifts) are kept, and each person's shifts at
    most ``caps`` says (:func:`person_caps`; none: no such cap)."""
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
        if caps is not None and p.id in caps:
            total = min(total, caps[p.id])
        mf.add_arc_with_capacity(src, node(("p", p.id)), total)
        weeks = set()
        days = set()
        for s in el:
            w = (s.day + problem.start_weekday) // 7  # calendar weeks, as the engine counts them
            if w not in weeks:
                weeks.add(w)
                cap = (
                    7 * p.max_shifts_per_day if p.max_minutes_week is None else p.max_minutes_week // shortest
                )
                mf.add_arc_with_capacity(node(("p", p.id)), node(("w", p.id, w)), cap)
            if s.day not in days:
                days.add(s.day)
                mf.add_arc_with_capacity(node(("w", p.id, w)), node(("d", p.id, s.day)), p.max_shifts_per_day)
            mf.add_arc_with_capacity(node(("d", p.id, s.day)), node(("s", s.id)), 1)
    mf.solve(src, snk)
    return int(mf.optimal_flow())


def person_caps(problem: Problem, seconds: float = 10.0) -> dict[str, int]:
    """The most shifts each person could work ALONE under their own rules (one shift a day, minutes
    per day, week and period, rest and forbidden successions between days, the maximum consecutive
    days and the maximum weekends): an integer programme per person, solved by CP-SAT (its proved
    bound if it runs out of time). Both bounds take it as a cap on the person's shifts: the LP alone
    splits a person's weekends and weeks (0.75 of every weekend, five shifts in every week, where a
    whole roster must keep one weekend off and so loses a shift in that week when a day off falls on
    a weekday of it). People allowed more than one shift a day get no cap. Shifts at the same times
    and of the same kind are the same to one person, so each such class is one decision."""
    forbidden: dict[str, set[str]] = defaultdict(set)
    for k1, k2 in problem.forbidden_successions:
        forbidden[k1].add(k2)
    caps: dict[str, int] = {}
    memo: dict[tuple[object, ...], int] = {}
    for p in problem.people:
        if p.max_shifts_per_day != 1:
            continue
        classes = sorted({(s.day, s.start, s.end, s.kind) for s in problem.shifts if eligible(p, s)})
        key = (
            tuple(classes),
            p.max_minutes_day,
            p.max_minutes_week,
            p.max_minutes_period,
            p.max_consecutive_days,
            p.max_weekends,
            p.min_rest_minutes,
        )
        if key not in memo:
            memo[key] = _person_cap(problem, p, classes, forbidden, seconds)
        caps[p.id] = memo[key]
    return caps


def _person_cap(
    problem: Problem,
    p: Person,
    classes: list[tuple[int, int, int, str]],
    forbidden: dict[str, set[str]],
    seconds: float,
) -> int:
    if not classes:
        return 0
    m = cp_model.CpModel()
    x = [m.NewBoolVar("") for _ in classes]
    by_day: dict[int, list[int]] = defaultdict(list)
    for i, (day, _, _, _) in enumerate(classes):
        by_day[day].append(i)
    worked = {d: m.NewBoolVar("") for d in by_day}
    for d, ii in by_day.items():
        m.Add(sum(x[i] for i in ii) == worked[d])
        if p.max_minutes_day is not None:
            m.Add(sum((classes[i][2] - classes[i][1]) * x[i] for i in ii) <= p.max_minutes_day)
    for i, (day, start, end, kind) in enumerate(classes):
        for d2 in (day + 1, day + 2):
            for j in by_day.get(d2, []):
                _, b_start, _, b_kind = classes[j]
                if b_start < start:
                    continue
                succ = d2 == day + 1 and b_kind in forbidden.get(kind, ())
                if b_start < end + p.min_rest_minutes or succ:
                    m.AddBoolOr([x[i].Not(), x[j].Not()])
    minutes = [c[2] - c[1] for c in classes]
    if p.max_minutes_period is not None:
        m.Add(sum(mi * xi for mi, xi in zip(minutes, x, strict=True)) <= p.max_minutes_period)
    if p.max_minutes_week is not None:
        weeks: dict[int, list[int]] = defaultdict(list)
        for i, c in enumerate(classes):
            weeks[(c[0] + problem.start_weekday) // 7].append(i)
        for ii in weeks.values():
            m.Add(sum(minutes[i] * x[i] for i in ii) <= p.max_minutes_week)
    mc = p.max_consecutive_days
    if mc is not None:
        for d0 in range(problem.days - mc):
            window = [worked[d] for d in range(d0, d0 + mc + 1) if d in worked]
            if len(window) > mc:
                m.Add(sum(window) <= mc)
    if p.max_weekends is not None:
        ends: dict[int, list[cp_model.IntVar]] = defaultdict(list)
        for d, w in worked.items():
            if (d + problem.start_weekday) % 7 >= 5:
                ends[(d + problem.start_weekday) // 7].append(w)
        if len(ends) > p.max_weekends:
            on = []
            for days in ends.values():
                e = m.NewBoolVar("")
                m.AddMaxEquality(e, days)
                on.append(e)
            m.Add(sum(on) <= p.max_weekends)
    m.Maximize(sum(x))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = seconds
    status = solver.Solve(m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return len(classes)
    return math.floor(solver.BestObjectiveBound() + 1e-6)


def lp_bound(problem: Problem, caps: dict[str, int] | None = None) -> int:
    """Max number of seats coverable in the LP relaxation of the hard rules: besides what the flow keeps,
    the minutes per day, week (calendar weeks from ``start_weekday``) and period, the rest and
    forbidden successions between a shift and each later day's shifts (at most one shift a day: a
    shift and the clashing shifts of one later day are a clique), the maximum consecutive days worked
    (every window of max + 1 days) and the maximum weekends. Every rule of an integer roster holds in
    it, so the rounded-down optimum bounds the seats any valid roster covers (tails, locks, wishes
    and minimums are left out: dropping a rule only raises the bound), and each person's shifts at
    most ``caps`` says (:func:`person_caps`: valid cuts, as every valid roster keeps them). Solved
    per group of people linked by shifts they could share (the LP splits into them exactly)."""
    parent = list(range(len(problem.people)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[str, int] = {}
    for i, p in enumerate(problem.people):
        for s in problem.shifts:
            if eligible(p, s):
                j = first.setdefault(s.id, i)
                parent[find(i)] = find(j)
    groups: dict[int, list[Person]] = defaultdict(list)
    for i, p in enumerate(problem.people):
        groups[find(i)].append(p)
    # seats nobody can take add nothing; each part covers a whole number of seats, at most its LP
    # optimum rounded down
    return sum(
        math.floor((v := _lp_part(problem, people, caps)) + 1e-5 * max(1.0, v)) for people in groups.values()
    )


def _lp_part(problem: Problem, people: list[Person], caps: dict[str, int] | None = None) -> float:
    lp = pywraplp.Solver.CreateSolver("GLOP")
    assert lp is not None
    cover: dict[str, list[object]] = defaultdict(list)
    forbidden: dict[str, set[str]] = defaultdict(set)
    for k1, k2 in problem.forbidden_successions:
        forbidden[k1].add(k2)
    for p in people:
        el = [s for s in problem.shifts if eligible(p, s)]
        if not el:
            continue
        x = {s.id: lp.NumVar(0.0, 1.0, "") for s in el}
        for s in el:
            cover[s.id].append(x[s.id])
        by_day: dict[int, list[Shift]] = defaultdict(list)
        for s in el:
            by_day[s.day].append(s)
        day_sum = {d: lp.Sum([x[s.id] for s in ss]) for d, ss in by_day.items()}
        for d, ss in by_day.items():
            lp.Add(day_sum[d] <= p.max_shifts_per_day)
            if p.max_minutes_day is not None:
                lp.Add(lp.Sum([s.minutes * x[s.id] for s in ss]) <= p.max_minutes_day)
        # the minutes, and (as in the flow) the count of shifts they allow at the shortest length:
        # a whole number of shifts, which the LP would otherwise split
        shortest = min(s.minutes for s in el)
        if caps is not None and p.id in caps:
            lp.Add(lp.Sum(list(x.values())) <= caps[p.id])
        if p.max_minutes_period is not None:
            lp.Add(lp.Sum([s.minutes * x[s.id] for s in el]) <= p.max_minutes_period)
            lp.Add(lp.Sum(list(x.values())) <= p.max_minutes_period // shortest)
        if p.max_minutes_week is not None:
            weeks: dict[int, list[Shift]] = defaultdict(list)
            for s in el:
                weeks[(s.day + problem.start_weekday) // 7].append(s)
            for ws in weeks.values():
                lp.Add(lp.Sum([s.minutes * x[s.id] for s in ws]) <= p.max_minutes_week)
                lp.Add(lp.Sum([x[s.id] for s in ws]) <= p.max_minutes_week // shortest)
        if p.max_shifts_per_day == 1:
            for a in el:
                later: dict[int, list[object]] = defaultdict(list)
                for b in by_day.get(a.day + 1, []) + by_day.get(a.day + 2, []):
                    if b.start < a.start:
                        continue  # (a shift's day need not be its start's: the rest counts by times)
                    if b.start < a.end + p.min_rest_minutes or (
                        b.day == a.day + 1 and b.kind in forbidden.get(a.kind, ())
                    ):
                        later[b.day].append(x[b.id])
                for terms in later.values():
                    lp.Add(x[a.id] + lp.Sum(terms) <= 1)
            m = p.max_consecutive_days
            if m is not None and problem.days > m:
                for d0 in range(problem.days - m):
                    window = [day_sum[d] for d in range(d0, d0 + m + 1) if d in day_sum]
                    if len(window) > m:
                        lp.Add(lp.Sum(window) <= m)
        if p.max_weekends is not None:
            ends: dict[int, object] = {}
            for s in el:
                wd = (s.day + problem.start_weekday) % 7
                if wd >= 5:
                    w = (s.day + problem.start_weekday) // 7
                    if w not in ends:
                        ends[w] = lp.NumVar(0.0, 1.0, "")
                    lp.Add(ends[w] >= x[s.id])
            if len(ends) > p.max_weekends:
                lp.Add(lp.Sum(list(ends.values())) <= p.max_weekends)
    covered = []
    for s in problem.shifts:
        if s.id not in cover:
            continue
        c = lp.NumVar(0.0, float(s.required), "")
        lp.Add(c <= lp.Sum(cover.get(s.id, [])))
        covered.append(c)
    lp.Maximize(lp.Sum(covered))
    status = lp.Solve()
    if status != pywraplp.Solver.OPTIMAL:
        raise RuntimeError(f"the LP bound did not solve (status {status})")
    return float(lp.Objective().Value())


def measures(problem: Problem, assignments: list[tuple[str, str]]) -> dict[str, float]:
    shifts = {s.id: s for s in problem.shifts}
    count: dict[str, int] = defaultdict(int)
    hours: dict[str, float] = defaultdict(float)
    for pid, sid in assignments:
        count[sid] += 1
        hours[pid] += shifts[sid].minutes / 60
    covered = sum(min(count[s.id], s.required) for s in problem.shifts)
    groups: dict[tuple[str, frozenset[str] | None], list[Person]] = defaultdict(list)
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
        f"{'size':>13} {'shifts':>6} {'seats':>6} {'flow':>6} {'lp':>6} | {'1st(s)':>6} {'wall':>5} "
        f"{'obj':>8} {'covered':>7} {'gap':>4} {'spread h':>8} {'(shifts)':>8} {'viol':>4} | {'g.obj':>8} "
        f"{'g.cov':>6} {'g.spread':>8} {'g.s':>5}"
    )
    for size in args.sizes.split(","):
        n, d, s = (int(x) for x in size.split("x"))
        problem = volunteer_problem(VolunteerSpec(people=n, days=d, sites=s, seed=args.seed))
        seats = sum(x.required for x in problem.shifts)
        t0 = time.monotonic()
        caps = person_caps(problem)
        tc = time.monotonic() - t0
        t0 = time.monotonic()
        flow = flow_bound(problem, caps)
        tb = time.monotonic() - t0
        t0 = time.monotonic()
        lp = lp_bound(problem, caps)
        tl = time.monotonic() - t0
        bound = min(flow, lp)  # both bound every valid roster's cover
        res = solve(problem, Options(seconds=args.seconds, seed=args.seed, **chosen))  # type: ignore[arg-type]
        m = measures(problem, res.assignments)
        g = solve(problem, Options(seconds=args.seconds, seed=args.seed, cpsat=False))
        gm = measures(problem, g.assignments)
        print(
            f"{size:>13} {len(problem.shifts):>6} {seats:>6} {flow:>6} {lp:>6} | "
            f"{res.time_to_first_feasible or -1:>6.1f} {res.elapsed:>5.1f} {res.objective:>8} "
            f"{m['covered']:>7} {bound - m['covered']:>4} {m['spread_h']:>8.1f} {m['spread_shifts']:>8.2f} "
            f"{res.stats['violations']:>4} | {g.objective:>8} {gm['covered']:>6} {gm['spread_h']:>8.1f} "
            f"{g.stats['violations']:>5}   (caps {tc:.1f} s, bounds {tb:.1f} s, {tl:.1f} s)",
            flush=True,
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"# peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
