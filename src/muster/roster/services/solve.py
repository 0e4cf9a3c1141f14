"""Solving a plan: start it (a background task, or inline for the command line), report progress,
cancel it, recover from a lost worker, and store the result once."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import TaskContext, task
from django_tasks.exceptions import TaskResultDoesNotExist

from muster.orgs.models import Person
from muster.roster import engine as eng
from muster.roster.adapter import MAX_SECONDS, Built, shortfalls, wishes_met
from muster.roster.models import (
    PlanStatus,
    ProposalSource,
    ProposedAssignment,
    RosterPlan,
    RunKind,
    RunStatus,
    SolveRun,
)
from muster.worker.recovery import rerun_on_worker_loss

from .plan import _limits, _seconds, plan_build
from .policy import _audit, _person_visible, _require_manage

log = logging.getLogger(__name__)
_F = TypeVar("_F", bound=Callable[..., Any])


def _task_path_of_the_package(func: _F) -> _F:
    """Keep the task's path ``muster.roster.services.solve_task`` (the package re-exports it): queued task
    rows and the worker's recovery policy name it, as they did before ``services`` became a package."""
    func.__module__ = __name__.rpartition(".")[0]
    return func


PROGRESS_INTERVAL = 0.5  # seconds between progress writes
INCUMBENT_INTERVAL = 2.0  # seconds between writes of the best roster so far (the first one at once)
SOLVE_QUEUE = "roster"  # the task queue of solves (a worker may be given only this one, or all but it)
SOLVE_ATTEMPTS = 3  # starts of one solve in all when workers die under it; then it fails visibly
ACTIVE = (RunStatus.QUEUED, RunStatus.RUNNING)


@dataclass
class _Job:
    run_pk: int
    plan_pk: int
    built: Built
    kind: str
    seconds: float
    seed: int
    previous: list[tuple[str, str]]
    dropped: list[str]
    limits: eng.Limits
    attempt: str = ""
    on_progress: Callable[[eng.Progress], None] | None = None


