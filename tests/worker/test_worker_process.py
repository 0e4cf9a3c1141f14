"""``muster worker`` for real: worker processes on a file SQLite database, a roster solve queued by the
service, the worker killed with ``kill -9`` in the middle of it.

- killed once: the next worker re-queues the solve and runs it to the end; the proposal is stored once
  (one "roster.solve.finished" event, by the second attempt);
- killed on every attempt: after ``SOLVE_ATTEMPTS`` starts the task is failed (``WorkerLost``) and the
  plan's page says "restart the solve".

The test process reads the database file directly (sqlite3) while the workers run; every wait polls with a
generous upper bound, nothing assumes how fast the machine is.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from muster.roster.services import SOLVE_ATTEMPTS
from tests.cli.conftest import MUSTER, ScriptEnv, make_script_env

WAIT = 240.0  # seconds: a generous upper bound for anything to happen, never an expectation

# A batch of 30 volunteers and three shifts a day over two weeks: a solve that uses its time limit.
SETUP = """
import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo
from django.contrib.auth import get_user_model
from muster.mobilize import services as svc
from muster.orgs.access import SYSTEM
from muster.orgs.services import person_create, role_grant, unit_create
from muster.roster import services as rs

tz = ZoneInfo("Asia/Shanghai")
root = unit_create(actor=SYSTEM, code="SH", name="上海市税务局", kind="city_bureau", parent=None)
people = [
    person_create(actor=SYSTEM, code=f"P{i:03d}", name=f"志愿者{i}", unit=root, gender="M") for i in range(30)
]
leader = get_user_model().objects.create_user(username="leader", password="pw-Muster-2026")
role_grant(actor=SYSTEM, user=leader, unit=root, role="leader")
t0 = datetime(2030, 3, 4, tzinfo=tz)
d = svc.deployment_dispatch(
    actor=leader, unit=root, title="核酸检测", start=t0, end=t0 + timedelta(days=14), people=people
).deployment
for day in range(14):
    base = t0 + timedelta(days=day)
    for start, end, seats in ((0, 8, 2), (8, 16, 4), (16, 24, 3)):
        svc.shift_create(
            actor=leader,
            deployment=d,
            start=base + timedelta(hours=start),
            end=base + timedelta(hours=end, minutes=-1 if end == 24 else 0),
            seats=seats,
            label=str(start),
        )
plan = rs.plan_create(
    actor=leader, deployment=d, start=t0.date(), end=(t0 + timedelta(days=13)).date(), seconds=SECONDS
)
run = rs.solve_start(actor=leader, plan=plan)
print(json.dumps({"plan": plan.pk, "run": run.pk, "task": run.task_id, "status": run.status}))
"""

PAGE = """
import json
from django.contrib.auth import get_user_model
from django.test import Client
c = Client(HTTP_HOST="localhost")
c.force_login(get_user_model().objects.get(username="leader"))
r = c.get("/roster/plans/PLAN/")
h = Client(HTTP_HOST="localhost").get("/healthz")
out = {"page": r.status_code, "html": r.content.decode(), "health": h.status_code, "body": h.json()}
print(json.dumps(out))
"""


@dataclass
class World:
    env: ScriptEnv
    plan: int
    run: int
    task: str
    workers: list[subprocess.Popen[str]] = field(default_factory=list)

    @property
    def db(self) -> Path:
        return self.env.var_dir / "muster.sqlite3"

    def one(self, sql: str, *params: Any) -> Any:
        con = sqlite3.connect(self.db, timeout=60)
        try:
            return con.execute(sql, params).fetchone()
        finally:
            con.close()

    def solve_run(self) -> tuple[str, int, str]:
        status, attempts, error = self.one(
            "SELECT status, attempts, error FROM roster_solverun WHERE id = ?", self.run
        )
        return str(status), int(attempts), str(error)

    def task_row(self) -> tuple[str, list[str], str]:
        status, workers, exc = self.one(
            "SELECT status, worker_ids, exception_class_path FROM django_tasks_database_dbtaskresult "
            "WHERE id = ?",
            self.task.replace("-", ""),
        )
        return str(status), list(json.loads(workers)), str(exc)

    def start_worker(self, name: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [
                str(MUSTER),
                "worker",
                "--worker-id",
                name,
                "--heartbeat",
                "1",
                "--stale-after",
                "3",
                "--interval",
                "0.2",
            ],
            env={**self.env.env, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.workers.append(proc)
        return proc

    def wait_for(
        self, what: str, check: Callable[[], bool], proc: subprocess.Popen[str] | None = None
    ) -> None:
        deadline = time.monotonic() + WAIT
        while not check():
            if proc is not None and proc.poll() is not None:
                pytest.fail(f"the worker exited while waiting for {what}: {proc.communicate()[0]}")
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}; run {self.solve_run()}, task {self.task_row()}")
            time.sleep(0.05)

    def kill_during_attempt(self, name: str, attempt: int) -> None:
        """Start a worker, wait until it runs the solve's attempt ``attempt``, ``kill -9`` it."""
        proc = self.start_worker(name)
        self.wait_for(
            f"{name} to run attempt {attempt}",
            lambda: self.solve_run()[:2] == ("running", attempt) and self.task_row()[1][-1:] == [name],
            proc,
        )
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=WAIT)
        status, attempts, _error = self.solve_run()
        assert (status, attempts) == ("running", attempt), "the solve ended before its worker was killed"
        assert self.task_row()[0] == "RUNNING"  # left behind: only a sweep can recover it

    def shell(self, code: str) -> dict[str, Any]:
        result = self.env.run("shell", "-c", code)
        assert result.returncode == 0, result.stderr
        return dict(json.loads(result.stdout.strip().splitlines()[-1]))

    def finished_events(self) -> list[str]:
        con = sqlite3.connect(self.db, timeout=60)
        try:
            rows = con.execute(
                "SELECT changes FROM audit_auditevent WHERE action = ? AND target_id = ?",
                ("roster.solve.finished", str(self.plan)),
            ).fetchall()
        finally:
            con.close()
        return [json.loads(r[0])["attempt"] for r in rows]


