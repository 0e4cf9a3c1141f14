"""Everyday use on a 390 px phone (issue 27 items 1, 2, 3), driving Debian chromium through Playwright:
a manager creates a volunteer's login from the person's page and gets the slip; the volunteer opens the
activation link on the phone, sets a password and lands on their home (next shift with its check-in
button, hours); then follows every entry of the collapsed menu, and none leads to "not found" or "not
allowed"."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "pw-Muster-2026"
NEW_PASSWORD = "Volunteer-Pw-2026!"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium"),
]


@pytest.mark.django_db(transaction=True)
def test_login_slip_activation_home_and_menu_on_a_phone(
    browser: Any, live_server: Any, org: Any, make_user: Any
) -> None:
    from playwright.sync_api import expect

    from muster.mobilize import services as svc

    leader = make_user("leader1", "leader", org.xuhui)
    make_user("manager1", "manager", org.xuhui)
    now = timezone.now().replace(second=0, microsecond=0)
    d = svc.deployment_dispatch(
        actor=leader,
        unit=org.xuhui,
        title="核酸检测",
        start=now - timedelta(hours=2),
        end=now + timedelta(days=1),
        people=[org.bob],
        leader=org.alice,
        site="宛平社区",
    ).deployment
    shift = svc.shift_create(
        actor=leader, deployment=d, start=now + timedelta(hours=1), end=now + timedelta(hours=5), seats=2
    )
    svc.shift_assign(actor=leader, shift=shift, person=org.bob)
    base = live_server.url
    errors: list[str] = []

    # the manager, at a desk: the person's page → create a login → the slip with its link
    office = browser.new_context(timezone_id="Asia/Shanghai", locale="zh-CN")
    page = office.new_page()
    page.set_default_timeout(15_000)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", "manager1")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/accounts/login/'] button[type=submit]")
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/people/{org.bob.pk}/")
    page.click("#person-login-form button[type=submit]")
    expect(page.locator("#slips .slip")).to_have_count(1)
    expect(page.locator("#slips svg")).to_have_count(1)
    link = page.locator(".activation-link").inner_text().strip()
    assert "/accounts/activate/" in link

    # the volunteer's phone: the slip's link, a password, the home page
    phone = browser.new_context(
        viewport={"width": 390, "height": 844},
        timezone_id="Asia/Shanghai",
        is_mobile=True,
        locale="zh-CN",
    )
    mobile = phone.new_page()
    mobile.set_default_timeout(15_000)
    mobile.on("pageerror", lambda e: errors.append(str(e)))
    mobile.goto(link)
    mobile.fill("input[name=new_password1]", NEW_PASSWORD)
    mobile.fill("input[name=new_password2]", NEW_PASSWORD)
    mobile.click("#activate-form button[type=submit]")
    mobile.wait_for_url(f"{base}/")
    expect(mobile.locator("#my-home")).to_be_visible()
    row = mobile.locator(f"#home-upcoming li[data-shift='{shift.pk}']")
    expect(row).to_be_visible()
    check_in = row.locator("a")
    assert check_in.get_attribute("href") == f"/mobilize/c/{shift.token}/"
    assert mobile.evaluate("document.documentElement.scrollWidth") <= 390  # nothing off the side
    assert "您尚未在任何单位拥有角色" not in mobile.content()

    # every entry of the collapsed menu opens
    toggler = mobile.locator("button.navbar-toggler")
    expect(toggler).to_be_visible()
    toggler.click()
    links = mobile.locator("#main-nav ul.navbar-nav.me-auto a.nav-link")
    expect(links.first).to_be_visible()
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert hrefs and all(h for h in hrefs)
    for href in hrefs:
        response = mobile.goto(f"{base}{href}")
        assert response is not None and response.status < 400, (href, response and response.status)
    # the check-in page itself, from the home page's button
    mobile.goto(f"{base}/")
    mobile.locator(f"#home-upcoming li[data-shift='{shift.pk}'] a").click()
    mobile.wait_for_url(f"{base}/mobilize/c/{shift.token}/")
    assert not errors, errors
