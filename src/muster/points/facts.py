"""The interface other apps use to earn points: they emit *facts*, the points app turns them into entries.

A fact says: this person did (or failed to do) something of this kind, this much, on this date, and
here is the record that proves it (``source_kind`` + ``source_id``). It is identified by
(source_kind, source_id, person, kind): emitting the same fact again is a no-op, emitting it with a
changed quantity or date re-credits it, retracting it writes a reversing entry.

How an app feeds the ledger (e.g. the service-hours ledger of ``mobilize``)::

    from muster.points.facts import Fact
    from muster.points.services import facts_record, facts_retract

    facts_record(actor=actor, facts=[Fact(
        person_id=entry.person_id, kind=kinds.SERVICE_HOUR, quantity=Decimal(minutes) / 60,
        occurred_on=local_date(entry.start), source_kind="mobilize.serviceentry",
        source_id=str(entry.chain), branch_id=entry.person.party_unit_id, note=batch_title)])
    # when the entry is reversed or rejected after approval:
    facts_retract(actor=actor, source_kind="mobilize.serviceentry", source_ids=[str(entry.chain)],
                  reason=why)

To let an administrator *recompute from the sources* (not only from the stored facts), an app also
registers a provider: ``register_source("mobilize.serviceentry", provider)``, where
``provider(year)`` yields every fact of that source kind whose date falls in ``year`` as the source
records say now. ``points_recompute`` then reconciles the stored facts with them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class Fact:
    person_id: int
    kind: str  # a code of ``muster.points.kinds`` (or any code a rule exists for)
    quantity: Decimal  # 1 for an attendance; hours for service hours; points for a manual entry
    occurred_on: date  # the date the rules in force are looked up for; also the scoring year
    source_kind: str  # "partylife.attendance", "mobilize.serviceentry", …
    source_id: str
    branch_id: int | None = None  # the person's party organization at that date (for branch boards)
    note: str = ""  # shown on the statement, e.g. the meeting's topic

    @property
    def key(self) -> tuple[str, str, int, str]:
        return (self.source_kind, self.source_id, self.person_id, self.kind)


Provider = Callable[[int], Iterable[Fact]]
_PROVIDERS: dict[str, Provider] = {}


def register_source(source_kind: str, provider: Provider) -> None:
    """Register how to re-derive the facts of ``source_kind`` for one year (see module docstring)."""
    _PROVIDERS[source_kind] = provider


def providers() -> dict[str, Provider]:
    return dict(_PROVIDERS)
