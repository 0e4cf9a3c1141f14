"""Solve a roster (Large because it is one pure algorithm — greedy, repair, depth-first dive, per-person
dynamic programme, CP-SAT — sharing one search state; it imports no Django):
greedy → per-person repair (a one-person model; when that finds nothing in time, a
fast depth-first dive, forward then backward in time; once the one-person models are too slow for the
time left, or from the start on very long periods, each person's dynamic programme first, see
:mod:`.dp`) → CP-SAT (a portfolio of ``portfolio_workers``
threads; the start roster as a complete hint, except on small components over short periods whose
start the repair had to patch for many people: those are searched unhinted, the start the fallback)
→ LNS on big components (CP-SAT's own on a single component over a short period, this engine's
otherwise); and repair after a drop-out.

The allowance is a :class:`.budget.Budget`: wall-clock seconds, or with ``Options(deterministic=True)``
deterministic work (CP-SAT's deterministic time on one thread, this engine's own loops charged by
their counts), so a solve gives the same roster on any machine at any load; the phases are the same
code either way. On the wall clock a seed makes the construction repeatable, the search as far as
CP-SAT's multi-threading and the clock allow."""

from __future__ import annotations

import dataclasses
import math
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from .aggregate import Aggregate, aggregate, merge, split
from .balance import balance, fill
from .budget import DP_UNITS_PER_CELL, INDEX_UNITS_PER_PAIR, ROUND_UNITS, ROUND_UNITS_PER_PAIR, Budget
from .cpsat import SubModel
from .dp import DPContext, PersonDP
from .evaluate import Solution, part_penalty, person_violations, score, shift_counts, violations
from .explain import explain
from .greedy import greedy
from .index import Index, build_index
from .model import (
    Infeasible,
    Limits,
    Lock,
    Person,
    Problem,
    Progress,
    ProgressCallback,
    Result,
    RosterInputError,
    RuleRef,
)


@dataclass
class Options:
    # the allowance: wall-clock seconds, or with ``deterministic`` seconds of deterministic work
    seconds: float = 30.0
    seed: int = 0
    # Deterministic work instead of the wall clock (tests, reproducible experiments; see
    # :mod:`.budget`): every CP-SAT solve is limited by its deterministic time (``seconds`` in all) on
    # one thread with the fixed seed, whatever ``workers`` says (``workers`` >= 2 still chooses
    # CP-SAT's own LNS where the wall clock would, its neighbourhoods then taking turns on the one
    # thread), and this engine's own loops are bounded by their counts. The same problem and options
    # give the same result on any machine at any load (all but the wall-clock measurements in the
    # stats, the ``*_seconds``); ``elapsed`` and the progress times are then units of that work.
    deterministic: bool = False
    workers: int = 2  # CP-SAT threads; >= 2 lets its own neighbourhood search run
    # CP-SAT threads of the full-model solves when ``workers`` >= 2: a wider portfolio (core-based
    # search, max-LP bound, …) beats two threads even on two cores (the limit is wall-clock time).
    portfolio_workers: int = 8
    greedy: bool = True  # start from the greedy roster (also used as the CP-SAT hint)
    hint: bool = True  # give CP-SAT the start roster as a complete hint
    # A component whose start is a patched-up roster (the greedy broke the rules of at least
    # ``unhinted_repaired_share`` of its people, so the per-person repair rewrote them) and that is small
    # (up to ``unhinted_max_vars`` decisions over up to ``unhinted_max_days`` days) gets the full model
    # alone (all its time) WITHOUT the start as hint: a hint steers every thread of the portfolio
    # towards it, and there CP-SAT's own first rosters lead to better ones. The start stays the
    # fallback: the result is never worse than it. A greedy roster that keeps the rules as built (the
    # generated volunteer rosters: nobody repaired) is a good guide and stays the hint (unhinted,
    # 500x7x50 ended 12 seats shorter). Measured at 60 s (bench/roster_public.py; --set
    # unhinted_max_vars=0 restores the hint), median of three or four runs (of two or three before):
    # instance 5 1.084 (1.08), 6 1.054 (1.10), 7 1.015 (1.02), 8 1.276 (1.41), 9 1.013 (1.18), 10 1.059
    # (1.077); single runs spread widely (9: 1.000-1.232). On longer periods (14: 42 days, 16: 56) or
    # bigger components (11, 12) the unhinted search fell far behind the hinted one with the LNS.
    unhinted_repaired_share: float = 0.25
    unhinted_max_vars: int = 4_000
    unhinted_max_days: int = 28
    # the repair tries each person's dynamic programme (:mod:`.dp`) before the one-person CP-SAT model
    # (see _repair_people). Candidates per person on the year-long instances: 22 2,171, 23 3,325, 24
    # 6,929. At 60 s, programme first for everybody against this threshold (CP-SAT while it keeps
    # pace): 22 5.77 against 6.78 and 8.86, 23 12.12 against 9.03 and 9.15 (single runs, wide spread).
    dp_repair: bool = True
    dp_repair_share: float = 0.5
    dp_repair_min_pairs: int = 4_000
    lns: bool = True  # large-neighbourhood search on top of the full model / instead of it
    cpsat: bool = True  # False: greedy (+ per-person repair) only
    full_model_max_vars: int = 60_000  # above: LNS only
    # A component whose start is patched up (as above: the repair rewrote at least
    # ``unhinted_repaired_share`` of its people) and that has more than this many decisions skips the
    # full model too and gives all its time to the LNS: the hinted full model starts from the patched
    # roster and crawls (instance 13, 39,936 decisions: 9,692 -> 8,502 in 16 s, where the LNS took
    # 8,502 -> 6,524 in the next 13 s). At 60 s: 13 5,280 and 5,526 instead of 5,846 and 6,058; 20
    # (35,260) 8,359 and 9,477 instead of 10,814 and 12,205. Below it (12: 10,452; 19: 9,728) the full
    # model share still pays (12 LNS only: 1.376 against 1.327). The volunteer rosters (nobody repaired)
    # keep their full models.
    patched_full_max_vars: int = 30_000
    full_model_share: float = 0.3  # share of the time for the full model before LNS (big components)
    # components up to this size get only the full model (all the time), bigger ones (unless unhinted,
    # above) a share of it and then the LNS. The full model alone, unhinted, on every component of
    # instances 11-19 at 60 s: far behind (14: 1.89 instead of 1.29, 18: 2.13 instead of 1.37).
    lns_small_vars: int = 1000
    # linearization level of the full-model solves (None: CP-SAT's default; 2: clauses enter the LP)
    full_linearization: int | None = None
    # a big component whose full-model share would be shorter than this goes straight to the LNS
    full_model_min_seconds: float = 3.0
    # the LNS (see _lns): "auto" (CP-SAT's own on a single component over up to ``lns_cpsat_max_days``
    # days, else this engine's), "python" (this engine's alone) or "cpsat" (CP-SAT's on every
    # component, whatever the period, then this engine's with any time left)
    lns_mode: str = "auto"
    lns_cpsat_max_days: int = 28
    lns_workers: int = 2  # CP-SAT threads of its own LNS (4 or 8 threads on 2 cores: worse)
    lns_target_vars: int = 400  # free decisions per neighbourhood (adapted as it goes)
    lns_seconds: float = 0.5  # time limit of one neighbourhood solve
    # the LNS's short-seat groups (see _Lns) only over periods up to this many days: they helped the
    # 28-day volunteer rosters and lost on the public instances of 56-364 days
    lns_short_people_max_days: int = 28
    # With fairness weights (spread of hours, nights, weekends): this share of the time left after the
    # repair solves the roster without them (cover and wishes only), the rest the whole objective from
    # that roster (see _cover_first). The spread terms slow the search for seats (one short community
    # of 500 x 28 x 50 alone, 30 s: 517 and 514 seats covered with them, 526 without). Single runs of
    # solve() at 30 s (first version of the phase, the greedy inside it; seeds 0 and 1), objective
    # without -> with 0.5: 500 x 28 x 50 33,020 -> 31,496 and 32,647 -> 32,398 (seats 7,295 -> 7,311,
    # 7,299 -> 7,302); 2,000 x 28 x 200 170,016 -> 169,785 and 170,412 -> 170,295 (27,009 -> 27,012,
    # 27,006 -> 27,008); 0.3 and 0.7 in between (31,478 / 31,770; 170,259 / 169,566). The benchmark's
    # own runs are in the README.
    # The wishes stay: dropped too, 500 x 28 x 50 covered 7,306 but ended at 33,701 (wishes 2,101 left
    # to the second half); on the public benchmark (wishes only, no fairness) dropping the wishes first
    # helped 8 and 9 (1.28, 1.04) and hurt 10 (1.12 against 1.05), so it is not done.
    # Only the components with a seat short take part, with all of the phase's time (the others have
    # nothing to fill). 500 x 7 x 50 at 120 s: 1,863 seats covered, the LP bound (so the most
    # coverable; objective 4,452 and 4,475, seeds 0 and 1; 1,861 and 4,660 in the benchmark's run)
    # against 1,861 (4,670) with every component in it; at 30 s, seeds 0-2: 4,895 / 5,231 / 5,116
    # against 4,979 / 5,501 / 5,121.
    # 500 x 28 x 50 at 30 s, seeds 0-2: 31,492 / 32,135 / 33,574 against 32,279 / 31,708 / 33,404
    # (within the spread of single runs). Dropping the wishes in it as well: 1,863 too at 120 s,
    # 31,661 / 32,073 / 32,558 on 500 x 28 x 50 (not significant, so they stay).
    cover_first: float = 0.5
    # The seat-filling phase searches the problem with the shifts nobody could tell apart merged
    # (see :mod:`.aggregate`; the checkpoints of one community: the 4,592 shifts of 500 x 28 x 50
    # become 2,240, the 18,144 of 2,000 x 28 x 200 4,592); the roster found splits back into the
    # original's. ``merge``: the search after it (full models, LNS, polish) too, when the merged
    # problem has at most MERGE_MAX_SHARE of the shifts (the public instances have one shift per day
    # and type: nothing merges). Single runs at 30 s, seed 0, seats (objective): neither 500 x 7 x 50
    # 1,860 (4,869), 500 x 28 x 50 7,329 (29,567), 2,000 x 28 x 200 27,051 (165,827); cover_merge
    # 1,863 (4,566; the LP bound) / 1,862 (4,633), 7,342 (28,258) / 7,339 (28,585), 27,067 (164,139)
    # / 27,062 (164,702); both 7,348 (27,623), 27,081 (162,514). Those merged wishes loosely (a wish
    # for one member became one for the group); merged exactly (only shifts with the same wishes),
    # three runs of 500 x 28 x 50: 7,332 / 7,333 / 7,336 (29,269 / 29,192 / 28,887), 2,000 x 28 x 200
    # 27,071 (163,810).
    cover_merge: bool = True
    merge: bool = True
    # With several components still to improve (the volunteer rosters, not the single-component public
    # instances), this share of the time left before the LNS re-rosters people one at a time (see
    # _reroster). 2,000 x 28 x 200 from a 30 s roster: 270 people tried in 8.2 s, 43 improved, seats
    # 27,033 -> 27,060, objective 167,651 -> 164,786.
    reroster_share: float = 0.15
    target: int | None = None  # stop as soon as the objective reaches it
    stop: Callable[[], bool] | None = None  # external cancel
    progress: ProgressCallback | None = None
    limits: Limits = field(default_factory=Limits)
    log: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.reroster_share < 1:
            raise ValueError(f"reroster_share must be at least 0 and below 1, not {self.reroster_share!r}")
        if not 0 <= self.cover_first < 1:
            raise ValueError(f"cover_first must be at least 0 and below 1, not {self.cover_first!r}")
        if self.lns_mode not in LNS_MODES:
            raise ValueError(f"lns_mode must be one of {', '.join(LNS_MODES)}, not {self.lns_mode!r}")


