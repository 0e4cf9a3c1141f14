"""Service hours → points: the mobilization ledger feeds ``service.hour`` facts.

One fact per ledger *chain* (an entry with all its versions), as ``muster.points.facts`` describes:

- source ``mobilize.serviceentry``, source id = the chain id (``ServiceEntry.chain``);
- quantity = the hours of the version in force (its minutes / 60; rounded to 0.01 by the points app);
- date = the local date the approved interval starts; branch = the person's party organization.

``on_ledger_row`` is called by ``muster.mobilize.services._write`` for every ledger row it appends,
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

from collections.abc import Iterator
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from muster.points import kinds
from muster.points.facts import Fact, register_source

SOURCE = "mobilize.serviceentry"
MINUTES_PER_HOUR = Decimal(60)


def service_fact(row: Any) -> Fact:
    """The fact of an approved ledger row (``ChainState.approved_row``)."""
    from muster.mobilize.queries import local_tz

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
    from muster.mobilize.queries import chain_state
    from muster.points.services import facts_record, facts_retract

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
    from muster.mobilize.models import ServiceEntry
    from muster.mobilize.queries import chain_states, local_tz

    tz = local_tz()
    lo = datetime.combine(date(year, 1, 1), time(), tz)
    hi = datetime.combine(date(year + 1, 1, 1), time(), tz)
    chains = ServiceEntry.objects.filter(sign=1, start__gte=lo, start__lt=hi).values("chain")
    rows = ServiceEntry.objects.filter(chain__in=chains).select_related("person", "deployment")
    for state in chain_states(rows):
        approved = state.approved_row
        if approved is not None and lo <= approved.start < hi:
            yield service_fact(approved)


def register() -> None:
    register_source(SOURCE, provider)
