"""The CP-SAT model of a roster, over all decisions or a neighbourhood of them.

A :class:`SubModel` frees the (person, shift) decisions of ``free_people`` on the days ``free_days``;
every other decision keeps its value in ``current`` and enters as a constant. Only the rules of the
free people (and of the shifts they can take) are posted — the others cannot change. The objective
includes the constant terms, so the model's objective value IS the roster's full objective
(:func:`muster.roster.engine.evaluate.score`).

With ``diagnose=True`` every hard rule gets an enforcement literal and the model has no objective; an
infeasible solve then names a small set of clashing rules.

A solve given a :class:`.budget.Budget` is limited and charged by it: on a deterministic budget with
``max_deterministic_time`` on one thread (CP-SAT's own LNS interleaves its neighbourhoods on it), the
model's build charged on its first solve; without one, by ``max_time_in_seconds``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from ortools.sat.python import cp_model

from .budget import MODEL_UNITS, MODEL_UNITS_PER_VAR, Budget
from .evaluate import Solution, score, shift_counts
from .index import Index
from .model import RuleRef

Val = cp_model.IntVar | int


class SubModel:
    def __init__(
        self,
        idx: Index,
        current: Solution | None,
        free_people: Iterable[int] | None = None,
        free_days: tuple[int, int] | frozenset[int] | None = None,
        *,
        diagnose: bool = False,
        hint: bool = True,
        current_objective: int | None = None,
    ) -> None:
        self.idx = idx
        pr = idx.problem
        self.model = cp_model.CpModel()
        self.diagnose = diagnose
        self.rule_lits: dict[tuple[str, str], cp_model.IntVar] = {}
        self.current: Solution = current if current is not None else [set() for _ in pr.people]
        self.use_hint = hint and current is not None
        people = list(range(len(pr.people))) if free_people is None else sorted(set(free_people))
        self.free_people = people
        # free days: all, a window (first, last) or any set of days (e.g. the weekends); the rules are
        # posted over the span from the first to the last free day (outside the free days their
        # terms are constants)
        if free_days is None:
            self.days = list(range(pr.days))
        elif isinstance(free_days, tuple):
            self.days = list(range(free_days[0], free_days[1] + 1))
        else:
            self.days = sorted(d for d in free_days if 0 <= d < pr.days)
        lo, hi = (self.days[0], self.days[-1]) if self.days else (0, -1)
        self.lo, self.hi = lo, hi
        self.x: dict[tuple[int, int], cp_model.IntVar] = {}
        self._aux: dict[int, int] = {}
        m = self.model
        for p in people:
            locked = idx.locked[p]
            by_day = idx.elig_by_day[p]
            for d in self.days:
                for s in by_day.get(d, ()):
                    if s in locked and not diagnose:
                        continue
                    v = m.new_bool_var("")
                    self.x[(p, s)] = v
                    if self.use_hint:
                        m.add_hint(v, s in self.current[p])
        self.n_vars = len(self.x)
        self._build_charged = False
        self._work: dict[tuple[int, int], Val | None] = {}
        self._we: dict[tuple[int, int], Val] = {}
        self.objective_terms: list[tuple[Val, int]] = []
        self.constant = 0
        # The objective's terms are posted only for the shifts, preferences and fairness groups the
        # free decisions touch; everything else keeps its current penalty, which enters as one
        # constant: the current objective less the current penalties of the posted items. (A
        # neighbourhood of 1,000 decisions in a 2,000-person roster is then built in tens of
        # milliseconds; only the head-counts are taken from the whole roster.)
        self._posted_now = 0  # current penalties of the posted items
        for p in people:
            self._person(p)
        self._shifts_and_cover()
        self._preferences()
        self._fairness()
        if not diagnose:
            if current_objective is None:
                current_objective = score(idx, self.current)[0]
            self.constant += current_objective - self._posted_now
            vars_ = [v for v, _ in self.objective_terms]
            coeffs = [c for _, c in self.objective_terms]
            m.minimize(cp_model.LinearExpr.weighted_sum(vars_, coeffs) + self.constant)

    # ------------------------------------------------------------------ helpers
    def val(self, p: int, s: int) -> Val:
        v = self.x.get((p, s))
        if v is not None:
            return v
        return 1 if s in self.current[p] else 0

    def _hint(self, var: cp_model.IntVar, value: int) -> None:
        self._aux[var.index] = int(value)
        if self.use_hint:
            self.model.add_hint(var, value)

    def _enforce(self, ct: cp_model.Constraint, rule: str, subject: str) -> None:
        if self.diagnose:
            key = (rule, subject)
            lit = self.rule_lits.get(key)
            if lit is None:
                lit = self.model.new_bool_var(f"{rule}|{subject}")
                self.rule_lits[key] = lit
            ct.only_enforce_if(lit)

    def work(self, p: int, d: int) -> Val | None:
        """1/0 or a literal for "p works on day d"; None when unknown (before the known tail)."""
        key = (p, d)
        if key in self._work:
            return self._work[key]
        pr = self.idx.problem
        if d < 0:
            w: Val | None = None if d < -pr.tail_days else int(d in self.idx.tail_days_worked[p])
        elif d >= pr.days:
            w = None
        else:
            shifts = self.idx.elig_by_day[p].get(d, [])
            vals = [self.val(p, s) for s in shifts]
            vars_ = [v for v in vals if not isinstance(v, int)]
            const = sum(v for v in vals if isinstance(v, int))
            one_a_day = pr.people[p].max_shifts_per_day <= 1
            if not vars_:
                w = int(const > 0)
            elif const:
                w = 1
                if one_a_day:
                    self._enforce(self.model.add(sum(vars_) == 0), "one_shift_per_day", pr.people[p].id)
            elif len(vars_) == 1:
                w = vars_[0]
            else:
                w = self.model.new_bool_var("")
                if one_a_day:
                    ct = self.model.add(w == sum(vars_))
                    self._enforce(ct, "one_shift_per_day", pr.people[p].id)
                else:
                    self.model.add_max_equality(w, vars_)
                self._hint(w, int(any(s in self.current[p] for s in shifts)))
        self._work[key] = w
        return w

    def weekend(self, p: int, wk: int) -> Val:
        key = (p, wk)
        if key in self._we:
            return self._we[key]
        idx = self.idx
        days = [d for d in range(idx.problem.days) if idx.weekend_of_day[d] == wk]
        vals = [self.work(p, d) for d in days]
        lits = [v for v in vals if v is not None and not isinstance(v, int)]
        if any(isinstance(v, int) and v for v in vals):
            w: Val = 1
        elif not lits:
            w = 0
        elif len(lits) == 1:
            w = lits[0]
        else:
            w = self.model.new_bool_var("")
            self.model.add_max_equality(w, lits)
            self._hint(
                w, int(any(idx.weekend_of_day[idx.problem.shifts[s].day] == wk for s in self.current[p]))
            )
        self._we[key] = w
        return w

    def _clause(self, lits: list[Val | None], negate: list[bool], rule: str, subject: str) -> None:
        """Post OR(lit or NOT lit); constants simplify; a None (unknown) literal drops the clause."""
        out = []
        for v, neg in zip(lits, negate, strict=True):
            if v is None:
                return
            if isinstance(v, int):
                if bool(v) != neg:
                    return  # satisfied
                continue
            out.append(v.Not() if neg else v)
        if not out:
            if self.diagnose:
                out = []
            else:
                raise AssertionError(f"constant clause violated: {rule} {subject}")
        ct = self.model.add_bool_or(out)
        self._enforce(ct, rule, subject)

    # ------------------------------------------------------------------ person rules
    def _person(self, p: int) -> None:
        idx = self.idx
        pr = idx.problem
        person = pr.people[p]
        pid = person.id
        m = self.model
        sh = pr.shifts
        H = pr.days
        T = pr.tail_days
        by_day = idx.elig_by_day[p]
        if self.diagnose:
            for s in idx.locked[p]:
                self._enforce(m.add(self.x[(p, s)] == 1), "lock", f"{pid}:{sh[s].id}")
        # p's free decisions, and p's current shifts that stay as they are (constants of the totals:
        # a neighbourhood of a few days in a long period posts its totals over its own variables)
        live_vals = [
            (s, v) for d in self.days for s in by_day.get(d, ()) if (v := self.x.get((p, s))) is not None
        ]
        elig = idx.elig_set[p]
        fixed = [s for s in self.current[p] if s in elig and (p, s) not in self.x]
        # same-day count when more than one shift a day is allowed
        if person.max_shifts_per_day > 1:
            for d in self.days:
                vals = [self.val(p, s) for s in by_day.get(d, ())]
                if (
                    sum(1 for v in vals if not isinstance(v, int))
                    + sum(v for v in vals if isinstance(v, int))
                    > person.max_shifts_per_day
                ):
                    self._enforce(m.add(sum(vals) <= person.max_shifts_per_day), "max_shifts_per_day", pid)
        else:
            for d in self.days:
                self.work(p, d)
        # clashes: overlap, rest, forbidden successions (a free shift with a later one)
        rest = person.min_rest_minutes
        look = idx.look_ahead.get(p)
        if look is None:
            max_reach = max((sh[s].end - sh[s].day * 1440 for s in idx.elig[p]), default=0) + rest
            look = idx.look_ahead[p] = max(1, math.ceil(max_reach / 1440))
        fb = idx.forbidden_next
        one_a_day = person.max_shifts_per_day <= 1
        for d in self._near(look, 0, 0, H - 1):
            for s in by_day.get(d, ()):
                a = sh[s]
                va = self.val(p, s)
                end_rest = a.end + rest
                nxt = fb.get(a.kind, frozenset())
                for d2 in range(d + 1 if one_a_day else d, min(H - 1, d + look) + 1):
                    group = []
                    for s2 in by_day.get(d2, ()):
                        if s2 == s:
                            continue
                        b = sh[s2]
                        if b.start < a.start or (b.start == a.start and s2 < s):
                            continue
                        if b.start < end_rest or (d2 == d + 1 and b.kind in nxt):
                            group.append(self.val(p, s2))
                    if not group:
                        continue
                    if one_a_day:
                        self._at_most_one([va, *group], "rest_or_succession", pid)
                    else:
                        for g in group:
                            self._at_most_one([va, g], "rest_or_succession", pid)
        if not live_vals:
            return
        # per shift type
        if person.max_shifts_per_kind:
            by_kind: dict[str, list[cp_model.IntVar]] = {}
            for s, v in live_vals:
                by_kind.setdefault(sh[s].kind, []).append(v)
            fixed_kinds = Counter(sh[s].kind for s in fixed)
            for kind, kvals in by_kind.items():
                limit = person.max_shifts_per_kind.get(kind)
                const = fixed_kinds.get(kind, 0)
                if limit is not None and len(kvals) + const > limit:
                    self._enforce(m.add(sum(kvals) <= limit - const), "max_shifts_per_kind", f"{pid}:{kind}")
        # minutes in the period
        fixed_minutes = sum(sh[s].minutes for s in fixed)
        total_max = fixed_minutes + sum(sh[s].minutes for s, _ in live_vals)
        if (person.max_minutes_period is not None and total_max > person.max_minutes_period) or (
            person.min_minutes_period > 0
        ):
            expr = cp_model.LinearExpr.weighted_sum(
                [v for _, v in live_vals], [sh[s].minutes for s, _ in live_vals]
            )
            if person.max_minutes_period is not None and total_max > person.max_minutes_period:
                self._enforce(
                    m.add(expr <= person.max_minutes_period - fixed_minutes), "max_minutes_period", pid
                )
            if person.min_minutes_period > 0:
                self._enforce(
                    m.add(expr >= person.min_minutes_period - fixed_minutes), "min_minutes_period", pid
                )
        if person.max_minutes_week is not None:
            weeks: dict[int, list[tuple[int, cp_model.IntVar]]] = {}
            for s, v in live_vals:
                weeks.setdefault(idx.week_of_day[sh[s].day], []).append((sh[s].minutes, v))
            fixed_weeks = Counter[int]()
            for s in fixed:
                fixed_weeks[idx.week_of_day[sh[s].day]] += sh[s].minutes
            for w, items in weeks.items():
                const = fixed_weeks.get(w, 0)
                if const + sum(mn for mn, _ in items) > person.max_minutes_week:
                    expr = cp_model.LinearExpr.weighted_sum([v for _, v in items], [mn for mn, _ in items])
                    self._enforce(m.add(expr <= person.max_minutes_week - const), "max_minutes_week", pid)
        if person.max_minutes_day is not None:
            for d in self.days:
                items2 = [(sh[s].minutes, self.val(p, s)) for s in by_day.get(d, ())]
                if sum(mn for mn, _ in items2) > person.max_minutes_day:
                    expr = cp_model.LinearExpr.weighted_sum([v for _, v in items2], [mn for mn, _ in items2])
                    self._enforce(m.add(expr <= person.max_minutes_day), "max_minutes_day", pid)
        # consecutive days worked
        k = person.max_consecutive_days
        if k is not None and k < H + T:
            for first in self._near(k, 0, -T, H - 1 - k):
                vals2 = [self.work(p, d) for d in range(first, first + k + 1)]
                if any(v is None for v in vals2):
                    continue
                live = [v for v in vals2 if isinstance(v, cp_model.IntVar)]
                if not live:
                    continue
                const = sum(v for v in vals2 if isinstance(v, int))
                if const + len(live) > k:
                    self._enforce(m.add(sum(live) <= k - const), "max_consecutive_days", pid)
        self._min_runs(p, person.min_consecutive_days, True, "min_consecutive_days")
        self._min_runs(p, person.min_consecutive_days_off, False, "min_consecutive_days_off")
        if person.max_weekends is not None and person.max_weekends < idx.n_weekends:
            free_weekends = self._free_weekends()
            fixed_weekends = {idx.weekend_of_day[sh[s].day] for s in fixed} - {-1} - free_weekends
            we = [self.weekend(p, w) for w in sorted(free_weekends)]
            live = [v for v in we if isinstance(v, cp_model.IntVar)]
            const = sum(v for v in we if isinstance(v, int)) + len(fixed_weekends)
            if live and const + len(live) > person.max_weekends:
                self._enforce(m.add(sum(live) <= person.max_weekends - const), "max_weekends", pid)

    def _near(self, before: int, after: int, first: int, last: int) -> list[int]:
        """The days from ``before`` days before to ``after`` days after any free day, within
        [first, last] (the rules that can involve a free decision start there)."""
        if not self.days:
            return []
        if self.days[-1] - self.days[0] + 1 == len(self.days):
            return list(range(max(first, self.days[0] - before), min(last, self.days[-1] + after) + 1))
        out: set[int] = set()
        for d in self.days:
            out.update(range(max(first, d - before), min(last, d + after) + 1))
        return sorted(out)

    def _free_weekends(self) -> set[int]:
        cached = getattr(self, "_free_weekends_cache", None)
        if cached is None:
            cached = {self.idx.weekend_of_day[d] for d in self.days} - {-1}
            self._free_weekends_cache = cached
        return cached

    def _at_most_one(self, vals: list[Val], rule: str, subject: str) -> None:
        live = [v for v in vals if not isinstance(v, int)]
        const = sum(v for v in vals if isinstance(v, int))
        if not live:
            return
        if const >= 1:
            ct = self.model.add(sum(live) <= 1 - const)
        elif len(live) == 2:
            ct = self.model.add_bool_or([live[0].Not(), live[1].Not()])
        else:
            ct = self.model.add_at_most_one(live)
        self._enforce(ct, rule, subject)

    def _min_runs(self, p: int, minimum: int, worked: bool, rule: str) -> None:
        """Forbid runs (of days worked if ``worked`` else days off) shorter than ``minimum`` that do not
        touch either end of the known days (the published boundary rule)."""
        if minimum <= 1:
            return
        pr = self.idx.problem
        pid = pr.people[p].id
        H, T = pr.days, pr.tail_days
        for length in range(1, minimum):
            # run on days d .. d+length-1, bounded by d-1 and d+length (the runs next to a free day)
            for d in self._near(length, 1, -T + 1, H - 1 - length):
                if d + length - 1 < 0:
                    continue
                days = [d - 1, *range(d, d + length), d + length]
                lits = [self.work(p, x) for x in days]
                # forbidden: off, on.., off  (worked) / on, off.., on (days off)
                negate = [not worked] + [worked] * length + [not worked]
                self._clause(lits, negate, rule, pid)

    # ------------------------------------------------------------------ shifts and objective
    def _shifts_and_cover(self) -> None:
        idx = self.idx
        pr = idx.problem
        m = self.model
        counts = shift_counts(idx, self.current)
        free_by_shift: dict[int, list[cp_model.IntVar]] = {}
        free_now: dict[int, int] = {}  # free decisions that are 1 in the current roster
        for (p, s), v in self.x.items():
            free_by_shift.setdefault(s, []).append(v)
            if s in self.current[p]:
                free_now[s] = free_now.get(s, 0) + 1
        for s, vars_ in free_by_shift.items():
            shift = pr.shifts[s]
            now = counts[s]
            base = now - free_now.get(s, 0)
            req = shift.required
            uw, ow = idx.under_w[s], idx.over_w[s]
            self._posted_now += max(0, req - now) * uw + max(0, now - req) * ow
            y = sum(vars_) + base
            if shift.min_count > 0 and base < shift.min_count:
                self._enforce(m.add(y >= shift.min_count), "min_count", shift.id)
            if shift.max_count is not None and base + len(vars_) > shift.max_count:
                self._enforce(m.add(y <= shift.max_count), "max_count", shift.id)
            if self.diagnose:
                continue
            if uw and req - base > 0:
                under = m.new_int_var(0, req - base, "")
                m.add(under >= req - y)
                self._hint(under, max(0, req - now))
                self.objective_terms.append((under, uw))
            if ow and base + len(vars_) > req:
                if base >= req:
                    # every extra free person is over-cover
                    for v in vars_:
                        self.objective_terms.append((v, ow))
                    self.constant += (base - req) * ow
                else:
                    over = m.new_int_var(0, base + len(vars_) - req, "")
                    m.add(over >= y - req)
                    self._hint(over, max(0, now - req))
                    self.objective_terms.append((over, ow))

    def _preferences(self) -> None:
        if self.diagnose:
            return
        idx = self.idx
        cur = self.current
        for p in self.free_people:
            for s, w in idx.pref_wanted_of.get(p, ()):
                v = self.x.get((p, s))
                if v is not None:
                    self._posted_now += 0 if s in cur[p] else w
                    self.constant += w
                    self.objective_terms.append((v, -w))
            for s, w in idx.pref_unwanted_of.get(p, ()):
                v = self.x.get((p, s))
                if v is not None:
                    self._posted_now += w if s in cur[p] else 0
                    self.objective_terms.append((v, w))

    def _fairness(self) -> None:
        if self.diagnose:
            return
        idx = self.idx
        pr = idx.problem
        wts = pr.weights
        if not (wts.spread_hours or wts.spread_nights or wts.spread_weekends):
            return
        free = set(self.free_people)
        m = self.model
        for group in idx.fair_groups:
            measures: list[tuple[int, Callable[[int], tuple[list[Val], list[int]]]]] = []
            if wts.spread_hours:
                measures.append(
                    (
                        wts.spread_hours,
                        lambda p: (
                            [self.val(p, s) for s in idx.elig[p]],
                            [idx.hours[s] for s in idx.elig[p]],
                        ),
                    )
                )
            if wts.spread_nights:
                measures.append(
                    (
                        wts.spread_nights,
                        lambda p: (
                            [self.val(p, s) for s in idx.elig[p] if pr.shifts[s].night],
                            [1 for s in idx.elig[p] if pr.shifts[s].night],
                        ),
                    )
                )
            if wts.spread_weekends:
                measures.append(
                    (
                        wts.spread_weekends,
                        lambda p: (
                            [self.weekend(p, w) for w in range(idx.n_weekends)],
                            [1] * idx.n_weekends,
                        ),
                    )
                )
            if not any(p in free for p in group):
                continue  # its penalty stays as it is (in the constant)
            for weight, fn in measures:
                exprs = []
                ub = 0
                hint_vals = []
                for p in group:
                    vs, cs = fn(p)
                    ub = max(ub, sum(cs))
                    exprs.append(cp_model.LinearExpr.weighted_sum(vs, cs))
                    hint_vals.append(self._hint_value(vs, cs))
                top = m.new_int_var(0, ub, "")
                bottom = m.new_int_var(0, ub, "")
                for e in exprs:
                    m.add(top >= e)
                    m.add(bottom <= e)
                self._hint(top, max(hint_vals))
                self._hint(bottom, min(hint_vals))
                self._posted_now += weight * (max(hint_vals) - min(hint_vals))
                self.objective_terms.append((top, weight))
                self.objective_terms.append((bottom, -weight))

    def _hint_value(self, vs: list[Val], cs: list[int]) -> int:
        """Value of a weighted sum in the current roster (for hints)."""
        total = 0
        inv = getattr(self, "_inv", None)
        if inv is None:
            inv = {}
            for (p, s), var in self.x.items():
                inv[var.index] = s in self.current[p]
            self._inv = inv
        for item, c in zip(vs, cs, strict=True):
            if isinstance(item, int):
                total += item * c
                continue
            val = inv.get(item.index)
            if val is None:
                val = self._aux.get(item.index, 0)
            total += int(val) * c
        return total

    # ------------------------------------------------------------------ solving
    def solve(
        self,
        seconds: float,
        *,
        workers: int = 2,
        seed: int = 0,
        on_solution: Callable[[int, float], None] | None = None,
        stop: Callable[[], bool] | None = None,
        log: bool = False,
        linearization: int | None = None,
        lns_only: bool = False,
        budget: Budget | None = None,
    ) -> tuple[Any, cp_model.CpSolver]:
        """Solve for at most ``seconds`` (units of ``budget``: deterministic seconds on a deterministic
        one, which also makes it one thread whatever ``workers`` says)."""
        solver = cp_model.CpSolver()
        prm = solver.parameters
        prm.num_workers = workers
        if budget is None:
            prm.max_time_in_seconds = max(0.05, seconds)
        else:
            self._charge_build(budget)
            budget.limit(prm, max(0.05, seconds))
        prm.random_seed = seed
        prm.log_search_progress = log
        # every worker improves the hinted roster by CP-SAT's own large-neighbourhood search
        prm.use_lns_only = lns_only
        if lns_only and budget is not None and budget.deterministic:
            # its neighbourhood workers take turns on the one thread, reproducibly
            prm.interleave_search = True
        if linearization is not None:
            prm.linearization_level = linearization
        if self.diagnose:
            prm.num_workers = 1
        callback = _Callback(on_solution, stop, budget) if (on_solution or stop) else None
        status = solver.solve(self.model, callback) if callback else solver.solve(self.model)
        if budget is not None:
            budget.charge_solve(solver)
        return status, solver

    def _charge_build(self, budget: Budget) -> None:
        if not self._build_charged:
            self._build_charged = True
            budget.charge(MODEL_UNITS + MODEL_UNITS_PER_VAR * self.n_vars)

    def dive(
        self, seconds: float, *, seed: int = 0, backward: bool = False, budget: Budget | None = None
    ) -> tuple[Any, cp_model.CpSolver]:
        """Look for ANY valid assignment fast (the objective is dropped): a depth-first dive over the
        decisions in time order, taking a shift whenever the rules allow it, with propagation and
        backtracking, no presolve and no LP. Finds a roster for a person with a tight minimum of hours
        in a fraction of a second where the default search takes seconds. ``backward`` dives from the
        last day to the first (it succeeds where the forward dive gets lost, and vice versa)."""
        m = self.model.clone()  # the model itself keeps its objective (and no search strategy)
        m.clear_objective()
        sh = self.idx.problem.shifts
        sign = -1 if backward else 1
        keys = sorted(self.x, key=lambda ps: (sign * sh[ps[1]].day, sh[ps[1]].start, ps[1], ps[0]))
        m.add_decision_strategy(
            [m.get_bool_var_from_proto_index(self.x[k].index) for k in keys],
            cp_model.CHOOSE_FIRST,
            cp_model.SELECT_MAX_VALUE,
        )
        solver = cp_model.CpSolver()
        prm = solver.parameters
        # a dive that gets lost does not recover: give up early
        if budget is not None and budget.deterministic:
            self._charge_build(budget)
            prm.max_deterministic_time = min(DIVE_WORK, max(0.05, seconds))
        else:
            prm.max_time_in_seconds = max(0.05, seconds)
            prm.max_deterministic_time = DIVE_WORK
        prm.num_workers = 1
        prm.random_seed = seed
        prm.search_branching = cp_model.FIXED_SEARCH
        prm.cp_model_presolve = False
        prm.linearization_level = 0
        status = solver.solve(m)
        if budget is not None:
            budget.charge_solve(solver)
        return status, solver

    def hint_from(self, solver: cp_model.CpSolver) -> None:
        """Hint the decisions with their values in ``solver``'s solution (e.g. that of :meth:`dive`)."""
        self.model.clear_hints()
        for v in self.x.values():
            self.model.add_hint(v, solver.boolean_value(v))

    def extract(self, solver: cp_model.CpSolver) -> Solution:
        sol = [set(s) for s in self.current]
        for (p, s), v in self.x.items():
            if solver.boolean_value(v):
                sol[p].add(s)
            else:
                sol[p].discard(s)
        for p in self.free_people:
            sol[p] |= self.idx.locked[p]
        return sol

    def diagnose_core(self, deterministic: bool = False) -> list[RuleRef]:
        """Solve with every rule as an assumption and name a clashing subset (diagnose models only;
        ``deterministic``: limited by deterministic time, not the wall clock)."""
        lits = list(self.rule_lits.values())
        self.model.add_assumptions(lits)
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        if deterministic:
            solver.parameters.max_deterministic_time = DIAGNOSE_SECONDS
        else:
            solver.parameters.max_time_in_seconds = DIAGNOSE_SECONDS
        status = solver.solve(self.model)
        if status != cp_model.INFEASIBLE:
            return []
        core = set(solver.sufficient_assumptions_for_infeasibility())
        out = []
        for (rule, subject), lit in self.rule_lits.items():
            if lit.index in core:
                person, _, detail = subject.partition(":")
                out.append(RuleRef(rule, person, detail))
        return out


DIVE_WORK = 0.15  # deterministic seconds of a dive at most
DIAGNOSE_SECONDS = 30.0  # the search for a set of clashing rules, at most


class _Callback(cp_model.CpSolverSolutionCallback):
    def __init__(
        self,
        on_solution: Callable[[int, float], None] | None,
        stop: Callable[[], bool] | None,
        budget: Budget | None = None,
    ) -> None:
        super().__init__()
        self._on = on_solution
        self._stop = stop
        self._budget = budget if budget is not None and budget.deterministic else None

    def on_solution_callback(self) -> None:
        if self._budget is not None:
            self._budget.solving(self.deterministic_time)
        if self._on:
            self._on(round(self.objective_value), self.best_objective_bound)
        if self._stop and self._stop():
            self.stop_search()
