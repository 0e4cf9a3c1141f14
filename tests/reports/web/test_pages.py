"""The report pages through HTTP: the rollup (numbers, scope, drill-down), the time series, snapshots,
the Excel 台账 / CSV exports, the briefing and the home page card."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from typing import Any

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from muster.audit.models import AuditEvent
from muster.mobilize import services as svc
from muster.orgs.access import SYSTEM
from muster.reports import briefing as bw
from muster.reports import services
from muster.reports.models import Snapshot
from muster.reports.rollup import DEFINITIONS, rollup

from .conftest import QUERY, at, build_ledger

pytestmark = pytest.mark.django_db


def text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def row_cells(page: str, code: str) -> list[str]:
    m = re.search(rf'<tr data-code="{re.escape(code)}"[^>]*>(.*?)</tr>', page, re.S)
    assert m, f"no row {code}"
    return [text(c) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", m.group(1), re.S)]


def tr_by_id(page: str, ident: str) -> list[str]:
    m = re.search(rf'<tr[^>]*id="{ident}"[^>]*>(.*?)</tr>', page, re.S)
    assert m, f"no row #{ident}"
    return [text(c) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", m.group(1), re.S)]


# ------------------------------------------------------------------ the rollup


def test_rollup_page_numbers_pending_apart_and_definitions(
    org: Any, ledger: Any, make_user: Any, login: Any
) -> None:
    client = login(make_user("boss", "viewer", org.root))
    r = client.get("/reports/", QUERY)
    assert r.status_code == 200
    page = r.content.decode()
    # unit | batches person-times persons hours | community persons hours | pending entries hours
    assert row_cells(page, "XH")[1:] == ["1", "2", "2", "16.50", "0", "0.00", "0", "0.00"]
    assert row_cells(page, "HP")[1:] == ["1", "1", "1", "2.00", "0", "0.00", "1", "1.00"]
    assert row_cells(page, "SH-JG")[1:] == ["0", "0", "0", "0.00", "1", "3.00", "0", "0.00"]
    assert tr_by_id(page, "rollup-total")[1:] == ["2", "3", "3", "18.50", "1", "3.00", "1", "1.00"]
    assert "2022-03-13 24:00" in page
    for key in ("batches", "person_times", "hours", "community", "pending"):
        assert str(DEFINITIONS[key]) in html.unescape(page)
    # "24:00" and the next day's 00:00 are the same cutoff
    same = client.get("/reports/", {"unit": "SH", "date": "2022-03-14", "time": "00:00"}).content.decode()
    assert tr_by_id(same, "rollup-total") == tr_by_id(page, "rollup-total")
    # a cutoff in the middle of alice's night shift counts its part before the cutoff
    mid = client.get("/reports/", {"unit": "SH", "date": "2022-03-14", "time": "02:00"}).content.decode()
    assert row_cells(mid, "XH")[4] == "18.50"


def test_default_unit_and_cutoff_and_bad_input(org: Any, ledger: Any, make_user: Any, login: Any) -> None:
    client = login(make_user("xh", "viewer", org.xuhui))
    r = client.get("/reports/")
    assert r.status_code == 200
    page = r.content.decode()
    assert r.context["unit"] == org.xuhui and r.context["report"].as_of <= timezone.now()
    assert row_cells(page, "XH-S1")[1:5] == ["1", "2", "2", "20.50"]  # everything, alice's night shift whole
    bad = client.get("/reports/", {"unit": "XH", "date": "2022-03-13", "time": "25:00"})
    assert bad.status_code == 400 and "report" not in bad.context  # the page, with the form's error
    assert bad.context["form"].errors["time"]


def test_out_of_scope_is_404_everywhere(org: Any, ledger: Any, make_user: Any, login: Any) -> None:
    client = login(make_user("xh", "viewer", org.xuhui))
    for code in ("HP", "SH", "NOPE"):
        q = {**QUERY, "unit": code}
        for url in (
            "/reports/",
            "/reports/series/",
            "/reports/series.json",
            "/reports/export/",
            "/reports/briefing/",
        ):
            assert client.get(url, q).status_code == 404, (url, code)
    assert client.post("/reports/publish/", {**QUERY, "unit": "HP"}).status_code == 404
    snap = services.snapshot_publish(actor=SYSTEM, unit=org.root, as_of=at("2022-03-14 00:00"))
    assert client.get(f"/reports/snapshots/{snap.pk}/").status_code == 404
    assert client.get(f"/reports/snapshots/{snap.pk}/export/").status_code == 404
    assert snap.title not in client.get("/reports/snapshots/").content.decode()
    # in scope: their own unit's page shows only their subtree
    page = client.get("/reports/", {**QUERY, "unit": "XH"}).content.decode()
    assert 'data-code="XH-S1"' in page and 'data-code="HP"' not in page


def test_drill_down_links(org: Any, ledger: Any, make_user: Any, login: Any) -> None:
    client = login(make_user("boss", "viewer", org.root))
    page = client.get("/reports/", QUERY).content.decode()
    m = re.search(r'<tr data-code="XH"[^>]*>\s*<td><a href="([^"]+)" class="drill"', page)
    assert m
    link = html.unescape(m.group(1))
    assert link == "?unit=XH&date=2022-03-13&time=24%3A00"
    child = client.get("/reports/" + link)
    assert child.status_code == 200 and child.context["unit"] == org.xuhui
    child_page = child.content.decode()
    assert row_cells(child_page, "XH-S1")[1:5] == ["1", "2", "2", "16.50"]
    assert tr_by_id(child_page, "rollup-total")[1:5] == ["1", "2", "2", "16.50"]
    # the breadcrumb leads back up, keeping the cutoff
    crumbs = re.search(r'id="report-breadcrumb">(.*?)</ol>', child_page, re.S)
    assert crumbs and "?unit=SH&amp;date=2022-03-13&amp;time=24%3A00" in crumbs.group(1)


# ------------------------------------------------------------------ time series


def test_series_json_and_page(org: Any, ledger: Any, make_user: Any, login: Any) -> None:
    client = login(make_user("boss", "viewer", org.root))
    r = client.get("/reports/series.json", {**QUERY, "start": "2022-03-11"})
    assert r.status_code == 200
    data = r.json()
    assert data["unit"]["code"] == "SH" and data["as_of"] == "2022-03-14T00:00:00+08:00"
    days = {d["day"]: d for d in data["days"]}
    assert list(days) == ["2022-03-11", "2022-03-12", "2022-03-13"]
    assert days["2022-03-11"]["cumulative"]["hours"] == 0
    assert days["2022-03-12"]["daily"] == {**days["2022-03-12"]["daily"], "batches": 1, "hours": 12.5}
    assert days["2022-03-13"]["daily"]["hours"] == 6  # alice 20:00–24:00, carol 2 h
    assert days["2022-03-13"]["daily"]["community_hours"] == 3
    total = rollup(org.root, at("2022-03-14 00:00"), pending=False).total
    assert days["2022-03-13"]["cumulative"] == {
        "batches": total.batches,
        "person_times": total.person_times,
        "persons": total.persons,
        "hours": float(total.hours),
        "community_persons": total.community_persons,
        "community_hours": float(total.community_hours),
    }
    assert {u["code"]: u["person_times"] for u in data["units"]} == {"XH": 2, "HP": 1, "SH-JG": 0}
    # the page embeds the same data for the chart script, draws three charts and ranks the units
    page = client.get("/reports/series/", {**QUERY, "start": "2022-03-11", "rank": "hours"})
    assert page.status_code == 200
    body = page.content.decode()
    embedded = re.search(r'<script id="series-data" type="application/json">(.*?)</script>', body, re.S)
    assert embedded and json.loads(embedded.group(1))["days"] == data["days"]
    assert body.count('data-chart="') == 3 and "reports/js/charts.js" in body and "echarts.min.js" in body
    assert "<script>" not in body  # no inline script (CSP)
    ranking = re.search(r'id="ranking">(.*?)</table>', body, re.S)
    assert ranking
    order = re.findall(r'<tr data-code="([^"]+)"', ranking.group(1))
    assert order == ["XH", "HP"]  # by hours: 16.5, 2 (the organ has no dispatch hours)
    assert client.get("/reports/series.json", {**QUERY, "time": "99:99"}).status_code == 422


# ------------------------------------------------------------------ snapshots


def test_publish_freezes_and_shows_what_changed(org: Any, ledger: Any, make_user: Any, login: Any) -> None:
    viewer = login(make_user("v", "viewer", org.root))
    assert 'id="publish-form"' not in viewer.get("/reports/", QUERY).content.decode()
    assert viewer.post("/reports/publish/", QUERY).status_code == 403
    assert not Snapshot.objects.exists()

    manager = login(make_user("mgr", "manager", org.root))
    assert 'id="publish-form"' in manager.get("/reports/", QUERY).content.decode()
    r = manager.post("/reports/publish/", {**QUERY, "title": "3月13日统计"})
    snap = Snapshot.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/reports/snapshots/{snap.pk}/"
    assert snap.title == "3月13日统计" and snap.unit == org.root and snap.as_of == at("2022-03-14 00:00")
    assert AuditEvent.objects.filter(action="reports.snapshot.published").count() == 1
    page = manager.get(r["Location"]).content.decode()
    assert 'id="snapshot-unchanged"' in page and "table-warning" not in page
    assert [c.split(" ")[0] for c in tr_by_id(page, "snapshot-total")[1:]] == [
        "2",
        "3",
        "3",
        "18.50",
        "1",
        "3.00",
    ]

    # a late correction: bob's shift was 08:00–14:00, not 08:00–12:00
    svc.entry_correct(
        actor=SYSTEM,
        entry=ledger["bob"],
        start=at("2022-03-12 08:00"),
        end=at("2022-03-12 14:00"),
        reason="补录",
    )
    page = manager.get(f"/reports/snapshots/{snap.pk}/").content.decode()
    assert 'id="snapshot-changed"' in page
    xh = re.search(r'<tr data-code="XH" class="changed">(.*?)</tr>', page, re.S)
    assert xh
    hours = re.search(r'data-key="hours">(.*?)</td>', xh.group(1), re.S)
    assert hours and 'class="frozen">16.50<' in hours.group(1)
    assert re.search(r'18\.50 \(<span class="delta">\+2\.00</span>\)', hours.group(1))
    assert 'class="changed"' not in re.search(r'<tr data-code="HP"[^>]*>', page).group(0)  # type: ignore[union-attr]
    total = re.search(r'id="snapshot-total">(.*?)</tr>', page, re.S)
    assert total
    total_hours = re.search(r'data-key="hours">(.*?)</td>', total.group(1), re.S)
    assert total_hours and 'class="frozen">18.50<' in total_hours.group(1)
    assert re.search(r'20\.50 \(<span class="delta">\+2\.00</span>\)', total_hours.group(1))
    # the published figures themselves never changed
    assert Snapshot.objects.get(pk=snap.pk).figures == snap.figures
    assert snap.figures["contract"]["total"]["hours"] == "18.50"
    # the live report shows the corrected figure, and the list shows the snapshot
    live = manager.get("/reports/", QUERY).content.decode()
    assert row_cells(live, "XH")[4] == "18.50"
    listing = manager.get("/reports/snapshots/").content.decode()
    assert "3月13日统计" in listing and "2022-03-13 24:00" in listing


def test_publish_bad_cutoff_writes_nothing(org: Any, ledger: Any, make_user: Any, login: Any) -> None:
    manager = login(make_user("mgr", "manager", org.root))
    r = manager.post("/reports/publish/", {**QUERY, "time": "7 pm"}, follow=True)
    assert r.status_code == 200 and not Snapshot.objects.exists()
    with translation.override("zh-hans"):  # the page speaks the default language
        expected = gettext("The report could not be published: the cutoff is not valid.")
    assert expected in [str(m) for m in r.context["messages"]]


# ------------------------------------------------------------------ exports


@pytest.mark.usefixtures("fixed_clock")  # the footer's date is today's
def test_excel_ledger(org: Any, ledger: Any, make_user: Any, login: Any) -> None:
    user = make_user("prep", "viewer", org.root)
    user.first_name, user.last_name = "Ping", "Li"
    user.save()
    client = login(user)
    r = client.get("/reports/export/", {**QUERY, "format": "xlsx", "in_charge": "张三"})
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")
    assert 'filename="SH-2022-03-13-2400.xlsx"' in r["Content-Disposition"]
    ws = load_workbook(io.BytesIO(r.content)).active
    assert ws is not None
    assert ws["A1"].value == _("%(unit)s volunteer service ledger") % {"unit": org.root.name}
    assert "A1:I1" in {str(m) for m in ws.merged_cells.ranges}
    assert org.root.name in ws["A2"].value
    assert "2022-03-13 24:00" in ws["E2"].value
    assert [c.value for c in ws[3]][:4] == [_("No."), _("Unit"), _("Batches"), _("Person-times")]
    body = {row[1]: row[2:] for row in ws.iter_rows(min_row=4, values_only=True) if row[1]}
    assert body[org.xuhui.name][:4] == (1, 2, 2, 16.5)
    total_row = next(r for r in ws.iter_rows(min_row=4) if r[0].value == _("Total"))
    assert [c.value for c in total_row[2:8]] == [2, 3, 3, 18.5, 1, 3]
    assert total_row[5].number_format == "0.00" and total_row[7].number_format == "0.00"
    assert total_row[8].value == 1  # pending, apart: not in the figures
    assert total_row[2].border.top.style == "thin"
    footer = [c.value for c in ws[total_row[0].row + 2] if c.value]
    assert footer[0].endswith("张三") and footer[1].endswith("Ping Li")
    assert footer[2].endswith("2026-03-04")  # (fixed_clock)
    assert ws.column_dimensions["B"].width >= 20
    # what a user types is never a formula
    r = client.get("/reports/export/", {**QUERY, "in_charge": "=HYPERLINK(1)"})
    ws = load_workbook(io.BytesIO(r.content)).active
    assert ws is not None
    cell = next(
        c for row in ws.iter_rows() for c in row if isinstance(c.value, str) and "HYPERLINK" in c.value
    )
    assert cell.data_type == "s"


def test_csv_export_same_rows(org: Any, ledger: Any, make_user: Any, login: Any) -> None:
    client = login(make_user("boss", "viewer", org.root))
    r = client.get("/reports/export/", {**QUERY, "format": "csv"})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][1] == _("Unit")
    by_name = {row[1]: row[2:] for row in rows[1:]}
    assert by_name[org.xuhui.name][:4] == ["1", "2", "2", "16.50"]
    assert by_name[_("Total")] == ["2", "3", "3", "18.50", "1", "3.00", "1"]


def test_snapshot_export_keeps_the_frozen_figures(org: Any, ledger: Any, make_user: Any, login: Any) -> None:
    manager = make_user("mgr", "manager", org.root)
    snap = services.snapshot_publish(actor=manager, unit=org.root, as_of=at("2022-03-14 00:00"))
    svc.entry_correct(
        actor=SYSTEM,
        entry=ledger["bob"],
        start=at("2022-03-12 08:00"),
        end=at("2022-03-12 14:00"),
        reason="补录",
    )
    r = login(manager).get(f"/reports/snapshots/{snap.pk}/export/", {"format": "csv"})
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[-1][2:6] == ["2", "3", "3", "18.50"]  # frozen, not the corrected 20.50


# ------------------------------------------------------------------ briefing and home


def test_briefing_page(org: Any, ledger: Any, make_user: Any, login: Any) -> None:
    client = login(make_user("boss", "viewer", org.root))
    r = client.get("/reports/briefing/", QUERY)
    assert r.status_code == 200
    page = r.content.decode()
    zh = re.search(r'<p id="briefing-zh"[^>]*>(.*?)</p>', page, re.S)
    en = re.search(r'<p id="briefing-en"[^>]*>(.*?)</p>', page, re.S)
    assert zh and en
    assert text(zh.group(1)).startswith("截至3月13日晚24点") and "2批3人次" in text(zh.group(1))
    assert "18.5小时" in text(zh.group(1)) or "18.50小时" in text(zh.group(1))
    expected = services.briefing_for(org.root, at("2022-03-14 00:00"))
    assert text(zh.group(1)) == text(html.escape(bw.write(expected, "zh")))
    assert text(en.group(1)).startswith("As of 24:00 on 13 March")
    assert 'data-copy-target="#briefing-zh"' in page and 'data-copy-target="#briefing-en"' in page


def test_home_card_live_then_published(org: Any, ledger: Any, make_user: Any, login: Any) -> None:
    manager = make_user("mgr", "manager", org.root)
    client = login(manager)
    page = client.get("/").content.decode()
    card = re.search(r'<div class="card mb-4" id="home-report">(.*?)</div>\s*</div>\s*</div>', page, re.S)
    assert card, "no report card"
    body = text(card.group(1))
    # live as of now: everything (alice's night shift whole): 2 batches, 3 person-times, 22.5 hours
    assert re.search(r"\b2 \S+ 3 \S+ 22\.50 ", body) and "22.5" in body
    snap = services.snapshot_publish(actor=manager, unit=org.root, as_of=at("2022-03-14 00:00"), title="T")
    page = client.get("/").content.decode()
    assert f'href="/reports/snapshots/{snap.pk}/"' in page and "2022-03-13 24:00" in page
    headline = re.search(r'id="home-report-headline">(.*?)</p>', page, re.S)
    assert headline and "2批3人次" in headline.group(1)
    # a user with no role has no card
    assert 'id="home-report"' not in login(make_user("nobody")).get("/").content.decode()


def test_home_card_demo_shows_the_seed_cutoff(org: Any, make_user: Any, login: Any) -> None:
    """With the seed scenario loaded (its batches are coded S22-…) the card is as of 2022-03-18 24:00."""
    build_ledger(org, xh_code="S22-XH-01")
    page = login(make_user("boss", "viewer", org.root)).get("/").content.decode()
    assert "2022-03-18 24:00" in page
    headline = re.search(r'id="home-report-headline">(.*?)</p>', page, re.S)
    assert headline and text(headline.group(1)).startswith("截至3月18日晚24点")
    assert 'href="/reports/?unit=SH&amp;date=2022-03-18&amp;time=24%3A00"' in page or (
        "/reports/?unit=SH&amp;date=2022-03-18&amp;time=24:00" in page
    )
