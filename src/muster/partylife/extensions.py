"""What other apps show on party-life pages, without party life importing them.

The meeting page shows the points each person earned by the meeting and their balance of the year.
Points are kept by the points app, which party life must not import (dependencies point one way:
``orgs ← partylife ← points``, see ``../shared/DESIGN.md``). So the points app registers a provider
in its ``AppConfig.ready()`` — the same inversion as ``muster.points.facts.register_source`` — and the
page asks for it here; with no provider registered the points columns stay empty.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from muster.orgs.models import Person
from muster.partylife.models import Meeting


@dataclass(frozen=True)
class MeetingPoints:
    earned: Mapping[int, Decimal]  # {person id: net points the meeting earned them}
    balances: Mapping[int, Decimal]  # {person id: balance of the year}, only people the viewer may see


# (viewer, meeting, people, year) → their points
MeetingPointsProvider = Callable[[Any, Meeting, Sequence[Person], int], MeetingPoints]
_meeting_points: list[MeetingPointsProvider] = []


def provide_meeting_points(provider: MeetingPointsProvider) -> None:
    """Register the provider of the meeting page's points (the points app; registering again replaces)."""
    _meeting_points[:] = [provider]


def meeting_points(user: Any, meeting: Meeting, people: Sequence[Person], year: int) -> MeetingPoints | None:
    """The points of a meeting's people as the registered provider says, or None when none is."""
    if not _meeting_points:
        return None
    return _meeting_points[0](user, meeting, people, year)