LNS_MODES = ("auto", "python", "cpsat")


def _budget(opts: Options, t0: float | None = None) -> Budget:
    """The allowance of ``opts``: on the wall clock from ``t0`` (default: now), or deterministic work."""
    return Budget.work(opts.seconds) if opts.deterministic else Budget.wall(opts.seconds, t0)


class _Run:
    def __init__(self, idx: Index, opts: Options, budget: Budget | None = None) -> None:
        self.idx = idx
        self.opts = opts
        # the budget starts when the caller asked (before the index is built): every time reported
        # (first feasible, elapsed) and the limit count the whole solve
        self.budget = _budget(opts) if budget is None else budget
        self.history: list[Progress] = []
        self.first_feasible: float | None = None
        self.best_obj: int | None = None
        self.bound: int | None = None
        self.rng = random.Random(opts.seed)
        self.stats: dict[str, float | int | str] = {}
        self.reserve = 0.0  # budget kept back for the final polish
        self.repaired: set[int] = set()  # people whose start roster broke their own rules
        # the roster of a sub-run (merged shifts, cover phase) as the whole problem's: the incumbent
        # handed to the progress callback (see ``Progress.roster``) is always in the caller's ids
        self.top: Index = idx
        self.lift: Callable[[Solution], Solution] | None = None

    def count(self, key: str, n: int = 1) -> None:
        self.stats[key] = int(self.stats.get(key, 0)) + n

    @property
    def total(self) -> float:
        return self.budget.total

    def left(self) -> float:
        return self.budget.left() - self.reserve

    def elapsed(self) -> float:
        return self.budget.spent()

    def report(self, phase: str, obj: int, feasible: bool = True, sol: Solution | None = None) -> None:
        """A new best ``obj``; ``sol``, when given, is the roster that has it (offered to the progress
        callback as ``Progress.roster``, lifted to the whole problem's ids only if the callback asks)."""
        if feasible and self.first_feasible is None:
            self.first_feasible = self.elapsed()
        if feasible and (self.best_obj is None or obj < self.best_obj):
            self.best_obj = obj
            ev = Progress(self.elapsed(), phase, obj, self.bound)
            self.history.append(ev)
            if self.opts.progress:
                self.opts.progress(ev if sol is None else dataclasses.replace(ev, roster=self._pairs(sol)))

    def _pairs(self, sol: Solution) -> Callable[[], list[tuple[str, str]]]:
        def pairs() -> list[tuple[str, str]]:
            whole = sol if self.lift is None else self.lift(sol)
            pr = self.top.problem
            return sorted((pr.people[p].id, pr.shifts[s].id) for p in range(len(pr.people)) for s in whole[p])

        return pairs

    def sub_of(self, sub: _Run, lift: Callable[[Solution], Solution] | None) -> None:
        """Make ``sub`` (a run on a derived problem) hand its incumbents on as this run's: ``lift`` maps
        its roster to this run's (``None``: the same people and shifts)."""
        sub.top = self.top
        outer = self.lift
        if lift is None:
            sub.lift = outer
        elif outer is None:
            sub.lift = lift
        else:
            sub.lift = lambda s: outer(lift(s))

    def should_stop(self) -> bool:
        if self.opts.stop and self.opts.stop():
            return True
        if self.left() <= 0:
            return True
        t = self.opts.target
        if t is not None and self.best_obj is not None and self.best_obj <= t:
            return True
        return self.bound is not None and self.best_obj is not None and self.best_obj <= self.bound


