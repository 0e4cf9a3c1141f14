"""The API (/api/v1/roster/…) and the command line (muster roster solve)."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError
from django.test import Client
from django.utils import translation

from muster.mobilize.models import Assignment
from muster.notify.models import Notification
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
        # a bad edit: 422 with the field's message
        r = _post(c, f"/plans/{pid}/edit", {"action": "add", "shift": row["shift"], "person": "HP0001"})
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


@pytest.mark.django_db(transaction=True)
def test_background_solve_in_its_own_thread(settings: Any, org: Any, cast: Cast, batch: Batch) -> None:
    """Without MUSTER_ROSTER_SYNC the solve runs on the worker thread, after the request's commit."""
    import time

    from muster.roster import services
    from muster.roster.models import SolveRun

    settings.MUSTER_ROSTER_SYNC = False
    plan = services.plan_create(
        actor=cast.leader,
        deployment=batch.deployment,
        start=batch.shifts[0].start.date(),
        end=batch.shifts[3].start.date(),
        seconds=1,
    )
    run = services.solve_start(actor=cast.leader, plan=plan)
    assert run.status == "queued"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(0.2)
        try:
            run.refresh_from_db()
        except OperationalError:  # SQLite shared-cache memory database: "table is locked" while it writes
            continue
        if not run.active:
            break
    assert run.status == "done", run.error
    assert run.started_at is not None and run.finished_at is not None
    assert plan.proposals.count() == 6
    with pytest.raises(Exception, match="already running"):
        SolveRun.objects.create(plan=plan, status="running")
        services.solve_start(actor=cast.leader, plan=plan)
