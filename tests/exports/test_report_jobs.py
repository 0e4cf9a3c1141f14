"""Snapshot publishing and large Excel 台账 / CSV exports as report jobs (issue 22, item 5).

A unit whose subtree is larger than MUSTER_REPORTS_BACKGROUND_UNITS goes to ``muster worker`` (queue
"reports"): the page polls the job; the file is downloaded by the requester only (anyone else: 404);
a double click or a retried API call with the same request key publishes once. Smaller units are done at
once, as before. The worker runs in-process (``--batch``) on real transactions, as in production.
"""

from __future__ import annotations

import re
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db.models.functions import Now
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from muster.audit.models import AuditEvent
from muster.exports.models import ReportJob
from muster.reports.models import Snapshot
from muster.worker.models import WorkerHeartbeat
from tests.reports.web.conftest import QUERY, build_ledger

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def ledger(org: Any) -> dict[str, Any]:
    return build_ledger(org)


@pytest.fixture
def large(settings: Any) -> None:
    """Every unit's report counts as large (the test org's city has 5 units)."""
    settings.MUSTER_REPORTS_BACKGROUND_UNITS = 2


def _worker() -> str:
    out = StringIO()
    call_command("worker", "--batch", "--queue-name", "reports", stdout=out)
    return out.getvalue()


def _publish_key(c: Client) -> str:
    page = c.get("/reports/", QUERY).content.decode()
    found = re.search(r'name="request_key" value="([0-9a-f]{32})"', page)
    assert found, "the publish form carries a request key"
    return found.group(1)


def test_a_double_click_publishes_once(org: Any, ledger: Any, make_user: Any, login: Any) -> None:
    manager = login(make_user("mgr", "manager", org.root))
    key = _publish_key(manager)
    assert key != _publish_key(manager)  # each page shown is a request of its own
    first = manager.post("/reports/publish/", {**QUERY, "title": "3月13日", "request_key": key})
    again = manager.post("/reports/publish/", {**QUERY, "title": "3月13日", "request_key": key})
    snap = Snapshot.objects.get()  # a small unit: published at once, and once
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"] == f"/reports/snapshots/{snap.pk}/"
    assert AuditEvent.objects.filter(action="reports.snapshot.published").count() == 1
    # another page (another key) publishes again, as the user asked twice
    manager.post("/reports/publish/", {**QUERY, "request_key": _publish_key(manager)})
    assert Snapshot.objects.count() == 2


