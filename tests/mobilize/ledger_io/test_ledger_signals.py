"""The ledger import tells the other apps what it wrote through the same signal as a single entry.

Issue 23's bug from the shape: an approved service row brought in by the ledger import earned no
points, while the same row recorded through ``entry_record`` earned one ``service.hour`` fact — the bulk
path told the reports but forgot the points. Both now announce ``mobilize.signals.ledger_rows_written``.
"""

from __future__ import annotations

from typing import Any

import pytest

from muster.mobilize import services as svc
from muster.mobilize.ledger_io import ledger_import
from muster.mobilize.models import EntryKind, ServiceEntry
from muster.orgs.models import Unit
from muster.points.models import PointFact
from muster.reports import facts
from muster.reports.rollup import rollup, rollup_straight
from tests.reports.test_rollup_exact import _state

from .conftest import at, xlsx

pytestmark = pytest.mark.django_db

# Community service (no batch), approved, on three days; one of them across midnight.
INTERVALS = [
    ("2022-04-01 09:00", "2022-04-01 12:00"),
    ("2022-04-02 14:00", "2022-04-02 17:30"),
    ("2022-04-03 22:00", "2022-04-04 02:00"),
]


def _run_queued_tasks() -> None:
    """What ``muster worker`` would run next, here in the test's transaction (the worker command closes
    its connections when it ends, which would end the test's transaction on PostgreSQL)."""
    from django_tasks_db.models import DBTaskResult

    queued = list(DBTaskResult.objects.ready().order_by("enqueued_at"))
    # the import queues the listeners' set-wise work: points' facts and honors' star tiers
    assert sorted(r.task_path for r in queued) == [
        "muster.honors.listeners.refresh_stars_task",
        "muster.points.service_hours.record_service_hours",
    ]
    for r in queued:
        r.task.call(*r.args_kwargs["args"], **r.args_kwargs["kwargs"])


def _facts_of(person: Any) -> list[tuple[str, str, Any]]:
    rows = PointFact.objects.filter(person=person, active=True).order_by("occurred_on")
    return [(f.kind, str(f.quantity), f.occurred_on) for f in rows]


def test_imported_rows_earn_the_same_points_and_rollup_as_rows_recorded_one_by_one(
    org: Any, cast: Any
) -> None:
    # alice's rows through the import, bob's (the same intervals) through entry_record one by one.
    data = xlsx(None, [[org.alice.code, "", a, b, "居家社区服务", "已审核"] for a, b in INTERVALS])
    result = ledger_import(actor=cast.leader, filename="台账.xlsx", data=data)
    assert result.entries_created == len(INTERVALS)
    for a, b in INTERVALS:
        svc.entry_record(actor=cast.leader, person=org.bob, kind=EntryKind.COMMUNITY, start=at(a), end=at(b))
    assert ServiceEntry.objects.filter(person=org.alice, sign=1).count() == len(INTERVALS)

    # Points: one service.hour fact per row, with the same hours and dates for both — the import's
    # once the worker has run the task queued with it.
    assert _facts_of(org.alice) == []
    _run_queued_tasks()
    imported, recorded = _facts_of(org.alice), _facts_of(org.bob)
    assert recorded and len(recorded) == len(INTERVALS)
    assert imported == recorded

    # Rollup: the maintained facts equal a rebuild from the ledger, and the rollup the straight query.
    before = _state()
    facts.rebuild()
    assert _state() == before
    root = Unit.objects.get(code="SH")
    cut = at("2022-04-05 00:00")
    assert rollup(root, cut) == rollup_straight(root, cut)
    total = rollup(root, cut).total
    assert (total.community_persons, total.community_minutes) == (2, 2 * (180 + 210 + 240))
