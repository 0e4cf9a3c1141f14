"""``/healthz``: no login, no personal data; the database, the workers' heartbeats and the queue."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db.models.functions import Now
from django.test import Client
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from muster.worker.models import WorkerHeartbeat
from tests.cli.conftest import make_script_env

T0 = datetime(2030, 3, 4, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@task()
def send_reminder(person: str) -> str:
    return person


def _beat(worker: str, age: float) -> None:
    """A heartbeat ``age`` seconds old by the database's clock (the one heartbeats are written with)."""
    seen = Now() - timedelta(seconds=age)
    WorkerHeartbeat.objects.create(worker_id=worker, pid=1, started_at=T0, last_seen=seen)


def _about(age: float | None, expected: float) -> bool:
    """The age as seen a moment after the beat was written: at least ``expected``, never below."""
    return age is not None and expected <= age < expected + 20


@pytest.mark.django_db
def test_healthz_reports_the_database_the_workers_and_the_queue(client: Client, time_machine: Any) -> None:
    time_machine.move_to(T0 - timedelta(seconds=30), tick=False)
    first = send_reminder.enqueue("XH0001")  # waiting 30 s at T0
    time_machine.move_to(T0 - timedelta(seconds=10), tick=False)
    second = send_reminder.enqueue("XH0002")
    running = send_reminder.enqueue("XH0003")
    DBTaskResult.objects.get(id=running.id).claim("w-live")
    send_reminder.using(run_after=T0 + timedelta(hours=1)).enqueue("XH0004")  # not ready before then
    time_machine.move_to(T0, tick=False)
    _beat("w-live", 2)
    _beat("w-dead", 600)

    r = client.get("/healthz")
    assert r.status_code == 200
    assert r["Content-Type"] == "application/json"
    assert "no-cache" in r["Cache-Control"]
    body = r.json()
    assert _about(body["workers"].pop("heartbeat_age"), 2.0)
    assert body == {
        "status": "ok",
        "database": "ok",
        "workers": {"live": 1, "required_within": None},
        "queue": {"ready": 2, "running": 1, "oldest_ready_age": 30.0},
    }
    assert "XH000" not in r.content.decode()  # what the tasks carry is never shown
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405

    # a deferred task waits from its run_after
    time_machine.move_to(T0 + timedelta(hours=1, seconds=5), tick=False)
    DBTaskResult.objects.filter(id__in=[first.id, second.id]).delete()
    body = client.get("/healthz").json()
    assert body["queue"] == {"ready": 1, "running": 1, "oldest_ready_age": 5.0}
    # the Python clock moved an hour on, the database's did not: the heartbeat is still as young
    assert body["workers"]["live"] == 1 and _about(body["workers"]["heartbeat_age"], 2.0)


@pytest.mark.django_db
def test_healthz_fails_without_a_recent_worker_heartbeat_when_required(
    client: Client, settings: Any, time_machine: Any
) -> None:
    time_machine.move_to(T0, tick=False)
    assert client.get("/healthz").status_code == 200  # by default the workers do not count
    settings.MUSTER_HEALTHZ_WORKER_MAX_AGE = 30
    r = client.get("/healthz")
    assert r.status_code == 503
    assert r.json()["status"] == "no_worker"
    assert r.json()["workers"] == {"live": 0, "heartbeat_age": None, "required_within": 30}
    _beat("w-1", 45)
    assert client.get("/healthz").status_code == 503
    _beat("w-2", 5)
    r = client.get("/healthz")
    assert r.status_code == 200
    workers = r.json()["workers"]
    assert workers["live"] == 2 and workers["required_within"] == 30 and _about(workers["heartbeat_age"], 5.0)


def test_healthz_answers_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    env = make_script_env(tmp_path / "var")
    env.env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'no-such-directory' / 'muster.sqlite3'}"
    result = env.run(
        "shell",
        "-c",
        "import json; from django.test import Client; r = Client(HTTP_HOST='localhost').get('/healthz'); "
        "print(json.dumps({'status': r.status_code, 'body': r.json()}))",
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer == {
        "status": 503,
        "body": {"status": "down", "database": "unreachable", "workers": None, "queue": None},
    }
