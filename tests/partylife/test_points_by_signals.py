"""Party life tells points what happened through ``partylife.signals`` only (issue 23, step 1).

The points earned are the same as when party life called the points services itself: a meeting's
attendance and lesson, a talk, a post; a correction or a withdrawal reverses them. (Awards moved to the
honors app and announce through ``honors.signals``: ``tests/honors/awards/test_points.py``.) Every
signal is sent inside the service's transaction, so a failing listener leaves nothing written.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.dispatch import Signal

from muster.orgs.access import SYSTEM
from muster.partylife import services as svc
from muster.partylife import signals
from muster.partylife.models import Meeting, ReviewStatus, Talk
from muster.points.models import PointEntry, PointFact
from muster.points.queries import ledger_balances, statement

from .conftest import Party, hold_meeting


class Heard:
    """Records every party-life signal sent, and whether a transaction was open at the time."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any], bool]] = []

    def receiver(self, name: str) -> Any:
        def on(sender: Any, **kwargs: Any) -> None:
            kwargs.pop("signal", None)
            self.sent.append((name, kwargs, transaction.get_connection().in_atomic_block))

        return on


NAMES = ("meeting_approved", "meeting_reopened", "talk_recorded", "talk_withdrawn", "post_designated")


@pytest.fixture
def heard() -> Iterator[Heard]:
    h = Heard()
    receivers = [(getattr(signals, n), h.receiver(n)) for n in NAMES]
    for sig, rec in receivers:
        sig.connect(rec, weak=False)
    yield h
    for sig, rec in receivers:
        sig.disconnect(rec)


def _points(party: Party, person: Any, year: int = 2024) -> list[tuple[str, Decimal]]:
    return [(line.entry.fact.kind, line.entry.points) for line in statement(SYSTEM, person, year).lines]


def test_meeting_points_come_through_the_signal_inside_the_transaction(party: Party, heard: Heard) -> None:
    m = hold_meeting(
        party,
        kinds=["branch_general", "party_lesson"],
        when="2024-03-05 14:00",
        present=[party.m1, party.secretary],
        lecturer=party.secretary,
    )
    assert [(n, kw["meeting"].pk, open_tx) for n, kw, open_tx in heard.sent] == [
        ("meeting_approved", m.pk, True)
    ]
    assert heard.sent[0][1]["actor"] == party.committee_user
    # 3 per meeting kind attended; the lecturer also gets lesson.given (5)
    assert sorted(_points(party, party.m1)) == [
        ("meeting.branch_general", Decimal("3.00")),
        ("meeting.party_lesson", Decimal("3.00")),
    ]
    assert sorted(_points(party, party.secretary)) == [
        ("lesson.given", Decimal("5.00")),
        ("meeting.branch_general", Decimal("3.00")),
        ("meeting.party_lesson", Decimal("3.00")),
    ]
    assert _points(party, party.prob) == []  # excused: nothing

    svc.meeting_correction_start(actor=party.sec_user, meeting=m, reason="考勤有误")
    assert heard.sent[-1][0] == "meeting_reopened"
    assert heard.sent[-1][1]["reason"] == "考勤有误"
    assert heard.sent[-1][2] is True
    assert ledger_balances(2024).get(party.m1.pk, Decimal(0)) == Decimal(0)
    assert ledger_balances(2024).get(party.secretary.pk, Decimal(0)) == Decimal(0)


def test_talk_and_post_points_come_through_their_signals(party: Party, heard: Heard) -> None:
    talk = svc.talk_record(
        actor=party.sec_user,
        unit=party.branch,
        held_on=date(2024, 3, 18),
        topic="谈心",
        participants=[party.secretary, party.m1],
    )
    svc.party_post_create(
        actor=party.sec_user,
        kind="model",
        name="办税服务示范岗",
        unit=party.branch,
        start=date(2024, 1, 1),
        person=party.m1,
    )
    assert [n for n, _kw, _tx in heard.sent] == ["talk_recorded", "post_designated"]
    assert all(tx for _n, _kw, tx in heard.sent)
    assert sorted(_points(party, party.m1)) == [
        ("post.model", Decimal("5.00")),
        ("talk", Decimal("1.00")),
    ]
    assert _points(party, party.secretary) == [("talk", Decimal("1.00"))]

    svc.talk_withdraw(actor=party.sec_user, talk=talk, reason="重复登记")
    assert heard.sent[-1][0] == "talk_withdrawn"
    assert ledger_balances(2024)[party.m1.pk] == Decimal("5.00")
    assert ledger_balances(2024).get(party.secretary.pk, Decimal(0)) == Decimal(0)


def test_a_post_of_a_team_is_announced_and_earns_no_one_points(party: Party, heard: Heard) -> None:
    from muster.orgs.models import Team

    svc.party_post_create(
        actor=SYSTEM,
        kind="responsibility_area",
        name="责任区",
        unit=party.org.xuhui,
        start=date(2024, 2, 1),
        team=Team.objects.get(code="XH-T1"),
    )
    assert [n for n, _kw, _tx in heard.sent] == ["post_designated"]
    assert not PointEntry.objects.exists()


def test_without_the_points_listener_party_life_writes_no_points(party: Party) -> None:
    from muster.points import party_life

    signals.meeting_approved.disconnect(dispatch_uid="points.party_life.meeting_approved")
    try:
        m = hold_meeting(party, kinds=["branch_general"], when="2024-03-05 14:00", present=[party.m1])
    finally:
        signals.meeting_approved.connect(
            party_life._on_meeting_approved, dispatch_uid="points.party_life.meeting_approved"
        )
    assert m.review_status == ReviewStatus.APPROVED
    assert not PointFact.objects.exists()


@pytest.mark.parametrize(
    ("signal", "act"),
    [
        (signals.meeting_approved, "meeting"),
        (signals.talk_recorded, "talk"),
    ],
)
def test_a_failing_listener_rolls_the_change_back(party: Party, signal: Signal, act: str) -> None:
    def boom(sender: Any, **kwargs: Any) -> None:
        raise RuntimeError("listener failed")

    if act == "meeting":
        m = hold_meeting(
            party, kinds=["branch_general"], when="2024-03-05 14:00", present=[party.m1], approve=False
        )
    signal.connect(boom, weak=False, dispatch_uid="test.boom")
    try:
        with pytest.raises(RuntimeError, match="listener failed"):
            if act == "meeting":
                svc.meeting_approve(actor=party.committee_user, meeting=m)
            else:
                svc.talk_record(
                    actor=party.sec_user,
                    unit=party.branch,
                    held_on=date(2024, 3, 18),
                    topic="谈心",
                    participants=[party.secretary, party.m1],
                )
    finally:
        signal.disconnect(dispatch_uid="test.boom")
    assert not PointEntry.objects.exists()
    if act == "meeting":
        assert Meeting.objects.get(pk=m.pk).review_status == ReviewStatus.SUBMITTED
    else:
        assert not Talk.objects.exists()
