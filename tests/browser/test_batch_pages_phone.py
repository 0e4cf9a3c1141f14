"""A batch on a 390 px phone (issue 27, item 7), driving Debian chromium through Playwright: the leader
edits the batch (a field error first, then a good save), finds a person with the picker (htmx, masked
phone) and adds them, pastes a list of staff numbers and reads the per-line report, removes a member after
confirming, and cancels the batch with a reason after the confirmation step — the members get a notice."""

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


WIDEST = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > 391 && !e.closest('.table-responsive'))
  .map(e => e.tagName + '#' + e.id + '.' + e.className).slice(0, 5)"""


def _fits(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, page.evaluate(WIDEST)  # nothing off the side


@pytest.mark.django_db(transaction=True)
def test_edit_members_and_cancel_on_a_phone(browser: Any, live_server: Any, org: Any, make_user: Any) -> None:
    from playwright.sync_api import expect

    from muster.mobilize import services as svc
    from muster.mobilize.models import Deployment, DeploymentMember, DeploymentStatus
    from muster.notify.models import Notification
    from muster.orgs.access import SYSTEM
    from muster.orgs.models import Person
    from muster.orgs.services import person_create

    leader = make_user("leader1", "leader", org.xuhui)
    bob_login = make_user("bob")
    Person.objects.filter(pk=org.bob.pk).update(user=bob_login)
    now = timezone.now().replace(second=0, microsecond=0)
    d = svc.deployment_dispatch(
        actor=leader,
        unit=org.xuhui,
        title="核酸检测",
        start=now + timedelta(hours=2),
        end=now + timedelta(days=1),
        people=[org.bob],
        leader=org.alice,
        site="宛平社区",
    ).deployment
    sun = person_create(actor=SYSTEM, code="XH0020", name="孙丽", unit=org.xuhui_office, phone="13812345678")
    wu = person_create(actor=SYSTEM, code="XH0021", name="吴刚", unit=org.xuhui)
    base = live_server.url
    errors: list[str] = []

    phone = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        timezone_id="Asia/Shanghai",
        locale="zh-CN",
    )
    page = phone.new_page()
    page.set_default_timeout(60_000)
    page.on("pageerror", lambda e: errors.append(str(e)))
    # a refused form answers 400 on purpose (the errors shown on the page); nothing else may fail
    page.on(
        "console",
        lambda m: errors.append(m.text) if m.type == "error" and "status of 400" not in m.text else None,
    )
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", "leader1")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/accounts/login/'] button[type=submit]")
    page.wait_for_url(f"{base}/")

    # edit: an empty task is refused on its field, then a good save
    page.goto(f"{base}/mobilize/batches/{d.pk}/")
    _fits(page)
    page.click("#edit-link")
    page.fill("#batch-edit-form input[name=title]", "")
    page.click("#batch-edit-form button[type=submit]")
    expect(page.locator("#batch-edit-form .invalid-feedback")).not_to_have_count(0)
    _fits(page)
    page.fill("#batch-edit-form input[name=title]", "核酸检测 · 第二轮")
    page.fill("#batch-edit-form input[name=site]", "徐家汇街道")
    page.click("#batch-edit-form button[type=submit]")
    page.wait_for_url(f"{base}/mobilize/batches/{d.pk}/")
    expect(page.locator("#batch-title").locator("..")).to_contain_text("核酸检测 · 第二轮")
    assert Deployment.objects.get(pk=d.pk).site == "徐家汇街道"

    # the picker: search by name, the phone is masked, add
    page.click("#members-link")
    _fits(page)
    page.fill("#picker-q", "孙")
    row = page.locator("#picker-results [data-person='XH0020']")
    expect(row).to_be_visible()
    expect(row).to_contain_text("138****5678")
    expect(row).not_to_contain_text("13812345678")
    row.locator("button[type=submit]").click()
    expect(page.locator("#member-table tr[data-person='XH0020']")).to_be_visible()
    assert DeploymentMember.objects.filter(deployment=d, person=sun).exists()
    _fits(page)

    # a pasted list: one added, one already in, one not found (out of scope reads as unknown)
    page.fill("#paste-form textarea[name=codes]", f"{wu.code}\n{org.bob.code}, {org.carol.code}")
    page.click("#paste-form button[type=submit]")
    report = page.locator("#report-table")
    expect(report.locator(f"tr[data-code='{wu.code}']")).to_have_attribute("data-outcome", "added")
    expect(report.locator(f"tr[data-code='{org.bob.code}']")).to_have_attribute("data-outcome", "already")
    expect(report.locator(f"tr[data-code='{org.carol.code}']")).to_have_attribute("data-outcome", "not_found")
    expect(report).not_to_contain_text(org.carol.name)
    _fits(page)

    # remove a member: the button opens a confirmation first
    member_row = page.locator(f"#member-table tr[data-person='{wu.code}']")
    member_row.locator("summary").click()
    member_row.locator("form button[type=submit]").click()
    expect(page.locator(f"#member-table tr[data-person='{wu.code}']")).to_have_count(0)
    assert not DeploymentMember.objects.filter(deployment=d, person=wu).exists()

    # cancel: the confirmation page, a required reason and the box
    page.goto(f"{base}/mobilize/batches/{d.pk}/")
    page.click("#cancel-link")
    expect(page.locator("#cancel-consequences")).to_be_visible()
    _fits(page)
    page.fill("#batch-cancel-form textarea[name=reason]", "社区解除封控")
    page.click("#batch-cancel-form button[type=submit]")  # the box is not ticked yet
    expect(page.locator("#batch-cancel-form .invalid-feedback")).not_to_have_count(0)
    assert Deployment.objects.get(pk=d.pk).status == DeploymentStatus.ACTIVE
    page.check("#batch-cancel-form input[name=confirm]")
    page.click("#batch-cancel-form button[type=submit]")
    page.wait_for_url(f"{base}/mobilize/batches/{d.pk}/")
    expect(page.locator("#cancel-link")).to_have_count(0)
    assert Deployment.objects.get(pk=d.pk).status == DeploymentStatus.CANCELLED
    notice = Notification.objects.get(verb="mobilize.batch_cancelled", person=org.bob)
    assert "社区解除封控" in notice.body
    assert errors == []
