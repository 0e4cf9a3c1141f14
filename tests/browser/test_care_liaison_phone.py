"""The liaison on a 390 px phone (issue 24), driving Debian chromium through Playwright: from "今天要联系的人"
they open the survey form of a subject, tap the answers, save; then record a delivery of a vegetable pack
that fulfils the subject's help request, with a photo of the receipt. No page is wider than the phone."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "pw-Muster-2026"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium"),
]


def _fits(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url} is {width} px wide"


@pytest.mark.django_db(transaction=True)
def test_liaison_records_an_answer_and_a_delivery_on_a_phone(
    browser: Any, live_server: Any, org: Any, make_user: Any, settings: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    from muster.care import services as care
    from muster.care.models import DeliveryLine, HelpRequest, Observation, Receipt
    from muster.orgs.access import SYSTEM
    from muster.orgs.services import person_link_user

    settings.MUSTER_CARE_RECEIPTS_ROOT = str(tmp_path / "receipts")
    user = make_user("wangqiang")
    person_link_user(actor=SYSTEM, person=org.bob, user=user)
    s = care.subject_create(
        actor=SYSTEM,
        unit=org.xuhui,
        code="C0001",
        name="陈秀英",
        birth_date=date(1941, 5, 2),
        phone="13611112222",
        liaison=org.bob,
    )
    r = care.round_open(
        actor=SYSTEM, unit=org.xuhui, name="四月排摸", dimensions=["health", "living", "vaccine_doses"]
    )
    hr = care.help_request_raise(
        actor=SYSTEM,
        unit=org.xuhui,
        subject=s,
        source="contact",
        category="food",
        urgency="urgent",
        description="家中缺菜",
    )
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

    page.goto(f"{base}/care/")
    item = page.locator('[data-subject="C0001"]')
    expect(item).to_be_visible()
    _fits(page)

    # the survey: tap the answers (large buttons), type the doses, save
    item.locator(f'a[href="/care/rounds/{r.pk}/answer/C0001/"]').click()
    page.wait_for_url(f"{base}/care/rounds/{r.pk}/answer/C0001/")
    _fits(page)
    page.locator("label", has_text="较差").click()
    page.locator("label", has_text="独居").click()
    page.fill("input[name=d_vaccine_doses]", "三")
    page.locator("label", has_text="上门").click()
    page.click("#care-answer-form button[type=submit]")
    # a clear message next to the field, nothing written
    expect(page.locator(".invalid-feedback")).to_contain_text("疫苗接种剂次")
    assert not Observation.objects.exists()
    page.fill("input[name=d_vaccine_doses]", "3")
    page.click("#care-answer-form button[type=submit]")
    page.wait_for_url(f"{base}/care/")
    assert sorted(Observation.objects.values_list("dimension__code", "value", "channel")) == [
        ("health", "较差", "visit"),
        ("living", "独居", "visit"),
        ("vaccine_doses", "3", "visit"),
    ]

    # the delivery: the vegetable pack, the help request it fulfils, the receipt photo
    page.goto(f"{base}/care/subjects/C0001/delivery/")
    _fits(page)
    page.fill("input[name=item]", "蔬菜包")
    page.fill("input[name=quantity]", "2")
    page.select_option("select[name=help_request]", str(hr.pk))
    page.set_input_files(
        "input[name=receipt]", files=[{"name": "签收.png", "mimeType": "image/png", "buffer": PNG}]
    )
    page.click("#care-delivery-form button[type=submit]")
    page.wait_for_url(f"{base}/care/")
    expect(page.locator(".alert-success")).to_contain_text("陈秀英")
    line = DeliveryLine.objects.get()
    assert line.status == "delivered" and str(line.quantity) == "2.00"
    assert HelpRequest.objects.get().status == "resolved"
    rc = Receipt.objects.get()
    assert rc.run_id == line.run_id and (tmp_path / "receipts" / rc.stored_as).read_bytes() == PNG
