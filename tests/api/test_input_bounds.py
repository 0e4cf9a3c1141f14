"""Security hole 6 (issue 22), the API part: page numbers, dates and years that used to answer 500.

Each input below made the server fail (an integer too large for the database's OFFSET, a day one step from
``datetime``'s limits, a year ``date()`` refuses). Now each is refused with 422 and a message that says
what is allowed, and the OpenAPI document declares the bounds.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from muster.api.common import MAX_PAGE
from muster.mobilize.services import post_create
from muster.orgs.access import SYSTEM

from .helpers import API, get, post

DATE_RANGE = "Dates must fall between 1900-01-01 and 2100-12-31."
YEAR_RANGE = "Years must fall between 1900 and 2100."
HUGE_PAGE = 2**63
BAD_YEARS = [0, -(10**18), 10000, 99999]


@pytest.fixture
def boss(world: Any, make_user: Callable[..., Any]) -> Client:
    """A superuser's client whose messages are in English."""
    c = Client()
    c.cookies["django_language"] = "en"
    c.force_login(make_user("boss", is_superuser=True))
    return c


def paged_operations(client: Client) -> list[str]:
    doc = get(client, "/openapi.json").json()
    return sorted(
        path.removeprefix("/api/v1")
        for path, ops in doc["paths"].items()
        if "get" in ops
        and "{" not in path
        and any(p["name"] == "page" for p in ops["get"].get("parameters", []))
    )


def test_every_paged_list_refuses_a_page_past_the_bound(boss: Client) -> None:
    paths = paged_operations(boss)
    assert {"/units", "/people", "/teams", "/partners", "/mobilize/entries", "/partylife/meetings"} <= set(
        paths
    )
    for path in paths:
        for page in (HUGE_PAGE, 10**30, MAX_PAGE + 1):
            r = get(boss, f"{path}?page={page}")
            assert r.status_code == 422, (path, page, r.content[:300])
            assert r.json()["errors"] == {"page": [f"Input should be less than or equal to {MAX_PAGE}"]}
        last = get(boss, f"{path}?page={MAX_PAGE}&page_size=500")  # the last page allowed: empty
        assert last.status_code == 200, (path, last.content[:300])
        assert last.json()["items"] == [] and last.json()["page"] == MAX_PAGE


def test_paging_metadata_is_unchanged(boss: Client) -> None:
    first = get(boss, "/units?page_size=4").json()
    second = get(boss, "/units?page_size=4&page=2").json()
    total = first["count"]
    assert total == second["count"] == len(get(boss, "/units?page_size=500").json()["items"]) > 4
    assert (first["page"], first["page_size"], len(first["items"])) == (1, 4, 4)
    assert second["page"] == 2 and len(second["items"]) == min(4, total - 4)
    assert not {u["code"] for u in first["items"]} & {u["code"] for u in second["items"]}


def test_the_document_shows_the_bounds(boss: Client) -> None:
    doc = get(boss, "/openapi.json").json()
    page = next(p for p in doc["paths"]["/api/v1/units"]["get"]["parameters"] if p["name"] == "page")
    assert page["schema"]["minimum"] == 1 and page["schema"]["maximum"] == MAX_PAGE
    year = next(
        p for p in doc["paths"]["/api/v1/points/statement"]["get"]["parameters"] if p["name"] == "year"
    )
    assert {"minimum": 1900, "maximum": 2100}.items() <= year["schema"]["anyOf"][0].items()
    start = next(
        p for p in doc["paths"]["/api/v1/reports/series"]["get"]["parameters"] if p["name"] == "start"
    )
    assert start["schema"]["formatMinimum"] == "1900-01-01"
    assert start["schema"]["formatMaximum"] == "2100-12-31"


@pytest.mark.parametrize("as_of", ["0001-01-01", "0001-01-01 00:00", "9999-12-31 24:00", "9999-12-31"])
@pytest.mark.parametrize("url", ["/reports/rollup", "/reports/brief", "/mobilize/me/balance"])
def test_cutoffs_out_of_range(boss: Client, world: Any, url: str, as_of: str) -> None:
    if url.startswith("/mobilize/me"):
        url = "/mobilize/people/XH0001/balance"
    r = get(boss, url, data={"as_of": as_of, **({"unit": "SH"} if "reports" in url else {})})
    assert r.status_code == 422, r.content[:300]
    assert DATE_RANGE.rstrip(".").lower() in r.json()["errors"]["as_of"][0].lower()


def test_the_last_cutoff_in_range_is_accepted(boss: Client, world: Any) -> None:
    r = get(boss, "/reports/rollup", data={"as_of": "2100-12-31 24:00", "unit": "SH"})
    assert r.status_code == 200 and r.json()["as_of"].startswith("2101-01-01T00:00:00")
    assert get(boss, "/reports/rollup", data={"as_of": "1900-01-01 00:00", "unit": "SH"}).status_code == 200


def test_series_dates(boss: Client, world: Any) -> None:
    r = get(boss, "/reports/series", data={"start": "0001-01-01", "unit": "SH"})
    assert r.status_code == 422 and r.json()["errors"] == {"start": [DATE_RANGE]}
    r = get(boss, "/reports/series", data={"start": "2022-03-01", "as_of": "9999-12-31 24:00", "unit": "SH"})
    assert r.status_code == 422 and "as_of" in r.json()["errors"]
    r = get(boss, "/reports/series", data={"start": "1900-01-01", "as_of": "2022-03-18 24:00", "unit": "SH"})
    assert r.status_code == 422 and r.json()["errors"] == {"start": ["A series covers at most 366 days."]}
    r = get(boss, "/reports/series", data={"start": "2022-03-11", "as_of": "2022-03-13 24:00", "unit": "SH"})
    assert r.status_code == 200 and [d["day"] for d in r.json()["days"]] == [
        "2022-03-11",
        "2022-03-12",
        "2022-03-13",
    ]


