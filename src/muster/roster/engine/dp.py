"""One person's best roster with everybody else fixed, by dynamic programming over the days.

The one-person CP-SAT model of the repair costs a quarter of a second to build on a year-long period
(instance 24 of the public benchmark: 364 days, 32 shift types) and often finds nothing in its time;
the sequence rules of one person are a path through the days, which a dynamic programme walks
exactly and fast:

- the state after a day is the shift taken (or a day off), the length of the current run of days
  worked or off, and whether that run touches the start of the period (such a run is not held to the
  minimum length, as in :func:`.evaluate.person_violations`; neither is a run touching the last day);
- forbidden successions, rest and overlap between the shifts of two consecutive days come from
  :meth:`.index.Index.clash`; maximum and minimum consecutive days worked and minimum consecutive days
  off are state transitions; locked shifts are the only choice of their day;
- the period totals (minimum and maximum minutes, maximum weekends, maximum shifts per type) are
  priced (Lagrangian relaxation): a price per minute searched until the total lands in the window
  (many prices are solved at once: numpy carries them as one more dimension), prices per weekend and
  per type raised while the limit is exceeded; a few shift swaps on worked days close a small gap in
  the minutes.

The result is checked with :func:`.evaluate.person_violations` by the caller; ``None`` means the
programme found no valid roster (the caller falls back to the one-person CP-SAT model). Only people
with at most one shift a day are handled. Pure Python + numpy, no Django.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from .evaluate import Solution, person_violations, shift_counts
from .index import Index

INF = 1e18
_EPS = 1e-6  # the price step whose value difference gives the minutes of the best path
# The work of a programme, counted in cells (:attr:`PersonDP.cells`, for a deterministic budget): a
# value of a state at one price is one cell; a day's step of Python is worth this many
STEP_CELLS = 2_000


def _sig(idx: Index, s: int) -> tuple[str, int, int]:
    sh = idx.problem.shifts[s]
    base = sh.day * 1440
    return sh.kind, sh.start - base, sh.end - base


class DPContext:
    """What the programmes of all people of one problem share: the compatibility of the shift sets of
    two consecutive days, cached by the shifts' types and times of day."""

    def __init__(self, idx: Index, noise: float = 0.3) -> None:
        self.idx = idx
        self.counts = [0] * len(idx.problem.shifts)
        self.cache: dict[tuple[object, ...], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        sigs: dict[tuple[str, int, int], int] = {}
        self.sig = [sigs.setdefault(_sig(idx, s), len(sigs)) for s in range(len(idx.problem.shifts))]
        self.lam_hint: dict[tuple[int, int | None], tuple[float, float]] = {}
        rng = np.random.default_rng(0)
        # a tie-break below any weight: among equally good shifts the price search then moves one at a
        # time instead of all at once (the period minutes would jump over the window). Measured on
        # instance 24 (greedy, then all 128 people repaired): up to 0.3 a shift, 251,209; up to
        # 1/(2 x days), which keeps the cheapest path the cheapest in whole weights, 319,696.
        self.noise = rng.random(len(idx.problem.shifts)) * noise

    def refresh(self, sol: Solution) -> None:
        self.counts = shift_counts(self.idx, sol)

    def move(self, old: set[int], new: set[int]) -> None:
        for s in old - new:
            self.counts[s] -= 1
        for s in new - old:
            self.counts[s] += 1

    def compat(self, p: int, prev: list[int], cur: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Group the previous day's choices by which of today's they allow: (order of the previous
        choices by group, start of each group in that order, additive mask groups × today's choices)."""
        idx = self.idx
        person = idx.problem.people[p]
        sig = self.sig
        key = (person.min_rest_minutes, tuple(sig[s] for s in prev), tuple(sig[s] for s in cur))
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        allowed = np.array([[not idx.clash(p, a, b) for b in cur] for a in prev], dtype=bool)
        rows, inv = np.unique(allowed, axis=0, return_inverse=True)
        inv = np.asarray(inv).reshape(-1)
        order = np.argsort(inv, kind="stable")
        starts = np.searchsorted(inv[order], np.arange(len(rows)))
        mask = np.where(rows, 0.0, INF)
        out = (order, starts, mask)
        self.cache[key] = out
        return out


class PersonDP:
    """The day-by-day programme of one person (see the module docstring)."""

    def __init__(self, ctx: DPContext, p: int) -> None:
        idx = ctx.idx
        pr = idx.problem
        person = pr.people[p]
        self.ctx, self.idx, self.p = ctx, idx, p
        # not handled (the caller's one-person CP-SAT model is): several shifts a day, weekly minute
        # limits, rest or overlap reaching past the next day, no day worked at all allowed
        sh0 = pr.shifts
        reach = max((sh0[s].end - sh0[s].day * 1440 for s in idx.elig[p]), default=0)
        self.applicable = (
            person.max_shifts_per_day == 1
            and person.max_minutes_week is None
            and reach + person.min_rest_minutes <= 2 * 1440
            and (person.max_consecutive_days is None or person.max_consecutive_days >= 1)
        )
        days = pr.days
        self.days = days
        self.minc = max(1, person.min_consecutive_days)
        self.maxc = person.max_consecutive_days
        self.R = self.maxc if self.maxc is not None else self.minc
        if self.maxc is not None and self.maxc < 1:
            self.R = 1
        self.minoff = max(1, person.min_consecutive_days_off)
        self.NO = self.minoff
        sh = pr.shifts
        locked_by_day: dict[int, list[int]] = {}
        for s in idx.locked[p]:
            locked_by_day.setdefault(sh[s].day, []).append(s)
        self.choices: list[list[int]] = []
        self.off_ok: list[bool] = []
        for d in range(days):
            lk = locked_by_day.get(d)
            if lk:
                if len(lk) > 1:
                    self.applicable = False
                self.choices.append(sorted(lk))
                self.off_ok.append(False)
            else:
                self.choices.append(list(idx.elig_by_day[p].get(d, ())))
                self.off_ok.append(True)
        self.minutes = [np.array([sh[s].minutes for s in c], dtype=float) for c in self.choices]
        kinds = sorted({sh[s].kind for s in idx.elig[p]} | {sh[s].kind for s in idx.locked[p]})
        self.kind_ix = {k: i for i, k in enumerate(kinds)}
        self.kinds = kinds
        self.kind_of = [np.array([self.kind_ix[sh[s].kind] for s in c], dtype=int) for c in self.choices]
        self.links = [
            ctx.compat(p, self.choices[d - 1], self.choices[d])
            if d and self.choices[d - 1] and self.choices[d]
            else None
            for d in range(days)
        ]
        wod = idx.weekend_of_day
        self.weekend = [wod[d] >= 0 for d in range(days)]
        self.first_weekend_day = [wod[d] >= 0 and (d == 0 or wod[d - 1] != wod[d]) for d in range(days)]
        # the state before day 0: from the previous period's tail (or an open start)
        t = pr.tail_days
        self.open_start = t == 0
        worked = idx.tail_days_worked[p]
        run = 0
        x = -1
        last_worked = -1 in worked
        while x >= -t and ((x in worked) == last_worked):
            run += 1
            x -= 1
        self.tail_run = run
        self.tail_worked = last_worked and t > 0
        self.tail_touches = x < -t
        # the work done so far (see STEP_CELLS): a forward pass costs one cell per state and price
        self.cells = 0
        self._pass_cells = sum(len(c) for c in self.choices) * self.R * 2 + days * self.NO * 2

    # -- the programme -------------------------------------------------------------------------
    def _start(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Work states (K, 1, R, 2) and off states (K, NO, 2) before day 0 (one virtual choice)."""
        w = np.full((k, 1, self.R, 2), INF)
        o = np.full((k, self.NO, 2), INF)
        if self.open_start:
            return w, o  # day 0 is special-cased in _forward
        f = 1 if self.tail_touches else 0
        if self.tail_worked:
            w[:, 0, min(self.tail_run, self.R) - 1, f] = 0.0
        else:
            o[:, min(max(1, self.tail_run), self.NO) - 1, f] = 0.0
        return w, o

    def _costs(self, d: int, base: list[np.ndarray], lam: np.ndarray, nu: np.ndarray) -> np.ndarray:
        return base[d][None, :] + lam[:, None] * self.minutes[d][None, :] + nu[self.kind_of[d]][None, :]

    def _forward(
        self, base: list[np.ndarray], lam: np.ndarray, mu: float, nu: np.ndarray
    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        k = len(lam)
        self.cells += k * self._pass_cells + STEP_CELLS * self.days
        R, NO, minc, minoff = self.R, self.NO, self.minc, self.minoff
        wp, op = self._start(k)
        ws: list[np.ndarray] = []
        os_: list[np.ndarray] = []
        prev: list[int] = []
        for d in range(self.days):
            cur = self.choices[d]
            j = len(cur)
            cost = self._costs(d, base, lam, nu)
            w = np.full((k, j, R, 2), INF)
            if d == 0 and self.open_start:
                if j:
                    w[:, :, 0, 1] = cost + (mu if self.weekend[d] else 0.0)
                o = np.full((k, NO, 2), INF)
                if self.off_ok[d]:
                    o[:, 0, 1] = 0.0
                ws.append(w)
                os_.append(o)
                wp, op, prev = w, o, cur
                continue
            if j:
                if not prev:
                    # day 0 after the tail (one virtual choice, the tail's clashes are out of the
                    # candidates already) or a day after one with nothing to take
                    best = np.broadcast_to(wp.min(axis=1, keepdims=True, initial=INF), (k, j, R, 2))
                else:
                    link = self.links[d]
                    assert link is not None
                    order, starts, mask = link
                    wg = np.minimum.reduceat(wp[:, order], starts, axis=1)
                    best = (wg[:, :, None] + mask[None, :, :, None, None]).min(axis=1)
                cont = mu if self.first_weekend_day[d] else 0.0
                if R > 1:
                    w[:, :, 1:, :] = best[:, :, :-1, :] + cont
                if self.maxc is None:
                    w[:, :, R - 1, :] = np.minimum(w[:, :, R - 1, :], best[:, :, R - 1, :] + cont)
                # a new run after enough days off (or after an off run touching the start)
                if d == 0:
                    # the tail's last run ends before day 0: it lies in the previous period, whose runs
                    # are not held to the minimum (as in person_violations and the CP-SAT model)
                    ob = op.reshape(k, -1).min(axis=1)
                else:
                    ob = np.minimum(
                        op[:, minoff - 1 :, :].reshape(k, -1).min(axis=1), op[:, :, 1].min(axis=1)
                    )
                new = ob + (mu if self.weekend[d] else 0.0)
                w[:, :, 0, 0] = np.minimum(w[:, :, 0, 0], new[:, None])
                w += cost[:, :, None, None]
            o = np.full((k, NO, 2), INF)
            if self.off_ok[d]:
                ends = np.full(k, INF)
                if wp.shape[1]:
                    ends = np.minimum(
                        wp[:, :, minc - 1 :, :].reshape(k, -1).min(axis=1, initial=INF),
                        wp[:, :, :, 1].reshape(k, -1).min(axis=1, initial=INF),
                    )
                    if d == 0:  # (as above: a run of the tail alone)
                        ends = wp.reshape(k, -1).min(axis=1, initial=INF)
                o[:, 0, 0] = ends
                if NO > 1:
                    o[:, 1:, :] = op[:, :-1, :]
                o[:, NO - 1, :] = np.minimum(o[:, NO - 1, :], op[:, NO - 1, :])
                if NO == 1:
                    o[:, 0, 0] = np.minimum(ends, op[:, 0, 0])
            ws.append(w)
            os_.append(o)
            wp, op, prev = w, o, cur
        return ws, os_

    @staticmethod
    def _final(w: np.ndarray, o: np.ndarray) -> np.ndarray:
        k = w.shape[0]
        return np.minimum(w.reshape(k, -1).min(axis=1, initial=INF), o.reshape(k, -1).min(axis=1))

    def _back(
        self,
        ws: list[np.ndarray],
        os_: list[np.ndarray],
        kk: int,
        base: list[np.ndarray],
        lam: np.ndarray,
        mu: float,
        nu: np.ndarray,
    ) -> list[int] | None:
        """The shifts of the best path of price ``kk`` (walked back from the last day)."""
        R, NO, minc, minoff = self.R, self.NO, self.minc, self.minoff
        self.cells += STEP_CELLS * self.days
        d = self.days - 1
        w, o = ws[d][kk], os_[d][kk]
        if min(w.min(initial=INF), o.min()) >= INF / 2:
            return None
        if w.size and w.min() <= o.min():
            state: tuple[int, ...] = (0, *(int(x) for x in np.unravel_index(int(np.argmin(w)), w.shape)))
        else:
            state = (1, *(int(x) for x in np.unravel_index(int(np.argmin(o)), o.shape)))
        out: list[int] = []
        while d >= 0:
            if state[0] == 0:
                _, j, i, f = state
                out.append(self.choices[d][j])
            if d == 0:
                break
            wp, op = ws[d - 1][kk], os_[d - 1][kk]
            cands: list[tuple[float, tuple[int, ...]]] = []
            if state[0] == 0:
                _, j, i, f = state
                prev = self.choices[d - 1]
                if prev and (i >= 1 or (self.maxc is None and i == R - 1)):
                    link = self.links[d]
                    assert link is not None
                    order, starts, mask = link
                    allowed = np.zeros(len(prev), dtype=bool)
                    groups = np.searchsorted(starts, np.arange(len(prev)), side="right") - 1
                    allowed[order] = mask[groups, j] == 0.0
                    for src in ({i - 1} if i >= 1 else set()) | (
                        {R - 1} if self.maxc is None and i == R - 1 else set()
                    ):
                        col = np.where(allowed, wp[:, src, f], INF)
                        jj = int(np.argmin(col))
                        # the weekend price as _forward adds it: a continued run pays on the
                        # weekend's first day, a new run on any weekend day
                        cont = mu if self.first_weekend_day[d] else 0.0
                        cands.append((float(col[jj]) + cont, (0, jj, src, f)))
                if i == 0 and f == 0:
                    new_run = mu if self.weekend[d] else 0.0
                    for oi in range(NO):
                        for of in (0, 1):
                            if oi >= minoff - 1 or of == 1:
                                cands.append((float(op[oi, of]) + new_run, (1, oi, of)))
            else:
                _, oi, of = state
                if oi == 0 and of == 0:
                    for jj in range(wp.shape[0]):
                        for ii in range(R):
                            for ff in (0, 1):
                                if ii >= minc - 1 or ff == 1:
                                    cands.append((float(wp[jj, ii, ff]), (0, jj, ii, ff)))
                    if NO == 1:
                        cands.append((float(op[0, 0]), (1, 0, 0)))
                if oi >= 1:
                    cands.append((float(op[oi - 1, of]), (1, oi - 1, of)))
                if oi == NO - 1:
                    cands.append((float(op[NO - 1, of]), (1, NO - 1, of)))
            if not cands:
                return None
            val, state = min(cands)
            if val >= INF / 2:
                return None
            d -= 1
        return out

    # -- the search over the prices ------------------------------------------------------------
    def base_costs(self, sol: Solution) -> list[np.ndarray]:
        """Per day and choice: the change of the objective when this person takes the shift (cover
        against everybody else's roster, the person's wishes)."""
        idx, p = self.idx, self.p
        pr = idx.problem
        counts = self.ctx.counts
        noise = self.ctx.noise
        mine = sol[p]
        self.cells += STEP_CELLS * self.days
        out = []
        for c in self.choices:
            row = []
            for s in c:
                others = counts[s] - (1 if s in mine else 0)
                v = -idx.under_w[s] if others < pr.shifts[s].required else idx.over_w[s]
                v += idx.pref_unwanted.get((p, s), 0) - idx.pref_wanted.get((p, s), 0)
                row.append(float(v) + noise[s])
            out.append(np.array(row, dtype=float))
        return out

    def gain(self, sol: Solution, new: set[int]) -> float:
        """The change of the cover and wish terms if this person's roster became ``new`` (exact,
        everybody else fixed; negative is better)."""
        idx, p = self.idx, self.p
        counts = self.ctx.counts
        req = [sh.required for sh in idx.problem.shifts]
        old = sol[p]

        def value(s: int) -> int:
            others = counts[s] - (1 if s in old else 0)
            v = -idx.under_w[s] if others < req[s] else idx.over_w[s]
            return v + idx.pref_unwanted.get((p, s), 0) - idx.pref_wanted.get((p, s), 0)

        return float(sum(value(s) for s in new - old) - sum(value(s) for s in old - new))

    def solve(self, sol: Solution, rounds: int = 6) -> set[int] | None:
        """A valid roster for this person at the prices found, or None.

        The last person's prices (same minute window) come first, as they are: with the swaps they
        often fit (instance 24: 128 people repaired in 10 s). Otherwise the search: a price per minute
        for the window (the cheapest path inside it), the weekend and type prices raised while their
        limits are exceeded, the window aimed at moved by the gap the swaps could not close."""
        if not self.applicable:
            return None
        idx, p = self.idx, self.p
        person = idx.problem.people[p]
        base = self.base_costs(sol)
        lo = person.min_minutes_period
        hi = person.max_minutes_period
        priced = lo > 0 or hi is not None
        scale = max(1.0, max((float(np.abs(b).max()) for b in base if len(b)), default=1.0))
        sizes = [float(m.mean()) for m in self.minutes if len(m)]
        unit = scale / max(1.0, float(np.mean(sizes)) if sizes else 1.0)
        key = (lo, hi)
        hinted = key in self.ctx.lam_hint
        lam, mu = self.ctx.lam_hint.get(key, (0.0, 0.0))
        nu = np.zeros(max(1, len(self.kinds)))
        aim = 0  # moves the window the prices aim at when the swaps could not close the gap
        sh = idx.problem.shifts
        for r in range(rounds):
            if priced and not (hinted and r == 0):
                lam = self._price(base, mu, nu, lo + aim, None if hi is None else hi + aim, unit, lam)
            lam_arr = np.array([lam])
            ws, os_ = self._forward(base, lam_arr, mu, nu)
            path = self._back(ws, os_, 0, base, lam_arr, mu, nu)
            if path is None:
                return None
            chosen = set(path)
            # the edge moves only after two rounds: re-aimed prices usually give cheaper rosters
            # (instance 24, all 128 repaired: 251,209 against 273,224 with them from the start)
            self._fix_minutes(chosen, base, lo, hi, edges=r >= 2)
            self.cells += STEP_CELLS * self.days
            viol = person_violations(idx, p, chosen)
            if not viol:
                self.ctx.lam_hint[key] = (lam, mu)
                return chosen
            rules = {r for r, _ in viol}
            total = sum(sh[s].minutes for s in chosen)
            if "min_minutes_period" in rules:
                aim += lo - total + 240
            elif "max_minutes_period" in rules and hi is not None:
                aim -= total - hi + 240
            if "max_weekends" in rules:
                mu += scale / 2
            if "max_shifts_per_kind" in rules:
                limits = person.max_shifts_per_kind
                got = Counter(idx.problem.shifts[s].kind for s in chosen)
                for kind, n in got.items():
                    lim = limits.get(kind)
                    if lim is not None and n > lim:
                        nu[self.kind_ix[kind]] += scale / 2
            if not rules & {
                "max_weekends",
                "max_shifts_per_kind",
                "min_minutes_period",
                "max_minutes_period",
            }:
                break
        return None

    def _minutes_at(
        self, base: list[np.ndarray], lams: np.ndarray, mu: float, nu: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The minutes and the value of the best path at each price (the minutes from the value
        difference at price + eps)."""
        both = np.concatenate([lams, lams + _EPS])
        ws, os_ = self._forward(base, both, mu, nu)
        v = self._final(ws[-1], os_[-1])
        n = len(lams)
        return (v[n:] - v[:n]) / _EPS, v[:n]

    def _price(
        self,
        base: list[np.ndarray],
        mu: float,
        nu: np.ndarray,
        lo: int,
        hi: int | None,
        unit: float,
        start: float,
    ) -> float:
        """A price per minute whose best path lands in [lo, hi] minutes (or close: the swaps of
        :meth:`_fix_minutes` close a small gap), searched from ``start`` (the last person's)."""
        top = float("inf") if hi is None else hi + 0.5
        steps = unit * np.array([1 / 32, 1 / 4, 2.0])
        grid = np.concatenate([start - steps[::-1], [start], start + steps])
        best_lam, best_gap = start, float("inf")
        best_cost = float("inf")
        slack = 4 * max((float(m.max()) for m in self.minutes if len(m)), default=0.0)
        for _ in range(5):
            mins, values = self._minutes_at(base, grid, mu, nu)
            for i, m in enumerate(mins):
                gap = lo - m if m < lo else max(0.0, m - top)
                # in the window, the cheapest path (its value less the minutes' price); else the closest
                cost = float(values[i] - grid[i] * m)
                if gap < best_gap or (gap == best_gap and cost < best_cost):
                    best_gap, best_lam, best_cost = gap, float(grid[i]), cost
            if best_gap <= 0:
                break
            # minutes fall as the price rises: narrow to the last price above and the first below
            above = [i for i, m in enumerate(mins) if m > top]
            below = [i for i, m in enumerate(mins) if m < lo]
            if not above:
                grid = grid.min() - unit * 4.0 ** np.arange(1, 7)
                continue
            if not below:
                grid = grid.max() + unit * 4.0 ** np.arange(1, 7)
                continue
            a, b = grid[max(above)], grid[min(below)]
            if b <= a or (best_gap <= slack and _ > 0):
                break  # close enough for the swaps (a finer price often gives a costlier path)
            grid = np.linspace(a, b, 10)[1:-1]
        return best_lam + _EPS / 2  # the path whose minutes were measured

    def _fix_minutes(
        self, chosen: set[int], base: list[np.ndarray], lo: int, hi: int | None, edges: bool = True
    ) -> None:
        """Bring the period minutes into [lo, hi]: swaps of the shift of a day first; when they
        cannot close the gap (and ``edges``), a day dropped or added at the edge of a run, and swaps
        again."""
        sh = self.idx.problem.shifts
        for _ in range(2 * self.days):
            self.cells += STEP_CELLS * self.days
            self._swaps(chosen, base, lo, hi)
            total = sum(sh[s].minutes for s in chosen)
            if lo <= total and (hi is None or total <= hi):
                return
            if not edges or not self._edge_move(chosen, base, lo):
                return

    def _swaps(self, chosen: set[int], base: list[np.ndarray], lo: int, hi: int | None) -> None:
        """Close a gap in the period minutes by swapping the shift of worked days for a longer (or
        shorter) one of the same day that keeps the neighbours' successions and the type limits,
        cheapest per minute first, one swap a day."""
        idx, p = self.idx, self.p
        person = idx.problem.people[p]
        sh = idx.problem.shifts
        total = sum(sh[s].minutes for s in chosen)
        if lo <= total and (hi is None or total <= hi):
            return
        more = total < lo
        by_day = {sh[s].day: s for s in chosen}
        kinds = Counter(sh[s].kind for s in chosen)
        moves: list[tuple[float, int, int, int]] = []
        for d, s in by_day.items():
            if not self.off_ok[d]:
                continue
            ms = sh[s].minutes
            i_old = self.choices[d].index(s)
            for j, s2 in enumerate(self.choices[d]):
                delta = sh[s2].minutes - ms
                if (more and delta > 0) or (not more and delta < 0):
                    moves.append(((float(base[d][j]) - float(base[d][i_old])) / abs(delta), d, s2, delta))
        moves.sort()
        done: set[int] = set()
        limits = person.max_shifts_per_kind
        for _, d, s2, delta in moves:
            if (more and total >= lo) or (not more and hi is not None and total <= hi):
                return
            if d in done:
                continue
            new_total = total + delta
            if (more and hi is not None and new_total > hi) or (not more and new_total < lo):
                continue
            kind = sh[s2].kind
            lim = limits.get(kind)
            if lim is not None and kinds[kind] + (kind != sh[by_day[d]].kind) > lim:
                continue
            a, b = by_day.get(d - 1), by_day.get(d + 1)
            if (a is not None and idx.clash(p, a, s2)) or (b is not None and idx.clash(p, s2, b)):
                continue
            s = by_day[d]
            chosen.discard(s)
            kinds[sh[s].kind] -= 1
            chosen.add(s2)
            kinds[kind] += 1
            by_day[d] = s2
            done.add(d)
            total = new_total

    def _edge_move(self, chosen: set[int], base: list[np.ndarray], lo: int) -> bool:
        """What the swaps left: drop (or add) a day at the edge of a run of days worked, the cheapest
        per minute whose roster keeps the person's other rules (shifts all of one length and one
        value leave the prices no path inside the window). False when there is none."""
        idx, p = self.idx, self.p
        sh = idx.problem.shifts
        minute_rules = {"min_minutes_period", "max_minutes_period"}
        total = sum(sh[s].minutes for s in chosen)
        more = total < lo
        by_day = {sh[s].day: s for s in chosen}
        # (cost per minute, shift (or run key), +1 add / -1 drop / -2 drop the run)
        moves: list[tuple[float, int, int]] = []
        runs: dict[int, list[int]] = {}
        for d in range(self.days):
            if not self.off_ok[d]:
                continue
            worked = d in by_day
            edge = (d - 1 in by_day) != (d + 1 in by_day) or (d - 1 not in by_day and d + 1 not in by_day)
            if not edge:
                continue
            if more and not worked:
                for j, s2 in enumerate(self.choices[d]):
                    moves.append((float(base[d][j]) / sh[s2].minutes, s2, 1))
            elif not more and worked:
                s = by_day[d]
                j = self.choices[d].index(s)
                moves.append((-float(base[d][j]) / sh[s].minutes, s, -1))
        if not more:
            # or a whole run (runs at their minimum length have no edge to give)
            run: list[int] = []
            for d in range(self.days + 1):
                if d in by_day and self.off_ok[d]:
                    run.append(by_day[d])
                    continue
                if run and d not in by_day:
                    gain = -sum(float(base[sh[s].day][self.choices[sh[s].day].index(s)]) for s in run)
                    key = len(runs)
                    runs[key] = list(run)
                    moves.append((gain / sum(sh[s].minutes for s in run), key, -2))
                run = []
        moves.sort()
        for _cost, s, sign in moves[:64]:
            self.cells += STEP_CELLS * self.days  # (a check of the person's rules)
            if sign == -2:
                trial = chosen - set(runs[s])
            else:
                trial = chosen | {s} if sign > 0 else chosen - {s}
            if {r for r, _ in person_violations(idx, p, trial)} <= minute_rules:
                chosen.clear()
                chosen.update(trial)
                return True
        return False
