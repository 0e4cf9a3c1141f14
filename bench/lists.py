"""Benchmark: the long list pages (paged, filtered) against the same pages unpaged, on the demo data.

    .venv/bin/python bench/lists.py [--db PATH] [--runs 9] [--users admin,xuhui]

Loads the demo (``muster demo``'s organization, party organizations and requirements, and the Shanghai
March 2022 ledger that feeds the points leaderboard) into a fresh SQLite file under /tmp (or reuses
``--db`` when it already holds it), logs in with the Django test client as the demo administrator
(``admin``, the whole tree), as a district user (``xuhui``, the 徐汇 bureau) and as the district party
secretary (``xuhui_secretary``, the 徐汇 party committee), and for each page prints the median and 95th
percentile of ``--runs`` requests after one warm-up request, the number of SQL queries and the size.

Baseline, measured in the same run on the same data: the same page **unpaged** — the page's ``Listing``
given a page size above its row count (every row computed and rendered, which is what these pages did
before paging) — and, for the calendar, its old default (the whole year) unpaged. The home page has no
list and no baseline. Target: every page ≤ 300 ms (median) on SQLite.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

TARGET_MS = 300.0


def setup(db: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ["MUSTER_ALLOWED_HOSTS"] = "testserver"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "muster.settings")
    import django

    django.setup()


def load(verbose: bool) -> None:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from muster.audit.context import origin

    call_command("migrate", interactive=False, verbosity=0)
    if get_user_model().objects.filter(username="admin").exists():
        print("demo already loaded")
        return
    from muster.orgs.demo import load_demo
    from muster.reports.seed import load_seed_scenario

    t = time.perf_counter()
    with origin(None, "cli"):
        load_demo(stdout=sys.stdout if verbose else None)
        load_seed_scenario(stdout=sys.stdout if verbose else None)
    print(f"demo loaded in {time.perf_counter() - t:.1f} s")


@contextmanager
def unpaged(*listings: Any) -> Iterator[None]:
    """The listings' page size raised above any row count: the page as it was before paging."""
    saved = [(lst.page_size, lst.max_page_size) for lst in listings]
    for lst in listings:
        lst.page_size = lst.max_page_size = 10**9
    try:
        yield
    finally:
        for lst, (size, most) in zip(listings, saved, strict=True):
            lst.page_size, lst.max_page_size = size, most


def measure(client: Any, url: str, runs: int) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first = client.get(url)  # warm-up (and the status and size)
    times = []
    queries = 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as q:
            t = time.perf_counter()
            r = client.get(url)
            times.append((time.perf_counter() - t) * 1000)
        queries = len(q.captured_queries)
        assert r.status_code == first.status_code
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return {
        "status": first.status_code,
        "bytes": len(first.content),
        "median": statistics.median(times),
        "p95": p95,
        "queries": queries,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", type=Path, help="SQLite file to use (created and loaded when missing)")
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--users", default="admin,xuhui,xuhui_secretary")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    db = args.db or Path(tempfile.mkdtemp(prefix="muster-bench-lists-")) / "demo.sqlite3"
    setup(db)
    load(args.verbose)

    from django.contrib.auth import get_user_model
    from django.test import Client

    from muster.partylife.views import compliance, meetings
    from muster.points import views as points_views
    from muster.web.views import people

    pages: list[tuple[str, str, str | None, tuple[Any, ...]]] = [
        # (name, paged url, baseline url, listings unpaged for the baseline)
        ("home", "/", None, ()),
        (
            "compliance (branches × months)",
            "/party/compliance/",
            "/party/compliance/",
            (compliance.YEAR_GRID,),
        ),
        (
            "compliance by period (quarter)",
            "/party/compliance/?period=quarter",
            "/party/compliance/?period=quarter",
            ("period",),
        ),
        (
            "compliance calendar (month; baseline: year unpaged)",
            "/party/compliance/calendar/",
            "/party/compliance/calendar/?period=year",
            (compliance.CALENDAR,),
        ),
        (
            "compliance calendar (year)",
            "/party/compliance/calendar/?period=year",
            "/party/compliance/calendar/?period=year",
            (compliance.CALENDAR,),
        ),
        ("points leaderboard", "/points/leaderboard/", "/points/leaderboard/", (points_views.LEADERBOARD,)),
        ("people", "/people/", "/people/", (people.PEOPLE,)),
        ("meetings", "/party/meetings/", "/party/meetings/", (meetings.MEETINGS,)),
    ]
    users = get_user_model().objects.filter(username__in=args.users.split(","))
    print(f"database: {db}   runs per page: {args.runs} (after one warm-up)")
    header = (
        f"{'user':<7} {'page':<52} {'st':>3} {'median':>8} {'p95':>8} {'q':>4} {'KB':>6}"
        f" | {'base med':>9} {'base p95':>9} {'q':>4} {'KB':>6} {'×':>6}"
    )
    print(header)
    print("-" * len(header))
    worst = 0.0
    for user in users:
        c = Client()
        c.force_login(user)
        for name, url, base_url, listings in pages:
            m = measure(c, url, args.runs)
            worst = max(worst, m["median"])
            line = (
                f"{user.username:<7} {name:<52} {m['status']:>3} {m['median']:>6.0f}ms {m['p95']:>6.0f}ms"
                f" {m['queries']:>4} {m['bytes'] / 1024:>6.0f}"
            )
            if base_url is not None:
                if listings == ("period",):
                    b = measure_period_unpaged(c, base_url, args.runs)
                else:
                    with unpaged(*listings):
                        b = measure(c, base_url, args.runs)
                ratio = b["median"] / m["median"] if m["median"] else 0
                line += (
                    f" | {b['median']:>7.0f}ms {b['p95']:>7.0f}ms {b['queries']:>4} {b['bytes'] / 1024:>6.0f}"
                    f" {ratio:>5.1f}×"
                )
            print(line, flush=True)
    verdict = "meets" if worst <= TARGET_MS else "misses"
    print(f"\nslowest median of a paged page: {worst:.0f} ms — {verdict} the {TARGET_MS:.0f} ms target")


def measure_period_unpaged(client: Any, url: str, runs: int) -> dict[str, Any]:
    """The period view builds its listing per request (its columns depend on the requirements)."""
    from muster.partylife.views import compliance

    original = compliance.period_listing

    def unpaged_listing(columns: Any) -> Any:
        lst = original(columns)
        lst.page_size = lst.max_page_size = 10**9
        return lst

    compliance.period_listing = unpaged_listing
    try:
        return measure(client, url, runs)
    finally:
        compliance.period_listing = original


if __name__ == "__main__":
    main()