@pytest.mark.usefixtures("large")
def test_publishing_a_large_unit_runs_on_the_worker_and_the_page_polls(
    org: Any, ledger: Any, make_user: Any, login: Any
) -> None:
    manager = login(make_user("mgr", "manager", org.root))
    other = login(make_user("mgr2", "manager", org.root))  # same rights, not the requester
    key = _publish_key(manager)
    r = manager.post("/reports/publish/", {**QUERY, "title": "大表", "request_key": key})
    job = ReportJob.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/reports/jobs/{job.pk}/"
    assert job.status == "queued" and job.task_id and not Snapshot.objects.exists()
    page = manager.get(r["Location"]).content.decode()
    assert 'data-status="queued"' in page and f'hx-get="/reports/jobs/{job.pk}/?poll=1"' in page
    assert other.get(r["Location"]).status_code == 404  # only the requester sees the job
    # a double click while it waits: the same job, nothing queued twice
    again = manager.post("/reports/publish/", {**QUERY, "title": "大表", "request_key": key})
    assert again["Location"] == r["Location"] and ReportJob.objects.count() == 1

    _worker()
    job.refresh_from_db()
    snap = Snapshot.objects.get()
    assert job.status == "done" and job.snapshot_id == snap.pk and snap.title == "大表"
    poll = manager.get(f"/reports/jobs/{job.pk}/?poll=1", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-status="done"' in poll and "hx-get" not in poll  # polling stops
    assert f'href="/reports/snapshots/{snap.pk}/"' in poll
    third = manager.post("/reports/publish/", {**QUERY, "title": "大表", "request_key": key})
    assert third["Location"] == f"/reports/snapshots/{snap.pk}/" and Snapshot.objects.count() == 1
    _worker()
    assert Snapshot.objects.count() == 1
    assert AuditEvent.objects.filter(action="reports.snapshot.published").count() == 1


def test_a_large_export_is_written_by_the_worker_for_the_requester_only(
    org: Any, ledger: Any, make_user: Any, login: Any, settings: Any
) -> None:
    manager = login(make_user("mgr", "manager", org.root))
    other = login(make_user("mgr2", "manager", org.root))
    query = {**QUERY, "format": "csv"}
    small = manager.get("/reports/export/", query)  # at once, as before
    assert small.status_code == 200 and small["Content-Type"].startswith("text/csv")
    expected = b"".join(small.streaming_content) if small.streaming else small.content

    settings.MUSTER_REPORTS_BACKGROUND_UNITS = 2
    r = manager.get("/reports/export/", query)
    job = ReportJob.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/reports/jobs/{job.pk}/"
    assert manager.get(f"/reports/jobs/{job.pk}/download/").status_code == 404  # not written yet
    _worker()
    job.refresh_from_db()
    assert job.status == "done" and job.file.name.startswith("exports/")
    page = manager.get(r["Location"]).content.decode()
    assert f'href="/reports/jobs/{job.pk}/download/"' in page
    got = manager.get(f"/reports/jobs/{job.pk}/download/")
    assert got.status_code == 200 and b"".join(got.streaming_content) == expected
    assert (
        got["Content-Disposition"].startswith("attachment")
        and "SH-2022-03-13-2400.csv" in got["Content-Disposition"]
    )
    # nobody else: not the page, not the file, not through the API
    assert other.get(r["Location"]).status_code == 404
    assert other.get(f"/reports/jobs/{job.pk}/download/").status_code == 404
    assert other.get(f"/api/v1/reports/jobs/{job.pk}").status_code == 404
    assert other.get(f"/api/v1/reports/jobs/{job.pk}/download").status_code == 404
    mine = manager.get(f"/api/v1/reports/jobs/{job.pk}").json()
    assert mine["status"] == "done" and mine["download"] == f"/api/v1/reports/jobs/{job.pk}/download"
    api_file = manager.get(mine["download"])
    assert api_file.status_code == 200 and b"".join(api_file.streaming_content) == expected


@pytest.mark.usefixtures("large")
def test_the_api_publishes_a_large_unit_once_per_request_key(
    org: Any, ledger: Any, make_user: Any, login: Any
) -> None:
    boss = login(make_user("boss", "manager", org.root))
    body = {"as_of": "2022-03-14 00:00", "title": "API", "request_key": "client-retry-0001"}
    first = boss.post("/api/v1/reports/snapshots", body, content_type="application/json")
    assert first.status_code == 202, first.content
    job = first.json()
    assert job["status"] == "queued" and job["kind"] == "snapshot" and job["snapshot"] is None
    retry = boss.post("/api/v1/reports/snapshots", body, content_type="application/json")
    assert retry.status_code == 202 and retry.json()["id"] == job["id"]
    _worker()
    done = boss.get(f"/api/v1/reports/jobs/{job['id']}").json()
    snap = Snapshot.objects.get()
    assert done["status"] == "done" and done["snapshot"] == snap.pk
    late = boss.post("/api/v1/reports/snapshots", body, content_type="application/json")
    assert late.status_code == 201 and late.json()["id"] == snap.pk
    header = boss.post(
        "/api/v1/reports/snapshots",
        {"as_of": "2022-03-14 00:00"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="client-retry-0001",
    )
    assert header.status_code == 201 and header.json()["id"] == snap.pk
    assert Snapshot.objects.count() == 1
    bad = boss.post(
        "/api/v1/reports/snapshots", {**body, "request_key": "x y"}, content_type="application/json"
    )
    assert bad.status_code == 422 and "request_key" in bad.json()["errors"]
    other = boss.post(
        "/api/v1/reports/snapshots", {**body, "as_of": "2022-03-13 00:00"}, content_type="application/json"
    )
    assert other.status_code == 422 and "request_key" in other.json()["errors"]


@pytest.mark.usefixtures("large")
def test_a_job_whose_worker_died_is_run_again_and_publishes_once(
    org: Any, ledger: Any, make_user: Any, login: Any
) -> None:
    """A worker claimed the publish job and was killed (its heartbeat went silent): the next worker puts
    the job back in the queue and runs it; the snapshot exists once."""
    manager = login(make_user("mgr", "manager", org.root))
    manager.post("/reports/publish/", {**QUERY, "request_key": _publish_key(manager)})
    job = ReportJob.objects.get()
    WorkerHeartbeat.objects.create(
        worker_id="w-killed", pid=1, started_at=timezone.now() - timedelta(hours=1), last_seen=Now()
    )
    DBTaskResult.objects.get(id=job.task_id).claim("w-killed")
    ReportJob.objects.filter(pk=job.pk).update(status="running")
    WorkerHeartbeat.objects.filter(worker_id="w-killed").update(last_seen=Now() - timedelta(seconds=120))
    out = _worker()
    assert job.task_id in out  # "… queued again" (in the active language)
    job.refresh_from_db()
    assert job.status == "done" and Snapshot.objects.count() == 1
    row = DBTaskResult.objects.get(id=job.task_id)
    assert row.status == "SUCCESSFUL" and len(row.worker_ids) == 2 and row.worker_ids[0] == "w-killed"