def solve(problem: Problem, options: Options | None = None) -> Result:
    """Roster ``problem``. Raises :class:`RosterInputError` for bad input (including a too large one) and
    :class:`Infeasible` (naming the clashing rules) when the hard rules cannot all hold."""
    t0 = time.monotonic()
    opts = options or Options()
    budget = _budget(opts, t0)
    idx = build_index(problem, opts.limits)
    run = _Run(idx, opts, budget)
    run.stats["index_seconds"] = round(time.monotonic() - t0, 3)
    sol = greedy(idx, opts.seed) if opts.greedy else [set(idx.locked[p]) for p in range(len(problem.people))]
    run.stats["greedy_seconds"] = round(time.monotonic() - t0 - float(run.stats["index_seconds"]), 3)
    budget.charge(INDEX_UNITS_PER_PAIR * idx.n_pairs)
    feasible = not violations(idx, sol)
    obj, _ = score(idx, sol)
    run.stats["greedy_objective"] = obj
    run.stats["greedy_feasible"] = int(feasible)
    run.report("greedy", obj, feasible, sol)
    if opts.greedy and opts.cpsat:
        sol = _repair_people(run, sol)
        sol = _polish(run, sol, POLISH_SHARE * run.total, "polish_start")
        w = problem.weights
        if opts.cover_first > 0 and (w.spread_hours or w.spread_nights or w.spread_weekends):
            sol = _cover_first(run, sol)
    return _improve(run, sol)


def _cover_first(run: _Run, sol: Solution) -> Solution:
    """From the repaired start: the roster without the fairness terms (cover and wishes only) for
    ``cover_first`` of the time left; the whole objective then starts from it (see
    ``Options.cover_first``). Only the components with a seat short take part (they get all of its
    time); with none, there is no such phase. Its progress is reported as phase "cover", the objective
    without the fairness terms; its search figures are in the stats as ``cover_*``."""
    opts, idx = run.opts, run.idx
    comps = []
    for comp in idx.components:
        if any(idx.elig[p] for p in comp):
            part = _Part(idx, comp, 0)
            part.refresh(idx, sol)
            if part.short_days:
                comps.append(comp)
    run.stats["cover_components"] = len(comps)
    if not comps:
        return sol
    problem = idx.problem
    w = problem.weights
    plain = dataclasses.replace(
        problem, weights=dataclasses.replace(w, spread_hours=0, spread_nights=0, spread_weekends=0)
    )
    # the same index: nothing in it depends on the fairness weights (they are read from the problem)
    plain_idx = dataclasses.replace(idx, problem=plain)

    agg = None
    if opts.cover_merge:
        merged = aggregate(plain_idx, [p for comp in comps for p in comp])
        if len(merged.members) < merged.n_shifts:
            agg = merged
            run.stats["cover_merged_shifts"] = merged.sizes()
    offset = 0
    if agg is not None:
        agg_idx = build_index(agg.problem, opts.limits)
        start = merge(agg, sol)
        # (the merged problem holds only the short components: its objective plus the rest's)
        offset = score(plain_idx, sol)[0] - score(agg_idx, start)[0]

    def forward(ev: Progress) -> None:
        out = Progress(run.elapsed(), "cover", ev.objective + offset, None)
        run.history.append(out)
        if opts.progress is not None:
            opts.progress(dataclasses.replace(out, roster=ev.roster))

    share = opts.cover_first * max(0.0, run.left() - run.reserve)
    first_opts = dataclasses.replace(
        opts,
        seconds=share,
        cover_first=0.0,
        progress=forward,
        target=None,  # a target is on the whole objective
    )
    if agg is not None:
        first = _Run(agg_idx, first_opts, run.budget.part(share))
        first.repaired = {i for i, p in enumerate(agg.people) if p in run.repaired}
        start_sol = sol
        run.sub_of(first, lambda m: split(idx, agg, m, start_sol))
        found_merged, _optimal = _search(first, start, None, closing=False)
        found = split(idx, agg, found_merged, sol)
    else:
        first = _Run(plain_idx, first_opts, run.budget.part(share))
        run.sub_of(first, None)
        first.repaired = set(run.repaired)  # (the unhinted full model of patched-up starts, as usual)
        found, _optimal = _search(first, sol, comps, closing=False)
    for key, value in first.stats.items():
        run.stats[f"cover_{key}"] = value
    run.stats["cover_objective"] = score(plain_idx, found)[0]
    if not violations(idx, sol) and (violations(idx, found) or score(idx, found)[0] > score(idx, sol)[0]):
        found = sol  # (the search keeps the rules of a valid start) the start is better on the whole
    # the fairness terms join: the whole objective of the roster handed on is reported (phase
    # "fairness", even when it is no better than the start's), and the best so far counts from it
    run.best_obj = None
    run.report("fairness", score(idx, found)[0], not violations(idx, found), found)
    return found


CLOSING_SECONDS_PER_PAIR = 2e-6
POLISH_SHARE = 0.02  # of the time (at most 1 s at the end) for the polish after the repair and at the end


def _polish(run: _Run, sol: Solution, seconds: float, label: str) -> Solution:
    """Cheap moves on a valid roster: even out hours inside the fairness groups, then give short seats
    to whoever can still take them (:mod:`.balance`)."""
    idx = run.idx
    if violations(idx, sol) or (run.opts.stop is not None and run.opts.stop()):
        return sol
    budget = run.budget.part(max(0.0, min(seconds, run.left())))
    sol = [set(x) for x in sol]
    wts = idx.problem.weights
    spread = wts.spread_hours or wts.spread_nights or wts.spread_weekends
    stop = run.opts.stop
    moved = balance(idx, sol, budget, stop=stop) if spread else 0
    evened = _even_out(run, sol, budget) if spread and run.opts.cpsat else 0
    filled = fill(idx, sol, budget, stop=stop)
    run.stats[f"{label}_moved"] = moved
    run.stats[f"{label}_evened"] = evened
    run.stats[f"{label}_filled"] = filled
    run.report("polish", score(idx, sol)[0], sol=sol)
    return sol


EVEN_OUT_PEOPLE = 10  # at most, freed together
EVEN_OUT_SHARE = 0.05  # of the time kept back for them at the end (at most EVEN_OUT_RESERVE seconds)
EVEN_OUT_RESERVE = 3.0
EVEN_OUT_SECONDS = 1.0  # at most, per model


