"""The registry's sections beyond the dispatch figures and party life (care, outreach, …) on the rollup
page "截至…" and as sheets of the Excel 台账, from records written through the apps' own services, as of
cutoffs before and after them."""

from __future__ import annotations

import html
import io
import re
from datetime import date
from typing import Any

import pytest
from django.utils import translation
from django.utils.translation import gettext
from openpyxl import load_workbook

from muster.care import services as care
from muster.orgs.access import SYSTEM
from muster.outreach import services as outreach
from muster.reports import registry, sections
from tests.outreach.conftest import VALID_CODES

from .conftest import at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fixed_clock")]  # now: 2026-03-04 10:00


def q(day: str, unit: str = "SH") -> dict[str, str]:
    return {"unit": unit, "date": day, "time": "24:00"}


def text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def section_html(page: str, group: str) -> str | None:
    m = re.search(rf'<section[^>]*id="section-{group}"[^>]*>(.*?)</section>', page, re.S)
    return m.group(1) if m else None


def cells(fragment: str, code: str) -> dict[str, str]:
    """{metric id: shown value} of a section's row (by unit code)."""
    m = re.search(rf'<tr data-code="{re.escape(code)}"[^>]*>(.*?)</tr>', fragment, re.S)
    assert m, f"no row {code}"
    return dict(re.findall(r'<td class="text-end" data-metric="([^"]+)">(.*?)</td>', m.group(1), re.S))


def total(fragment: str, group: str) -> dict[str, str]:
    m = re.search(rf'<tr[^>]*id="section-{group}-total"[^>]*>(.*?)</tr>', fragment, re.S)
    assert m
    return dict(re.findall(r'<td class="text-end" data-metric="([^"]+)">(.*?)</td>', m.group(1), re.S))


@pytest.fixture
def records(org: Any) -> dict[str, Any]:
    """A care subject of the 徐汇 tax office (2026-02-10), one of 黄浦 (2026-03-01), and an outreach visit
    of the 徐汇 tax office (2026-02-20)."""
    xh = care.subject_create(
        actor=SYSTEM, unit=org.xuhui_office, code="C0001", name="陈秀英", at=at("2026-02-10 09:00")
    )
    hp = care.subject_create(
        actor=SYSTEM, unit=org.huangpu, code="C0002", name="周建国", at=at("2026-03-01 09:00")
    )
    ent = outreach.enterprise_create(
        actor=SYSTEM, credit_code=VALID_CODES[0], name="上海某科技有限公司", unit=org.xuhui_office
    )
    visit = outreach.visit_record(
        actor=SYSTEM, held_on=date(2026, 2, 20), unit=org.xuhui_office, visitors=[org.bob], enterprises=[ent]
    )
    return {"xh": xh, "hp": hp, "visit": visit}


def test_groups_come_from_the_registry() -> None:
    groups = sections.groups()
    assert "care" in groups and "outreach" in groups
    assert "party" not in groups and "" not in groups  # shown by the main table and the party section
    for g in groups:
        assert registry.section(g), g


def test_rollup_page_sections_before_between_and_after(
    org: Any, records: Any, make_user: Any, login: Any
) -> None:
    client = login(make_user("boss", "viewer", org.root))
    # before anything was recorded: no section (no data in the subtree keeps the page short)
    page = client.get("/reports/", q("2026-02-01")).content.decode()
    assert section_html(page, "care") is None and section_html(page, "outreach") is None
    # between: 徐汇's subject counts, 黄浦's not yet; the visit (02-20) not yet
    page = client.get("/reports/", q("2026-02-15")).content.decode()
    sec = section_html(page, "care")
    assert sec is not None and section_html(page, "outreach") is None
    assert cells(sec, "XH")["care.subjects"] == "1"
    assert cells(sec, "HP")["care.subjects"] == "0"
    assert total(sec, "care")["care.subjects"] == "1"
    # after: both subjects, the visit
    r = client.get("/reports/", q("2026-03-03"))
    assert r.status_code == 200
    page = r.content.decode()
    sec = section_html(page, "care")
    assert sec is not None
    assert cells(sec, "XH")["care.subjects"] == "1" and cells(sec, "HP")["care.subjects"] == "1"
    assert total(sec, "care")["care.subjects"] == "2"
    out = section_html(page, "outreach")
    assert out is not None
    assert cells(out, "XH")["outreach.visits"] == "1" and cells(out, "HP")["outreach.visits"] == "0"
    assert total(out, "outreach")["outreach.visits"] == "1"
    assert cells(out, "XH")["outreach.enterprises_visited"] == "1"
    # the columns are the section's metrics, in order, labelled with their labels
    with translation.override(r["Content-Language"]):
        head = r'<th class="text-end text-nowrap" data-metric="([^"]+)" title="[^"]*">([^<]*)'
        heads = re.findall(head, sec)
        assert [mid for mid, _label in heads] == [m.id for m in registry.section("care")]
        assert [html.unescape(label) for _mid, label in heads] == [
            str(m.label) for m in registry.section("care")
        ]
    # drill down: the 徐汇 row links to 徐汇's report, whose section has its tax office as a row
    link = re.search(r'<tr data-code="XH"[^>]*>\s*<td[^>]*><a href="([^"]+)"', out)
    assert link
    page = client.get("/reports/" + html.unescape(link.group(1))).content.decode()
    out = section_html(page, "outreach")
    assert out is not None and cells(out, "XH-S1")["outreach.visits"] == "1"
    # a leaf unit: no rows below it, the total still
    page = client.get("/reports/", q("2026-03-03", "XH-S1")).content.decode()
    sec = section_html(page, "care")
    assert sec is not None and total(sec, "care")["care.subjects"] == "1"
    assert "data-code=" not in sec


