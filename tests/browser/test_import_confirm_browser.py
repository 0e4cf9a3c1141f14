"""Import without friction in a browser (issue 27, item 12), driving Debian chromium through Playwright:
a manager downloads the register template, fills in one person below the example row, checks the file
("validate only"), sees the dry-run result and confirms it — the same upload is imported without
choosing the file again."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.tabular.helpers import person_row

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "pw-Muster-2026"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium"),
]


@pytest.mark.django_db(transaction=True)
def test_check_then_confirm_the_same_upload(
    browser: Any, live_server: Any, org: Any, make_user: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    from muster.orgs.models import Person

    make_user("xh-manager", "manager", org.xuhui)
    base = live_server.url
    errors: list[str] = []
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", "xh-manager")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/accounts/login/'] button[type=submit]")
    page.wait_for_url(f"{base}/")

    page.goto(f"{base}/people/import/")
    with page.expect_download() as download:
        page.click("a[href='/people/template/']")
    wb = openpyxl.load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert str(wb["人员"]["A2"].value).startswith("示例")
    wb["人员"].append(person_row("XH0999", "浏览器", "XH-S1"))
    filled = tmp_path / "名册.xlsx"
    out = io.BytesIO()
    wb.save(out)
    filled.write_bytes(out.getvalue())

    page.set_input_files("#import-form input[type=file]", str(filled))
    page.check("#import-form input[name=dry_run]")
    page.click("#import-form button[type=submit]")
    expect(page.locator("#import-result")).to_be_visible()
    expect(page.locator("#confirm-form button")).to_be_visible()
    assert not Person.objects.filter(code="XH0999").exists()

    page.click("#confirm-form button")
    expect(page.locator("#import-result")).to_contain_text("名册.xlsx")
    expect(page.locator("#confirm-form")).to_have_count(0)
    assert Person.objects.filter(code="XH0999", unit__code="XH-S1").exists()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    assert errors == []
