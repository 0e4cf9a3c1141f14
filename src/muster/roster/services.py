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
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_tasks import TaskContext, task
from django_tasks.exceptions import TaskResultDoesNotExist

from muster.audit.services import log_action
from muster.clock import local_tz
from muster.mobilize import services as mob
from muster.mobilize.models import Assignment, Deployment, DeploymentStatus, Post, Shift
from muster.notify.services import notify, recipients_of
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Person
from muster.roster import engine as eng
from muster.roster.adapter import (
    MAX_SECONDS,
    Built,
    Rules,
    build_problem,
    candidates,
    roster_errors,
    scope_shifts,
    shortfalls,
    wishes_met,
)
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

log = logging.getLogger(__name__)
PROGRESS_INTERVAL = 0.5  # seconds between progress writes
INCUMBENT_INTERVAL = 2.0  # seconds between writes of the best roster so far (the first one at once)
SOLVE_QUEUE = "roster"  # the task queue of solves (a worker may be given only this one, or all but it)
SOLVE_ATTEMPTS = 3  # starts of one solve in all when workers die under it; then it fails visibly
ACTIVE = (RunStatus.QUEUED, RunStatus.RUNNING)


# ---------------------------------------------------------------- access


def _deployment_visible(actor: Any, d: Deployment) -> bool:
    return access.scoped(Deployment.objects.filter(pk=d.pk), actor).exists()


def _may_manage(actor: Any, deployment: Deployment | None, post: Post | None) -> bool:
    if deployment is not None:
        units = [u for u in (deployment.unit, deployment.supported_unit) if u is not None]
        return any(access.can(actor, Perm.MOBILIZE_DISPATCH, u) for u in units) or mob._leads(
            actor, deployment
        )
    assert post is not None
    return access.can(actor, Perm.MOBILIZE_DISPATCH, post.unit)


def _scope_check(actor: Any, deployment: Deployment | None, post: Post | None) -> None:
    if (deployment is None) == (post is None):
        raise ValidationError({"deployment": _("Roster either a batch or a post.")})
    if deployment is not None:
        visible = _deployment_visible(actor, deployment) or mob._leads(actor, deployment)
    else:
        assert post is not None
        visible = access.scoped(Post.objects.filter(pk=post.pk), actor).exists()
    if not visible:
        raise Http404
    if not _may_manage(actor, deployment, post):
        raise access.NotAllowed(Perm.MOBILIZE_DISPATCH)
    if deployment is not None and deployment.status == DeploymentStatus.CANCELLED:
        raise ValidationError({"deployment": _("The batch is cancelled.")})


def may_manage_plan(actor: Any, plan: RosterPlan) -> bool:
    return _may_manage(actor, plan.deployment, plan.post)


def plans_visible(actor: Any) -> Any:
    """Plans whose batch or post the user may see."""
    deployments = access.scoped(Deployment.objects.all(), actor).values("pk")
    posts = access.scoped(Post.objects.all(), actor).values("pk")
    from django.db.models import Q

    q = Q(deployment__in=deployments) | Q(post__in=posts)
    if getattr(actor, "pk", None) is not None:
        q |= Q(deployment__leader__user_id=actor.pk)
    return RosterPlan.objects.filter(q).select_related("deployment", "post", "deployment__unit", "post__unit")


