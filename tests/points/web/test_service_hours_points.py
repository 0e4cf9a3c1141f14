"""Approved service hours (the mobilization ledger) earn points; reversals and corrections follow."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from muster.orgs.access import SYSTEM
from muster.points.models import PointEntry, PointFact
from muster.points.queries import facts_balances, ledger_balances
from muster.points.service_hours import SOURCE
from muster.points.services import points_recompute
from tests.points.web.conftest import API, Party, link, post


def _self_report(c: Any, start: str, end: str) -> dict[str, Any]:
    r = post(c, "/mobilize/entries", {"kind": "community", "start": start, "end": end, "note": "社区值守"})
    assert r.status_code == 201, r.content
    return r.json()


def _balance(party: Party) -> Decimal:
    return ledger_balances(2024, person_ids=[party.m1.pk]).get(party.m1.pk, Decimal("0.00"))


def test_approve_reverse_and_correct_service_hours(party: Party, login: Any, make_user: Any) -> None:
    member = login(link(party.m1, make_user("m1")).user)
    sec = login(party.sec_user)
    entry = _self_report(member, "2024-05-01 08:00", "2024-05-01 12:00")
    assert _balance(party) == 0  # pending: nothing yet
    r = post(sec, f"/mobilize/entries/{entry['id']}/approve", {"reason": ""})
    assert r.status_code == 200, r.content
    # 4 hours × 0.5
    assert _balance(party) == Decimal("2.00")
    fact = PointFact.objects.get(source_kind=SOURCE, person=party.m1)
    assert (fact.kind, fact.quantity, str(fact.occurred_on), fact.source_id) == (
        "service.hour",
        Decimal("4.00"),
        "2024-05-01",
        entry["chain"],
    )
    st = member.get(API + "/points/statement", {"year": 2024}).json()
    assert [(e["kind"], Decimal(e["points"])) for e in st["entries"]] == [("service.hour", Decimal(2))]
    # approving twice is refused by the ledger, and writes no second credit
    again = post(sec, f"/mobilize/entries/{entry['id']}/approve", {"reason": ""})
    assert again.status_code == 422
    assert PointEntry.objects.filter(person=party.m1).count() == 1
    # an approver corrects the interval: the old credit is reversed, the new one credited
    r = post(
        sec,
        f"/mobilize/entries/{r.json()['id']}/correct",
        {"start": "2024-05-01 08:00", "end": "2024-05-01 14:00", "reason": "漏记下午"},
    )
    assert r.status_code == 200, r.content
    assert _balance(party) == Decimal("3.00")
    assert [e.points for e in PointEntry.objects.filter(person=party.m1).order_by("id")] == [
        Decimal("2.00"),
        Decimal("-2.00"),
        Decimal("3.00"),
    ]
    # reversed: a reversing entry, the balance back to zero, history kept
    r = post(sec, f"/mobilize/entries/{r.json()['id']}/reverse", {"reason": "重复登记"})
    assert r.status_code == 200, r.content
    assert _balance(party) == Decimal("0.00")
    last = PointEntry.objects.filter(person=party.m1).latest("id")
    assert (last.op, last.points, last.reason) == ("reverse", Decimal("-3.00"), "重复登记")
    assert facts_balances(2024, person_ids=[party.m1.pk]) == {}  # no active fact left


def test_service_hour_cap_at_the_boundary_and_recompute_gives_the_same_balances(
    party: Party, login: Any, make_user: Any
) -> None:
    """0.5 a service hour, capped at 20 a year: 40 hours reach the cap exactly, the next hour earns 0."""
    member = login(link(party.m1, make_user("m1")).user)
    sec = login(party.sec_user)
    for day in ("2024-06-01", "2024-06-02"):
        e = _self_report(member, f"{day} 02:00", f"{day} 22:00")  # 20 hours
        assert post(sec, f"/mobilize/entries/{e['id']}/approve", {}).status_code == 200
    assert _balance(party) == Decimal("20.00")
    e = _self_report(member, "2024-06-03 08:00", "2024-06-03 09:00")
    assert post(sec, f"/mobilize/entries/{e['id']}/approve", {}).status_code == 200
    entries = list(PointEntry.objects.filter(person=party.m1).order_by("id"))
    assert [(x.points, x.capped) for x in entries] == [
        (Decimal("10.00"), False),
        (Decimal("10.00"), False),
        (Decimal("0.00"), True),
    ]
    before = ledger_balances(2024)
    res = points_recompute(actor=SYSTEM, year=2024, reason="年度核对")
    assert (res.facts_added, res.facts_changed, res.facts_retracted, res.credits, res.reversals) == (
        0,
        0,
        0,
        0,
        0,
    )
    assert ledger_balances(2024) == before == facts_balances(2024)


def test_recompute_rederives_service_hours_from_the_ledger(party: Party, login: Any, make_user: Any) -> None:
    """A fact lost from the points side (here: retracted behind the ledger's back) comes back."""
    member = login(link(party.m1, make_user("m1")).user)
    sec = login(party.sec_user)
    e = _self_report(member, "2024-07-01 08:00", "2024-07-01 10:00")
    post(sec, f"/mobilize/entries/{e['id']}/approve", {})
    from muster.points.services import facts_retract

    facts_retract(actor=SYSTEM, source_kind=SOURCE, source_ids=[e["chain"]], reason="test: drift")
    assert _balance(party) == Decimal("0.00")
    res = points_recompute(actor=SYSTEM, year=2024, reason="从台账重算")
    assert res.facts_added == 1 and res.credits == 1
    assert _balance(party) == Decimal("1.00")
    assert ledger_balances(2024) == facts_balances(2024)
