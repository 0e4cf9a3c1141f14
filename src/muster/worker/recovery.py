"""Tasks left "running" by a worker that died: re-queue them or fail them visibly — never lose them.

django-tasks-db marks a task RUNNING when a worker claims it and only the same worker finishes it. A
worker killed with ``kill -9`` (or a crashed machine) leaves the row RUNNING forever. Every ``muster
worker`` therefore writes a heartbeat (:class:`~muster.worker.models.WorkerHeartbeat`), and at start
and on every heartbeat it sweeps: a RUNNING task whose worker's heartbeat is older than the stale
timeout (or missing, and the task was claimed longer ago than that), or whose worker has restarted
under the same id since it claimed the task, is

- put back in the queue (status READY; the next claim counts a new attempt) when its task was
  registered with :func:`rerun_on_worker_loss` and it has attempts left — for tasks that are safe to
  run again (a roster solve writes its result only for the attempt that owns the run: a rerun cannot
  double-write);
- otherwise marked FAILED with :class:`WorkerLost` as its error, so that it shows as failed and the
  task's owner can say so (the registered ``on_give_up``; a roster plan shows "restart the solve").

"Older than the stale timeout" is decided by the database's clock (``Now()`` in the query), never by
the host's: the heartbeats are written with the database's clock too, so workers on hosts whose clocks
disagree cannot take each other for dead.

Several workers may sweep at once: each recovery re-reads the task under a row lock in its own
transaction and acts only if the task is still RUNNING on the same attempt.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import BooleanField, Case, Value, When
from django.db.models.expressions import Combinable
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks import TaskResultStatus
from django_tasks.base import Task
from django_tasks_db.models import DBTaskResult

from muster.worker.models import WorkerHeartbeat

log = logging.getLogger(__name__)


class WorkerLost(Exception):
    """The worker running a task stopped without finishing it (killed, crashed, machine lost)."""


RequeueHook = Callable[[list[Any], dict[str, Any], int], None]
GiveUpHook = Callable[[list[Any], dict[str, Any], int], None]


@dataclass(frozen=True)
class Policy:
    max_attempts: int
    on_requeue: RequeueHook | None = None
    on_give_up: GiveUpHook | None = None


_POLICIES: dict[str, Policy] = {}


def rerun_on_worker_loss(
    task: Task[Any, Any],
    *,
    max_attempts: int = 3,
    on_requeue: RequeueHook | None = None,
    on_give_up: GiveUpHook | None = None,
) -> None:
    """Declare ``task`` safe to run again after its worker died, up to ``max_attempts`` claims in all.

    ``on_requeue(args, kwargs, attempts)`` runs when it goes back in the queue, ``on_give_up(args, kwargs,
    attempts)`` when it is failed instead (no attempt left); both inside the recovery's transaction.
    Call it at import time of the task's module, next to the task (the sweep imports that module)."""
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    _POLICIES[task.module_path] = Policy(max_attempts, on_requeue, on_give_up)


def policy_for(task_path: str) -> Policy | None:
    """The registered policy of a task path (importing its module registers it); ``None`` if none."""
    if task_path not in _POLICIES:
        try:
            import_string(task_path)
        except ImportError:
            return None
    return _POLICIES.get(task_path)


@dataclass
class Recovered:
    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    dead_workers: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.requeued or self.failed or self.dead_workers)


def _stale_before(stale_after: float) -> Combinable:
    """The database's now minus ``stale_after`` seconds: an expression, evaluated by the database."""
    return Now() - timedelta(seconds=stale_after)


def _older_than(field: str, stale_after: float) -> Case:
    return Case(
        When(**{f"{field}__lt": _stale_before(stale_after)}, then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )


def _lost(task: DBTaskResult, beats: dict[str, tuple[datetime, bool]]) -> bool:
    worker = task.worker_ids[-1] if task.worker_ids else ""
    beat = beats.get(worker)
    if beat is not None:
        started_at, silent = beat
        if task.started_at is not None and task.started_at < started_at:
            # claimed before that worker (re)started under the same id: that process is gone (both times
            # are the clock of the one host that runs the worker)
            return True
        return silent
    # no heartbeat row (the worker never wrote one, or its row was swept): judge by the claim's age
    return task.started_at is None or bool(task.claimed_long_ago)  # type: ignore[attr-defined]


def recover_lost_tasks(*, stale_after: float) -> Recovered:
    """Re-queue or fail the tasks of dead workers (see the module's doc); remove the dead workers'
    heartbeats. Silence is measured with the database's clock."""
    out = Recovered()
    running = list(
        DBTaskResult.objects.running()
        .only("id", "worker_ids", "started_at")
        .annotate(claimed_long_ago=_older_than("started_at", stale_after))
    )
    if running:
        beats = {
            w: (started, bool(silent))
            for w, started, silent in WorkerHeartbeat.objects.annotate(
                silent=_older_than("last_seen", stale_after)
            ).values_list("worker_id", "started_at", "silent")
        }
        for candidate in running:
            if _lost(candidate, beats):
                _recover_one(candidate, now=timezone.now(), out=out)
    with transaction.atomic():
        dead = WorkerHeartbeat.objects.filter(last_seen__lt=_stale_before(stale_after))
        out.dead_workers = list(dead.values_list("worker_id", flat=True))
        dead.delete()
    return out


def _recover_one(candidate: DBTaskResult, *, now: datetime, out: Recovered) -> None:
    with transaction.atomic():
        task = DBTaskResult.objects.select_for_update().filter(pk=candidate.pk).first()
        if task is None or task.status != TaskResultStatus.RUNNING or task.worker_ids != candidate.worker_ids:
            return  # finished meanwhile, or another sweep (or a new claim) got there first
        attempts = len(task.worker_ids)
        policy = policy_for(task.task_path)
        args = task.args_kwargs.get("args", [])
        kwargs = task.args_kwargs.get("kwargs", {})
        worker = task.worker_ids[-1] if task.worker_ids else "?"
        if policy is not None and attempts < policy.max_attempts:
            task.status = TaskResultStatus.READY
            task.save(update_fields=["status"])
            if policy.on_requeue is not None:
                policy.on_requeue(args, kwargs, attempts)
            out.requeued.append(str(task.pk))
            log.warning(
                "task %s (%s): worker %s stopped; queued again (attempt %d of %d done)",
                task.pk,
                task.task_path,
                worker,
                attempts,
                policy.max_attempts,
            )
            return
        task.status = TaskResultStatus.FAILED
        task.finished_at = now
        task.return_value = None
        task.exception_class_path = f"{WorkerLost.__module__}.{WorkerLost.__qualname__}"
        rerun = "" if policy is None else f", after {attempts} attempts"
        started = task.started_at.isoformat(timespec="seconds") if task.started_at else "?"
        task.traceback = (
            f"WorkerLost: the worker {worker} stopped while running this task (claimed {started}, "
            f"found {now.isoformat(timespec='seconds')}{rerun}); it was not run to the end.\n"
        )
        task.save(
            update_fields=["status", "finished_at", "return_value", "exception_class_path", "traceback"]
        )
        if policy is not None and policy.on_give_up is not None:
            policy.on_give_up(args, kwargs, attempts)
        out.failed.append(str(task.pk))
        log.error("task %s (%s): worker %s stopped; marked failed", task.pk, task.task_path, worker)