def _even_out(run: _Run, sol: Solution, budget: Budget) -> int:
    """In place: for each fairness group whose spread of hours is still more than its longest shift
    (after the moves and exchanges of :func:`.balance`), its least and its most busy person re-rostered
    together over the whole period (a two-person CP-SAT model, one thread, everyone else fixed), up
    to three times a group while that lowers the objective; the most uneven groups first. Returns the
    number of groups improved; stops when ``budget`` is spent. (2,000 x 28 x 200: one group left at
    16 hours, 18 and 20 8-hour shifts, evened to 12 in 0.1 s.)"""
    idx, opts = run.idx, run.opts
    hours = [sum(idx.hours[s] for s in x) for x in sol]
    todo = []
    for g in idx.fair_groups:
        longest = max(idx.hours[s] for p in g for s in idx.elig[p])
        excess = max(hours[p] for p in g) - min(hours[p] for p in g) - longest
        if excess > 0:
            todo.append((excess, g, longest))
    improved = 0
    cur: int | None = None
    for _excess, g, longest in sorted(todo, key=lambda item: (-item[0], item[1][0])):
        for _ in range(3):
            left = budget.left()
            if left <= 0.05 or (opts.stop is not None and opts.stop()):
                return improved
            hrs = {p: sum(idx.hours[s] for s in sol[p]) for p in g}
            order = sorted(g, key=lambda p: (hrs[p], p))
            lo, hi = hrs[order[0]], hrs[order[-1]]
            if hi - lo <= longest:
                break
            if cur is None:
                cur = score(idx, sol)[0]
            lows = [p for p in order if hrs[p] == lo]
            highs = [p for p in reversed(order) if hrs[p] == hi]
            # the smaller side whole (the spread moves only when all of it does), then the other side
            free = ((highs + lows) if len(highs) <= len(lows) else (lows + highs))[:EVEN_OUT_PEOPLE]
            part = _Part(idx, idx.components[idx.component_of_person[g[0]]], 0)
            better = _re_roster(run, sol, free, part, cur, min(EVEN_OUT_SECONDS, left), opts.seed)
            if better is None:
                break
            found, delta = better
            for p in free:
                sol[p] = found[p]
            cur += delta
            improved += 1
    return improved


def _improve(run: _Run, sol: Solution, comps: list[list[int]] | None = None) -> Result:
    opts, idx = run.opts, run.idx
    if comps is None and opts.merge and opts.cpsat and opts.greedy and not violations(idx, sol):
        agg = aggregate(idx, [p for p in range(len(idx.problem.people)) if idx.elig[p]])
        if len(agg.members) <= MERGE_MAX_SHARE * agg.n_shifts:
            run.stats["merged_shifts"] = agg.sizes()
            return _improve_merged(run, sol, agg)
    sol, optimal_all = _search(run, sol, comps)
    return _result(run, sol, optimal=optimal_all)


MERGE_MAX_SHARE = 0.9  # the merged problem is searched when it has at most this share of the shifts


def _improve_merged(run: _Run, sol: Solution, agg: Aggregate) -> Result:
    """The search (full models, LNS, polish) on the merged problem (see ``Options.merge``), its roster
    split back; never worse than ``sol``. A merged roster's objective is its split's (see
    :mod:`.aggregate`), so the progress, the bound and an optimum found carry over as they are."""
    idx, opts = run.idx, run.opts
    agg_idx = build_index(agg.problem, opts.limits)
    start = merge(agg, sol)
    start_obj = score(idx, sol)[0]
    offset = start_obj - score(agg_idx, start)[0]
    if offset:  # (cannot happen: the merge keeps the objective; should it, the original is searched)
        run.count("merge_objective_differs")
        found_orig, optimal_all = _search(run, sol, None)
        return _result(run, found_orig, optimal=optimal_all)

    def forward(ev: Progress) -> None:
        out = Progress(ev.elapsed, ev.phase, ev.objective, ev.bound)
        run.history.append(out)
        if opts.progress is not None:
            opts.progress(dataclasses.replace(out, roster=ev.roster))

    # the split, the rule check, the score and the explanations of the original come after the merged
    # search's own closing: its clock stops that much earlier
    closing = min(0.1 * run.total, CLOSING_SECONDS_PER_PAIR * idx.n_pairs)
    sub_opts = dataclasses.replace(
        opts,
        seconds=max(0.0, run.total - closing),
        progress=forward,
    )
    sub = _Run(agg_idx, sub_opts, run.budget.capped(sub_opts.seconds))
    sub.repaired = {i for i, p in enumerate(agg.people) if p in run.repaired}
    run.sub_of(sub, lambda m: split(idx, agg, m, sol))
    sub.first_feasible = run.first_feasible
    # only improvements on what was reported are reported
    sub.best_obj = run.best_obj
    found, optimal = _search(sub, start, None)
    run.stats.update(sub.stats)
    if sub.best_obj is not None:
        run.best_obj = sub.best_obj
    if sub.bound is not None:
        run.bound = sub.bound
    out = split(idx, agg, found, sol)
    if violations(idx, out) or score(idx, out)[0] > start_obj:
        run.count("merged_start_kept")
        out = sol
    # (the split keeps the merged roster's objective, so its optimum and bound are the original's)
    exact = optimal and score(idx, out)[0] == score(agg_idx, found)[0]
    return _result(run, out, optimal=exact)


