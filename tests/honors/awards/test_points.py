"""Awarding gives the same points as before the move, and they come through ``honors.signals`` only
(issue 23, item 1): the points app listens to ``honor_approved`` in its ``ready()``; honors never imports
points. The signal is sent inside the decision's transaction, so a failing listener leaves nothing written.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from muster.honors import awards, signals
from muster.honors.models import Honor, HonorStatus
from muster.orgs.access import SYSTEM
from muster.points import awards as points_awards
from muster.points.facts import providers
from muster.points.models import PointEntry, PointFact
from muster.points.queries import ledger_balances, statement

from .conftest import Party, propose


@pytest.fixture
def heard() -> Iterator[list[tuple[dict[str, Any], bool]]]:
    sent: list[tuple[dict[str, Any], bool]] = []

    def on(sender: Any, **kwargs: Any) -> None:
        kwargs.pop("signal", None)
        sent.append((kwargs, transaction.get_connection().in_atomic_block))

    signals.honor_approved.connect(on, weak=False, dispatch_uid="test.heard")
    yield sent
    signals.honor_approved.disconnect(dispatch_uid="test.heard")


def _points(person: Any, year: int = 2024) -> list[tuple[str, str, Decimal]]:
    return [
        (line.entry.fact.kind, line.entry.fact.source_kind, line.entry.points)
        for line in statement(SYSTEM, person, year).lines
    ]


def test_awarding_gives_the_same_points_through_the_signal(party: Party, heard: list[Any]) -> None:
    district = propose(party, level="district")
    commendation = propose(party, kind="commendation", name="通报表扬", level="unit")
    to_unit = propose(party, person=None, unit=party.branch, name="先进基层党组织")
    for h in (district, commendation, to_unit):
        awards.honor_decide(actor=party.committee_user, honor=h, approve=True)
    assert [(kw["honor"].pk, kw["actor"], open_tx) for kw, open_tx in heard] == [
        (district.pk, party.committee_user, True),
        (commendation.pk, party.committee_user, True),
        (to_unit.pk, party.committee_user, True),
    ]
    # the kinds, amounts and source kind of before the move (award.district 6, commendation 3); an
    # honor to a unit earns no one points
    assert sorted(_points(party.m1)) == [
        ("award.district", "partylife.honor", Decimal("6.00")),
        ("commendation", "partylife.honor", Decimal("3.00")),
    ]
    assert ledger_balances(2024) == {party.m1.pk: Decimal("9.00")}
    # a rejected or pending honor earns nothing
    pending = propose(party, level="city")
    awards.honor_decide(actor=party.committee_user, honor=pending, approve=True)
    assert Honor.objects.get(pk=pending.pk).status == HonorStatus.IN_APPROVAL
    assert len(heard) == 3 and ledger_balances(2024) == {party.m1.pk: Decimal("9.00")}


def test_recomputation_finds_the_awards_as_the_listener_wrote_them(party: Party) -> None:
    h = propose(party, level="provincial", awarded_on=date(2024, 9, 1))
    for user in (party.committee_user, party.city_user):
        awards.honor_decide(actor=user, honor=h, approve=True)
    written = {(f.person_id, f.kind, f.source_kind, f.source_id) for f in PointFact.objects.all()}
    provided = {
        (f.person_id, f.kind, f.source_kind, f.source_id) for f in providers()["partylife.honor"](2024)
    }
    assert written == provided == {(party.m1.pk, "award.provincial", "partylife.honor", str(h.pk))}


def test_without_the_points_listener_honors_write_no_points(party: Party) -> None:
    h = propose(party)
    signals.honor_approved.disconnect(dispatch_uid="points.awards.honor_approved")
    try:
        awards.honor_decide(actor=party.committee_user, honor=h, approve=True)
    finally:
        signals.honor_approved.connect(
            points_awards._on_honor_approved, dispatch_uid="points.awards.honor_approved"
        )
    assert Honor.objects.get(pk=h.pk).status == HonorStatus.APPROVED
    assert not PointFact.objects.exists()


def test_a_failing_listener_rolls_the_decision_back(party: Party) -> None:
    h = propose(party)

    def boom(sender: Any, **kwargs: Any) -> None:
        raise RuntimeError("listener failed")

    signals.honor_approved.connect(boom, weak=False, dispatch_uid="test.boom")
    try:
        with pytest.raises(RuntimeError, match="listener failed"):
            awards.honor_decide(actor=party.committee_user, honor=h, approve=True)
    finally:
        signals.honor_approved.disconnect(dispatch_uid="test.boom")
    assert not PointEntry.objects.exists()
    h.refresh_from_db()
    assert h.status == HonorStatus.IN_APPROVAL and not h.approvals.exists()