def test_sections_follow_the_page_scope(org: Any, records: Any, make_user: Any, login: Any) -> None:
    client = login(make_user("hp_viewer", "viewer", org.huangpu))
    assert client.get("/reports/", q("2026-03-03")).status_code == 404  # the city: out of scope
    page = client.get("/reports/", q("2026-03-03", "HP")).content.decode()
    sec = section_html(page, "care")
    assert sec is not None and total(sec, "care")["care.subjects"] == "1"  # 黄浦's own subject only
    assert section_html(page, "outreach") is None  # 徐汇's visit: not in this subtree
    assert "陈秀英" not in page and "XH-S1" not in page
    assert sections.visible_sections(make_user("nobody"), org.root, at("2026-03-03 00:00")) == []


def sheet_rows(ws: Any) -> dict[str, tuple[Any, ...]]:
    return {row[1]: row[2:] for row in ws.iter_rows(min_row=4, values_only=True) if row[1]}


def test_excel_ledger_has_a_sheet_per_section(org: Any, records: Any, make_user: Any, login: Any) -> None:
    client = login(make_user("boss", "viewer", org.root))
    r = client.get("/reports/export/", {**q("2026-03-03"), "format": "xlsx"})
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    with translation.override(r["Content-Language"]):
        first = wb.worksheets[0]
        assert wb.active is first  # the ledger's first sheet is as it was
        assert first["A1"].value == gettext("%(unit)s volunteer service ledger") % {"unit": org.root.name}
        assert [c.value for c in first[3]][:3] == [gettext("No."), gettext("Unit"), gettext("Batches")]
        titles = {str(sections.group_title(g)): g for g in ("care", "outreach")}
        by_group = {titles[ws.title]: ws for ws in wb.worksheets[1:] if ws.title in titles}
        assert set(by_group) == {"care", "outreach"}
        care_ws = by_group["care"]
        assert [c.value for c in care_ws[3]][2:] == [str(m.label) for m in registry.section("care")]
        labels = [m.id for m in registry.section("care")]
        rows = sheet_rows(care_ws)
        assert rows[org.xuhui.name][labels.index("care.subjects")] == 1
        assert rows[org.huangpu.name][labels.index("care.subjects")] == 1
        total_row = next(
            row for row in care_ws.iter_rows(min_row=4, values_only=True) if row[0] == gettext("Total")
        )
        assert total_row[2 + labels.index("care.subjects")] == 2
        out_ids = [m.id for m in registry.section("outreach")]
        rows = sheet_rows(by_group["outreach"])
        assert rows[org.xuhui.name][out_ids.index("outreach.visits")] == 1
        assert "2026-03-03 24:00" in str(care_ws.cell(row=2, column=care_ws.max_column).value)
    # before the visit and the subjects: no section sheet at all
    r = client.get("/reports/export/", {**q("2026-02-01"), "format": "xlsx"})
    wb = load_workbook(io.BytesIO(r.content))
    assert len(wb.worksheets) == 1
    # between: the care sheet with 徐汇's subject only, no outreach sheet
    r = client.get("/reports/export/", {**q("2026-02-15"), "format": "xlsx"})
    wb = load_workbook(io.BytesIO(r.content))
    assert len(wb.worksheets) == 2
    rows = sheet_rows(wb.worksheets[1])
    assert rows[org.xuhui.name][labels.index("care.subjects")] == 1
    assert rows[org.huangpu.name][labels.index("care.subjects")] == 0