def plan_get_or_404(actor: Any, pk: Any) -> RosterPlan:
    try:
        return plans_visible(actor).get(pk=pk)
    except (RosterPlan.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def _require_manage(actor: Any, plan: RosterPlan) -> None:
    if not plans_visible(actor).filter(pk=plan.pk).exists():
        raise Http404
    if not may_manage_plan(actor, plan):
        raise access.NotAllowed(Perm.MOBILIZE_DISPATCH)


def _person_visible(actor: Any, person: Person) -> bool:
    """Whether the actor may see the person (their own record included): the one scoping rule."""
    return access.scoped(Person.objects.filter(pk=person.pk), actor, Perm.VIEW).exists()


def _on_plan(plan: RosterPlan, person: Person) -> bool:
    return plan.proposals.filter(person=person).exists()


def plan_people(actor: Any, plan: RosterPlan) -> Any:
    """The people ``actor`` may name in ``plan``: those they may see, and those already on its proposal
    (the plan's page shows them). Anyone else is "not found", exactly like someone who does not exist."""
    visible = access.scoped(Person.objects.all(), actor, Perm.VIEW).values("pk")
    return Person.objects.filter(Q(pk__in=visible) | Q(pk__in=plan.proposals.values("person_id")))


def plan_person_or_404(actor: Any, plan: RosterPlan, *, pk: Any = None, code: str | None = None) -> Person:
    """A person of ``plan_people`` by primary key or staff number; otherwise 404."""
    lookup = {"pk": pk} if code is None else {"code": code}
    try:
        return plan_people(actor, plan).get(**lookup)
    except (Person.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def plan_shift(plan: RosterPlan, pk: Any) -> Shift | None:
    """The shift ``pk`` if it is one of the plan's shifts; ``None`` for any other (unknown or elsewhere)."""
    try:
        return scope_shifts(plan.deployment, plan.post, plan.start_date, plan.end_date).filter(pk=pk).first()
    except (ValueError, TypeError):
        return None


def rostering_candidates(actor: Any, plan: RosterPlan, shift_ids: list[int]) -> Any:
    """Whom ``actor`` may add to the plan by hand: its candidates (see ``adapter``) whom they may see."""
    visible = access.scoped(Person.objects.all(), actor, Perm.VIEW).values("pk")
    return candidates(plan.deployment, plan.post, shift_ids).filter(pk__in=visible)


def _audit(actor: Any, action: str, plan: RosterPlan, **changes: Any) -> None:
    log_action(actor, action=f"roster.{action}", target=plan, unit_path=plan.unit.path, changes=changes)


# ---------------------------------------------------------------- plans


def _seconds(value: Any, cap: float | None) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError({"seconds": _("Give the time limit in seconds.")}) from exc
    if seconds <= 0 or (cap is not None and seconds > cap):
        raise ValidationError(
            {"seconds": _("The time limit must be more than 0 and at most %(max)s seconds.") % {"max": cap}}
        )
    return seconds


@transaction.atomic
def plan_create(
    *,
    actor: Any,
    start: date,
    end: date,
    deployment: Deployment | None = None,
    post: Post | None = None,
    rules: Rules | None = None,
    seconds: float = 10,
    seed: int = 0,
    limits: eng.Limits = eng.WEB_LIMITS,
    max_seconds: float | None = MAX_SECONDS,
) -> RosterPlan:
    """A new plan for a batch or post over ``[start, end]`` (whole days), seeded with the assignments
    already made on the period's shifts (those with a check-in are locked). Checks the size first."""
    _scope_check(actor, deployment, post)
    rules = rules or Rules()
    rules.validate()
    seconds = _seconds(seconds, max_seconds)
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**31:
        raise ValidationError({"seed": _("The seed is a whole number from 0 to 2147483647.")})
    build_problem(deployment=deployment, post=post, start=start, end=end, rules=rules, limits=limits)
    plan = RosterPlan.objects.create(
        deployment=deployment,
        post=post,
        start_date=start,
        end_date=end,
        status=PlanStatus.DRAFT,
        options={
            "rules": rules.to_dict(),
            "seconds": seconds,
            "seed": seed,
            "web_limits": limits == eng.WEB_LIMITS,
        },
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    existing = Assignment.objects.filter(shift__in=scope_shifts(deployment, post, start, end)).order_by("pk")
    ProposedAssignment.objects.bulk_create(
        [
            ProposedAssignment(
                plan=plan,
                shift_id=a.shift_id,
                person_id=a.person_id,
                locked=a.check_events.exists(),
                source=ProposalSource.EXISTING,
            )
            for a in existing
        ]
    )
    _audit(actor, "plan.created", plan, start=str(start), end=str(end), seconds=seconds, seed=seed)
    return plan


def plan_rules(plan: RosterPlan) -> Rules:
    return Rules.from_dict(plan.options.get("rules"))


def _limits(plan: RosterPlan) -> eng.Limits:
    return eng.WEB_LIMITS if plan.options.get("web_limits", True) else eng.Limits()


def plan_build(plan: RosterPlan) -> Built:
    rows = list(plan.proposals.values_list("person_id", "shift_id", "locked", "source"))
    return build_problem(
        deployment=plan.deployment,
        post=plan.post,
        start=plan.start_date,
        end=plan.end_date,
        rules=plan_rules(plan),
        locks=[(p, s) for p, s, locked, _src in rows if locked],
        keep=[(p, s) for p, s, locked, src in rows if not locked and src == ProposalSource.EXISTING],
        limits=_limits(plan),
    )


# ---------------------------------------------------------------- solving


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


# ---------------------------------------------------------------- editing the proposal

EDIT_ACTIONS = ("add", "remove", "lock", "unlock")


@transaction.atomic
def proposal_edit(
    *, actor: Any, plan: RosterPlan, action: str, shift: Shift, person: Person
) -> ProposedAssignment | None:
    """Add a person to a shift (locked, checked against the hard rules), remove one, lock or unlock."""
    _require_manage(actor, plan)
    plan = RosterPlan.objects.select_for_update().get(pk=plan.pk)
    if action not in EDIT_ACTIONS:
        raise ValidationError({"action": _("Unknown action %(action)s.") % {"action": action}})
    if plan.status == PlanStatus.PUBLISHED:
        raise ValidationError({"plan": _("This plan is already published; start a new one.")})
    if (
        plan.status == PlanStatus.SOLVING
        or plan.runs.filter(status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).exists()
    ):
        raise ValidationError({"plan": _("Wait until the solve has finished.")})
    if (
        not scope_shifts(plan.deployment, plan.post, plan.start_date, plan.end_date)
        .filter(pk=shift.pk)
        .exists()
    ):
        raise ValidationError({"shift": _("The shift is not in this plan's period.")})
    # Someone the actor may not see is "not found" (no name in any message): to add, the actor must see
    # the person (publishing assigns through ``shift_assign``, which asks the same); to remove, lock or
    # unlock, the person may also be one the plan's page already shows (on its proposal).
    visible = _person_visible(actor, person)
    if not visible and (action == "add" or not _on_plan(plan, person)):
        raise Http404
    row = plan.proposals.filter(shift=shift, person=person).first()
    if action == "add":
        if row is not None:
            raise ValidationError({"person": _("%(person)s is already on this shift.") % {"person": person}})
        built = plan_build(plan)
        if person.code not in built.people:
            raise ValidationError(
                {
                    "person": _(
                        "%(person)s cannot be rostered in this plan (not a candidate, or busy all the time)."
                    )
                    % {"person": person}
                }
            )
        roster = {(r.person.code, str(r.shift_id)) for r in plan.proposals.select_related("person")}
        roster.add((person.code, str(shift.pk)))
        errors = roster_errors(built, roster, person.code)
        if errors:
            raise ValidationError(
                {
                    "person": ValidationError(
                        _("%(person)s cannot take this shift: %(errors)s")
                        % {"person": person, "errors": " ".join(errors)},
                        code="hard_rule",
                    )
                }
            )
        row = ProposedAssignment.objects.create(
            plan=plan, shift=shift, person=person, locked=True, source=ProposalSource.MANUAL
        )
    else:
        if row is None:
            raise ValidationError({"person": _("%(person)s is not on this shift.") % {"person": person}})
        if action == "remove":
            row.delete()
            row = None
        else:
            row.locked = action == "lock"
            row.save(update_fields=["locked"])
    if plan.status == PlanStatus.DRAFT:
        plan.status = PlanStatus.PROPOSED
        plan.save(update_fields=["status", "updated_at"])
    _audit(actor, f"proposal.{action}", plan, shift=shift.pk, person=person.code)
    return row


# ---------------------------------------------------------------- publishing


@dataclass
class Move:
    person: Person
    before: Shift
    after: Shift


@dataclass
class PublishPreview:
    """What publishing the plan would do now (see ``publish_preview``); ``token`` names this state:
    ``plan_publish(expected=token)`` refuses to publish anything else."""

    token: str
    assignments: int  # on the plan's shifts after publishing
    added: list[tuple[Person, Shift]]  # new assignments (those of ``moves`` included)
    removed: list[tuple[Person, Shift]]  # assignments withdrawn (those of ``moves`` included)
    moves: list[Move]  # a person's withdrawn shift paired with a new one of theirs (in time order)
    people: list[Person]  # everyone whose shifts change
    notified: int  # of them, those who will get a notice (a login, or e-mail they chose)
    published_before: bool  # the period's shifts already had assignments

    @property
    def unchanged(self) -> int:
        return self.assignments - len(self.added)


def _publish_state(
    plan: RosterPlan,
) -> tuple[list[Shift], dict[tuple[int, int], Any], dict[tuple[int, int], Any]]:
    shifts = list(scope_shifts(plan.deployment, plan.post, plan.start_date, plan.end_date))
    by_pk = {s.pk for s in shifts}
    current = {
        (a.person_id, a.shift_id): a
        for a in Assignment.objects.filter(shift__in=shifts).select_related("person")
    }
    wanted = {
        (r.person_id, r.shift_id): r
        for r in plan.proposals.select_related("person", "shift")
        if r.shift_id in by_pk
    }
    return shifts, current, wanted


def _publish_token(plan: RosterPlan, current: Any, wanted: Any) -> str:
    text = "|".join(
        [
            str(plan.pk),
            plan.status,
            ",".join(f"{p}:{s}" for p, s in sorted(current)),
            ",".join(f"{p}:{s}" for p, s in sorted(wanted)),
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def publish_preview(*, actor: Any, plan: RosterPlan) -> PublishPreview:
    """The summary shown before publishing: the assignments there will be, those added and withdrawn
    against what is published now (a person's withdrawn and new shifts paired as moves), the people
    whose shifts change and how many of them will be notified. Reads only."""
    _require_manage(actor, plan)
    shifts, current, wanted = _publish_state(plan)
    by_pk = {s.pk: s for s in shifts}
    people: dict[int, Person] = {}
    added: list[tuple[Person, Shift]] = []
    removed: list[tuple[Person, Shift]] = []
    for key in sorted(set(wanted) - set(current), key=lambda k: (by_pk[k[1]].start, k[1], k[0])):
        r = wanted[key]
        added.append((r.person, by_pk[r.shift_id]))
        people[r.person_id] = r.person
    for key in sorted(set(current) - set(wanted), key=lambda k: (by_pk[k[1]].start, k[1], k[0])):
        a = current[key]
        removed.append((a.person, by_pk[a.shift_id]))
        people[a.person_id] = a.person
    moves: list[Move] = []
    for pk in sorted(people):
        gone = [sh for p, sh in removed if p.pk == pk]
        new = [sh for p, sh in added if p.pk == pk]
        moves += [Move(people[pk], b, a) for b, a in zip(gone, new, strict=False)]
    moves.sort(key=lambda m: (m.before.start, m.person.code))
    ordered = sorted(people.values(), key=lambda p: p.code)
    return PublishPreview(
        token=_publish_token(plan, current, wanted),
        assignments=len(wanted),
        added=added,
        removed=removed,
        moves=moves,
        people=ordered,
        notified=len(recipients_of(Person.objects.filter(pk__in=people).select_related("user"))),
        published_before=bool(current),
    )


@dataclass
class PublishResult:
    added: int
    removed: int
    notified: int
    warnings: list[str]


def _fmt(dt: Any) -> str:
    return timezone.localtime(dt, local_tz()).strftime("%Y-%m-%d %H:%M")


@transaction.atomic
def plan_publish(*, actor: Any, plan: RosterPlan, expected: str | None = None) -> PublishResult:
    """Make the proposal the real roster, all or nothing: remove the assignments of the period's shifts
    that the plan dropped and create the new ones through the mobilization services (so their conflict
    rules hold), then notify everyone whose shifts changed. ``expected``: the token of the
    ``publish_preview`` the user confirmed; if the proposal or the published roster changed since,
    nothing is published (code "stale")."""
    _require_manage(actor, plan)
    plan = RosterPlan.objects.select_for_update().get(pk=plan.pk)
    if plan.status != PlanStatus.PROPOSED:
        raise ValidationError(
            {
                "plan": _("Only a proposed roster can be published (this plan is %(status)s).")
                % {"status": plan.get_status_display()}
            }
        )
    shifts, current, wanted = _publish_state(plan)
    by_pk = {s.pk: s for s in shifts}
    if expected is not None and expected != _publish_token(plan, current, wanted):
        raise ValidationError(
            {
                "plan": ValidationError(
                    _(
                        "Nothing was published: the roster changed after you opened the summary. "
                        "Check the new summary and confirm again."
                    ),
                    code="stale",
                )
            }
        )
    removed: dict[int, list[Shift]] = {}
    added: dict[int, list[Shift]] = {}
    people: dict[int, Person] = {}
    for key in sorted(set(current) - set(wanted)):
        a = current[key]
        mob.shift_unassign(actor=actor, shift=by_pk[a.shift_id], person=a.person)
        removed.setdefault(a.person_id, []).append(by_pk[a.shift_id])
        people[a.person_id] = a.person
    warnings: list[str] = []
    for key in sorted(set(wanted) - set(current), key=lambda k: (by_pk[k[1]].start, k[1], k[0])):
        r = wanted[key]
        try:
            res = mob.shift_assign(actor=actor, shift=by_pk[r.shift_id], person=r.person)
        except ValidationError as exc:
            raise ValidationError(
                {
                    "plan": ValidationError(
                        _("Nothing was published: %(person)s on %(shift)s: %(error)s")
                        % {
                            "person": r.person,
                            "shift": _fmt(by_pk[r.shift_id].start),
                            "error": " ".join(exc.messages),
                        },
                        code="conflict",
                    )
                }
            ) from exc
        warnings += [w.message for w in res.warnings]
        added.setdefault(r.person_id, []).append(by_pk[r.shift_id])
        people[r.person_id] = r.person
    plan.status = PlanStatus.PUBLISHED
    plan.published_at = timezone.now()
    plan.save(update_fields=["status", "published_at", "updated_at"])
    link = reverse("mobilize:my_service")
    notified = 0
    for pk in sorted(people):
        person = Person.objects.select_related("user").get(pk=pk)
        lines = [
            _("New: %(start)s – %(end)s") % {"start": _fmt(s.start), "end": _fmt(s.end)}
            for s in added.get(pk, [])
        ]
        lines += [
            _("Cancelled: %(start)s – %(end)s") % {"start": _fmt(s.start), "end": _fmt(s.end)}
            for s in removed.get(pk, [])
        ]
        title = _("Your roster for %(scope)s has changed") % {"scope": plan.scope_name}
        notified += len(
            notify(
                recipients_of([person]),
                verb="roster.published",
                title=title,
                body="\n".join(lines),
                link=link,
            )
        )
    _audit(
        actor,
        "plan.published",
        plan,
        added=sum(len(v) for v in added.values()),
        removed=sum(len(v) for v in removed.values()),
        notified=notified,
    )
    return PublishResult(
        sum(len(v) for v in added.values()),
        sum(len(v) for v in removed.values()),
        notified,
        list(dict.fromkeys(warnings)),
    )


def summary_line(plan: RosterPlan) -> str:
    r = plan.result or {}
    n = plan.proposals.count()
    return ngettext(
        "%(n)s assignment, penalty %(obj)s, %(unc)s shift(s) short",
        "%(n)s assignments, penalty %(obj)s, %(unc)s shift(s) short",
        n,
    ) % {"n": n, "obj": r.get("objective", "—"), "unc": len(r.get("uncovered", []))}
