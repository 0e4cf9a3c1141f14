"""The rostering engine: pure Python + OR-Tools CP-SAT, no Django.

Public API::

    from muster.roster.engine import Problem, Person, Shift, Options, solve, repair

    result = solve(problem, Options(seconds=20, seed=1, progress=callback))
    result.assignments   # [(person id, shift id), ...]
    result.objective, result.breakdown, result.uncovered (with reasons), result.history

``Options(seconds=20, deterministic=True)`` counts the 20 as deterministic work on one thread instead
of wall-clock seconds: the same result on any machine at any load (tests; see :mod:`.budget`).

See :mod:`.model` for the input types and rules, :mod:`.solver` for the method.
"""

from .generator import VolunteerSpec, volunteer_problem
from .model import (
    WEB_LIMITS,
    Infeasible,
    Limits,
    Lock,
    Person,
    Preference,
    Problem,
    ProblemTooLarge,
    Progress,
    Result,
    RosterError,
    RosterInputError,
    RuleRef,
    Shift,
    TailShift,
    Uncovered,
    Weights,
)
from .solver import Options, repair, solve

__all__ = [
    "WEB_LIMITS",
    "Infeasible",
    "Limits",
    "Lock",
    "Options",
    "Person",
    "Preference",
    "Problem",
    "ProblemTooLarge",
    "Progress",
    "Result",
    "RosterError",
    "RosterInputError",
    "RuleRef",
    "Shift",
    "TailShift",
    "Uncovered",
    "VolunteerSpec",
    "Weights",
    "repair",
    "solve",
    "volunteer_problem",
]
