"""``muster worker``: run the background tasks (roster solves, notifications, …) from the database queue.

It is django-tasks-db's ``db_worker`` with Muster's defaults — every queue, a heartbeat row that
``/healthz`` reads, and the recovery of tasks left behind by workers that died (see
:mod:`muster.worker.recovery`). Run as many as you like, on one machine or several: a task is claimed by
one worker only. SIGTERM or Ctrl-C lets the running task finish, then exits (press Ctrl-C twice to stop
at once: that task is then failed).
"""

from __future__ import annotations

import logging
import signal
from argparse import ArgumentTypeError
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django_tasks_db.management.commands.db_worker import (
    Worker,
    valid_interval,
    valid_max_tasks,
    validate_worker_id,
)

from muster.audit.context import origin
from muster.worker.heartbeat import Heartbeat, default_worker_id, heartbeat_seconds, stale_seconds


def _positive(value: str) -> float:
    seconds = valid_interval(value)
    if seconds <= 0:
        raise ArgumentTypeError("Must be greater than zero")
    return seconds


class Command(BaseCommand):
    help = _(
        "Run background tasks from the database queue (roster solves, notifications, …). Several "
        "workers may run at once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--queue-name",
            default="*",
            help=_("Queues to run, separated by commas; * for all (default)."),
        )
        parser.add_argument(
            "--exclude-queues", default="", help=_("Queues not to run (with --queue-name=*).")
        )
        parser.add_argument(
            "--interval",
            type=valid_interval,
            default=1.0,
            help=_("Seconds to wait when the queue is empty (default 1)."),
        )
        parser.add_argument("--batch", action="store_true", help=_("Run the tasks waiting now, then exit."))
        parser.add_argument(
            "--max-tasks", type=valid_max_tasks, default=None, help=_("Exit after this many tasks.")
        )
        parser.add_argument(
            "--worker-id",
            type=validate_worker_id,
            default=None,
            help=_("Unique name of this worker (default: host, process id and a random part)."),
        )
        parser.add_argument(
            "--heartbeat",
            type=_positive,
            default=None,
            help=_("Seconds between heartbeats (default MUSTER_WORKER_HEARTBEAT_SECONDS, 10)."),
        )
        parser.add_argument(
            "--stale-after",
            type=_positive,
            default=None,
            help=_(
                "A worker silent this many seconds is taken for dead and its tasks are recovered "
                "(default MUSTER_WORKER_STALE_SECONDS, 60)."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        interval = options["heartbeat"] or heartbeat_seconds()
        stale_after = options["stale_after"] or stale_seconds()
        if stale_after <= interval:
            raise CommandError(
                _("--stale-after (%(stale)s s) must be longer than the heartbeat (%(beat)s s).")
                % {"stale": stale_after, "beat": interval}
            )
        queues = [q for q in options["queue_name"].split(",") if q]
        excluded = [q for q in options["exclude_queues"].split(",") if q]
        if not queues:
            raise CommandError(_("Name at least one queue, or * for all."))
        if excluded and "*" not in queues:
            raise CommandError(_("--exclude-queues works only with --queue-name=*."))
        worker_id = options["worker_id"] or default_worker_id()
        level = logging.WARNING if options["verbosity"] == 0 else logging.INFO
        for name in ("django_tasks", "django_tasks_db", "muster.worker"):
            logging.getLogger(name).setLevel(level)  # task starts and ends on the console
        heartbeat = Heartbeat(worker_id, queues=",".join(queues), interval=interval, stale_after=stale_after)
        heartbeat.start()
        try:
            recovered = heartbeat.sweep()
            for task_id in recovered.requeued:
                self.stdout.write(_("Task %(id)s of a stopped worker is queued again.") % {"id": task_id})
            for task_id in recovered.failed:
                self.stdout.write(_("Task %(id)s of a stopped worker is marked failed.") % {"id": task_id})
            if options["verbosity"] > 0:
                self.stdout.write(
                    _("Worker %(id)s: queues %(queues)s, heartbeat every %(beat)s s.")
                    % {"id": worker_id, "queues": ",".join(queues), "beat": interval}
                )
            self.stdout.flush()
            worker = Worker(
                queue_names=queues,
                interval=options["interval"],
                batch=options["batch"],
                backend_name="default",
                startup_delay=not options["batch"],
                max_tasks=options["max_tasks"],
                worker_id=worker_id,
                excluded_queue_names=excluded,
            )
            saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
            worker.configure_signals()
            try:
                with origin(None, "worker"):
                    worker.run()
            finally:
                for sig, handler in saved.items():
                    signal.signal(sig, handler)
        finally:
            heartbeat.stop()
