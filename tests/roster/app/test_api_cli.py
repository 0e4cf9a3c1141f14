"""The API (/api/v1/roster/…) and the command line (muster roster solve)."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import translation

from muster.mobilize.models import Assignment
from muster.notify.models import Notification
from muster.orgs.access import SYSTEM
from muster.orgs.services import person_create
from muster.roster.models import RosterPlan

from .conftest import Batch, Cast

API = "/api/v1/roster"


def _post(c: Client, url: str, data: Any = None) -> Any:
    return c.post(API + url, data or {}, content_type="application/json")


def test_api_create_progress_edit_publish(org: Any, cast: Cast, batch: Batch) -> None:
    c = cast.client(cast.leader)
    with translation.override("en"):
        r = _post(
            c,
            "/plans",
            {"deployment": batch.deployment.code, "start": "2030-03-04", "end": "2030-03-05", "seconds": 1},
        )
        assert r.status_code == 201, r.content
        body = r.json()
        assert body["status"] == "proposed"
        assert body["run"]["status"] == "done"
        assert len(body["proposal"]) == 6
        pid = body["id"]
        prog = c.get(f"{API}/plans/{pid}/progress").json()
        assert prog["status"] == "done" and prog["objective"] == body["result"]["objective"]
        row = body["proposal"][0]
        r = _post(c, f"/plans/{pid}/edit", {"action": "lock", "shift": row["shift"], "person": row["person"]})
        assert r.status_code == 200
        assert [
            x["locked"]
            for x in r.json()["proposal"]
            if x["shift"] == row["shift"] and x["person"] == row["person"]
        ] == [True]
        # a bad edit: 422 with the field's message (董一 of 徐汇 is visible, but not in the batch)
        person_create(actor=SYSTEM, code="XH0099", name="董一", unit=org.xuhui)
        r = _post(c, f"/plans/{pid}/edit", {"action": "add", "shift": row["shift"], "person": "XH0099"})
        assert r.status_code == 422 and "不能在本方案中排班" in r.json()["errors"]["person"][0]
        r = _post(c, f"/plans/{pid}/solve", {"seconds": 1, "seed": 2})
        assert r.status_code == 202 and r.json()["status"] == "done"
        r = _post(c, f"/plans/{pid}/publish")
        assert r.status_code == 200
        assert r.json()["added"] == 6
    assert Assignment.objects.filter(shift__deployment=batch.deployment).count() == 6


def test_api_errors_and_scope(cast: Cast, batch: Batch) -> None:
    c = cast.client(cast.leader)
    with translation.override("en"):
        r = _post(
            c, "/plans", {"deployment": batch.deployment.code, "start": "2030-03-05", "end": "2030-03-04"}
        )
        assert r.status_code == 422
        assert "早于开始日" in r.json()["errors"]["end_date"][0]
        r = _post(
            c,
            "/plans",
            {"deployment": batch.deployment.code, "start": "2030-03-04", "end": "2030-03-05", "seconds": 61},
        )
        assert r.status_code == 422 and "seconds" in r.json()["errors"]
        assert (
            _post(
                cast.client(cast.manager_hp),
                "/plans",
                {"deployment": batch.deployment.code, "start": "2030-03-04", "end": "2030-03-05"},
            ).status_code
            == 422
        )
        assert (
            _post(
                cast.client(cast.viewer),
                "/plans",
                {"deployment": batch.deployment.code, "start": "2030-03-04", "end": "2030-03-05"},
            ).status_code
            == 403
        )
        r = _post(
            c,
            "/plans",
            {"deployment": batch.deployment.code, "start": "2030-03-04", "end": "2030-03-05", "seconds": 1},
        )
        pid = r.json()["id"]
        assert cast.client(cast.manager_hp).get(f"{API}/plans/{pid}").status_code == 404
        assert _post(cast.client(cast.viewer), f"/plans/{pid}/publish").status_code == 403
        assert Client().get(f"{API}/plans/{pid}").status_code == 401


def test_cli_solve_and_publish(org: Any, cast: Cast, batch: Batch) -> None:
    out = StringIO()
    with translation.override("en"):
        call_command(
            "roster",
            "solve",
            "--deployment",
            batch.deployment.code,
            "--from",
            "2030-03-04",
            "--to",
            "2030-03-05",
            "--seconds",
            "1",
            "--seed",
            "1",
            "--publish",
            "--as",
            "leader",
            stdout=out,
        )
    text = out.getvalue()
    assert "penalty" in text
    assert "6 assignments" in text
    assert "Published: 6 added, 0 removed" in text
    assert Assignment.objects.filter(shift__deployment=batch.deployment).count() == 6
    assert RosterPlan.objects.get().status == "published"
    assert Notification.objects.filter(recipient=cast.bob_user).count() == int(
        Assignment.objects.filter(person=org.bob).exists()
    )


def test_cli_errors(cast: Cast, batch: Batch) -> None:
    with translation.override("en"):
        with pytest.raises(CommandError, match="before it starts"):
            call_command(
                "roster",
                "solve",
                "--deployment",
                batch.deployment.code,
                "--from",
                "2030-03-05",
                "--to",
                "2030-03-04",
            )
        with pytest.raises(CommandError, match="not a date"):
            call_command(
                "roster",
                "solve",
                "--deployment",
                batch.deployment.code,
                "--from",
                "tomorrow",
                "--to",
                "2030-03-04",
            )
        with pytest.raises(CommandError, match="Unknown batch"):
            call_command(
                "roster",
                "solve",
                "--deployment",
                batch.deployment.code,
                "--from",
                "2030-03-04",
                "--to",
                "2030-03-05",
                "--as",
                "mgr_hp",
            )
        with pytest.raises(CommandError, match="not allowed"):
            call_command(
                "roster",
                "solve",
                "--deployment",
                batch.deployment.code,
                "--from",
                "2030-03-04",
                "--to",
                "2030-03-05",
                "--as",
                "viewer",
            )


def test_a_solve_started_over_the_api_waits_in_the_task_queue(
    settings: Any, org: Any, cast: Cast, batch: Batch
) -> None:
    """On the database queue (the default) the web process only queues the solve: the task row is
    written with the run, nothing is solved in the request; a `muster worker` runs it (tests/worker)."""
    from django_tasks_db.models import DBTaskResult

    from muster.roster.models import SolveRun

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": []}}
    c = cast.client(cast.leader)
    r = c.post(
        "/api/v1/roster/plans",
        {
            "deployment": batch.deployment.code,
            "start": "2030-03-04",
            "end": "2030-03-05",
            "seconds": 1,
            "solve": True,
        },
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    plan = RosterPlan.objects.get(pk=r.json()["id"])
    run = SolveRun.objects.get(plan=plan)
    assert (run.status, run.attempts, run.started_at) == ("queued", 0, None)
    task = DBTaskResult.objects.get(id=run.task_id)
    assert (task.status, task.queue_name, task.task_path) == (
        "READY",
        "roster",
        "muster.roster.services.solve_task",
    )
    assert task.args_kwargs["kwargs"]["run_id"] == run.pk
    assert plan.status == "solving" and not plan.proposals.filter(source="solver").exists()
    progress = c.get(f"/api/v1/roster/plans/{plan.pk}/progress")
    assert progress.status_code == 200 and progress.json()["status"] == "queued"
    page = c.get(f"/roster/plans/{plan.pk}/progress/")
    assert 'id="run-waiting"' in page.content.decode()  # "waiting for a background worker"
    # a second solve while it waits is refused; cancelling a waiting solve ends it at once
    again = c.post(f"/api/v1/roster/plans/{plan.pk}/solve", {}, content_type="application/json")
    assert again.status_code == 422 and list(again.json()["errors"]) == ["plan"]
    assert c.post(f"/api/v1/roster/plans/{plan.pk}/cancel").status_code == 200
    run.refresh_from_db()
    plan.refresh_from_db()
    assert run.status == "cancelled" and plan.status == "draft"