def _search(
    run: _Run, sol: Solution, comps: list[list[int]] | None = None, *, closing: bool = True
) -> tuple[Solution, bool]:
    """The full models and the LNS (and the polish at the end) from ``sol``: the roster and whether
    every component was solved to optimality. ``closing``: keep back time for the closing work of
    :func:`_improve`."""
    idx, opts = run.idx, run.opts
    feasible = not violations(idx, sol)
    if feasible:
        run.report("repair", score(idx, sol)[0], sol=sol)
    optimal_all = False
    # time kept back: the closing work (score, rule check, explanations of the short seats) grows with
    # the candidate pairs, about 1 s at 500,000 on the benchmark machine; and the polish at the end
    closing_s = min(0.1 * run.total, CLOSING_SECONDS_PER_PAIR * idx.n_pairs) if closing else 0.0
    run.reserve = closing_s
    if opts.cpsat and opts.greedy and feasible:
        w = idx.problem.weights
        spread = w.spread_hours or w.spread_nights or w.spread_weekends
        # with fairness weights, time for the groups' re-rosters of the final polish too (_even_out)
        run.reserve += min(1.0, POLISH_SHARE * run.total) + (
            min(EVEN_OUT_RESERVE, EVEN_OUT_SHARE * run.total) if spread and len(idx.fair_groups) else 0.0
        )
    if opts.cpsat:
        comps = comps if comps is not None else [c for c in idx.components if any(idx.elig[p] for p in c)]
        sizes = [sum(len(idx.elig[p]) for p in c) for c in comps]
        total = max(1, sum(sizes))
        total0, budget0 = total, run.left()

        def patched(comp: list[int]) -> bool:
            return sum(1 for p in comp if p in run.repaired) >= opts.unhinted_repaired_share * len(comp)

        def unhinted_fits(comp: list[int], size: int) -> bool:
            return (
                opts.greedy
                and size <= opts.unhinted_max_vars
                and idx.problem.days <= opts.unhinted_max_days
                and patched(comp)
            )

        n_big = sum(
            1
            for comp, size in zip(comps, sizes, strict=True)
            if size > opts.lns_small_vars and not unhinted_fits(comp, size)
        )
        pending = []
        optimal_all = True
        for comp, size in sorted(zip(comps, sizes, strict=True), key=lambda cs: cs[1]):
            if run.should_stop() and feasible:
                optimal_all = False
                break
            share = run.left() * size / total
            total -= size
            # an infeasible start gets the full model unless it is far too big to even load in time
            use_full = size <= opts.full_model_max_vars or (
                not feasible and size <= 2 * opts.full_model_max_vars
            )
            unhinted = feasible and unhinted_fits(comp, size)
            big = size > opts.lns_small_vars and opts.lns and feasible and not unhinted
            secs = share * (opts.full_model_share if big else 1.0)
            if (
                big
                and n_big > 1
                and budget0 * size / total0 * opts.full_model_share < opts.full_model_min_seconds
            ):
                # many big components share the time: a full model each would get a fraction of a
                # second (and lose much of it to loading); the LNS spends it where the penalties are
                use_full = False
            if big and size > opts.patched_full_max_vars and opts.greedy and patched(comp):
                use_full = False  # a patched-up start: the LNS repairs it faster than the full model
                run.count("lns_only_patched")
            if use_full:
                hint = opts.hint and opts.greedy and not unhinted
                sol, status, _bound = _full(run, sol, comp, secs, hint=hint, fallback=unhinted)
                feasible = not violations(idx, sol)
                if status == cp_model.OPTIMAL:
                    continue
                optimal_all = False
                pending.append((comp, size))
            else:
                optimal_all = False
                pending.append((comp, size))
        if opts.lns and feasible and pending and not run.should_stop():
            if len(pending) > 1 and opts.reroster_share > 0:
                sol = _reroster(run, sol, pending, opts.reroster_share * run.left())
            sol = _lns(run, sol, pending)
        if opts.greedy and feasible and not optimal_all:
            run.reserve = closing_s
            sol = _polish(run, sol, run.left(), "polish_end")
    return sol, optimal_all


def _repair_people(run: _Run, sol: Solution, people: Iterable[int] | None = None) -> Solution:
    """Give every person whose roster breaks one of their own rules a valid one (a one-person model
    with everybody else fixed); a person with no valid roster at all makes the problem infeasible."""
    idx = run.idx
    todo = [
        p for p in (people if people is not None else range(len(sol))) if person_violations(idx, p, sol[p])
    ]
    run.stats["repaired_people"] = len(todo)
    run.repaired.update(todo)
    misses = 0  # consecutive people for whom the short objective solve found nothing
    ctx = DPContext(idx)
    ctx.refresh(sol)
    by_dp = 0
    # The one-person CP-SAT model finds the person's best roster, the dynamic programme a valid one
    # fast but often a worse one (its prices on the period totals are rough: instance 20, ten people,
    # +1,100 on average against CP-SAT's -300). So CP-SAT first, while its pace lets the repair end
    # within ``dp_repair_share`` of the time; then (or from the start when one person has more than
    # ``dp_repair_min_pairs`` candidates) the programme first, CP-SAT when it finds nothing.
    opts = run.opts
    pairs = idx.n_pairs / max(1, len(sol))
    use_dp = opts.dp_repair and pairs > opts.dp_repair_min_pairs
    cp_seconds, cp_people = 0.0, 0
    budget = run.budget
    for i, p in enumerate(todo):
        if run.left() <= 0.05 * run.total:
            break
        if opts.dp_repair and not use_dp and cp_people >= 2:
            pace = cp_seconds / cp_people
            use_dp = pace * (len(todo) - i) > opts.dp_repair_share * run.left()
        if use_dp:
            dp = PersonDP(ctx, p)
            new = dp.solve(sol)
            budget.charge(DP_UNITS_PER_CELL * dp.cells)
            if new is not None and not person_violations(idx, p, new):
                ctx.move(sol[p], new)
                sol = [*sol[:p], new, *sol[p + 1 :]]
                by_dp += 1
                continue
        t_cp = budget.spent()
        cp_people += 1
        limit = max(0.2, min(1.0, run.left() / max(1, 3 * len(todo))))
        # the start roster breaks this person's rules: no hint (it would mislead the search)
        sub = SubModel(idx, sol, [p], hint=False)
        small = sub.n_vars <= 1000
        status = cp_model.UNKNOWN
        if misses < 2 or small:
            status, solver = sub.solve(limit, workers=run.opts.workers, seed=run.opts.seed, budget=budget)
            misses = misses + 1 if status == cp_model.UNKNOWN else 0
        for backward in (False, True):
            if status == cp_model.UNKNOWN:
                # no roster found in time (tight hours, long horizon): any valid one, by a fast dive
                status, solver = sub.dive(
                    min(3.0, max(0.1, run.left())), seed=run.opts.seed, backward=backward, budget=budget
                )
                if status != cp_model.UNKNOWN and small:
                    # then a short solve of the objective from there
                    sub.hint_from(solver)
                    st2, solver2 = sub.solve(
                        limit, workers=run.opts.workers, seed=run.opts.seed, budget=budget
                    )
                    if st2 in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                        status, solver = st2, solver2
        if status == cp_model.UNKNOWN:
            # the dives got lost: the full portfolio, ignoring the objective
            sub = SubModel(idx, sol, [p], hint=False)
            sub.model.clear_objective()
            status, solver = sub.solve(
                min(max(2.0, limit * 5), max(0.1, run.left())),
                workers=_portfolio(run.opts),
                seed=run.opts.seed,
                budget=budget,
            )
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            old = sol[p]
            sol = sub.extract(solver)
            ctx.move(old, sol[p])
        elif status == cp_model.INFEASIBLE:
            _raise_infeasible(idx, sol, [p], budget.deterministic)
        cp_seconds += budget.spent() - t_cp
    run.stats["repaired_by_dp"] = by_dp
    return sol


def _raise_infeasible(
    idx: Index, sol: Solution, people: list[int] | None, deterministic: bool = False
) -> None:
    diag = SubModel(idx, sol if people is not None else None, people, diagnose=True, hint=False)
    core = diag.diagnose_core(deterministic)
    names = ", ".join(c.describe() for c in core) if core else "(could not isolate them)"
    raise Infeasible(
        "The hard rules cannot all hold (given the days off, availability, skills and locks): " + names,
        core,
    )


