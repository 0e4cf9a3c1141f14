"""The rostering page in a browser (issue 27, items 8 and 9): the coordinator starts a solve that waits
on the database queue; the page polls a progress bar; the queued task is then run in-process and, at
the first roster the engine offers, the test checks in the browser that the page shows that roster
while the solve is still running (the engine waits meanwhile: deterministic, not timed); the page
refreshes to the proposal; publishing shows a summary, a stale confirm is refused, the fresh one
publishes; the published 排班表 downloads as Excel and prints on A4 landscape.

The solve's time limit is deterministic work (never the wall clock); the live server shares the test's
in-memory SQLite database, so the queued task runs in the test's process."""

from __future__ import annotations

import dataclasses
import io
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "pw-Muster-2026"
TZ = ZoneInfo("Asia/Shanghai")
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": []}}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium"),
]


def _at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=TZ)


def _log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/accounts/login/'] button[type=submit]")
    page.wait_for_url(f"{base}/")


@pytest.mark.django_db(transaction=True)
def test_progress_incumbent_publish_confirm_and_exports(
    browser: Any, live_server: Any, org: Any, make_user: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django_tasks import TaskContext
    from django_tasks_db.models import DBTaskResult
    from openpyxl import load_workbook
    from playwright.sync_api import expect

    from muster.clock import local_tz
    from muster.mobilize import services as svc
    from muster.mobilize.models import Assignment
    from muster.mobilize.shift_templates import three_rotations
    from muster.orgs.access import SYSTEM
    from muster.orgs.models import Person
    from muster.orgs.services import person_create
    from muster.roster import engine as eng
    from muster.roster import services
    from muster.roster.models import PlanStatus, RosterPlan

    settings.TASKS = DB_TASKS
    settings.MUSTER_MIN_REST_MINUTES = 480
    real_solve = eng.solve
    leader = make_user("leader1", "leader", org.xuhui)
    volunteer = make_user("bob")
    Person.objects.filter(pk=org.bob.pk).update(user=volunteer)
    extra = [
        person_create(actor=SYSTEM, code=f"XH01{i}", name=f"陈{n}", unit=org.xuhui, gender="M")
        for i, n in ((1, "一"), (2, "二"))
    ]
    d = svc.deployment_dispatch(
        actor=leader,
        unit=org.xuhui,
        title="核酸检测",
        start=_at("2030-03-04 00:00"),
        end=_at("2030-03-06 08:00"),
        people=[org.alice, org.bob, *extra],
        site="宛平社区",
    ).deployment
    specs = three_rotations(_at("2030-03-04 00:00").date(), 2, local_tz(), start_hour=8, seats=1)
    svc.shifts_create(actor=leader, deployment=d, specs=specs)
    base = live_server.url
    errors: list[str] = []
    seen: dict[str, Any] = {}
    context = browser.new_context(timezone_id="Asia/Shanghai", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.on("pageerror", lambda e: errors.append(str(e)))
    _log_in(page, base, "leader1")
    page.goto(f"{base}/roster/new/?deployment={d.pk}")
    # seed and time limit are under "advanced", closed; the defaults stand
    expect(page.locator("#id_seed")).to_be_hidden()
    page.click("#solve-advanced summary")
    expect(page.locator("#id_seed")).to_be_visible()
    page.fill("#id_seconds", "1")
    page.click("#solve-submit")
    # queued (no worker yet): the bar at 0, the shifts without counts
    expect(page.locator("#run-waiting")).to_be_visible()
    expect(page.locator("#run-progress")).to_have_attribute("aria-valuenow", "0")
    expect(page.locator("#waiting-shifts li")).to_have_count(6)
    plan = RosterPlan.objects.get()

    def watching(problem: eng.Problem, options: eng.Options | None = None) -> eng.Result:
        opts = dataclasses.replace(options or eng.Options(), deterministic=True)
        inner = opts.progress

        def progress(ev: eng.Progress) -> None:
            assert inner is not None
            inner(ev)
            if ev.roster is not None and "pairs" not in seen:
                # the solve waits here while the polling page picks up the stored roster
                seen["pairs"] = ev.roster()
                board = page.locator("#incumbent-shifts")
                expect(board).to_be_visible()
                expect(page.locator("#run-status")).to_have_text("运行中")
                for sid in {int(s) for _c, s in seen["pairs"]}:
                    expect(board.locator(f"tr[data-shift='{sid}'] td[data-count]")).to_have_text("1 / 1")
                expect(page.locator("#per-shift")).to_have_count(0)
                seen["bar"] = page.locator("#run-progress .progress-bar").inner_text()

        return real_solve(problem, dataclasses.replace(opts, progress=progress))

    monkeypatch.setattr(eng, "solve", watching)
    queued = [t for t in DBTaskResult.objects.ready() if t.task_path.endswith(".solve_task")]
    assert len(queued) == 1
    t = queued[0]
    t.task.call(TaskContext(task_result=t.task_result), *t.args_kwargs["args"], **t.args_kwargs["kwargs"])
    assert seen["pairs"] and "%" in seen["bar"]
    # the solve is over: the page refreshes itself to the proposal
    expect(page.locator("#per-shift")).to_be_visible()
    expect(page.locator("#run-status")).to_have_text("完成")
    expect(page.locator("#run-progress")).to_have_attribute("aria-valuenow", "100")
    expect(page.locator("#per-shift tbody tr")).to_have_count(6)
    n = plan.proposals.count()
    assert n >= 4

    # publish: a summary first
    page.click("#publish-button")
    expect(page.locator("#sum-added")).to_have_text(str(n))
    expect(page.locator("#sum-removed")).to_have_text("0")
    # meanwhile the plan changes (someone else removes a row): the confirm is refused
    row = plan.proposals.order_by("shift__start", "person__code").first()
    assert row is not None
    services.proposal_edit(actor=leader, plan=plan, action="remove", shift=row.shift, person=row.person)
    page.click("#confirm-publish")
    expect(page.locator(".alert-danger, .alert-error").first).to_be_visible()
    assert not Assignment.objects.filter(shift__deployment=d).exists()
    expect(page.locator("#sum-added")).to_have_text(str(n - 1))  # the new summary
    page.click("#confirm-publish")
    expect(page.locator("#plan-status")).to_have_text("已发布")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PUBLISHED
    assert Assignment.objects.filter(shift__deployment=d).count() == n - 1

    # the published 排班表: Excel download and the print layout
    with page.expect_download() as info:
        page.click("#export-xlsx")
    wb = load_workbook(io.BytesIO(Path(info.value.path()).read_bytes()), read_only=True)
    assert len(wb.sheetnames) == 2
    flat = list(wb[wb.sheetnames[1]].iter_rows(values_only=True))
    assert len(flat) - 1 == n - 1
    page.click("#print-link")
    expect(page.locator("#print-grid")).to_be_visible()
    expect(page.locator("#print-grid tbody tr[data-person]")).to_have_count(
        plan.proposals.values("person").distinct().count()
    )
    page.emulate_media(media="print")
    expect(page.locator("#print-button")).to_be_hidden()
    pdf = page.pdf(prefer_css_page_size=True)
    assert pdf.startswith(b"%PDF")
    assert errors == []
