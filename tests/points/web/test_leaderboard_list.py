"""The points leaderboard as a long list: a name filter, whitelisted sorts, clamped pages, the exports
still ranking the whole selection."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from tests.points.web.conftest import Party, hold_meeting

URL = "/points/leaderboard/"
SEL = {"unit": "XH-DW", "start": "2024-01-01", "end": "2025-01-01"}


def _names(html: str) -> list[str]:
    table = html.split('id="leaderboard"')[1].split("</table>")[0]
    return re.findall(r'<a href="/points/people/[^"]+">([^<]+)</a>', table)


def test_leaderboard_filters_sorts_and_pages(party: Party, login: Any) -> None:
    hold_meeting(
        party,
        kinds=["party_lesson"],
        when="2024-05-05 14:00",
        present=[party.m1, party.m2, party.committee],
        lecturer=party.secretary,
    )
    c = login(party.committee_user)
    ranked = _names(c.get(URL, SEL).content.decode())
    assert str(party.secretary) in ranked and str(party.m1) in ranked  # "name (staff number)"
    by_name = _names(c.get(URL, {**SEL, "sort": "-name"}).content.decode())
    assert by_name == sorted(ranked, reverse=True)
    only = _names(c.get(URL, {**SEL, "q": party.m1.name}).content.decode())
    assert only == [str(party.m1)]
    assert _names(c.get(URL, {**SEL, "q": party.m1.code}).content.decode()) == [str(party.m1)]
    for hostile in ({"page": "99999999999999999999"}, {"page": "-3"}, {"sort": "__dict__"}, {"size": "-1"}):
        r = c.get(URL, {**SEL, **hostile})
        assert r.status_code == 200 and party.secretary.name in r.content.decode(), hostile
    assert c.get(URL, {**SEL, "q": "\x00"}).status_code == 400
    # the CSV export ranks the whole selection, whatever is shown
    rows = list(
        csv.reader(io.StringIO(c.get(URL, {**SEL, "q": "zzz", "format": "csv"}).content.decode("utf-8-sig")))
    )
    assert rows[0][0] == "Rank" and len(rows) - 1 == len(ranked)


def test_leaderboard_queries_are_bounded(
    party: Party, login: Any, django_assert_max_num_queries: Any
) -> None:
    hold_meeting(
        party, kinds=["party_lesson"], when="2024-05-05 14:00", present=[party.m1], lecturer=party.secretary
    )
    c = login(party.committee_user)
    c.get(URL, SEL)
    with django_assert_max_num_queries(20):
        assert c.get(URL, {**SEL, "page": "2", "sort": "points"}).status_code == 200
