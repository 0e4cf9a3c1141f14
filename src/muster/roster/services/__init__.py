"""Rostering services: create a plan, solve it in the background, edit the proposal, publish it.

Who may: the people who manage the scope's shifts (``mobilize.dispatch`` on the batch's units or the
post's unit, or the batch's leader — the same check as ``muster.mobilize.services.shift_assign``). A plan
the user cannot see is "not found" (404); visible but not allowed is 403. Every change is audited.

Solving is a background task (``solve_task``, Django's tasks API on the database queue) run by a
``muster worker`` process, never a thread of the web process; the command line solves inline
(``sync=True``) to print its progress. Progress is written to the ``SolveRun`` at most twice a second; a
cancel sets a flag the engine's stop callback reads. A worker killed mid-solve: the task is queued again
(at most ``SOLVE_ATTEMPTS`` starts in all, see ``muster.worker.recovery``), then the run fails with "restart
the solve". Each start claims the run (``SolveRun.attempt``) and only the attempt that owns it stores its
result, so a rerun never writes the proposal twice.

One module per concern, all re-exported here (``from muster.roster import services`` is the way in):
``policy`` (who may roster what; the plans, people and shifts a user may see), ``plan`` (create a plan,
its rules and problem), ``solve`` (start, progress, cancel, the background task, storing the result),
``proposal`` (editing by hand) and ``publish`` (preview and publish).
"""

from __future__ import annotations

# ``access`` and ``Perm`` (the views raise ``services.access.NotAllowed``), ``_may_manage``, ``_Progress`` and
# ``_fmt`` are kept for callers that reached them here before the split.
from muster.orgs import access
from muster.orgs.access import Perm

from .plan import plan_build, plan_create, plan_rules, summary_line
from .policy import (
    _may_manage,
    may_manage_plan,
    plan_get_or_404,
    plan_people,
    plan_person_or_404,
    plan_shift,
    plans_visible,
    rostering_candidates,
)
from .proposal import EDIT_ACTIONS, proposal_edit
from .publish import Move, PublishPreview, PublishResult, _fmt, plan_publish, publish_preview
from .solve import (
    ACTIVE,
    INCUMBENT_INTERVAL,
    PROGRESS_INTERVAL,
    SOLVE_ATTEMPTS,
    SOLVE_QUEUE,
    STALE_GRACE,
    _Progress,
    engine_error_message,
    solve_cancel,
    solve_execute,
    solve_start,
    solve_task,
)

__all__ = [
    "ACTIVE",
    "EDIT_ACTIONS",
    "INCUMBENT_INTERVAL",
    "PROGRESS_INTERVAL",
    "SOLVE_ATTEMPTS",
    "SOLVE_QUEUE",
    "STALE_GRACE",
    "Move",
    "Perm",
    "PublishPreview",
    "PublishResult",
    "_Progress",
    "_fmt",
    "_may_manage",
    "access",
    "engine_error_message",
    "may_manage_plan",
    "plan_build",
    "plan_create",
    "plan_get_or_404",
    "plan_people",
    "plan_person_or_404",
    "plan_publish",
    "plan_rules",
    "plan_shift",
    "plans_visible",
    "proposal_edit",
    "publish_preview",
    "rostering_candidates",
    "solve_cancel",
    "solve_execute",
    "solve_start",
    "solve_task",
    "summary_line",
]