def _world(migrated: Path, tmp_path: Path, seconds: int) -> World:
    env = make_script_env(tmp_path / "var", database=migrated)
    made = env.run("shell", "-c", SETUP.replace("SECONDS", str(seconds)))
    assert made.returncode == 0, made.stderr
    info = json.loads(made.stdout.strip().splitlines()[-1])
    assert info["status"] == "queued" and info["task"]
    return World(env, info["plan"], info["run"], info["task"])


@pytest.fixture
def make_world(migrated_template: Path, tmp_path: Path) -> Iterator[Callable[[int], World]]:
    worlds: list[World] = []

    def make(seconds: int) -> World:
        worlds.append(_world(migrated_template, tmp_path, seconds))
        return worlds[-1]

    yield make
    for w in worlds:
        for proc in w.workers:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_a_solve_whose_worker_is_killed_runs_again_and_is_stored_once(make_world: Any) -> None:
    world = make_world(8)
    assert world.solve_run()[:2] == ("queued", 0)
    world.kill_during_attempt("w-first", 1)

    second = world.start_worker("w-second")
    world.wait_for("the solve to end", lambda: world.solve_run()[0] not in ("queued", "running"), second)
    status, attempts, error = world.solve_run()
    assert (status, attempts, error) == ("done", 2, "")
    assert world.task_row() == ("SUCCESSFUL", ["w-first", "w-second"], "")
    # the proposal was written once, by the attempt that owned the run
    assert world.finished_events() == [f"{world.task}/2"]
    plan_status, result = world.one("SELECT status, result FROM roster_rosterplan WHERE id = ?", world.plan)
    assert plan_status == "proposed" and json.loads(result)["status"]
    proposals = world.one("SELECT COUNT(*) FROM roster_proposedassignment WHERE plan_id = ?", world.plan)[0]
    assert proposals > 0

    seen = world.shell(PAGE.replace("PLAN", str(world.plan)))
    assert seen["health"] == 200
    assert seen["body"]["workers"]["live"] == 1  # the killed worker's heartbeat was swept
    assert seen["body"]["queue"] == {"ready": 0, "running": 0, "oldest_ready_age": None}

    second.send_signal(signal.SIGTERM)  # a clean stop removes the worker's heartbeat
    assert second.wait(timeout=WAIT) == 0
    assert world.one("SELECT COUNT(*) FROM worker_workerheartbeat")[0] == 0


def test_a_solve_whose_workers_keep_dying_fails_visibly(make_world: Any) -> None:
    world = make_world(30)
    for attempt in range(1, SOLVE_ATTEMPTS + 1):
        world.kill_during_attempt(f"w-{attempt}", attempt)

    last = world.start_worker("w-last")
    world.wait_for("the solve to be failed", lambda: world.solve_run()[0] == "failed", last)
    status, attempts, error = world.solve_run()
    assert (status, attempts) == ("failed", SOLVE_ATTEMPTS)
    assert "restart the solve" in error
    task_status, workers, exc = world.task_row()
    assert task_status == "FAILED" and exc == "muster.worker.recovery.WorkerLost"
    assert workers == [f"w-{n}" for n in range(1, SOLVE_ATTEMPTS + 1)]
    assert world.finished_events() == []  # nothing was stored
    assert world.one("SELECT status FROM roster_rosterplan WHERE id = ?", world.plan)[0] == "draft"

    seen = world.shell(PAGE.replace("PLAN", str(world.plan)))
    assert seen["page"] == 200
    assert 'id="run-error"' in seen["html"] and "restart the solve" in seen["html"]
    # the plan can be solved again
    again = world.shell(
        "import json; from django.contrib.auth import get_user_model;"
        "from muster.roster import services as rs; from muster.roster.models import RosterPlan;"
        f"plan = RosterPlan.objects.get(pk={world.plan});"
        "run = rs.solve_start(actor=get_user_model().objects.get(username='leader'), plan=plan);"
        "print(json.dumps({'status': run.status}))"
    )
    assert again == {"status": "queued"}
