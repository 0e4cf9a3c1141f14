"""The heartbeat of each running ``muster worker`` (one row a worker, removed when it stops cleanly).

A row whose ``last_seen`` is older than ``MUSTER_WORKER_STALE_SECONDS`` belongs to a worker that died
(``kill -9``, a crash, a lost machine): the tasks it had claimed are recovered by the next sweep
(:mod:`muster.worker.recovery`).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkerHeartbeat(models.Model):
    worker_id = models.CharField(_("worker"), max_length=64, unique=True)
    hostname = models.CharField(_("host"), max_length=255, blank=True)
    pid = models.PositiveIntegerField(_("process id"), default=0)
    queues = models.CharField(_("queues"), max_length=255, blank=True)
    started_at = models.DateTimeField(_("started at"))
    last_seen = models.DateTimeField(_("last heartbeat"), db_index=True)

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")
        ordering = ["-last_seen"]

    def __str__(self) -> str:
        return self.worker_id