def _full(
    run: _Run,
    sol: Solution,
    comp: list[int],
    seconds: float,
    *,
    hint: bool,
    fallback: bool = False,
    lns_only: bool = False,
) -> tuple[Solution, int, int | None]:
    """The full model of ``comp``. With ``fallback`` (the start is a valid roster, searched unhinted) the
    start is kept unless the search returns a valid roster at least as good."""
    idx, opts = run.idx, run.opts
    sub = SubModel(idx, sol, comp, hint=hint)
    if lns_only:
        run.count("lns_cpsat_models")
    else:
        run.count("full_models_hinted" if hint else "full_models_unhinted")
        run.count("full_model_vars", sub.n_vars)
    best_before, n_history = run.best_obj, len(run.history)

    def on_solution(obj: int, bound: float) -> None:
        run.report("lns" if lns_only else "cpsat", obj)

    status, solver = sub.solve(
        min(seconds, max(0.05, run.left())),  # the model's build counts too
        workers=opts.lns_workers if lns_only else _portfolio(opts),
        seed=opts.seed,
        on_solution=on_solution,
        stop=run.should_stop,
        log=opts.log,
        linearization=opts.full_linearization,
        lns_only=lns_only,
        budget=run.budget,
    )
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        bound = round(solver.best_objective_bound)
        if len(comp) == len(idx.problem.people) and (run.bound is None or bound > run.bound):
            run.bound = bound
        found = sub.extract(solver)
        if fallback:
            broken = bool(violations(idx, found))
            if broken or score(idx, found)[0] > score(idx, sol)[0]:
                run.count("unhinted_kept_start")
                # any progress reported during this search is of a roster that is not kept
                run.best_obj = best_before
                del run.history[n_history:]
                return sol, int(cp_model.FEASIBLE), bound
        return found, status, bound
    if fallback:
        # nothing found in time (or, against a valid start, INFEASIBLE: the model and the rule check
        # would disagree): the start stays
        run.count("unhinted_kept_start")
        return sol, status, None
    if status == cp_model.INFEASIBLE:
        _raise_infeasible(
            idx, sol, comp if len(comp) < len(idx.problem.people) else None, run.budget.deterministic
        )
    return sol, status, None


def _reroster(run: _Run, sol: Solution, comps: list[tuple[list[int], int]], seconds: float) -> Solution:
    """One person at a time, the whole period free and everyone else fixed (a one-person CP-SAT model,
    one thread): the people of the components with a seat short who could take one, those furthest
    below the most hours of their fairness group first. A person held below their own most shifts by
    where their shifts fall (an 18-shift roster that could hold 19) takes a short seat this way, which
    no single move or exchange reaches and a random group of the LNS rarely frees. Stops at
    ``seconds`` (units of the run's budget); the count of people tried and improved is in the stats
    (``reroster_*``)."""
    idx, opts = run.idx, run.opts
    pr = idx.problem
    budget = run.budget.part(max(0.0, min(seconds, run.left())))
    members = {p for comp, _ in comps for p in comp}
    counts = shift_counts(idx, sol)
    short = {s for s, shift in enumerate(pr.shifts) if counts[s] < shift.required}
    if not short:
        return sol
    hours = [sum(idx.hours[s] for s in sol[p]) for p in range(len(sol))]
    group_of: dict[int, list[int]] = {}
    for g in idx.fair_groups:
        for p in g:
            group_of[p] = g
    behind = {}
    for p in members:
        if any(s in short for s in idx.elig[p]) and not idx.elig_set[p] <= idx.locked[p]:
            mates = group_of.get(p)
            behind[p] = (max(hours[q] for q in mates) if mates else hours[p]) - hours[p]
    cur = score(idx, sol)[0]
    tried = improved = 0
    # a person's share of the objective is counted over the whole component (the head-counts of its
    # shifts come from everyone who can take them)
    parts: dict[int, _Part] = {}
    for p in sorted(behind, key=lambda p: (-behind[p], p)):
        left = budget.left()
        if left <= 0.05 or run.should_stop():
            break
        tried += 1
        c = idx.component_of_person[p]
        if c not in parts:
            parts[c] = _Part(idx, idx.components[c], 0)
        part = parts[c]
        better = _re_roster(run, sol, [p], part, cur, min(REROSTER_SECONDS, left), opts.seed + tried)
        if better is not None:
            sol, delta = better
            cur += delta
            improved += 1
            run.report("reroster", cur, sol=sol)
    run.count("reroster_tried", tried)
    run.count("reroster_improved", improved)
    return sol


REROSTER_SECONDS = 0.5  # at most, per person (one person's 28 days solve in tens of milliseconds)


def _re_roster(
    run: _Run, sol: Solution, free: list[int], part: _Part, cur: int, seconds: float, seed: int
) -> tuple[Solution, int] | None:
    """``free`` re-rostered over the whole period, everyone else fixed (CP-SAT, one thread; ``cur``:
    the roster's objective): the new roster and the change of the objective if it is lower, else
    None. The change is counted over ``part``, the component of the freed people (the head-counts of
    their shifts come from everyone in it)."""
    idx = run.idx
    sub = SubModel(idx, sol, free, (0, idx.problem.days - 1), hint=True, current_objective=cur)
    status, solver = sub.solve(seconds, workers=1, seed=seed, budget=run.budget)
    run.budget.charge(ROUND_UNITS + ROUND_UNITS_PER_PAIR * part.pairs)  # (its scoring)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE) or round(solver.objective_value) >= cur:
        return None
    found = sub.extract(solver)
    delta = (
        part_penalty(idx, found, part.people, part.shifts, part.groups)[0]
        - part_penalty(idx, sol, part.people, part.shifts, part.groups)[0]
    )
    return (found, delta) if delta < 0 else None


def _portfolio(opts: Options) -> int:
    return opts.workers if opts.workers <= 1 else max(opts.workers, opts.portfolio_workers)


class _Part:
    """A component as the LNS sees it: its people, shifts and fairness groups, its current share of the
    objective and the days that lack people, and how promising it has been lately."""

    def __init__(self, idx: Index, people: list[int], size: int) -> None:
        self.people = people
        self.size = size
        members = set(people)
        self.shifts = sorted({s for p in people for s in idx.elig[p]})
        self.pairs = sum(len(idx.elig[p]) for p in people)  # its (person, shift) decisions
        self.groups = [g for g in idx.fair_groups if g[0] in members]
        self.penalty = 0
        self.short_days: list[int] = []
        self.luck = 1.0  # shrinks while its neighbourhoods find nothing better

    def refresh(self, idx: Index, sol: Solution) -> None:
        self.penalty, self.short_days = part_penalty(idx, sol, self.people, self.shifts, self.groups)

    def weight(self) -> float:
        return self.luck * math.sqrt(self.penalty)


def _lns(run: _Run, sol: Solution, comps: list[tuple[list[int], int]]) -> Solution:
    """Large-neighbourhood search on the components ``comps``.

    One component over a short period (up to ``lns_cpsat_max_days`` days): CP-SAT's own LNS on the
    whole of it (generic and relaxation-induced neighbourhoods, all in C++: no model rebuilt per
    neighbourhood), hinted with the current roster. Otherwise (and with any time left) this engine's
    (:class:`_Lns`: windows of days, groups of people, the weekends), which knows the
    roster's structure and spends the time on the components where the penalties are. Measured at
    60 s on the public instances (one component each) and 30 s on the volunteer rosters:
    - 13 (120 people, 28 days): CP-SAT's 3,695-4,867 (six runs) against ours 5,280-6,251; 11 and 12:
      about the same (11 1.04-1.13 against 1.11; 12 1.35-1.52 against 1.33-1.60);
    - 15-18 and 20 (42-182 days): ours better (17: 1.15-1.17 against 1.36; 18 1.37-1.44 against
      1.48; 20 1.69-2.02 against 2.31); CP-SAT's restarted in time slices lost its momentum
      (13: 5,815-6,008), so the choice is made once;
    - volunteer rosters (many components, CP-SAT's on each in turn): 2,000 x 28 x 200 covered 26,996
      seats (the greedy's) against ours 27,012; 500 x 28 x 50 7,284 against 7,294."""
    opts = run.opts
    own = _Lns(run, sol, comps)
    cpsat = opts.lns_mode == "cpsat" or (
        opts.lns_mode == "auto" and len(comps) == 1 and run.idx.problem.days <= opts.lns_cpsat_max_days
    )
    if cpsat and opts.workers >= 2:  # workers=1: this engine's LNS alone
        todo = sorted((part for part in own.parts if part.penalty), key=lambda part: -part.penalty)
        weight = sum(part.size for part in todo)
        for part in todo:
            if run.should_stop():
                break
            seconds = run.left() * part.size / max(1, weight)
            weight -= part.size
            sol = own.cpsat(sol, part, seconds)
    return own.run(sol)


