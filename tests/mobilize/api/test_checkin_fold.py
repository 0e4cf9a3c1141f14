"""Check-out off the rollup's critical path: the request queues the ledger row, ``facts.fold`` folds it.

A report read right after a check-out includes it (fold on read); a fold is idempotent, a fold that dies
half-way leaves its rows queued for the next, and two folds at once never fold a row twice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from muster.accounts.services import token_create
from muster.mobilize.models import ServiceEntry
from muster.reports import facts
from muster.reports.models import (
    BatchFact,
    Bucket,
    CommunityFact,
    FoldQueue,
    HourBucket,
    PairFact,
    PendingFact,
    PersonFact,
    SpanFact,
)
from muster.reports.rollup import rollup, rollup_straight

from .conftest import Api

pytestmark = pytest.mark.django_db


def _raw() -> tuple[Any, ...]:
    """Every maintained fact and non-zero bucket, as stored (nothing folded first)."""
    figures = facts.FIGURES
    return (
        {(b.node_id, b.own, b.day, *(getattr(b, f) for f in figures)) for b in Bucket.objects.all()},
        {
            (h.node_id, h.own, h.day, h.slot, *(getattr(h, f) for f in figures))
            for h in HourBucket.objects.all()
        },
        set(BatchFact.objects.values_list("deployment_id", "start_m")),
        set(PairFact.objects.values_list("deployment_id", "person_id", "first_m")),
        set(PersonFact.objects.values_list("person_id", "node_id", "own", "first_m")),
        set(CommunityFact.objects.values_list("person_id", "first_m")),
        set(SpanFact.objects.values_list("row_id", "sign", "start_m", "end_m")),
        set(PendingFact.objects.values_list("row_id", "start_m", "minutes")),
    )


def _nonzero(state: tuple[Any, ...]) -> tuple[Any, ...]:
    days, hours, *rest = state
    return ({b for b in days if any(b[3:])}, {h for h in hours if any(h[4:])}, *rest)


def _rebuilt() -> tuple[Any, ...]:
    facts.rebuild()
    return _nonzero(_raw())


def _check_in_out(api: Api, sid: int, n: int, *, person: str | None = None) -> list[Any]:
    """``n`` hour-long services on the shift (in at 08:00 + 2i h, out an hour later)."""
    out = []
    for i in range(n):
        extra = {"person": person} if person else {}
        hour_in, hour_out = f"2022-03-12 {8 + 2 * i:02d}:00", f"2022-03-12 {9 + 2 * i:02d}:00"
        r = api.post(f"/shifts/{sid}/checkin", {"key": f"{person}-in-{i}", "at": hour_in, **extra})
        assert r.status_code == 200, r.content
        r = api.post(f"/shifts/{sid}/checkout", {"key": f"{person}-out-{i}", "at": hour_out, **extra})
        assert r.status_code == 200, r.content
        out.append(r.json()["entry"])
    return out


def test_checkout_queues_the_row_and_touches_no_bucket(
    org: Any, cast: Any, batch: Any, as_: Callable[[Any], Api]
) -> None:
    _, token = token_create(actor=cast.bob_user, user=cast.bob_user, name="phone")
    bob = Api(Client(HTTP_AUTHORIZATION=f"Bearer {token}"))  # as the phone app (and the benchmark) call it
    sid = batch.shift.pk
    with CaptureQueriesContext(connection) as checkin:
        assert bob.post(f"/shifts/{sid}/checkin", {"key": "in", "at": "2022-03-12 08:00"}).status_code == 200
    with CaptureQueriesContext(connection) as checkout:
        assert (
            bob.post(f"/shifts/{sid}/checkout", {"key": "out", "at": "2022-03-12 16:00"}).status_code == 200
        )
    for q in (*checkin.captured_queries, *checkout.captured_queries):
        sql = q["sql"].lower()
        assert (
            "reports_bucket" not in sql and "reports_hourbucket" not in sql and "reports_spanfact" not in sql
        )
    queued = [
        q for q in checkout.captured_queries if "insert into" in q["sql"].lower() and "foldqueue" in q["sql"]
    ]
    assert len(queued) == 1
    assert list(FoldQueue.objects.values_list("row_id", flat=True)) == [ServiceEntry.objects.get().pk]
    # the trimmed path (was 18 and 29 with the rollup maintenance): the lock, the replay check and the
    # state in one go, no person lock for a check-in
    assert len(checkin.captured_queries) <= 14, [q["sql"][:80] for q in checkin.captured_queries]
    assert len(checkout.captured_queries) <= 22, [q["sql"][:80] for q in checkout.captured_queries]


def test_a_report_right_after_a_checkout_includes_it(
    org: Any, cast: Any, batch: Any, as_: Callable[[Any], Api]
) -> None:
    sid = batch.shift.pk
    _check_in_out(as_(cast.bob_user), sid, 1, person=None)  # self-service: pending
    leader = as_(cast.leader)
    entries = _check_in_out(leader, sid, 2, person="XH0001")  # roll-call by the leader: approved
    assert [e["status"] for e in entries] == ["approved", "approved"]
    assert FoldQueue.objects.count() == 3
    # over HTTP, as a user reads it: the approved hours are there at once
    r = leader.client.get("/api/v1/reports/rollup", {"as_of": "2022-03-12 24:00"})
    assert r.status_code == 200, r.content
    total = r.json()["total"]
    assert (total["hours"], total["person_times"], total["persons"], total["batches"]) == (2, 1, 1, 1)
    assert FoldQueue.objects.count() == 0
    # and the pending one, shown apart; at every cutoff, equal to the straight query over the ledger
    report = rollup(org.xuhui, batch.shift.end)
    assert (report.total.pending_entries, report.total.pending_minutes) == (1, 60)
    for hour in range(7, 17):
        cut = batch.shift.start.replace(hour=hour, minute=30)
        assert rollup(org.xuhui, cut) == rollup_straight(org.xuhui, cut), cut


def test_fold_is_idempotent_and_equals_a_rebuild(
    org: Any, cast: Any, batch: Any, as_: Callable[[Any], Api]
) -> None:
    sid = batch.shift.pk
    _check_in_out(as_(cast.leader), sid, 3, person="XH0001")
    _check_in_out(as_(cast.bob_user), sid, 2)
    before = _raw()
    assert FoldQueue.objects.count() == 5
    assert facts.fold() == 5
    folded = _nonzero(_raw())
    assert folded != _nonzero(before)
    assert facts.fold() == 0  # nothing queued: nothing changes
    assert facts.fold_task.call() == 0
    assert _nonzero(_raw()) == folded
    assert _rebuilt() == folded


def test_a_fold_killed_half_way_leaves_its_rows_for_the_next(
    org: Any, cast: Any, batch: Any, as_: Callable[[Any], Api], monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = batch.shift.pk
    _check_in_out(as_(cast.leader), sid, 3, person="XH0001")
    before = _raw()
    real = facts._fold_rows

    def dies(**kwargs: Any) -> None:
        real(**kwargs)  # the facts and buckets are written …
        raise SystemExit("worker killed")  # … and the process dies before the commit

    monkeypatch.setattr(facts, "_fold_rows", dies)
    with pytest.raises(SystemExit):
        facts.fold(batch=2)
    assert _raw() == before  # rolled back: nothing half written
    assert FoldQueue.objects.count() == 3  # still queued
    monkeypatch.setattr(facts, "_fold_rows", real)
    assert facts.fold(batch=2) == 3
    assert FoldQueue.objects.count() == 0
    folded = _nonzero(_raw())
    assert _rebuilt() == folded


def test_the_fold_task_is_queued_after_the_commit(
    org: Any, cast: Any, batch: Any, as_: Callable[[Any], Api], django_capture_on_commit_callbacks: Any
) -> None:
    facts._next_enqueue = 0.0
    leader = as_(cast.leader)
    with django_capture_on_commit_callbacks(execute=True):
        _check_in_out(leader, batch.shift.pk, 2, person="XH0001")
    tasks = DBTaskResult.objects.filter(task_path__endswith="fold_task")
    assert tasks.count() == 1  # debounced: one task for the writes of this second
    assert tasks.get().run_after is not None
    assert facts.fold_task.call() == 2
    assert FoldQueue.objects.count() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="real row locks: run the suite on PostgreSQL")
def test_two_folds_at_once_fold_each_row_once(
    org: Any, cast: Any, batch: Any, as_: Callable[[Any], Api]
) -> None:
    _check_in_out(as_(cast.leader), batch.shift.pk, 4, person="XH0001")
    assert FoldQueue.objects.count() == 4
    holding, release = threading.Event(), threading.Event()
    results: dict[str, Any] = {}

    def first() -> None:  # takes the lock and folds, slowly
        try:
            with transaction.atomic():
                assert facts._lock(wait=True)
                holding.set()
                release.wait(30)
                results["first"] = facts._fold_queued()
        finally:
            connections.close_all()

    def other(name: str, wait: bool) -> None:
        try:
            holding.wait(30)
            results[name] = facts.fold(wait=wait)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=first),
        threading.Thread(target=other, args=("skipper", False)),
        threading.Thread(target=other, args=("waiter", True)),
    ]
    for t in threads:
        t.start()
    threads[1].join(30)
    assert results["skipper"] is None  # stepped aside while the first one holds the lock
    assert "waiter" not in results  # waits for the lock
    release.set()
    for t in threads:
        t.join(30)
    assert results["first"] == 4 and results["waiter"] == 0
    assert FoldQueue.objects.count() == 0
    folded = _nonzero(_raw())
    assert _rebuilt() == folded
    root = org.xuhui
    assert rollup(root, batch.shift.end) == rollup_straight(root, batch.shift.end)
