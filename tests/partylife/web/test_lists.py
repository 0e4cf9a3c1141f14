"""Long party-life lists: compliance as branches × months (paged, filtered, exported), the calendar of
what is due (paged, filtered by state, exported), both costing a bounded number of queries."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from typing import Any

import pytest
import time_machine
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from muster.orgs.access import SYSTEM
from muster.orgs.services import unit_create
from muster.partylife import compliance as engine
from muster.partylife import services as svc
from tests.partylife.web.conftest import Party, at, client_for, hold_meeting

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock() -> Any:
    with time_machine.travel(date(2025, 7, 15), tick=False):
        yield


def _branches(party: Party, n: int) -> None:
    for i in range(n):
        unit_create(
            actor=SYSTEM,
            code=f"XH-B{i + 10:02d}",
            name=f"第{i + 10}党支部",
            kind="branch",
            parent=party.org.xuhui_committee,
        )


def _cells(body: str, code: str) -> dict[int, str]:
    m = re.search(rf'<tr data-unit="{code}" data-status="\w+">(.*?)</tr>', body, re.S)
    assert m, code
    return {int(k): v for k, v in re.findall(r'data-month="(\d+)" data-status="(\w*)"', m.group(1))}


def test_month_grid_counts_each_line_in_the_month_it_closes() -> None:
    lines = [
        engine.Line(
            "theme_day",
            "theme_day",
            "month",
            date(2025, m, 1),
            engine.add_months(date(2025, m, 1), 1),
            1,
            1 if m < 3 else 0,
            False,
            engine.MET if m < 3 else engine.MISSED,
        )
        for m in range(1, 5)
    ] + [
        engine.Line(
            "party_lesson",
            "party_lesson",
            "quarter",
            date(2025, 1, 1),
            date(2025, 4, 1),
            1,
            0,
            False,
            engine.MISSED,
        ),
        engine.Line(
            "life_meeting",
            "life_meeting",
            "year",
            date(2025, 1, 1),
            date(2026, 1, 1),
            1,
            0,
            True,
            engine.EXEMPT,
        ),
    ]
    cells = engine.month_grid(lines, 2025)
    assert [c.status for c in cells[:5]] == [engine.MET, engine.MET, engine.MISSED, engine.MISSED, ""]
    assert (cells[2].required, cells[2].held, cells[2].gap) == (2, 0, 2)  # March: the month and the quarter
    assert cells[11].status == engine.EXEMPT and cells[11].gap == 0


def test_compliance_is_branches_by_months_paged_filtered_and_exported(party: Party) -> None:
    _branches(party, 30)
    hold_meeting(party, kinds=["theme_day"], when="2025-01-07 14:00", present=[party.m1])
    c = client_for(party.committee_user)
    url = reverse("partylife:compliance")
    body = c.get(url, {"year": "2025", "q": "XH-B01"}).content.decode()
    cells = _cells(body, "XH-B01")
    assert len(cells) == 12
    assert cells[1] in ("met", "missed")  # January: the theme day held; other monthly ones may be missing
    assert cells[8] == "upcoming"  # after the cutoff (2025-07-15)
    assert cells[12] == "due"  # the year's window is open: the yearly requirements can still be met
    assert cells[6] == "missed"  # June closed without its meetings
    # 30 new branches + the branch and its party group + the general committee's own? paged by 25
    body = c.get(url, {"year": "2025"}).content.decode()
    assert len(re.findall(r'<tr data-unit="', body)) == 25 and "Page 1 of 2" in body
    body2 = c.get(url, {"year": "2025", "page": "2"}).content.decode()
    assert 0 < len(re.findall(r'<tr data-unit="', body2)) <= 25
    assert c.get(url, {"page": "99999999999999999999"}).status_code == 200
    assert c.get(url, {"year": "99999999999999999999"}).status_code == 400
    assert c.get(url, {"year": "9999"}).status_code == 400
    # a scope outside the user's sight is a 404, as for one that does not exist
    assert c.get(url, {"scope": str(party.org.huangpu_committee.pk)}).status_code == 404
    assert c.get(url, {"scope": "99999999999999999999"}).status_code in (400, 404)
    # the export: every matching branch, translated headers, a status word and held/required per month
    x = c.get(url, {"year": "2025", "q": "XH-B0", "export": "xlsx"})
    rows = list(load_workbook(io.BytesIO(x.content)).active.values)
    assert rows[0][:3] == ("Code", "Party organization", "Month 1") and rows[0][-1] == "Year so far"
    codes = [r[0] for r in rows[1:]]
    assert "XH-B01" in codes and "XH-B10" not in codes
    b01 = rows[1 + codes.index("XH-B01")]
    assert re.fullmatch(r"(Met|Missed) \d+/\d+", b01[2]) and b01[13] is not None and b01[-1] == "Behind"
    assert not any("_" in str(v) for r in rows for v in r if v)  # no raw keys


def test_compliance_page_queries_do_not_grow_with_the_branches(
    party: Party, django_assert_max_num_queries: Any
) -> None:
    c = client_for(party.committee_user)
    url = reverse("partylife:compliance")
    c.get(url)
    with django_assert_max_num_queries(30) as few:
        c.get(url, {"year": "2025"})
    _branches(party, 40)
    with django_assert_max_num_queries(30) as many:
        c.get(url, {"year": "2025"})
    assert len(many.captured_queries) <= len(few.captured_queries) + 2


def test_calendar_is_paged_filtered_by_state_and_exported(party: Party) -> None:
    _branches(party, 12)
    c = client_for(party.committee_user)
    url = reverse("partylife:compliance_calendar")
    scope = {"scope": party.org.xuhui_committee.pk}
    body = c.get(url, {**scope, "period": "year", "year": "2025"}).content.decode()
    assert "Page 1 of" in body and len(re.findall(r"<tr data-unit=", body)) == 50
    body = c.get(url, {**scope, "period": "year", "year": "2025", "state": "upcoming"}).content.decode()
    assert "Missed" not in body.split('id="calendar-filter"')[1].split("</form>")[1]
    # this month by default: nothing due later than July 2025's windows shows up as a month heading
    body = c.get(url, scope).content.decode()
    assert 'data-month="2025-07"' in body and 'data-month="2025-04"' not in body
    assert c.get(url, {**scope, "state": "bogus"}).status_code == 400
    assert c.get(url, {**scope, "page": "-1", "sort": "nonsense"}).status_code == 200
    x = c.get(
        url, {**scope, "period": "year", "year": "2025", "state": "missed", "q": "XH-B01", "export": "xlsx"}
    )
    rows = list(load_workbook(io.BytesIO(x.content)).active.values)
    assert rows[0] == ("Due by", "Code", "Party organization", "Kind", "Held", "Required", "State")
    assert rows[1:] and {r[6] for r in rows[1:]} == {"Missed"}
    assert {r[1] for r in rows[1:]} <= {"XH-B01", "XH-B01-G1"}
    assert "Theme party day" in {r[3] for r in rows[1:]}
    assert c.get(url, {"scope": str(party.org.huangpu_committee.pk)}).status_code == 404


# ---------------------------------------------------------------- on a page: the meetings list


def _drafts(party: Party, n: int) -> None:
    for i in range(n):
        svc.meeting_create(
            actor=SYSTEM,
            unit=party.branch,
            kinds=["party_lesson"] if i % 2 else ["theme_day"],
            topic=f"学习{i:02d}",
            starts_at=at(f"2025-03-{i + 1:02d} 14:00"),
        )


def test_meetings_list_pages_filters_sorts_and_exports(party: Party) -> None:
    _drafts(party, 12)
    hold_meeting(party, kinds=["theme_day"], when="2025-05-06 14:00", topic="五月主题党日")
    sec = client_for(party.sec_user)
    url = reverse("partylife:meetings")
    body = sec.get(url, {"size": "10"}).content.decode()
    assert "五月主题党日" in body and "学习11" in body and "学习02" not in body  # newest first
    assert "Page 1 of 2" in body and "Export to Excel" in body
    body = sec.get(url, {"size": "10", "page": "2"}).content.decode()
    assert "学习02" in body and "学习00" in body and "五月主题党日" not in body
    body = sec.get(url, {"sort": "date", "size": "10"}).content.decode()
    assert "学习00" in body and "五月主题党日" not in body
    body = sec.get(url, {"q": "学习0"}).content.decode()
    assert "学习05" in body and "学习10" not in body and "五月主题党日" not in body
    for hostile in (
        {"page": "99999999999999999999"},
        {"page": "-1"},
        {"size": "99999999999999999999"},
        {"sort": "unit__secret"},
    ):
        assert sec.get(url, hostile).status_code == 200, hostile
    for bad in ({"unit": "99999999999999999999"}, {"unit": "abc"}, {"since": "9999-01-01"}, {"q": "\x01"}):
        resp = sec.get(url, bad)
        assert resp.status_code == 400, bad
        assert "学习" not in resp.content.decode().split('id="meeting-table"')[1]
    resp = sec.get(url, {"export": "xlsx", "status": "approved"})
    assert resp["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(resp.content)).active.values)
    assert rows[0] == ("Date", "Party organization", "Kinds", "Topic", "Held", "Review")
    assert [r[3] for r in rows[1:]] == ["五月主题党日"]
    assert rows[1][2] == "Theme party day" and rows[1][4] == "Yes" and rows[1][5] == "Approved"
    # a unit out of the user's scope is no valid choice: the same answer as for no such unit
    out = sec.get(url, {"unit": str(party.org.huangpu_committee.pk)})
    assert out.status_code == 400


def test_meetings_list_costs_the_same_queries_for_12_or_40_meetings(
    party: Party, django_assert_max_num_queries: Any
) -> None:
    sec = client_for(party.sec_user)
    url = reverse("partylife:meetings")
    _drafts(party, 12)
    sec.get(url)  # warm the session and caches
    with django_assert_max_num_queries(25) as small:
        sec.get(url)
    _drafts(party, 28)
    with django_assert_max_num_queries(25) as big:
        assert "Page 1 of 1" not in sec.get(url, {"size": "10"}).content.decode()
    assert len(big.captured_queries) <= len(small.captured_queries) + 1


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(engine.PERIODS),
            st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 31)),
            st.integers(min_value=0, max_value=3),
            st.integers(min_value=0, max_value=4),
            st.sampled_from(engine.WORST_FIRST),
        ),
        max_size=30,
    )
)
def test_month_grid_keeps_every_line_of_the_year_exactly_once(specs: list[Any]) -> None:
    lines = []
    for period, day, required, held, status in specs:
        start, end = engine.window_of(period, day)
        lines.append(
            engine.Line("c", "k", period, start, end, required, held, status == engine.EXEMPT, status)
        )
    cells = engine.month_grid(lines, 2025)
    in_year = [ln for ln in lines if (ln.end - timedelta(days=1)).year == 2025]
    assert sum(len(c.statuses) for c in cells) == len(in_year)
    assert sum(c.required for c in cells) == sum(ln.required for ln in in_year)
    assert sum(c.gap for c in cells) == sum(ln.gap for ln in in_year)
    for c in cells:
        assert c.held <= c.required
        assert c.status == (min(c.statuses, key=engine.WORST_FIRST.index) if c.statuses else "")
