"""How a ledger entry is shown over the API (``EntryOut``), shared by the ledger and check-in."""

from __future__ import annotations

from typing import Any

from ninja import Field, Schema

from muster import clock
from muster.mobilize import queries
from muster.mobilize.models import EntryKind, ServiceEntry
from muster.mobilize.queries import ChainState, EntryView

from .common import iso


class EntryOut(Schema):
    id: int = Field(description="the entry's current row: act on this id")
    chain: str
    person: dict[str, str]
    deployment: str | None
    shift: int | None
    kind: str
    kind_label: str
    source: str
    start: str
    end: str
    minutes: int
    hours: str
    approved_minutes: int
    status: str
    proposed: dict[str, Any] | None
    note: str


def _state(row: ServiceEntry) -> ChainState:
    return queries.chain_state(row.chain)


def _entry_out(state: ChainState) -> dict[str, Any]:
    v = EntryView(state)
    origin = state.origin
    current = state.current
    proposed = v.proposed
    return {
        "id": v.id,
        "chain": str(state.chain),
        "person": {"code": origin.person.code, "name": origin.person.name},
        "deployment": origin.deployment.code if origin.deployment_id and origin.deployment else None,
        "shift": origin.shift_id,
        "kind": origin.kind,
        "kind_label": str(EntryKind(origin.kind).label),
        "source": origin.source,
        "start": iso(v.start),
        "end": iso(v.end),
        "minutes": current.minutes,
        "hours": str(clock.minutes_to_hours(current.minutes)),
        "approved_minutes": v.approved_minutes,
        "status": v.status,
        "proposed": (
            {
                "id": proposed.pk,
                "start": iso(proposed.start),
                "end": iso(proposed.end),
                "minutes": proposed.minutes,
                "reason": proposed.reason,
            }
            if proposed is not None
            else None
        ),
        "note": origin.note,
    }
