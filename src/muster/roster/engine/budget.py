"""What a solve may spend: wall-clock seconds (production) or deterministic work (tests, reproducible
runs), behind one :class:`Budget` so the phase logic of :mod:`.solver` is one code path.

A budget is a slice of a :class:`Meter`: it started at ``start`` on the meter and may spend ``total``.
Two meters:

- :class:`WallClock` reads ``time.monotonic()``; the time passes by itself, so :meth:`Budget.charge`
  does nothing and CP-SAT gets ``max_time_in_seconds``.
- :class:`WorkCounter` advances only when the engine charges what it did: a CP-SAT solve its
  deterministic time (CP-SAT's own measure of its work, the same on any machine at any load), the
  engine's own loops their counts of checks, model variables and programme cells (the ``*_UNITS``
  constants below, calibrated so that a unit of them takes about as long as a unit of CP-SAT's
  deterministic time). CP-SAT then gets ``max_deterministic_time`` and one thread.

With the work counter, the same problem, options and seed give the same roster on any machine.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

# Charges of the engine's own work on the work counter, in CP-SAT deterministic seconds, set so that
# a unit of them takes about as long as a unit of CP-SAT's search (measured on a 2-core machine under
# load: 2.5-4 s a unit for both).
INDEX_UNITS_PER_PAIR = 2e-6  # building the index and the greedy roster, per (person, shift) pair
MODEL_UNITS = 1e-3  # building any CP-SAT model, plus
MODEL_UNITS_PER_VAR = 1.5e-5  # per free decision
SOLVE_UNITS = 1.5e-3  # starting any CP-SAT solve (beside its deterministic time)
CHECK_UNITS = 2e-5  # one check of a person's rules (balance, fill), plus
CHECK_UNITS_PER_DAY = 1e-6  # per day of the period
DP_UNITS_PER_CELL = 3e-9  # one cell of a person's dynamic programme (see dp.STEP_CELLS)
ROUND_UNITS = 1e-3  # one round of the LNS or of the re-rosters (drawing, scoring), plus
ROUND_UNITS_PER_PAIR = 1e-6  # per (person, shift) pair of the component it touches


class Meter(Protocol):
    deterministic: bool

    def now(self) -> float: ...

    def charge(self, units: float) -> None: ...

    def solving(self, units: float) -> None: ...


class WallClock:
    """Seconds of ``time.monotonic()``; charges are ignored (the clock runs by itself)."""

    deterministic = False

    def now(self) -> float:
        return time.monotonic()

    def charge(self, units: float) -> None:
        return None

    def solving(self, units: float) -> None:
        return None


class WorkCounter:
    """Deterministic work: moves only by what is charged (and, while a CP-SAT solve runs, by the
    deterministic time it has spent so far, as its solutions report it)."""

    deterministic = True

    def __init__(self) -> None:
        self.used = 0.0
        self.running = 0.0  # of the solve under way

    def now(self) -> float:
        return self.used + self.running

    def charge(self, units: float) -> None:
        if units > 0:
            self.used += units

    def solving(self, units: float) -> None:
        self.running = max(0.0, units)


class Budget:
    """``total`` units on ``meter`` from ``start`` (the meter's reading when it began)."""

    def __init__(self, meter: Meter, total: float, start: float | None = None) -> None:
        self.meter = meter
        self.total = total
        self.start = meter.now() if start is None else start

    @classmethod
    def wall(cls, seconds: float, start: float | None = None) -> Budget:
        return cls(WallClock(), seconds, start)

    @classmethod
    def work(cls, units: float) -> Budget:
        return cls(WorkCounter(), units)

    @property
    def deterministic(self) -> bool:
        return self.meter.deterministic

    def spent(self) -> float:
        return self.meter.now() - self.start

    def left(self) -> float:
        return self.total - self.spent()

    def over(self) -> bool:
        return self.left() <= 0

    def charge(self, units: float) -> None:
        self.meter.charge(units)

    def part(self, units: float) -> Budget:
        """A budget of ``units`` from now on, on the same meter (what it spends, this one spends too)."""
        return Budget(self.meter, units, self.meter.now())

    def capped(self, total: float) -> Budget:
        """This budget with another total (same start, same meter)."""
        return Budget(self.meter, total, self.start)

    def limit(self, params: Any, units: float) -> None:
        """Set a CP-SAT solve's limit of ``units`` (and, deterministic, one thread)."""
        if self.deterministic:
            params.max_deterministic_time = units
            params.num_workers = 1
        else:
            params.max_time_in_seconds = units

    def solving(self, units: float) -> None:
        """A CP-SAT solve under way has spent ``units`` of deterministic time (reported by its
        solutions, so the progress they report is placed in the budget; nothing on the wall clock)."""
        self.meter.solving(units)

    def charge_solve(self, solver: Any) -> None:
        """Charge what a CP-SAT solve did (its deterministic time and its start; nothing on the wall
        clock)."""
        if self.deterministic:
            self.meter.solving(0.0)
            self.charge(SOLVE_UNITS + solver.deterministic_time)
