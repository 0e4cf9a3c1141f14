"""Service hours → points: the mobilization ledger feeds ``service.hour`` facts.

One fact per ledger *chain* (an entry with all its versions), as ``muster.points.facts`` describes:

- source ``mobilize.serviceentry``, source id = the chain id (``ServiceEntry.chain``);
- quantity = the hours of the version in force (its minutes / 60; rounded to 0.01 by the points app);
- date = the local date the approved interval starts; branch = the person's party organization.

``on_ledger_row`` runs for every ledger row mobilization appends (its signal ``ledger_rows_written``),
inside the same transaction (a points failure rolls the ledger row back; nothing is half written).
Rows without a sign (pending records, rejections, correction requests) change nothing. After a row
with a sign, the chain's state decides: an approved version in force → ``facts_record`` (idempotent;
a corrected interval re-credits the fact: reversal + new credit), nothing approved any more (a
reversal, or the −1 half of a correction) → ``facts_retract`` (a reversing entry).

``provider(year)`` re-derives the facts of a year from the ledger as it stands, so
``points_recompute`` reconciles the stored facts with the sources (registered by
``muster.points.apps``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from muster.clock import local_tz, year_bounds
from muster.mobilize import signals
from muster.mobilize.models import ServiceEntry
from muster.mobilize.queries import chain_state, chain_states
from muster.orgs.access import SYSTEM
from muster.points import kinds
from muster.points.facts import Fact, register_source
from muster.points.services import facts_record, facts_retract
from muster.worker.recovery import rerun_on_worker_loss

SOURCE = "mobilize.serviceentry"
MINUTES_PER_HOUR = Decimal(60)


def service_fact(row: Any) -> Fact:
    """The fact of an approved ledger row (``ChainState.approved_row``)."""
    note = row.deployment.title if row.deployment_id and row.deployment else row.get_kind_display()
    return Fact(
        person_id=row.person_id,
        kind=kinds.SERVICE_HOUR,
        quantity=Decimal(row.minutes) / MINUTES_PER_HOUR,
        occurred_on=timezone.localtime(row.start, local_tz()).date(),
        source_kind=SOURCE,
        source_id=str(row.chain),
        branch_id=row.person.party_unit_id,
        note=str(note)[:200],
    )


def on_ledger_row(actor: Any, row: Any) -> None:
    """Keep the chain's ``service.hour`` fact in step with the ledger row just written."""
    if row.sign == 0:
        return
    state = chain_state(row.chain)
    approved = state.approved_row
    if approved is None:
        facts_retract(
            actor=actor,
            source_kind=SOURCE,
            source_ids=[str(row.chain)],
            reason=row.reason or _("Service entry reversed"),
        )
    else:
        facts_record(
            actor=actor, facts=[service_fact(approved)], reason=row.reason or _("Service entry approved")
        )


def provider(year: int) -> Iterator[Fact]:
    """Every ``service.hour`` fact whose approved interval starts (local date) in ``year``."""
    lo, hi = year_bounds(year)
    chains = ServiceEntry.objects.filter(sign=1, start__gte=lo, start__lt=hi).values("chain")
    rows = ServiceEntry.objects.filter(chain__in=chains).select_related("person", "deployment")
    for state in chain_states(rows):
        approved = state.approved_row
        if approved is not None and lo <= approved.start < hi:
            yield service_fact(approved)


def on_ledger_bulk(actor: Any, row_ids: Iterable[int]) -> None:
    """A bulk write (the ledger import): the facts of every chain it touched, set-wise.

    The same outcome as ``on_ledger_row`` for each row in turn: a chain with an approved version in
    force gets its fact (one ``facts_record`` call for all of them), a chain with nothing approved any
    more is retracted.
    """
    ids = list(row_ids)
    if not ids:
        return
    chains = ServiceEntry.objects.filter(pk__in=ids).exclude(sign=0).values("chain")
    rows = ServiceEntry.objects.filter(chain__in=chains).select_related("person", "deployment")
    facts, gone = [], []
    for state in chain_states(rows):
        approved = state.approved_row
        if approved is None:
            gone.append(str(state.origin.chain))
        else:
            facts.append(service_fact(approved))
    if gone:
        facts_retract(actor=actor, source_kind=SOURCE, source_ids=gone, reason=_("Service entry reversed"))
    facts_record(actor=actor, facts=facts, reason=_("Service entries imported"))


# A bulk write's facts in chunks of this many ledger rows per task.
BULK_TASK_ROWS = 5_000


@task(queue_name="points")
def record_service_hours(actor_id: int | None, row_ids: list[int]) -> int:
    """The ``service.hour`` facts of a bulk ledger write (the import), on ``muster worker``.

    Crediting points fact by fact costs a few queries each, too many for the import's own transaction
    (3,000 rows: 9,000 queries); the task is queued inside that transaction — it commits or rolls back
    with the rows — and runs set-wise on a worker. Idempotent (facts are keyed by their chain), so a
    worker lost mid-task gets it run again.
    """
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    with transaction.atomic():
        on_ledger_bulk(actor or SYSTEM, row_ids)
    return len(row_ids)


rerun_on_worker_loss(record_service_hours, max_attempts=3)


def _on_ledger_rows(
    sender: Any, *, actor: Any, rows: Sequence[Any] | None = None, row_ids: Iterable[int] = (), **_: Any
) -> None:
    """``mobilize.signals.ledger_rows_written``: one row at a time here, a bulk write on a worker."""
    if rows is not None:
        for row in rows:
            on_ledger_row(actor, row)
        return
    ids = sorted(row_ids)
    for i in range(0, len(ids), BULK_TASK_ROWS):
        record_service_hours.enqueue(getattr(actor, "pk", None), ids[i : i + BULK_TASK_ROWS])


def register() -> None:
    """Register the source for recomputation and listen to the mobilization ledger (``PointsConfig``)."""
    register_source(SOURCE, provider)
    signals.ledger_rows_written.connect(_on_ledger_rows, dispatch_uid="points.service_hours.ledger_rows")
