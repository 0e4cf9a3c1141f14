"""One browser flow (Playwright driving Debian chromium): log in, switch language, import a roster
file, and find the new people in the people list with the live search."""

from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import make_id_number

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium"),
]


def _roster() -> bytes:
    wb = openpyxl.Workbook()
    units = wb.active
    units.title = "单位"
    units.append(["编码", "名称", "上级编码", "类型"])
    units.append(["XH-S7", "徐汇区税务局第七税务所", "XH", "税务所"])
    people = wb.create_sheet("人员")
    people.append(
        [
            "工号",
            "姓名",
            "性别",
            "出生日期",
            "单位编码",
            "党组织编码",
            "政治面貌",
            "人员状态",
            "手机",
            "身份证号",
            "标签",
        ]
    )
    people.append(
        [
            "XH0701",
            "欧阳晓",
            "女",
            "1991-05-06",
            "XH-S7",
            "",
            "中共党员",
            "在职",
            "13855556666",
            make_id_number(birth="19910506", seq="128"),
            "青年",
        ]
    )
    people.append(["XH0702", "司马乔", "男", "1988/3/18", "XH-S7", "", "群众", "在职", "", "", ""])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_log_in_switch_language_import_and_find_people(browser, live_server, org, make_user) -> None:
    from playwright.sync_api import expect

    from muster.orgs.models import Person

    make_user("manager1", "manager", org.xuhui)
    base = live_server.url
    console_errors: list[str] = []

    context = browser.new_context(locale="en-US")  # the browser asks for English; Chinese stays default
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console_errors.append(str(e)))

    # Log in (the page is in Simplified Chinese by default).
    page.goto(f"{base}/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.fill("input[name=username]", "manager1")
    page.fill("input[name=password]", "pw-Muster-2026")
    page.click("form[action='/accounts/login/'] button[type=submit]")
    expect(page).to_have_url(f"{base}/")
    expect(page.locator("#user-menu")).to_contain_text("manager1")

    # Switch to English and back.
    page.click("#language-switch button[value=en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#language-switch button[value=en]")).to_have_class(re.compile(r"\bactive\b"))
    page.click("#language-switch button[value='zh-hans']")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")

    # Import a roster: first validate only, then for real.
    page.goto(f"{base}/people/import/")
    page.set_input_files(
        "input[name=file]",
        files=[
            {
                "name": "人员名册.xlsx",
                "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "buffer": _roster(),
            }
        ],
    )
    expect(page.locator("input[name=dry_run]")).to_be_checked()
    page.click("#import-form button[type=submit]")
    expect(page.locator("#import-result")).to_be_visible()
    assert not Person.objects.filter(code__startswith="XH07").exists()

    page.set_input_files(
        "input[name=file]",
        files=[{"name": "人员名册.xlsx", "mimeType": "application/octet-stream", "buffer": _roster()}],
    )
    page.uncheck("input[name=dry_run]")
    page.click("#import-form button[type=submit]")
    expect(page.locator("#import-result")).to_contain_text("人员名册.xlsx")
    assert set(Person.objects.filter(code__startswith="XH07").values_list("name", flat=True)) == {
        "欧阳晓",
        "司马乔",
    }

    # The people list: typing filters live (htmx) and the address follows.
    page.goto(f"{base}/people/")
    results = page.locator("#people-results")
    expect(results).to_contain_text("张丽")
    page.fill("#id_q", "XH07")
    expect(results).to_contain_text("欧阳晓")
    expect(results).to_contain_text("司马乔")
    expect(results).not_to_contain_text("张丽")
    expect(page).to_have_url(re.compile(r"/people/\?.*q=XH07"))
    # A filter select updates the results too.
    page.select_option("#id_political_status", "member")
    expect(results).not_to_contain_text("司马乔")
    expect(results).to_contain_text("欧阳晓")

    # The new person's page; the new unit shows in the tree.
    page.click("#people-results a:has-text('欧阳晓')")
    expect(page.locator("#person-phone")).to_have_text("13855556666")
    page.goto(f"{base}/units/")
    expect(page.locator("#admin-tree")).to_contain_text("徐汇区税务局第七税务所")

    assert console_errors == []