@transaction.atomic
def solve_start(
    *,
    actor: Any,
    plan: RosterPlan,
    seconds: float | None = None,
    seed: int | None = None,
    drop: Person | None = None,
    sync: bool = False,
    on_progress: Callable[[eng.Progress], None] | None = None,
    max_seconds: float | None = MAX_SECONDS,
) -> SolveRun:
    """Solve (or re-solve, keeping the locked rows) the plan in the background; with ``drop``, repair
    the proposal after that person drops out (everything else kept, fewest changes).

    The task is queued in this transaction (on the database queue: it exists if and only if the run
    does). ``sync``: solve here and now instead (the command line, which prints ``on_progress``)."""
    _require_manage(actor, plan)
    plan = RosterPlan.objects.select_for_update().get(pk=plan.pk)
    if plan.status == PlanStatus.PUBLISHED:
        raise ValidationError({"plan": _("This plan is already published; start a new one.")})
    _expire_stale_runs(plan)
    if plan.runs.filter(status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).exists():
        raise ValidationError({"plan": _("A solve of this plan is already running.")})
    seconds = _seconds(seconds if seconds is not None else plan.options.get("seconds", 10), max_seconds)
    seed = int(seed if seed is not None else plan.options.get("seed", 0))
    previous: list[tuple[str, str]] = []
    dropped: list[str] = []
    if drop is not None:
        rows = list(plan.proposals.select_related("person"))
        if not any(r.person_id == drop.pk for r in rows):
            if not _person_visible(actor, drop):
                raise Http404  # never name someone the actor may not see
            raise ValidationError({"person": _("%(person)s has no shift in this plan.") % {"person": drop}})
        plan.proposals.filter(person=drop, locked=True).update(locked=False)
        previous = [(r.person.code, str(r.shift_id)) for r in rows]
        dropped = [drop.code]
    built = plan_build(plan)
    if drop is not None and drop.code not in built.people:
        raise ValidationError({"person": _("%(person)s is not in the plan.") % {"person": drop}})
    run = SolveRun.objects.create(
        plan=plan,
        kind=RunKind.REPAIR if drop is not None else RunKind.SOLVE,
        seconds=seconds,
        seed=seed,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    plan.status = PlanStatus.SOLVING
    plan.notes = [{"code": "excluded", "person": p.code, "name": p.name} for p in built.excluded]
    plan.save(update_fields=["status", "notes", "updated_at"])
    _audit(
        actor, "solve.started", plan, run=run.pk, kind=run.kind, seconds=seconds, seed=seed, dropped=dropped
    )
    if sync:
        solve_execute(
            run_id=run.pk, attempt="inline", previous=previous, dropped=dropped, on_progress=on_progress
        )
    else:
        queued = solve_task.enqueue(run_id=run.pk, previous=[list(p) for p in previous], dropped=dropped)
        SolveRun.objects.filter(pk=run.pk).update(task_id=str(queued.id))
    run.refresh_from_db()
    return run


STALE_GRACE = timedelta(minutes=5)


def _task_over(task_id: str) -> bool:
    """Whether the background task of a run has ended (or is gone) — then the run can no longer end."""
    if not solve_task.get_backend().supports_get_result:
        return False
    try:
        return solve_task.get_result(task_id).is_finished
    except TaskResultDoesNotExist:
        return True


def _expire_stale_runs(plan: RosterPlan) -> None:
    """A run still "active" whose task has ended (a worker stopped at once by a second Ctrl-C, a task row
    deleted), or — solved inline by the command line — long after its time limit (the process died): mark
    it failed so that the plan can be solved again. A queued run waits for a worker however long."""
    now = timezone.now()
    for run in plan.runs.filter(status__in=ACTIVE):
        if run.task_id:
            stale = _task_over(run.task_id)
        else:
            stale = run.created_at + timedelta(seconds=run.seconds) + STALE_GRACE < now
        if stale:
            SolveRun.objects.filter(pk=run.pk).update(
                status=RunStatus.FAILED, error=_("The solve was interrupted."), finished_at=now
            )


@transaction.atomic
def solve_cancel(*, actor: Any, plan: RosterPlan) -> int:
    """Ask the running solve of the plan to stop (it keeps the best roster found so far); a solve still
    waiting for a worker is cancelled at once."""
    _require_manage(actor, plan)
    plan = RosterPlan.objects.select_for_update().get(pk=plan.pk)
    now = timezone.now()
    waiting = plan.runs.filter(status=RunStatus.QUEUED).update(
        status=RunStatus.CANCELLED, cancel_requested=True, finished_at=now
    )
    running = plan.runs.filter(status=RunStatus.RUNNING).update(cancel_requested=True)
    if waiting and not running and plan.status == PlanStatus.SOLVING:
        plan.status = PlanStatus.PROPOSED if plan.result else PlanStatus.DRAFT
        plan.save(update_fields=["status", "updated_at"])
    n = waiting + running
    if n:
        _audit(actor, "solve.cancelled", plan)
    return n


class _Progress:
    def __init__(self, run_pk: int, extra: Callable[[eng.Progress], None] | None, attempt: str = "") -> None:
        self.run_pk = run_pk
        self.attempt = attempt
        self.on_event = extra
        self.last_write = 0.0
        self.last_check = 0.0
        self.cancelled = False
        self.history: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.last_incumbent: float | None = None

    def __call__(self, ev: eng.Progress) -> None:
        with self.lock:
            self.history.append(
                {
                    "elapsed": round(ev.elapsed, 3),
                    "phase": ev.phase,
                    "objective": ev.objective,
                    "bound": ev.bound,
                }
            )
            if self.on_event is not None:
                self.on_event(ev)
            now = time.monotonic()
            incumbent = None
            if ev.roster is not None and (
                self.last_incumbent is None or now - self.last_incumbent >= INCUMBENT_INTERVAL
            ):
                # the roster behind this objective (read now: the engine changes it afterwards)
                incumbent = {
                    "objective": ev.objective,
                    "phase": ev.phase,
                    "elapsed": round(ev.elapsed, 3),
                    "pairs": [list(p) for p in ev.roster()],
                }
            if now - self.last_write < PROGRESS_INTERVAL and incumbent is None:
                return
            self.last_write = now
            fields: dict[str, Any] = {
                "phase": ev.phase,
                "elapsed": round(ev.elapsed, 3),
                "objective": ev.objective,
                "bound": ev.bound,
                "history": self.history[-200:],
            }
            if incumbent is not None:
                self.last_incumbent = now
                fields["incumbent"] = incumbent
            SolveRun.objects.filter(pk=self.run_pk, attempt=self.attempt).update(**fields)

    def stop(self) -> bool:
        now = time.monotonic()
        if not self.cancelled and now - self.last_check >= PROGRESS_INTERVAL:
            self.last_check = now
            # cancelled, or taken over by a newer attempt (its worker was taken for dead): stop either way
            self.cancelled = (
                SolveRun.objects.filter(pk=self.run_pk)
                .filter(Q(cancel_requested=True) | ~Q(attempt=self.attempt))
                .exists()
            )
        return self.cancelled


def engine_error_message(exc: eng.RosterError) -> str:
    """The translated message of an engine error (by its code)."""
    p = exc.params
    if exc.code == "infeasible":
        return _("The hard rules cannot all hold. Conflicting rules: %(rules)s.") % {
            "rules": "; ".join(p.get("conflicts", [])) or "?"
        }
    texts = {
        "empty_horizon": _("The period has no days."),
        "no_people": _("There is nobody to roster."),
        "no_availability": _("%(person)s is not available on any day of the period.") % p,
        "end_before_start": _("A shift ends before it starts."),
        "too_many_days": _(
            "The request is too large to roster at once: %(days)s days; the limit is %(limit)s."
        )
        % {"days": p.get("days"), "limit": p.get("limit")},
        "too_many_people": _(
            "The request is too large to roster at once: %(count)s people; the limit is %(limit)s."
        )
        % {"count": p.get("count"), "limit": p.get("limit")},
        "too_many_shifts": _(
            "The request is too large to roster at once: %(count)s shifts; the limit is %(limit)s."
        )
        % {"count": p.get("count"), "limit": p.get("limit")},
        "too_many_candidates": _("The request is too large to roster at once; split the period."),
    }
    if exc.code in texts:
        return texts[exc.code]
    return _("The roster could not be computed: %(message)s") % {"message": exc.message}


@task(takes_context=True, queue_name=SOLVE_QUEUE)
@_task_path_of_the_package
def solve_task(context: TaskContext, run_id: int, previous: list[list[str]], dropped: list[str]) -> str:
    """The background solve of ``run_id`` (queued by ``solve_start``); safe to run again (see
    ``solve_execute``). Each start of the task is an attempt of its own."""
    attempt = f"{context.task_result.id}/{context.attempt}"
    pairs = [(str(person), str(shift)) for person, shift in previous]
    return solve_execute(run_id=run_id, attempt=attempt, previous=pairs, dropped=dropped)


def _solve_requeued(args: list[Any], kwargs: dict[str, Any], attempts: int) -> None:
    """The worker running the solve died; the task is queued again: so is the run (the page says so)."""
    SolveRun.objects.filter(pk=kwargs["run_id"], status__in=ACTIVE).update(
        status=RunStatus.QUEUED, attempt="", phase=""
    )


def _solve_lost(args: list[Any], kwargs: dict[str, Any], attempts: int) -> None:
    """The workers died under the solve ``attempts`` times: it fails, and the plan page says to restart."""
    run = SolveRun.objects.filter(pk=kwargs["run_id"], status__in=ACTIVE).first()
    if run is None:
        return
    SolveRun.objects.filter(pk=run.pk).update(
        status=RunStatus.FAILED,
        error=_("The worker running this solve stopped (%(attempts)s attempts); restart the solve.")
        % {"attempts": attempts},
        finished_at=timezone.now(),
    )
    RosterPlan.objects.filter(pk=run.plan_id).exclude(status=PlanStatus.PUBLISHED).update(
        status=PlanStatus.DRAFT
    )


rerun_on_worker_loss(
    solve_task, max_attempts=SOLVE_ATTEMPTS, on_requeue=_solve_requeued, on_give_up=_solve_lost
)


def solve_execute(
    *,
    run_id: int,
    attempt: str,
    previous: list[tuple[str, str]],
    dropped: list[str],
    on_progress: Callable[[eng.Progress], None] | None = None,
) -> str:
    """Solve run ``run_id`` here: claim it for ``attempt`` (a newer attempt takes it over from an older
    one, which then stops and stores nothing), build the plan's problem afresh, solve, store the result.
    Returns the run's final status, or "skipped" when it no longer waits (cancelled, or finished — by an
    attempt whose worker died after storing)."""
    claimed = SolveRun.objects.filter(pk=run_id, status__in=ACTIVE).update(
        status=RunStatus.RUNNING,
        attempt=attempt,
        attempts=F("attempts") + 1,
        started_at=timezone.now(),
        phase="",
        elapsed=0,
    )
    if not claimed:
        return "skipped"
    run = SolveRun.objects.select_related("plan").get(pk=run_id)
    try:
        plan = run.plan
        job = _Job(
            run.pk,
            plan.pk,
            plan_build(plan),
            run.kind,
            run.seconds,
            run.seed,
            previous,
            dropped,
            _limits(plan),
            attempt,
            on_progress,
        )
        _execute_inner(job)
    except ValidationError as exc:  # the plan can no longer be built (its batch changed meanwhile)
        _fail(run.pk, run.plan_id, attempt, " ".join(exc.messages))
    except Exception:  # never leave a run "running" when something unexpected breaks
        log.exception("roster solve %s failed", run.pk)
        _fail(run.pk, run.plan_id, attempt, _("Unexpected error; see the server log."))
    except BaseException:  # stopped at once (a second Ctrl-C): say so, then stop
        _fail(run.pk, run.plan_id, attempt, _("The solve was interrupted."))
        raise
    return str(SolveRun.objects.filter(pk=run_id).values_list("status", flat=True).first() or "")


def _fail(run_pk: int, plan_pk: int, attempt: str, error: str, **fields: Any) -> None:
    """Mark the run failed if ``attempt`` still owns it."""
    if SolveRun.objects.filter(pk=run_pk, attempt=attempt, status=RunStatus.RUNNING).update(
        status=RunStatus.FAILED, error=error, finished_at=timezone.now(), **fields
    ):
        RosterPlan.objects.filter(pk=plan_pk).exclude(status=PlanStatus.PUBLISHED).update(
            status=PlanStatus.DRAFT
        )


def _execute_inner(job: _Job) -> None:
    progress = _Progress(job.run_pk, job.on_progress, job.attempt)
    opts = eng.Options(
        seconds=job.seconds, seed=job.seed, progress=progress, stop=progress.stop, limits=job.limits
    )
    try:
        if job.kind == RunKind.REPAIR:
            result = eng.repair(job.built.problem, job.previous, job.dropped, opts)
        else:
            result = eng.solve(job.built.problem, opts)
    except eng.RosterError as exc:
        _fail(
            job.run_pk, job.plan_pk, job.attempt, engine_error_message(exc), history=progress.history[-200:]
        )
        return
    _store_result(job, result, progress)


@transaction.atomic
def _store_result(job: _Job, result: eng.Result, progress: _Progress) -> None:
    plan = RosterPlan.objects.select_for_update().get(pk=job.plan_pk)
    owner = SolveRun.objects.select_for_update().filter(
        pk=job.run_pk, attempt=job.attempt, status=RunStatus.RUNNING
    )
    if not owner.exists():
        return  # cancelled while queued, or a newer attempt owns the run (or has stored it): store nothing
    built = job.built
    locked = set(plan.proposals.filter(locked=True).values_list("person_id", "shift_id"))
    existing = set(plan.proposals.filter(source=ProposalSource.EXISTING).values_list("person_id", "shift_id"))
    plan.proposals.filter(locked=False).delete()
    rows = []
    for code, sid in result.assignments:
        person, shift = built.people[code], built.shifts[sid]
        if (person.pk, shift.pk) in locked:
            continue
        source = ProposalSource.EXISTING if (person.pk, shift.pk) in existing else ProposalSource.SOLVER
        rows.append(ProposedAssignment(plan=plan, shift=shift, person=person, source=source))
    ProposedAssignment.objects.bulk_create(rows)
    uncovered = []
    for u in result.uncovered:
        s = built.shifts[u.shift]
        uncovered.append(
            {
                "shift": s.pk,
                "missing": u.missing,
                "reasons": dict(sorted(u.reasons.items())),
                "summary": u.summary,
            }
        )
    plan.result = {
        "status": result.status,
        "objective": result.objective,
        "breakdown": result.breakdown,
        "uncovered": uncovered,
        "elapsed": round(result.elapsed, 3),
        "changes": result.stats.get("changes"),
        # The volunteers' wishes met (met, of) and the short shifts explained in their terms (the
        # worker's language is the site default: Chinese unless configured otherwise).
        "wishes": list(wishes_met(built, result.assignments)),
        "shortfalls": shortfalls(built, result),
    }
    plan.status = PlanStatus.PROPOSED
    plan.save(update_fields=["result", "status", "updated_at"])
    cancelled = progress.cancelled
    status = RunStatus.CANCELLED if cancelled else RunStatus.DONE
    _audit(None, "solve.finished", plan, run=job.run_pk, attempt=job.attempt, status=status)
    owner.update(
        status=status,
        phase="final",
        elapsed=round(result.elapsed, 3),
        objective=result.objective,
        bound=result.bound,
        history=progress.history[-200:],
        finished_at=timezone.now(),
    )