class _Lns:
    """This engine's large-neighbourhood search. A round picks a component (by the square root of its
    share of the objective, times how lucky its last neighbourhoods were, so components whose penalty
    cannot go down stop taking the time), then frees one kind of neighbourhood: every weekend day
    (when someone has a weekend limit) for some of its people; a window of days for all its people,
    around a day with a seat short or anywhere; a group of its people over the whole period, drawn at
    random or (while a seat is short) half of them from the people who could take a short seat. Kinds
    that found improvements lately are chosen more often.

    The short-seat group, measured at 30 s against the same code without it (seeds 0-3 or 0-1):
    2,000 x 28 x 200 169,184 and 169,152 against 169,938 and 170,347 (27,018 and 27,019 seats against
    27,011 and 27,007); 500 x 28 x 50 31,375 / 32,200 / 32,700 / 32,877 against 31,923 / 32,495 /
    33,160 / 31,943; 500 x 7 x 50 5,108 / 4,803 against 4,865 / 5,101; public instances at 60 s: 14
    1.356 against 1.439, 17 1.258 against 1.189, 20 2.422 against 2.442 (single runs spread about as
    much); then 20 / 21 / 22 (182-364 days) 2.317 / 2.006 / 11.48 against 2.285 / 1.958 / 10.36
    without it, so it is drawn only over periods of up to ``Options.lns_short_people_max_days``."""

    def __init__(self, run: _Run, sol: Solution, comps: list[tuple[list[int], int]]) -> None:
        self.run_ = run
        idx = run.idx
        pr = idx.problem
        self.cur_obj = score(idx, sol)[0]
        self.parts = [_Part(idx, comp, size) for comp, size in comps]
        for part in self.parts:
            part.refresh(idx, sol)
        self.target = run.opts.lns_target_vars
        limited = any(
            person.max_weekends is not None and person.max_weekends < idx.n_weekends for person in pr.people
        )
        self.weekend_days = (
            frozenset(d for d in range(pr.days) if idx.weekend_of_day[d] >= 0) if limited else None
        )
        self.kind_score = {
            "weekends": 0.5,
            "short_window": 0.5,
            "window": 0.5,
            "people": 0.5,
            "short_people": 0.5,
        }
        self.drawn: Counter[str] = Counter()
        self.it = self.accepted = self.optimal = self.n_vars = 0
        self.build_s = self.solve_s = 0.0

    def pick(self) -> _Part | None:
        weights = [part.weight() for part in self.parts]
        if not any(weights):
            return None  # every component's penalty is 0
        return self.parts[0] if len(self.parts) == 1 else self.run_.rng.choices(self.parts, weights)[0]

    def accept(self, part: _Part, sol: Solution) -> None:
        """``sol`` changed only inside ``part``: update its penalty and the roster's objective."""
        old = part.penalty
        part.refresh(self.run_.idx, sol)
        self.cur_obj += part.penalty - old

    def cpsat(self, sol: Solution, part: _Part, seconds: float) -> Solution:
        """CP-SAT's own LNS (every worker) on one whole component, hinted with the current roster."""
        run = self.run_
        found, _status, _bound = _full(run, sol, part.people, seconds, hint=True, lns_only=True)
        if found is sol:
            return sol
        before = self.cur_obj
        self.accept(part, found)
        if self.cur_obj > before:  # never accept a worse roster (CP-SAT keeps the hint: cannot happen)
            self.accept(part, sol)
            return sol
        return found

    def run(self, sol: Solution) -> Solution:
        run, idx, opts = self.run_, self.run_.idx, self.run_.opts
        pr = idx.problem
        rng = run.rng
        kind_score = self.kind_score
        weekend_days = self.weekend_days
        while not run.should_stop():
            part = self.pick()
            if part is None:
                break
            self.it += 1
            it = self.it
            target = self.target
            comp = part.people
            per_person_day = max(1e-9, part.size / (len(comp) * pr.days))
            width = max(2, min(pr.days, round(target / (per_person_day * len(comp)))))
            n_people = max(2, min(len(comp), round(target / (per_person_day * pr.days))))
            kinds = [k for k in kind_score if k != "weekends" or weekend_days]
            if not part.short_days:
                kinds.remove("short_window")
            if len(comp) <= n_people:
                kinds.remove("people")
                if "short_people" in kinds:
                    kinds.remove("short_people")
            elif (
                not part.short_days or pr.days > opts.lns_short_people_max_days
            ) and "short_people" in kinds:
                kinds.remove("short_people")
            kind = rng.choices(kinds, [kind_score[k] for k in kinds])[0]
            self.drawn[kind] += 1
            days: tuple[int, int] | frozenset[int]
            people: list[int] = comp
            if kind == "weekends" and weekend_days:
                # every weekend at once, for as many of the component's people as the target allows: a
                # weekend limit ties the weekends together, which no window of days can undo
                k = max(2, min(len(comp), round(target / (per_person_day * len(weekend_days)))))
                people = comp if k >= len(comp) else rng.sample(comp, k)
                days = weekend_days
            elif kind in ("window", "short_window"):
                # a window of days for everyone in the component (around a day with a seat short)
                if kind == "short_window":
                    centre = rng.choice(part.short_days)
                    start = min(max(0, centre - width // 2), max(0, pr.days - width))
                else:
                    start = rng.randrange(0, max(1, pr.days - width + 1))
                days = (start, min(pr.days - 1, start + width - 1))
            elif kind == "short_people":
                # people who could take a seat short, over the whole period (and others to trade with)
                have: dict[int, int] = {}
                for q in comp:
                    for s in sol[q]:
                        have[s] = have.get(s, 0) + 1
                short = {s for s in part.shifts if have.get(s, 0) < pr.shifts[s].required}
                cands = [q for q in comp if any(s in short for s in idx.elig[q])]
                people = rng.sample(cands, min(len(cands), max(1, n_people // 2)))
                picked = set(people)
                rest = [q for q in comp if q not in picked]
                people += rng.sample(rest, min(len(rest), n_people - len(people)))
                days = (0, pr.days - 1)
            else:
                # a group of people over the whole period
                people = rng.sample(comp, n_people)
                days = (0, pr.days - 1)
            secs = min(opts.lns_seconds, run.left())
            if secs <= 0.05:
                break
            # (the drawing and the scoring of a round; the model and its solve charge their own)
            run.budget.charge(ROUND_UNITS + ROUND_UNITS_PER_PAIR * part.pairs)
            t_build = time.monotonic()
            sub = SubModel(idx, sol, people, days, hint=True, current_objective=self.cur_obj)
            t_solve = time.monotonic()
            status, solver = sub.solve(secs, workers=opts.workers, seed=opts.seed + it, budget=run.budget)
            self.build_s += t_solve - t_build
            self.solve_s += time.monotonic() - t_solve
            self.n_vars += sub.n_vars
            self.optimal += status == cp_model.OPTIMAL
            improved = False
            if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                obj = round(solver.objective_value)
                if obj <= self.cur_obj:
                    improved = obj < self.cur_obj
                    self.accepted += improved
                    sol = sub.extract(solver)
                    # the roster's exact objective: only this component changed (the solver's value of
                    # a FEASIBLE solution may carry slack in its auxiliary variables)
                    self.accept(part, sol)
                    run.report("lns", self.cur_obj, sol=sol)
                if status == cp_model.OPTIMAL:
                    self.target = min(int(target * 1.15) + 1, 60_000)
                else:
                    self.target = max(100, int(target * 0.85))
            part.luck = 1.0 if improved else max(0.02, part.luck * 0.7)
            # the kinds of neighbourhood that find improvements are chosen more often (never below 0.1)
            kind_score[kind] = max(0.1, 0.9 * kind_score[kind] + 0.1 * (1.0 if improved else 0.0))
        stats = run.stats
        stats["lns_iterations"] = self.it
        stats["lns_improvements"] = self.accepted
        stats["lns_optimal"] = self.optimal
        stats["lns_mean_vars"] = round(self.n_vars / max(1, self.it))
        stats["lns_kind_scores"] = " ".join(f"{k}={v:.2f}" for k, v in self.kind_score.items())
        stats["lns_kinds_drawn"] = " ".join(f"{k}={self.drawn[k]}" for k in self.kind_score)
        stats["lns_build_seconds"] = round(self.build_s, 2)
        stats["lns_solve_seconds"] = round(self.solve_s, 2)
        return sol


def repair(
    problem: Problem,
    previous: list[tuple[str, str]],
    dropped: Iterable[str],
    options: Options | None = None,
) -> Result:
    """Re-roster after people drop out: their shifts are freed, every other assignment is kept unless
    changing it is needed; the solver minimizes the objective and then the number of changes.

    ``previous`` is the published roster; ``dropped`` are the people who left (they get nothing)."""
    t0 = time.monotonic()
    opts = options or Options()
    dropped = set(dropped)
    pids = {p.id for p in problem.people}
    unknown = dropped - pids
    if unknown:
        raise RosterInputError("unknown_reference", f"Unknown people dropped: {sorted(unknown)}.")
    kept = [a for a in previous if a[0] not in dropped]
    # The dropped people become unavailable; everybody else's assignments are the start roster.
    people = []
    for person in problem.people:
        if person.id in dropped:
            person = _replace_person(person, problem.days)
        people.append(person)
    locks = [lock for lock in problem.locks if lock.person not in dropped]
    prob = Problem(
        days=problem.days,
        people=people,
        shifts=problem.shifts,
        forbidden_successions=problem.forbidden_successions,
        preferences=problem.preferences,
        locks=locks,
        tail=problem.tail,
        tail_days=problem.tail_days,
        start_weekday=problem.start_weekday,
        weights=problem.weights,
    )
    idx = build_index(prob, opts.limits)
    run = _Run(idx, opts, _budget(opts, t0))
    run.budget.charge(INDEX_UNITS_PER_PAIR * idx.n_pairs)
    sol: Solution = [set() for _ in people]
    for person_id, shift_id in kept:
        p = idx.pid[person_id]
        s = idx.sid.get(shift_id)
        if s is None:
            raise RosterInputError("unknown_reference", f"Unknown shift in the roster: {shift_id}.")
        sol[p].add(s)
    start = [set(x) for x in sol]
    # Stage 1: the people whose shifts are freed may be replaced by anyone; find the best objective
    # with every kept assignment locked (the fewest changes first).
    freed = {idx.sid[s] for p, s in previous if p in dropped and s in idx.sid}
    candidates = sorted({p for s in freed for p in range(len(people)) if s in idx.elig_set[p]})
    best = sol
    if candidates:
        sub = SubModel(idx, sol, candidates, hint=True)
        # keep the kept assignments: lock them in the sub-model
        for p in candidates:
            for s in start[p]:
                v = sub.x.get((p, s))
                if v is not None:
                    sub.model.add(v == 1)
        status, solver = sub.solve(
            max(0.2, run.left() / 2), workers=opts.workers, seed=opts.seed, budget=run.budget
        )
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            best = sub.extract(solver)
            run.report("repair", round(solver.objective_value), sol=best)
    # Stage 2: if the locked repair leaves rules broken (e.g. someone's minimum hours), let the people
    # concerned change, minimizing the objective and then the number of changes.
    if violations(idx, best):
        best = _min_change(run, best, start, candidates)
    run.stats["changes"] = sum(len(best[p] ^ start[p]) for p in range(len(people)))
    return _result(run, best)


def _min_change(run: _Run, sol: Solution, start: Solution, candidates: list[int]) -> Solution:
    idx = run.idx
    people = sorted(set(candidates) | {p for p in range(len(sol)) if person_violations(idx, p, sol[p])})
    sub = SubModel(idx, sol, people, hint=True)
    status, solver = sub.solve(
        max(0.2, run.left() / 2), workers=run.opts.workers, seed=run.opts.seed, budget=run.budget
    )
    if status == cp_model.INFEASIBLE:
        _raise_infeasible(idx, sol, None, run.budget.deterministic)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return sol
    obj = round(solver.objective_value)
    # fix the objective, then minimize the changes
    m = sub.model
    vars_ = [v for v, _ in sub.objective_terms]
    coeffs = [c for _, c in sub.objective_terms]
    m.add(cp_model.LinearExpr.weighted_sum(vars_, coeffs) + sub.constant <= obj)
    changes = [(v.Not() if s in start[p] else v) for (p, s), v in sub.x.items()]
    m.minimize(sum(changes))
    status2, solver2 = sub.solve(
        max(0.2, run.left()), workers=run.opts.workers, seed=run.opts.seed, budget=run.budget
    )
    if status2 in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return sub.extract(solver2)
    return sub.extract(solver)


def _result(run: _Run, sol: Solution, *, optimal: bool = False) -> Result:
    idx = run.idx
    pr = idx.problem
    obj, parts = score(idx, sol)
    viol = violations(idx, sol)
    if not viol:
        run.report("final", obj, sol=sol)
    return Result(
        status="infeasible_start" if viol else ("optimal" if optimal else "feasible"),
        assignments=sorted((pr.people[p].id, pr.shifts[s].id) for p in range(len(pr.people)) for s in sol[p]),
        objective=obj,
        breakdown=parts,
        uncovered=explain(idx, sol),
        bound=run.bound,
        time_to_first_feasible=run.first_feasible,
        elapsed=run.elapsed(),
        history=run.history,
        stats={**run.stats, "violations": len(viol)},
    )


def _replace_person(person: Person, days: int) -> Person:
    return dataclasses.replace(person, sites=frozenset(), min_minutes_period=0)


def lock_all(result: Result) -> list[Lock]:
    return [Lock(p, s) for p, s in result.assignments]


__all__ = ["Options", "RuleRef", "lock_all", "repair", "solve"]
