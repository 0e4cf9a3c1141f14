"""A worker's heartbeat: a row it refreshes every few seconds from a thread of its own (the task it runs
may take minutes), and a sweep of the tasks of dead workers on every beat."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from datetime import datetime

from django.conf import settings
from django.db import close_old_connections, connections
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.crypto import get_random_string

from muster.worker.models import WorkerHeartbeat
from muster.worker.recovery import Recovered, recover_lost_tasks

log = logging.getLogger(__name__)


def heartbeat_seconds() -> float:
    return float(getattr(settings, "MUSTER_WORKER_HEARTBEAT_SECONDS", 10))


def stale_seconds() -> float:
    return float(getattr(settings, "MUSTER_WORKER_STALE_SECONDS", 60))


def default_worker_id() -> str:
    """host-pid-random, at most 64 characters (unique across the pool, readable in the task rows)."""
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{get_random_string(8)}"[:64]


class Heartbeat:
    """Writes ``WorkerHeartbeat`` for ``worker_id`` and sweeps for lost tasks, every ``interval`` s."""

    def __init__(self, worker_id: str, *, queues: str, interval: float, stale_after: float) -> None:
        self.worker_id = worker_id
        self.queues = queues
        self.interval = interval
        self.stale_after = stale_after
        self.started_at: datetime = timezone.now()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def beat(self) -> None:
        """``last_seen`` is the database's clock (``Now()``), the one the sweep judges by: a host whose
        clock runs behind or ahead cannot make its own worker look dead or another one alive.
        ``started_at`` stays this host's clock, compared only with the claims of this same worker."""
        WorkerHeartbeat.objects.update_or_create(
            worker_id=self.worker_id,
            defaults={"last_seen": Now()},
            create_defaults={
                "last_seen": Now(),
                "started_at": self.started_at,
                "hostname": socket.gethostname()[:255],
                "pid": os.getpid(),
                "queues": self.queues[:255],
            },
        )

    def sweep(self) -> Recovered:
        return recover_lost_tasks(stale_after=self.stale_after)

    def start(self) -> None:
        """First beat (so that the worker is known before it claims anything), then the thread."""
        WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete()  # a restart under the same id
        self.beat()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{self.worker_id}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        last_good = time.monotonic()  # the first beat, in start()
        try:
            while not self._stop.wait(self.interval):
                close_old_connections()  # a connection broken by a database restart is replaced
                try:
                    self.beat()
                    # Sweep only when this worker's previous beat got through too: after the database
                    # was out of reach for a while, every other live worker's beat is old as well, and
                    # their running tasks would be taken for lost. One interval later they have beaten.
                    steady = time.monotonic() - last_good <= 2 * self.interval + 5
                    last_good = time.monotonic()
                    if steady:
                        self.sweep()
                except Exception:  # a locked or briefly unreachable database: try again next beat
                    log.exception("worker %s: heartbeat failed", self.worker_id)
        finally:
            connections.close_all()  # this thread's own connections

    def stop(self) -> None:
        """Stop beating and remove the row (a clean exit: nothing of this worker is left to recover)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval + 30)
        try:
            WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete()
        except Exception:
            log.exception("worker %s: could not remove its heartbeat", self.worker_id)
