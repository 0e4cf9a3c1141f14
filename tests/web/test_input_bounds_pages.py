"""Security hole 6 (issue 22), the web part: the pages that take the same dates, years and page numbers as
the API answer 400 with a message (or show the form's error with 400), never 500."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from muster.mobilize.services import post_create
from muster.orgs.access import SYSTEM

DATE_RANGE = "Dates must fall between 1900-01-01 and 2100-12-31."
YEAR_RANGE = "Years must fall between 1900 and 2100."
BAD_YEARS = ["0", str(-(10**18)), "10000", "99999"]


@pytest.fixture
def boss(org: Any, make_user: Callable[..., Any]) -> Client:
    """A superuser's client; pages in English."""
    c = Client()
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    c.force_login(make_user("boss", is_superuser=True))
    return c


def bad_request(r: Any, message: str) -> None:
    assert r.status_code == 400, r.content[:500]
    assert message in r.content.decode()


@pytest.mark.parametrize(
    ("day", "time"), [("0001-01-01", "00:00"), ("9999-12-31", "24:00"), ("9999-12-31", "08:00")]
)
@pytest.mark.parametrize("url", ["/reports/", "/reports/series/", "/reports/briefing/", "/reports/export/"])
def test_report_cutoffs_out_of_range(boss: Client, url: str, day: str, time: str) -> None:
    bad_request(boss.get(url, {"unit": "SH", "date": day, "time": time}), DATE_RANGE)


def test_report_cutoff_bounds_and_series_json(boss: Client) -> None:
    assert boss.get("/reports/", {"unit": "SH", "date": "2100-12-31", "time": "24:00"}).status_code == 200
    r = boss.get("/reports/series.json", {"unit": "SH", "date": "9999-12-31", "time": "24:00"})
    assert r.status_code == 422 and r.json()["errors"]["date"][0]["message"] == DATE_RANGE
    r = boss.get(
        "/reports/series/", {"unit": "SH", "date": "2022-03-13", "time": "24:00", "start": "0001-01-01"}
    )
    assert r.status_code == 200  # a start out of range falls back to the default, like any bad start


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_publishing_a_snapshot_out_of_range(boss: Client, day: str) -> None:
    r = boss.post("/reports/publish/", {"unit": "SH", "date": day, "time": "24:00", "title": "t"})
    assert r.status_code == 302  # back to the report with a message; nothing published
    page = boss.get(r["Location"])
    assert "could not be published" in page.content.decode()


@pytest.mark.parametrize("as_of", ["0001-01-01", "9999-12-31"])
@pytest.mark.parametrize(
    "url", ["/party/compliance/", "/party/compliance/calendar/", "/party/compliance/inactivity/"]
)
def test_compliance_out_of_range(boss: Client, org: Any, url: str, as_of: str) -> None:
    r = boss.get(
        url, {"scope": org.party_root.pk, "period": "quarter", "year": "2025", "number": "2", "as_of": as_of}
    )
    bad_request(r, DATE_RANGE)


def test_compliance_year_and_freeze(boss: Client, org: Any) -> None:
    r = boss.get("/party/compliance/", {"scope": org.party_root.pk, "period": "year", "year": "99999"})
    assert r.status_code == 400 and "Ensure this value is less than or equal to 2100." in r.content.decode()
    for start in ("0001-01-01", "2023-02-31"):
        r = boss.post(
            "/party/compliance/freeze/", {"scope": org.party_root.pk, "start": start, "end": "2024-01-01"}
        )
        assert r.status_code == 400
    bad_request(
        boss.post(
            "/party/compliance/freeze/",
            {"scope": org.party_root.pk, "start": "2023-01-01", "end": "9999-12-31"},
        ),
        DATE_RANGE,
    )


@pytest.mark.parametrize("year", BAD_YEARS)
def test_years_out_of_range(boss: Client, org: Any, year: str) -> None:
    bad_request(boss.get("/party/talks/", {"year": year}), YEAR_RANGE)
    bad_request(boss.get("/party/talks/matrix/", {"branch": org.xuhui_branch.pk, "year": year}), YEAR_RANGE)
    bad_request(boss.get(f"/points/people/{org.alice.code}/", {"year": year}), YEAR_RANGE)


def test_years_in_range_and_not_numbers(boss: Client, org: Any) -> None:
    assert boss.get("/party/talks/", {"year": "2100"}).status_code == 200
    assert (
        boss.get("/party/talks/matrix/", {"branch": org.xuhui_branch.pk, "year": "1900"}).status_code == 200
    )
    assert boss.get(f"/points/people/{org.alice.code}/", {"year": "2024"}).status_code == 200
    bad_request(boss.get("/party/talks/", {"year": "二〇二四"}), "The year must be a number, like 2024.")


def test_leaderboard_out_of_range(boss: Client) -> None:
    bad_request(boss.get("/points/leaderboard/", {"unit": "SH-DW", "start": "0001-01-01"}), DATE_RANGE)
    bad_request(boss.get("/points/leaderboard/", {"unit": "SH-DW", "end": "9999-12-31"}), DATE_RANGE)
    assert boss.get("/points/leaderboard/", {"unit": "SH-DW", "start": "2100-01-01"}).status_code == 200


@pytest.mark.parametrize("url", ["/mobilize/batches/", "/party/meetings/"])
def test_list_filters_out_of_range(boss: Client, url: str) -> None:
    since, until = ("since", "until")
    bad_request(boss.get(url, {since: "0001-01-01"}), DATE_RANGE)
    bad_request(boss.get(url, {until: "9999-12-31"}), DATE_RANGE)
    assert boss.get(url, {since: "2024-01-01", until: "2024-12-31"}).status_code == 200


@pytest.mark.parametrize(
    "url",
    ["/party/talks/", "/party/meetings/", "/mobilize/batches/", "/reports/snapshots/", "/units/", "/people/"],
)
def test_huge_page_numbers_show_the_last_page(boss: Client, url: str) -> None:
    for page in (str(2**63), str(10**30), "-1", "x"):
        assert boss.get(url, {"page": page}).status_code == 200


def test_the_message_is_translated(org: Any, make_user: Callable[..., Any]) -> None:
    c = Client()  # the default language: Simplified Chinese
    c.force_login(make_user("zh-boss", is_superuser=True))
    r = c.get("/party/talks/", {"year": "99999"})
    assert r.status_code == 400 and "年份须在 1900 至 2100 之间。" in r.content.decode()
    r = c.get("/reports/", {"unit": "SH", "date": "9999-12-31", "time": "24:00"})
    assert r.status_code == 400 and "日期须在 1900-01-01 至 2100-12-31 之间。" in r.content.decode()


def test_post_coverage_days_out_of_range(boss: Client, org: Any) -> None:
    post = post_create(
        actor=SYSTEM, unit=org.xuhui, code="XH-HOT", name="12366热线", kind="hotline", required_seats=[1] * 24
    )
    url = f"/mobilize/posts/{post.pk}/"
    bad_request(boss.get(url, {"start": "9999-12-31"}), DATE_RANGE)  # + 7 days used to overflow
    bad_request(boss.get(url, {"start": "0001-01-01"}), DATE_RANGE)
    assert boss.get(url, {"start": "2100-12-31"}).status_code == 200
