"""The charts in a browser (Playwright driving Debian chromium): the series page draws its three ECharts
charts from the embedded JSON without a script error (the CSP forbids inline scripts)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from .conftest import build_ledger

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium"),
]


@pytest.mark.django_db(transaction=True)
def test_series_charts_draw(live_server: Any, org: Any, make_user: Any) -> None:
    from playwright.sync_api import expect, sync_playwright

    build_ledger(org)
    make_user("boss", "viewer", org.root)
    base = live_server.url
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(15_000)
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{base}/accounts/login/")
            page.fill("input[name=username]", "boss")
            page.fill("input[name=password]", "pw-Muster-2026")
            page.click("form[action='/accounts/login/'] button[type=submit]")
            page.wait_for_url(f"{base}/")
            expect(page.locator("#home-report")).to_be_visible()
            page.goto(f"{base}/reports/series/?unit=SH&date=2022-03-13&time=24:00&start=2022-03-11")
            for kind in ("cumulative", "daily", "units"):
                expect(page.locator(f'[data-chart="{kind}"] canvas')).to_have_count(1)
            page.click('#ranking a:has-text("徐汇区税务局")')
            page.wait_for_url("**/reports/series/?unit=XH*")
            expect(page.locator('[data-chart="units"] canvas')).to_have_count(1)
        finally:
            browser.close()
    assert errors == []
