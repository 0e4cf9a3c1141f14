"""A volunteer on a 390 px phone (issue 26, open shifts in pages), driving Debian chromium through
Playwright: the home lists the first page of open shifts, "Later open shifts" turns the page, and a tap on
报名 on the second page takes the seat. No page is wider than the phone."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "pw-Muster-2026"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium"),
]


def _fits(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url} is {width} px wide"


@pytest.mark.django_db(transaction=True)
def test_volunteer_turns_the_page_and_signs_up(
    browser: Any, live_server: Any, org: Any, make_user: Any
) -> None:
    from django.utils import timezone
    from playwright.sync_api import expect

    from muster.mobilize import services as msvc
    from muster.mobilize.models import Shift
    from muster.orgs.access import SYSTEM
    from muster.orgs.services import person_link_user
    from muster.volunteers.models import Opening, SignUp, SignUpStatus

    user = make_user("wangqiang")
    person_link_user(actor=SYSTEM, person=org.bob, user=user)
    post = msvc.post_create(actor=SYSTEM, unit=org.xuhui, code="P12366", name="12366 热线", kind="hotline")
    start = (timezone.now() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    made = Shift.objects.bulk_create(
        [
            Shift(
                post=post,
                start=start + timedelta(hours=12 * i),
                end=start + timedelta(hours=12 * i + 2),
                seats=2,
            )
            for i in range(60)
        ]
    )
    Opening.objects.bulk_create(
        [Opening(shift=s, unit=org.xuhui, deadline=start, cancel_cutoff=start) for s in made]
    )
    target = Opening.objects.get(shift=made[55])
    base = live_server.url
    ctx = browser.new_context(
        viewport={"width": 390, "height": 844},
        timezone_id="Asia/Shanghai",
        is_mobile=True,
        locale="zh-CN",
    )
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", "wangqiang")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/accounts/login/'] button[type=submit]")
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/volunteers/")
    expect(page.locator("#fitting > li")).to_have_count(50)
    _fits(page)
    page.click("#open-more")
    page.wait_for_url(f"{base}/volunteers/?page=2")
    expect(page.locator("#fitting > li")).to_have_count(10)
    assert page.locator("#open-more").count() == 0
    _fits(page)
    page.locator(f"form[action='/volunteers/openings/{target.pk}/signup/'] button").click()
    page.wait_for_url(f"{base}/volunteers/")
    _fits(page)
    assert SignUp.objects.get(opening=target, person=org.bob).status == SignUpStatus.SEATED
