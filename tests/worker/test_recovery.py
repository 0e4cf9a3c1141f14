"""``muster worker`` recovers the tasks of workers that died: a task not declared safe to run again is
failed visibly (``WorkerLost``), never left "running" and never run a second time. (A roster solve, which
is safe to run again, is re-queued: tests/worker/test_worker_process.py kills real workers.)"""

from __future__ import annotations

from datetime import datetime, timedelta
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db.models.functions import Now
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from muster.worker.models import WorkerHeartbeat

T0 = datetime(2030, 3, 4, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
RAN: list[str] = []

# The worker runs in-process and closes its connections when it stops, as it does in production: the
# tests run in real transactions, not in one that a closed connection would end (PostgreSQL).
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _nothing_ran_yet() -> None:
    RAN.clear()


@task()
def export_ledger(unit: str) -> str:
    """Not declared safe to run again (it would e-mail the file twice, say)."""
    RAN.append(unit)
    return unit


def _claimed_by_a_worker_that_then_died(worker: str) -> DBTaskResult:
    """What a worker leaves when it is killed mid-task: its heartbeat, and the task it claimed RUNNING.
    The worker's host clock (Python's, frozen by the tests) says T0; the heartbeat is written with the
    database's clock, as the worker writes it."""
    WorkerHeartbeat.objects.create(worker_id=worker, pid=4242, started_at=T0, last_seen=Now())
    row = DBTaskResult.objects.get(id=export_ledger.enqueue("XH").id)
    row.claim(worker)
    return row


def _silent_for(worker: str, seconds: float) -> None:
    """The worker's last heartbeat was ``seconds`` ago by the database's clock."""
    WorkerHeartbeat.objects.filter(worker_id=worker).update(last_seen=Now() - timedelta(seconds=seconds))


def _worker(*args: str) -> str:
    out = StringIO()
    call_command("worker", "--batch", "--heartbeat", "10", "--stale-after", "60", *args, stdout=out)
    return out.getvalue()


def test_a_task_of_a_dead_worker_is_failed_visibly_once_its_heartbeat_is_stale(time_machine: Any) -> None:
    time_machine.move_to(T0, tick=False)
    row = _claimed_by_a_worker_that_then_died("w-dead")
    _silent_for("w-dead", 50)
    _worker()  # 50 s without a heartbeat: it may still be alive
    row.refresh_from_db()
    assert row.status == "RUNNING"
    assert WorkerHeartbeat.objects.filter(worker_id="w-dead").exists()

    _silent_for("w-dead", 61)
    time_machine.move_to(T0 + timedelta(seconds=61), tick=False)
    out = _worker()
    row.refresh_from_db()
    assert row.status == "FAILED"
    assert row.exception_class_path == "muster.worker.recovery.WorkerLost"
    assert "the worker w-dead stopped while running this task" in row.traceback
    assert row.finished_at == T0 + timedelta(seconds=61)
    assert f"Task {row.id} of a stopped worker is marked failed." in out
    assert RAN == []  # not run again
    assert not WorkerHeartbeat.objects.exists()  # the dead worker's row is gone, and so is this one's
    result = export_ledger.get_result(str(row.id))
    assert result.status == "FAILED" and result.errors[0].exception_class_path.endswith("WorkerLost")


@pytest.mark.parametrize("skew", [timedelta(days=400), timedelta(minutes=5), -timedelta(minutes=5)])
def test_a_live_worker_is_not_taken_for_dead_by_a_host_whose_clock_is_off(
    time_machine: Any, skew: timedelta
) -> None:
    """The worker that sweeps runs on a host whose clock is ``skew`` off the database's; the heartbeat of
    the worker that runs the task is 5 s old by the database's clock: it is alive, its task stays."""
    time_machine.move_to(T0, tick=False)
    row = _claimed_by_a_worker_that_then_died("w-alive")
    _silent_for("w-alive", 5)
    time_machine.move_to(_database_now() + skew, tick=False)
    out = _worker()
    row.refresh_from_db()
    assert row.status == "RUNNING", out
    assert WorkerHeartbeat.objects.filter(worker_id="w-alive").exists()
    assert RAN == []


@pytest.mark.parametrize("skew", [-timedelta(days=400), -timedelta(minutes=5)])
def test_a_dead_worker_is_found_even_by_a_host_whose_clock_is_behind(
    time_machine: Any, skew: timedelta
) -> None:
    """Silent 61 s by the database's clock, the host that sweeps thinks it is earlier: dead all the same."""
    time_machine.move_to(T0, tick=False)
    row = _claimed_by_a_worker_that_then_died("w-gone")
    _silent_for("w-gone", 61)
    time_machine.move_to(_database_now() + skew, tick=False)
    _worker()
    row.refresh_from_db()
    assert row.status == "FAILED" and row.exception_class_path.endswith("WorkerLost")
    assert not WorkerHeartbeat.objects.filter(worker_id="w-gone").exists()


def _database_now() -> datetime:
    """The database's clock, read through a heartbeat row written with ``Now()``."""
    probe = WorkerHeartbeat.objects.create(worker_id="clock-probe", pid=1, started_at=T0, last_seen=Now())
    probe.refresh_from_db()
    probe.delete()
    return probe.last_seen


def test_a_worker_restarted_under_the_same_id_recovers_what_it_had_claimed(time_machine: Any) -> None:
    time_machine.move_to(T0, tick=False)
    row = _claimed_by_a_worker_that_then_died("w-fixed")
    time_machine.move_to(T0 + timedelta(seconds=5), tick=False)
    out = _worker("--worker-id", "w-fixed")  # e.g. a systemd unit with a fixed name, restarted at once
    row.refresh_from_db()
    assert row.status == "FAILED"
    assert "marked failed" in out
    assert RAN == []


def test_the_worker_runs_what_is_queued_and_leaves_no_heartbeat_behind(time_machine: Any) -> None:
    time_machine.move_to(T0, tick=False)
    queued = export_ledger.enqueue("HP")
    _worker("--worker-id", "w-one")
    row = DBTaskResult.objects.get(id=queued.id)
    assert row.status == "SUCCESSFUL" and row.return_value == "HP" and row.worker_ids == ["w-one"]
    assert RAN == ["HP"]
    assert not WorkerHeartbeat.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--heartbeat", "10", "--stale-after", "5"], "must be longer than the heartbeat"),
        (["--queue-name", "roster", "--exclude-queues", "default"], "only with --queue-name=*"),
    ],
)
def test_the_worker_refuses_bad_options(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("worker", "--batch", *args)
