"""Check-in/out with idempotency keys, roll-call and the leader's fixes, over the API."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client

from muster.mobilize.models import CheckEvent, ServiceEntry

from .conftest import API, Api

pytestmark = pytest.mark.django_db


def test_checkin_twice_with_the_same_key_is_one_event_and_the_same_response(
    org: Any, cast: Any, batch: Any, as_: Callable[[Any], Api]
) -> None:
    bob = as_(cast.bob_user)
    sid = batch.shift.pk
    first = bob.post(f"/shifts/{sid}/checkin", {"key": "phone-1-in", "at": "2022-03-12 08:03"})
    again = bob.post(f"/shifts/{sid}/checkin", {"key": "phone-1-in", "at": "2022-03-12 08:03"})
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert first.json()["event"]["kind"] == "in" and first.json()["entry"] is None
    assert "Idempotent-Replayed" not in first and again["Idempotent-Replayed"] == "true"
    assert CheckEvent.objects.count() == 1
    out1 = bob.post(f"/shifts/{sid}/checkout", {"key": "phone-1-out", "at": "2022-03-12 16:00"})
    out2 = bob.post(f"/shifts/{sid}/checkout", {"key": "phone-1-out", "at": "2022-03-12 16:00"})
    assert out1.json() == out2.json()
    entry = out1.json()["entry"]
    assert (entry["minutes"], entry["status"], entry["kind"], entry["deployment"]) == (
        477,
        "pending",
        "dispatch",
        "XH-001",
    )
    assert CheckEvent.objects.count() == 2 and ServiceEntry.objects.count() == 1
    # a key reused for something else is refused
    r = bob.post(f"/shifts/{sid}/checkin", {"key": "phone-1-out"})
    assert r.status_code == 422 and "key" in r.json()["errors"]


def test_checkout_without_checkin(org: Any, cast: Any, batch: Any, as_: Callable[[Any], Api]) -> None:
    r = as_(cast.bob_user).post(f"/shifts/{batch.shift.pk}/checkout", {"key": "o1", "at": "2022-03-12 16:00"})
    assert r.status_code == 422
    assert r.json()["code"] == "not_checked_in" and "XH0002" in r.json()["errors"]["at"][0]
    assert CheckEvent.objects.count() == 0 and ServiceEntry.objects.count() == 0


def test_checkin_out_of_scope_is_not_found(
    org: Any, cast: Any, batch: Any, as_: Callable[[Any], Api]
) -> None:
    sid = batch.shift.pk
    # carol (黄浦) is not on the shift and cannot see 徐汇's batch; nor can 黄浦's manager
    assert as_(cast.carol_user).post(f"/shifts/{sid}/checkin", {"key": "c1"}).status_code == 404
    r = as_(cast.manager_hp).post(f"/shifts/{sid}/checkin", {"key": "m1", "person": "XH0002"})
    assert r.status_code == 404
    # visible but not allowed: a viewer of 徐汇 checking someone else in
    r = as_(cast.viewer).post(f"/shifts/{sid}/checkin", {"key": "v1", "person": "XH0002"})
    assert r.status_code == 403
    assert CheckEvent.objects.count() == 0


def test_checkin_in_the_future_and_unreadable_time(
    org: Any, cast: Any, batch: Any, as_: Callable[[Any], Api]
) -> None:
    bob = as_(cast.bob_user)
    r = bob.post(f"/shifts/{batch.shift.pk}/checkin", {"key": "f1", "at": "2099-01-01 08:00"})
    assert r.status_code == 422 and "at" in r.json()["errors"]
    r = bob.post(f"/shifts/{batch.shift.pk}/checkin", {"key": "f2", "at": "2022-02-30 08:00"})
    assert r.status_code == 422 and r.json()["code"] == "bad_time"


def test_rollcall_records_approved_entries_once(
    org: Any, cast: Any, batch: Any, as_: Callable[[Any], Api]
) -> None:
    leader = as_(cast.leader)
    sid = batch.shift.pk
    body = {
        "key": "roll-0312",
        "lines": [{"person": "XH0002", "check_in": "2022-03-12 08:00", "check_out": "2022-03-12 16:00"}],
    }
    r = leader.post(f"/shifts/{sid}/rollcall", body)
    assert r.status_code == 200, r.json()
    assert r.json()["written"] == 2
    assert [(e["person"]["code"], e["status"], e["minutes"]) for e in r.json()["entries"]] == [
        ("XH0002", "approved", 480)
    ]
    again = leader.post(f"/shifts/{sid}/rollcall", body)
    assert again.json()["written"] == 0 and ServiceEntry.objects.count() == 1
    roll = leader.get(f"/shifts/{sid}/roll").json()
    assert [(x["person"], x["checked_in"]) for x in roll] == [("XH0001", False), ("XH0002", False)]
    assert as_(cast.bob_user).get(f"/shifts/{sid}/roll").status_code == 403
    bal = as_(cast.bob_user).get("/me/balance").json()
    assert (bal["minutes"], bal["hours"], bal["by_kind"]) == (480, "8.00", {"dispatch": 480})
    r = leader.post(f"/shifts/{sid}/rollcall", {"key": "r2", "lines": [{"person": "HP0001"}]})
    assert r.status_code == 422 and "HP0001" in r.json()["errors"]["person"][0]


def test_leader_fixes_times_with_a_reason(org: Any, cast: Any, batch: Any, as_: Callable[[Any], Api]) -> None:
    sid = batch.shift.pk
    bob = as_(cast.bob_user)
    bob.post(f"/shifts/{sid}/checkin", {"key": "b-in", "at": "2022-03-12 07:20"})  # checked in on the bus
    leader = as_(cast.leader)
    r = leader.post(f"/shifts/{sid}/fix", {"person": "XH0002", "check_in": "2022-03-12 08:00", "key": "fx"})
    assert r.status_code == 422 and "reason" in r.json()["errors"]
    r = leader.post(
        f"/shifts/{sid}/fix",
        {
            "person": "XH0002",
            "check_in": "2022-03-12 08:00",
            "check_out": "2022-03-12 16:00",
            "reason": "travel is not service",
            "key": "fx",
        },
    )
    assert r.status_code == 200, r.json()
    assert r.json()["entry"]["minutes"] == 480 and r.json()["entry"]["status"] == "approved"
    assert (
        bob.post(
            f"/shifts/{sid}/fix",
            {"person": "XH0001", "check_in": "2022-03-12 08:00", "reason": "x", "key": "k"},
        ).status_code
        == 403
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="real row locks: run the suite on PostgreSQL")
def test_same_checkout_posted_concurrently_makes_one_entry(org: Any, cast: Any, batch: Any) -> None:
    sid = batch.shift.pk
    first = Client()
    first.force_login(cast.bob_user)
    first.post(
        f"{API}/shifts/{sid}/checkin",
        {"key": "c-in", "at": "2022-03-12 08:00"},
        content_type="application/json",
    )
    barrier = threading.Barrier(4)
    answers: list[Any] = []

    def post() -> None:
        c = Client()
        c.force_login(cast.bob_user)
        try:
            barrier.wait()
            r = c.post(
                f"{API}/shifts/{sid}/checkout",
                {"key": "c-out", "at": "2022-03-12 16:00"},
                content_type="application/json",
            )
            answers.append((r.status_code, r.json()))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [a[0] for a in answers] == [200] * 4
    assert len({a[1]["entry"]["id"] for a in answers}) == 1
    assert ServiceEntry.objects.count() == 1 and CheckEvent.objects.filter(key="c-out").count() == 1
