"""What other apps did with a partner (a community, village, school or company), read through one registry.

A co-building agreement (支部共建, outreach) lists "the activities that belong to it": its visits and classes,
and the donations a unit gave to the same partner within the agreement's period — which the care ledger keeps.
Outreach may not import care (the import contracts keep the new apps independent), so an app that records
something done with a partner registers a provider here in its ``ready()``, and a page that shows a partner's
activities asks the registry. A provider returns only rows the user may see (its own scoping); the registry
sorts and bounds them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from muster.orgs.models import Partner

LIMIT = 200


@dataclass(frozen=True)
class PartnerActivity:
    """One thing done with a partner, as a page shows it."""

    kind: str  # the label shown ("Donation")
    on: date  # the local day it happened
    title: str
    unit_name: str
    amount: Decimal | None = None
    url: str = ""


Provider = Callable[[Any, Partner, date, "date | None", int], list[PartnerActivity]]
_providers: dict[str, Provider] = {}


def register(key: str, provider: Provider) -> None:
    """Register (or replace) the provider ``key``: ``provider(user, partner, start, end, limit)``."""
    _providers[key] = provider


def activities(
    user: Any, partner: Partner, start: date, end: date | None, *, limit: int = LIMIT
) -> list[PartnerActivity]:
    """Every provider's activities with ``partner`` from ``start`` through ``end`` (open-ended if None) that
    ``user`` may see, newest first, at most ``limit``."""
    rows: list[PartnerActivity] = []
    for key in sorted(_providers):
        rows.extend(_providers[key](user, partner, start, end, limit))
    rows.sort(key=lambda a: (a.on, a.title), reverse=True)
    return rows[:limit]