@pytest.mark.parametrize("as_of", ["0001-01-01 00:00", "9999-12-31 24:00"])
def test_snapshot_cutoff_out_of_range(boss: Client, world: Any, as_of: str) -> None:
    r = post(boss, "/reports/snapshots", {"as_of": as_of, "unit": "SH", "title": "t"})
    assert r.status_code == 422, r.content[:300]
    assert "as_of" in r.json()["errors"]


@pytest.mark.parametrize(
    ("start", "end"),
    [("0001-01-01 08:00", "0001-01-01 09:00"), ("9999-12-31 23:00", "9999-12-31 24:00")],
)
def test_service_entry_times_out_of_range(boss: Client, world: Any, start: str, end: str) -> None:
    r = post(boss, "/mobilize/entries", {"person": "XH0001", "kind": "community", "start": start, "end": end})
    assert r.status_code == 422, r.content[:300]
    errors = r.json()["errors"]
    assert set(errors) <= {"start", "end"} and errors
    assert all(m == [DATE_RANGE] for m in errors.values())


@pytest.mark.parametrize(
    "query",
    [
        "unit=SH-DW&as_of=0001-01-01T00:00:00",
        "unit=SH-DW&as_of=9999-12-31T23:59:59",
        "unit=SH-DW&start=0001-01-01",
        "unit=SH-DW&start=2025-01-01&end=9999-12-31",
    ],
)
@pytest.mark.parametrize("url", ["/partylife/compliance", "/partylife/calendar", "/partylife/exemptions"])
def test_compliance_dates_out_of_range(boss: Client, world: Any, url: str, query: str) -> None:
    if url == "/partylife/exemptions" and "as_of" in query:
        url = "/partylife/inactivity"
    r = get(boss, f"{url}?{query}")
    assert r.status_code == 422, (url, query, r.content[:300])
    assert list(r.json()["errors"].values()) == [[DATE_RANGE]]


@pytest.mark.parametrize("year", BAD_YEARS)
def test_years_out_of_range(boss: Client, world: Any, year: int) -> None:
    for url in (
        f"/points/statement?person=XH0001&year={year}",
        f"/partylife/talks?year={year}",
        f"/partylife/talks/matrix?branch=XH-B01&year={year}",
    ):
        r = get(boss, url)
        assert r.status_code == 422, (url, r.content[:300])
        assert r.json()["errors"] == {"year": [YEAR_RANGE]}
    r = post(boss, "/points/recompute", {"year": year, "reason": "probe"})
    assert r.status_code == 422 and r.json()["errors"] == {"year": [YEAR_RANGE]}


def test_years_in_range_still_work(boss: Client, world: Any) -> None:
    assert get(boss, "/points/statement?person=XH0001&year=2100").status_code == 200
    assert get(boss, "/partylife/talks?year=1900").json() == []
    assert get(boss, "/partylife/talks/matrix?branch=XH-B01&year=2024").status_code == 200


def test_leaderboard_period_out_of_range(boss: Client, world: Any) -> None:
    r = get(boss, "/points/leaderboard?unit=SH-DW&start=0001-01-01")
    assert r.status_code == 422 and r.json()["errors"] == {"start": [DATE_RANGE]}
    r = get(boss, "/points/leaderboard?unit=SH-DW&start=2100-01-01&end=9999-12-31")
    assert r.status_code == 422 and r.json()["errors"] == {"end": [DATE_RANGE]}
    assert get(boss, "/points/leaderboard?unit=SH-DW&start=2100-12-31").status_code == 200


def test_messages_are_translated(world: Any, make_user: Callable[..., Any]) -> None:
    c = Client()  # the default language: Simplified Chinese
    c.force_login(make_user("zh-boss", is_superuser=True))
    r = c.get(API + "/points/statement?person=XH0001&year=99999")
    assert r.status_code == 422 and r.json()["errors"]["year"] == ["年份须在 1900 至 2100 之间。"]
    r = c.get(API + "/reports/series?unit=SH&start=0001-01-01")
    assert r.json()["errors"]["start"] == ["日期须在 1900-01-01 至 2100-12-31 之间。"]


@pytest.mark.parametrize(("start", "end"), [("0001-01-01", "0001-01-08"), ("9999-12-25", "9999-12-31")])
def test_roster_plan_period_out_of_range(boss: Client, world: Any, start: str, end: str) -> None:
    post_create(actor=SYSTEM, unit=world.org.xuhui, code="XH-HOT", name="热线", kind="hotline")
    r = post(boss, "/roster/plans", {"post": "XH-HOT", "start": start, "end": end, "solve": False})
    assert r.status_code == 422, r.content[:300]  # the shifts query used to overflow: 500
    assert r.json()["errors"] == {"start": [DATE_RANGE], "end": [DATE_RANGE]}


def test_the_last_net_answers_an_overflow_with_400(rf: Any, caplog: pytest.LogCaptureFixture) -> None:
    """Under the bounds: an ``OverflowError`` that still reaches the API is the request's fault (logged)."""
    from muster.api.urls import api

    request = rf.get("/api/v1/reports/rollup")
    r = api.on_exception(request, OverflowError("date value out of range"))
    assert r.status_code == 400
    assert json.loads(r.content) == {"detail": "A number or a date in the request is out of range."}
    assert [rec.name for rec in caplog.records] == ["muster.api.urls"]
