"""Honors listens to the mobilization ledger: when approved hours change, people may reach a star tier.

Connected in ``HonorsConfig.ready()`` to ``mobilize.signals.ledger_rows_written``. A single write
(``rows``) is handled inside the writing transaction (a failure rolls the write back). A bulk write
(``row_ids``, the ledger import) queues ``refresh_stars_task`` inside the import's transaction — it commits
or rolls back with the rows — and a worker finds the people and notifies them set-wise, so an import of
thousands of rows does not send its notices inside its own transaction. Rows without a sign (pending,
rejected, correction requests) change no balance and are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django_tasks import task

from muster.orgs.access import SYSTEM
from muster.worker.recovery import rerun_on_worker_loss

CHUNK = 5_000


def _people_of(row_ids: Iterable[int]) -> set[int]:
    from muster.mobilize.models import ServiceEntry

    people: set[int] = set()
    ids = sorted(row_ids)
    for i in range(0, len(ids), CHUNK):
        people |= set(
            ServiceEntry.objects.filter(pk__in=ids[i : i + CHUNK])
            .exclude(sign=0)
            .values_list("person_id", flat=True)
            .distinct()
        )
    return people


@task(queue_name="honors")
def refresh_stars_task(actor_id: int | None, row_ids: list[int]) -> int:
    """The star tiers reached through a bulk ledger write, on ``muster worker``. Idempotent (a tier is
    recorded and announced once per person), so a worker lost mid-task gets it run again."""
    from muster.honors.services import stars_refresh

    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    with transaction.atomic():
        people = _people_of(row_ids)
        if people:
            stars_refresh(actor=actor or SYSTEM, people=people)
    return len(people)


rerun_on_worker_loss(refresh_stars_task, max_attempts=3)


def _on_ledger_rows(
    sender: Any, *, actor: Any, rows: Sequence[Any] | None = None, row_ids: Iterable[int] = (), **_: Any
) -> None:
    from muster.honors.services import stars_refresh

    if rows is None:
        ids = sorted(row_ids)
        if ids:
            refresh_stars_task.enqueue(getattr(actor, "pk", None), ids)
        return
    people = {r.person_id for r in rows if r.sign != 0}
    if people:
        stars_refresh(actor=actor, people=people)


def connect() -> None:
    from muster.mobilize import signals

    signals.ledger_rows_written.connect(_on_ledger_rows, dispatch_uid="honors.stars.ledger_rows")
