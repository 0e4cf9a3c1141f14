"""The indicators' before/after chart of the outreach measures page (issue 25 §6) drawn with ECharts in
Debian chromium through Playwright, on a 390 px phone: the chart replaces the server-rendered SVG, shows
the baseline and the latest value, and the page logs no console error; without script the SVG stays."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "pw-Muster-2026"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium"),
]


def _login(browser: Any, base: str, *, script: bool) -> Any:
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        timezone_id="Asia/Shanghai",
        locale="en-US",
        java_script_enabled=script,
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", "manager1")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/accounts/login/'] button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page


@pytest.mark.django_db(transaction=True)
def test_indicator_chart_renders_with_echarts(
    browser: Any, live_server: Any, org: Any, make_user: Any
) -> None:
    from playwright.sync_api import expect

    from muster.orgs.access import SYSTEM
    from muster.outreach import services_service as ss

    make_user("manager1", "manager", org.xuhui)
    ind = ss.indicator_create(
        actor=SYSTEM,
        unit=org.xuhui,
        name="平均办税申报时长",
        measure_unit="minutes",
        baseline=Decimal("30"),
        baseline_on=date(2018, 1, 1),
    )
    ss.indicator_measure(
        actor=SYSTEM,
        indicator=ind,
        measured_on=date(2018, 9, 1),
        value=Decimal("3.9"),
        measure_unit="minutes",
    )
    base = live_server.url
    page = _login(browser, base, script=True)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/outreach/measures/")
    chart = page.locator(f'[data-indicator-chart="{ind.pk}"]')
    expect(chart).to_have_attribute("data-chart-ready", "1")
    # ECharts' own SVG (the server's fallback is gone: it had a viewBox of 0 0 100 22)
    expect(chart.locator("svg")).to_have_count(1)
    assert chart.locator("svg").get_attribute("viewBox") != "0 0 100 22"
    text = chart.inner_text() + chart.locator("svg").inner_html()
    assert "30" in text and "3.9" in text and "2018-09-01" in text
    box = chart.bounding_box()
    assert box is not None and 0 < box["width"] <= 390 and box["height"] > 50
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert errors == []

    # no script: the server-rendered bars stay
    plain = _login(browser, base, script=False)
    plain.goto(f"{base}/outreach/measures/")
    svg = plain.locator(f'[data-indicator-chart="{ind.pk}"] svg')
    expect(svg).to_have_count(1)
    assert svg.get_attribute("viewBox") == "0 0 100 22"
    assert plain.locator(f'[data-indicator-chart="{ind.pk}"] rect').count() == 2
