"""Shared checks of the roster engine tests."""

from __future__ import annotations

from ortools.sat.python import cp_model

from muster.roster.engine.cpsat import SubModel
from muster.roster.engine.evaluate import Solution


def objective_at_current(sub: SubModel, sol: Solution) -> int | None:
    """The objective of ``sub`` with every free decision fixed to its value in ``sol`` (None when that
    fixed model has no solution)."""
    fixed = sub.model.clone()
    for (p, s), v in sub.x.items():
        fixed.add(fixed.get_bool_var_from_proto_index(v.index) == int(s in sol[p]))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_deterministic_time = 5  # (not the wall clock: the same at any load)
    if solver.solve(fixed) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return round(solver.objective_value)
