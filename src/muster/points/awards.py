"""Awards and commendations → points, kept in step through ``muster.honors.signals``.

Honors announces ``honor_approved`` when the last committee of an honor's chain approves it, inside that
transaction; the receiver here records the fact in the same transaction (connected by
``PointsConfig.ready``). Honors never imports the points app. The fact: an approved honor to a person earns
``award.<level>`` or ``commendation`` on its date, source ``partylife.honor``/honor id — the source kind it
had before the honors moved out of party life, so facts recorded then and now are one source (the point
ledger is append-only; a recomputation finds both).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from muster.honors import signals
from muster.honors.models import Honor, HonorKind, HonorStatus
from muster.points import kinds
from muster.points.facts import Fact, register_source
from muster.points.services import facts_record

HONOR = "partylife.honor"
ONE = Decimal(1)


def honor_facts(honor: Honor) -> list[Fact]:
    if honor.person_id is None or honor.status != HonorStatus.APPROVED:
        return []
    kind = kinds.COMMENDATION if honor.kind == HonorKind.COMMENDATION else kinds.award(honor.level)
    branch = honor.person.party_unit_id if honor.person else None
    return [Fact(honor.person_id, kind, ONE, honor.awarded_on, HONOR, str(honor.pk), branch, honor.name)]


def _honor_provider(year: int) -> Iterator[Fact]:
    for h in Honor.objects.filter(awarded_on__year=year, status=HonorStatus.APPROVED).select_related(
        "person"
    ):
        yield from honor_facts(h)


def _on_honor_approved(sender: Any, *, actor: Any, honor: Honor, **_: Any) -> None:
    facts_record(actor=actor, facts=honor_facts(honor), reason=honor.name)


def register() -> None:
    """Register the source for recomputation and listen to honors (``PointsConfig.ready``)."""
    register_source(HONOR, _honor_provider)
    signals.honor_approved.connect(_on_honor_approved, dispatch_uid="points.awards.honor_approved")
