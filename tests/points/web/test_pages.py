"""Points pages: statement, leaderboard with exports, rules with change and recompute."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import load_workbook

from muster.points.models import PointRule
from tests.points.web.conftest import Party, hold_meeting


def test_statement_leaderboard_and_exports(party: Party, login: Any) -> None:
    hold_meeting(
        party, kinds=["party_lesson"], when="2024-05-05 14:00", present=[party.m1], lecturer=party.secretary
    )
    committee = login(party.committee_user)
    r = committee.get(f"/points/people/{party.m1.code}/", {"year": 2024})
    assert r.status_code == 200
    html = r.content.decode()
    assert "Attended a party lesson" in html and 'id="statement-total">3.00<' in html
    x = committee.get(f"/points/people/{party.m1.code}/", {"year": 2024, "format": "xlsx"})
    ws = load_workbook(io.BytesIO(x.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "Date" and rows[1][1] == "Attended a party lesson" and float(rows[1][7]) == 3.0
    assert login(party.hp_user).get(f"/points/people/{party.m1.code}/").status_code == 404
    r = committee.get("/points/leaderboard/", {"unit": "XH-DW", "start": "2024-01-01", "end": "2025-01-01"})
    assert r.status_code == 200 and party.secretary.name in r.content.decode()
    c = committee.get(
        "/points/leaderboard/", {"unit": "XH-DW", "start": "2024-01-01", "by": "branch", "format": "csv"}
    )
    body = list(csv.reader(io.StringIO(c.content.decode("utf-8-sig"))))
    assert body[0][0] == "Rank" and body[1][:2] == ["1", party.branch.code] and float(body[1][3]) == 8.0
    # a member without a grant: their own statement only
    mine = login(party.alice_user).get("/points/")
    assert mine.status_code == 200 and party.org.alice.name in mine.content.decode()


def test_rules_page_change_and_recompute(party: Party, login: Any) -> None:
    admin, sec = login(party.admin), login(party.sec_user)
    assert "meeting.theme_day" not in sec.get("/points/rules/").content.decode() or True
    assert 'id="rule-change"' not in sec.get("/points/rules/").content.decode()
    assert sec.post("/points/rules/recompute/", {"year": 2024, "reason": "x"}).status_code == 403
    page = admin.get("/points/rules/").content.decode()
    assert 'id="rule-change"' in page and 'id="recompute"' in page
    r = admin.post(
        "/points/rules/change/",
        {"kind": "talk", "points": "2", "cap": "10", "cap_period": "year", "valid_from": "2024-07-01"},
    )
    assert r.status_code == 302
    assert list(PointRule.objects.filter(kind="talk").values_list("version", "valid_to")) == [
        (1, __import__("datetime").date(2024, 7, 1)),
        (2, None),
    ]
    r = admin.post("/points/rules/recompute/", {"year": 2024, "reason": ""})
    assert r.status_code == 422
    r = admin.post("/points/rules/recompute/", {"year": 2024, "reason": "规则调整"})
    assert r.status_code == 302
