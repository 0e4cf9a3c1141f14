"""Rostering in a browser: a coordinator opens a batch, presses 排班, waits for the proposal, publishes
it, and a member sees the notification under the bell.

The solve runs inline (the tasks' immediate backend): the test database is SQLite in shared-cache memory,
which a `muster worker` process cannot share. The worker is tested in tests/worker (a real worker
process on a file database, killed with kill -9 mid-solve) and the live progress fragment over HTTP in
tests/roster/app (test_progress_polls_while_running)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "pw-Muster-2026"
TZ = ZoneInfo("Asia/Shanghai")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium"),
]


def _log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/accounts/login/'] button[type=submit]")
    page.wait_for_url(f"{base}/")


@pytest.mark.django_db(transaction=True)
def test_roster_a_batch_publish_and_notify(
    browser: Any, live_server: Any, org: Any, make_user: Any, settings: Any
) -> None:
    from playwright.sync_api import expect

    from muster.mobilize import services as svc
    from muster.mobilize.models import Assignment
    from muster.orgs.models import Person

    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": []}
    }
    leader = make_user("leader1", "leader", org.xuhui)
    volunteer = make_user("bob")
    Person.objects.filter(pk=org.bob.pk).update(user=volunteer)
    d = svc.deployment_dispatch(
        actor=leader,
        unit=org.xuhui,
        title="核酸检测",
        start=datetime(2030, 3, 4, 0, 0, tzinfo=TZ),
        end=datetime(2030, 3, 5, 0, 0, tzinfo=TZ),
        people=[org.alice, org.bob],
    ).deployment
    svc.shift_create(
        actor=leader,
        deployment=d,
        start=datetime(2030, 3, 4, 8, 0, tzinfo=TZ),
        end=datetime(2030, 3, 4, 16, 0, tzinfo=TZ),
        seats=2,
        label="白班",
    )
    base = live_server.url
    errors: list[str] = []
    page = browser.new_context(timezone_id="Asia/Shanghai").new_page()
    page.set_default_timeout(30_000)
    page.on("pageerror", lambda e: errors.append(str(e)))
    _log_in(page, base, "leader1")
    page.goto(f"{base}/mobilize/batches/{d.pk}/")
    expect(page.locator("#roster-link")).to_contain_text("排班")
    page.click("#roster-link")
    page.click("#solve-advanced summary")  # the time limit is under "advanced"
    page.fill("#id_seconds", "2")
    page.click("#solve-submit")
    # the plan page shows the finished run and the proposal
    expect(page.locator("#publish-button")).to_be_visible()
    expect(page.locator("#run-status")).to_have_text("完成")
    expect(page.locator("#per-shift span[data-person]")).to_have_count(2)
    page.click("#publish-button")  # a summary first, then confirm
    expect(page.locator("#sum-added")).to_have_text("2")
    page.click("#confirm-publish")
    expect(page.locator("#plan-status")).to_have_text("已发布")
    assert Assignment.objects.filter(shift__deployment=d).count() == 2

    member = browser.new_context(timezone_id="Asia/Shanghai").new_page()
    member.set_default_timeout(30_000)
    _log_in(member, base, "bob")
    expect(member.locator("#unread-count")).to_have_text("1")
    member.click("#nav-notifications")
    expect(member.locator("#notification-list")).to_contain_text(f"{d.code}的排班有变动")
    expect(member.locator("#notification-list")).to_contain_text("新增：2030-03-04 08:00")
    member.click("#read-all")
    expect(member.locator("#unread-count")).to_have_count(0)
    assert errors == []
