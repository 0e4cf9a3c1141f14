"""``/healthz`` for load balancers and monitoring: no login, no personal data, JSON.

- ``database``: "ok" or "unreachable" (a ``SELECT 1``);
- ``workers``: ``live`` (workers whose heartbeat is younger than ``MUSTER_WORKER_STALE_SECONDS``),
  ``heartbeat_age`` (seconds since the newest heartbeat; ``null`` when none), ``required_within``;
- ``queue``: ``ready`` (tasks waiting for a worker), ``running``, ``oldest_ready_age`` (seconds the
  longest-waiting ready task has waited; ``null`` when none).

HTTP 200 when healthy; 503 when the database is unreachable, or — only when
``MUSTER_HEALTHZ_WORKER_MAX_AGE`` is set to N > 0 seconds — when no worker has beaten within N seconds.
(A load balancer in front of the web servers usually should not take them out because the workers are
down: leave it at 0 there and set it where a monitor watches the workers.)
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Case, DurationField, ExpressionWrapper, F, Max, Min, When
from django.db.models.functions import Now
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_tasks_db.models import DBTaskResult, get_date_max

from muster.worker.heartbeat import stale_seconds
from muster.worker.models import WorkerHeartbeat


def _age(now: datetime, then: datetime | None) -> float | None:
    return None if then is None else round(max(0.0, (now - then).total_seconds()), 1)


def health_report() -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) of the health check."""
    required = int(getattr(settings, "MUSTER_HEALTHZ_WORKER_MAX_AGE", 0) or 0)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        now = timezone.now()
        # heartbeats are written with the database's clock: their ages are measured with it too
        beats = WorkerHeartbeat.objects.aggregate(
            age=ExpressionWrapper(Now() - Max("last_seen"), output_field=DurationField())
        )
        recent = Now() - timedelta(seconds=stale_seconds())
        live = WorkerHeartbeat.objects.filter(last_seen__gte=recent).count()
        ready = DBTaskResult.objects.ready()
        # a deferred task waits from its run_after, any other from when it was queued
        waiting = ready.aggregate(
            oldest=Min(Case(When(run_after=get_date_max(), then=F("enqueued_at")), default=F("run_after")))
        )
        depth = ready.count()
        running = DBTaskResult.objects.running().count()
    except DatabaseError:
        return 503, {
            "status": "down",
            "database": "unreachable",
            "workers": None,
            "queue": None,
        }
    age: timedelta | None = beats["age"]
    heartbeat_age = None if age is None else round(max(0.0, age.total_seconds()), 1)
    healthy = not required or (heartbeat_age is not None and heartbeat_age <= required)
    return (200 if healthy else 503), {
        "status": "ok" if healthy else "no_worker",
        "database": "ok",
        "workers": {"live": live, "heartbeat_age": heartbeat_age, "required_within": required or None},
        "queue": {"ready": depth, "running": running, "oldest_ready_age": _age(now, waiting["oldest"])},
    }


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    status, body = health_report()
    return JsonResponse(body, status=status)
