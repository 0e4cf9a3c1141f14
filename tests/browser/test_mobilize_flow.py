"""The mobilization flow in a browser (Playwright driving Debian chromium): a leader dispatches a batch
from a team with a three-shift template, a volunteer checks in and out on the phone-sized mobile page
(once while offline: the check waits on the phone and is sent when the network is back), the leader
approves, and the volunteer's hours show the new total."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "pw-Muster-2026"

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
def test_dispatch_check_in_out_approve_and_total(
    browser: Any, live_server: Any, org: Any, make_user: Any
) -> None:
    from playwright.sync_api import expect

    from muster.mobilize.models import Deployment, ServiceEntry, Shift
    from muster.orgs.access import SYSTEM
    from muster.orgs.models import Person, Team
    from muster.orgs.services import team_member_add

    team = Team.objects.get(code="XH-T1")  # alice leads it
    team_member_add(actor=SYSTEM, team=team, person=org.bob, role="member")
    make_user("leader1", "leader", org.xuhui)
    volunteer = make_user("bob")
    Person.objects.filter(pk=org.bob.pk).update(user=volunteer)

    base = live_server.url
    today = timezone.localdate()
    yesterday = today - timedelta(days=1)
    now = timezone.localtime()
    arrived = now - timedelta(hours=3)
    left = now - timedelta(hours=1)
    console_errors: list[str] = []

    def watch(page: Any) -> None:
        page.set_default_timeout(15_000)
        page.on(
            "console",
            lambda m: (
                console_errors.append(m.text)
                if m.type == "error" and "ERR_INTERNET_DISCONNECTED" not in m.text
                else None
            ),
        )
        page.on("pageerror", lambda e: console_errors.append(str(e)))

    office = browser.new_context(timezone_id="Asia/Shanghai")
    page = office.new_page()
    watch(page)
    _log_in(page, base, "leader1")

    # Dispatch a batch from the team, from yesterday 00:00 to the day after tomorrow.
    page.click("#nav-mobilize")
    page.click("#dispatch-link")
    page.select_option("#dispatch-form select[name=unit]", str(org.xuhui.pk))
    page.fill("#dispatch-form input[name=title]", "协助核酸检测")
    page.select_option("#dispatch-form select[name=teams]", [str(team.pk)])
    page.fill("#dispatch-form input[name=site]", "宛平社区")
    page.fill("#dispatch-form input[name=start]", f"{yesterday:%Y-%m-%d}T00:00")
    page.fill("#dispatch-form input[name=end]", f"{today + timedelta(days=2):%Y-%m-%d}T00:00")
    page.fill("#dispatch-form input[name=leader]", "XH0001")
    page.click("#dispatch-form button[type=submit]")
    expect(page.locator("#member-count")).to_have_text("2")
    d = Deployment.objects.get()
    assert d.seq == 1 and d.leader == org.alice

    # Three 8-hour rotations for two days: six shifts.
    page.click("#template-link")
    page.select_option("#template-form select[name=template]", "three")
    page.fill("#template-form input[name=first_day]", f"{yesterday:%Y-%m-%d}")
    page.fill("#template-form input[name=days]", "2")
    page.fill("#template-form input[name=start_hour]", "0")
    page.click("#template-form button[type=submit]")
    expect(page.locator("#shift-table tbody tr")).to_have_count(6)
    assert Shift.objects.filter(deployment=d).count() == 6

    # Put the volunteer on the shift that holds the time they arrive.
    shift = Shift.objects.filter(deployment=d, start__lte=arrived, end__gt=arrived).get()
    page.click(f"#shift-table tr[data-shift='{shift.pk}'] a")
    page.fill("#assign-form input[name=person_code]", "XH0002")
    page.click("#assign-form button[type=submit]")
    expect(page.locator("#assignment-table tr[data-person='XH0002']")).to_be_visible()
    expect(page.locator("#shift-qr")).to_be_visible()
    checkin_url = page.locator("#checkin-link").get_attribute("href")
    assert checkin_url and checkin_url.endswith(f"/mobilize/c/{shift.token}/")

    # The volunteer's phone.
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, timezone_id="Asia/Shanghai", is_mobile=True
    )
    mobile = phone.new_page()
    watch(mobile)
    _log_in(mobile, base, "bob")
    mobile.goto(checkin_url)
    state = mobile.locator("#check-state")
    expect(state).to_have_attribute("data-state", "none")
    button = mobile.locator("#checkin-button")
    box = button.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] >= 60  # a big button

    mobile.clock.set_fixed_time(arrived)
    button.click()
    expect(state).to_have_attribute("data-state", "in")

    # Check out while offline: kept on the phone, sent when the network is back.
    mobile.clock.set_fixed_time(left)
    phone.set_offline(True)
    mobile.locator("#checkin-button").click()
    expect(mobile.locator("#checkin-status")).to_have_class("alert mt-3 alert-warning")
    pending = mobile.evaluate("JSON.parse(localStorage.getItem('muster.mobilize.pendingChecks'))")
    assert [i["kind"] for i in pending] == ["out"]
    assert not ServiceEntry.objects.exists()
    phone.set_offline(False)
    expect(mobile.locator("#check-state")).to_have_attribute("data-state", "out")
    assert mobile.evaluate("localStorage.getItem('muster.mobilize.pendingChecks')") == "[]"
    entry = ServiceEntry.objects.get()
    expected = int(
        (left.replace(second=0, microsecond=0) - arrived.replace(second=0, microsecond=0)).total_seconds()
        // 60
    )
    assert (entry.person_id, entry.sign, entry.minutes) == (org.bob.pk, 0, expected)

    # The leader approves.
    page.goto(f"{base}/mobilize/approvals/")
    row = page.locator(f"#approval-table tr[data-entry='{entry.pk}']")
    expect(row).to_contain_text("XH0002")
    row.locator(".approve-button").click()
    expect(page.locator(f"#approval-table tr[data-entry='{entry.pk}']")).to_have_count(0)

    # The volunteer's hours show the new total.
    mobile.goto(f"{base}/mobilize/me/")
    hours = f"{expected / 60:.2f}"
    expect(mobile.locator("#total-hours")).to_have_text(hours)
    expect(mobile.locator("#total-hours")).to_have_attribute("data-minutes", str(expected))

    assert console_errors == []
