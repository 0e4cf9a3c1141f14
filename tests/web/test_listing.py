"""The shared list component (``muster.web.listing``): filter, sort whitelist, paging bounds, export.

The component on plain rows (a list of dicts) through a request; the pages that use it are tested through
HTTP with their apps (``tests/partylife/web/test_lists.py``, ``tests/points/web/test_leaderboard_list.py``,
``tests/web/test_people_list.py``)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.test import RequestFactory
from openpyxl import load_workbook

from muster.web.listing import (
    ChoiceFilter,
    Column,
    Listing,
    PeriodFilter,
    Sort,
    TextFilter,
    choice_label,
    yes_no,
)

STATES = [("open", "Open"), ("closed", "Closed")]

PLAIN = Listing(
    name="things",
    title="Things",
    columns=[
        Column("Name", "name", sort="name"),
        Column("State", "state", format=choice_label(STATES)),
        Column("Size", "size", sort="size"),
        Column("Done", "done", format=yes_no),
    ],
    sorts={"name": Sort("Name", ("name",)), "size": Sort("Size", ("size", "name"))},
    default_sort="name",
    filters=[
        ChoiceFilter("state", "State", "state", STATES),
        TextFilter("q", "Search", ["name"]),
        PeriodFilter("period", "Day", "day"),
    ],
    page_size=10,
    export_limit=30,
)


def _rows(n: int) -> list[dict[str, Any]]:
    from datetime import date, timedelta

    return [
        {
            "name": f"item {i:03d}",
            "state": "open" if i % 2 else "closed",
            "size": i % 7 if i % 5 else None,
            "done": i % 3 == 0,
            "day": date(2025, 1, 1) + timedelta(days=i),
        }
        for i in range(n)
    ]


def _request(**params: Any) -> Any:
    request = RequestFactory().get("/things/", params)
    request.session = SessionStore()
    request._messages = FallbackStorage(request)  # type: ignore[attr-defined]
    return request


def test_pages_are_clamped_and_junk_is_page_one() -> None:
    rows = _rows(35)  # 4 pages of 10
    assert PLAIN.apply(_request(), rows).page.number == 1
    assert PLAIN.apply(_request(page="2"), rows).rows[0]["name"] == "item 010"
    for hostile, expected in [
        ("99999999999999999999", 4),
        ("4000", 4),
        ("-1", 1),
        ("0", 1),
        ("abc", 1),
        ("²", 1),
        ("1e9", 1),
        ("", 1),
    ]:
        lst = PLAIN.apply(_request(page=hostile), rows)
        assert (lst.status, lst.page.number) == (200, expected), hostile
    assert len(PLAIN.apply(_request(page="4"), rows).rows) == 5


def test_page_size_only_from_the_allowed_sizes() -> None:
    rows = _rows(120)
    assert PLAIN.apply(_request(size="25"), rows).size == 25
    assert PLAIN.apply(_request(size="200"), rows).size == 200
    for hostile in ("7", "-50", "100000", "99999999999999999999", "x"):
        assert PLAIN.apply(_request(size=hostile), rows).size == 10


def test_sort_whitelist_direction_and_missing_values_last() -> None:
    rows = _rows(12)
    names = [r["name"] for r in PLAIN.apply(_request(sort="-name"), rows).rows]
    assert names == sorted(names, reverse=True)
    for hostile in ("password", "--name", "name;drop", "__class__", "-"):
        lst = PLAIN.apply(_request(sort=hostile), rows)
        assert lst.sort == "name" and lst.status == 200
    by_size = PLAIN.apply(_request(sort="size", size="25"), rows).rows
    sizes = [r["size"] for r in by_size]
    assert sizes[-3:] == [None, None, None] and sizes[:-3] == sorted(s for s in sizes if s is not None)
    by_size_desc = [r["size"] for r in PLAIN.apply(_request(sort="-size", size="25"), rows).rows]
    assert by_size_desc[-3:] == [None, None, None]
    assert by_size_desc[:-3] == sorted((s for s in sizes if s is not None), reverse=True)


def test_header_links_toggle_the_direction_and_keep_the_filters() -> None:
    lst = PLAIN.apply(_request(state="open", sort="name", page="2"), _rows(40))
    name = next(h for h in lst.headers if h.key == "name")
    assert name.active and not name.descending
    assert "sort=-name" in name.url and "state=open" in name.url and "page=" not in name.url
    assert next(h for h in lst.headers if h.label == "State").key is None


def test_filters_narrow_and_bad_values_are_a_400_without_rows() -> None:
    rows = _rows(30)
    lst = PLAIN.apply(_request(state="open"), rows)
    assert lst.total == 15 and lst.filtered
    assert PLAIN.apply(_request(q="item 02"), rows).total == 11  # every word somewhere: 002, 020-029
    assert PLAIN.apply(_request(q="ITEM  029"), rows).total == 1
    assert PLAIN.apply(_request(period_from="2025-01-05", period_until="2025-01-07"), rows).total == 3
    for bad in (
        {"state": "deleted"},
        {"q": "x\x00y"},
        {"q": "x" * 101},
        {"period_from": "9999-12-31"},
        {"period_until": "2023-02-31"},
    ):
        lst = PLAIN.apply(_request(**bad), rows)
        assert (lst.status, lst.total, lst.rows) == (400, 0, []), bad
        assert lst.form.errors


@pytest.mark.django_db  # every export writes an audit event
def test_export_has_translated_headers_and_values_and_a_limit() -> None:
    lst = PLAIN.apply(_request(export="xlsx", state="closed", sort="-name"), _rows(20))
    resp = lst.export_response
    assert resp is not None and resp.status_code == 200
    assert (
        resp["Content-Disposition"].startswith("attachment") and "things.xlsx" in resp["Content-Disposition"]
    )
    sheet = load_workbook(io.BytesIO(resp.content)).active
    values = list(sheet.values)
    assert values[0] == ("Name", "State", "Size", "Done")
    assert len(values) == 1 + 10  # every matching row, not just the page
    assert values[1][0] == "item 018" and values[1][1] == "Closed" and values[1][3] == "Yes"
    csv = PLAIN.apply(_request(export="csv"), _rows(3)).export_response
    assert csv is not None and csv.content.decode("utf-8-sig").splitlines()[1] == "item 000,Closed,,Yes"
    # over the limit: back to the list (filters kept) with a message saying how many and what to do
    request = _request(export="xlsx", q="item")
    over = PLAIN.apply(request, _rows(31)).export_response
    assert over is not None and over.status_code == 303
    assert over["Location"] == "/things/?q=item"
    (message,) = [str(m) for m in get_messages(request)]
    assert "31 rows match" in message and "at most 30" in message
    assert PLAIN.apply(_request(export="pdf"), _rows(3)).export_response is None
