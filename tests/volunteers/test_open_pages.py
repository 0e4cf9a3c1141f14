"""The list of open shifts in pages (issue 26, performance): a page is read a chunk at a time and holds
exactly the rows of the whole list at its place — on the phone page, through the API, with hostile input."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from muster.mobilize import rules as mrules
from muster.mobilize import services as msvc
from muster.mobilize.models import Shift
from muster.volunteers import queries
from muster.volunteers.models import Opening
from muster.volunteers.queries import CHUNK

from .conftest import at

pytestmark = pytest.mark.django_db

MANY = CHUNK + 130  # more than one chunk


@pytest.fixture
def many(org: Any, world: Any) -> list[Shift]:
    post = msvc.post_create(
        actor=world.leader, unit=org.xuhui, code="P12366", name="12366 热线", kind="hotline"
    )
    start = at("2026-03-12 08:00")
    made = Shift.objects.bulk_create(
        [
            Shift(
                post=post,
                start=start + timedelta(hours=i),
                end=start + timedelta(hours=i + 2),
                seats=2,
                mode="remote" if i % 3 else "onsite",
            )
            for i in range(MANY)
        ]
    )
    Opening.objects.bulk_create(
        [Opening(shift=s, unit=org.xuhui, deadline=start, cancel_cutoff=start) for s in made]
    )
    msvc.shift_assign(actor=world.leader, shift=made[5], person=org.bob)  # a seat taken
    return made


def key(rows: list[Any]) -> list[tuple[Any, ...]]:
    return [(r.opening_id, r.taken, r.fits, r.mine, [m.code for m in r.misfits]) for r in rows]


def test_pages_hold_the_rows_of_the_whole_list(org: Any, world: Any, many: Any) -> None:
    for only in (True, False):
        whole = queries.open_shifts(org.bob, only_fitting=only)
        assert len(whole) > CHUNK + 50  # (bob cannot take the shifts next to the one he holds)
        for offset, limit in ((0, 50), (50, 50), (CHUNK - 10, 30), (len(whole) - 5, 50)):
            page = queries.open_shifts(org.bob, only_fitting=only, limit=limit, offset=offset)
            assert key(page) == key(whole[offset : offset + limit])
    taken = {r.shift_id: r.taken for r in queries.open_shifts(org.bob, only_fitting=False, limit=20)}
    assert taken[many[5].pk] == 1
    # the times are read as numbers and come back as the very moments stored
    first = {r.shift_id: r for r in queries.open_shifts(org.bob, only_fitting=False)}[world.morning.pk]
    assert (first.start, first.end) == (world.morning.start, world.morning.end)
    assert (first.deadline, first.cancel_cutoff) == (world.deadline, world.cutoff)


def test_the_phone_page_pages(org: Any, world: Any, many: Any, login: Any) -> None:
    c = login(world.bob_user)
    first = c.get("/volunteers/")
    assert first.status_code == 200
    page = first.content.decode()
    assert 'id="open-more"' in page and "?page=2" in page
    last = c.get("/volunteers/", {"page": str(MANY // 50 + 2)})
    assert last.status_code == 200 and 'id="open-more"' not in last.content.decode()
    for hostile in ("99999999999999999999999", "-1", "١", "abc", "2\x00"):
        assert c.get("/volunteers/", {"page": hostile}).status_code == 200


def test_the_api_pages_and_refuses_bad_paging(org: Any, world: Any, many: Any, login: Any) -> None:
    c = login(world.bob_user)
    url = f"/api/v1/volunteers/people/{org.bob.code}/open-shifts"
    whole = c.get(url, {"all": "true"}).json()
    part = c.get(url, {"all": "true", "page": 3, "page_size": 10})
    assert part.status_code == 200
    assert [r["id"] for r in part.json()] == [r["id"] for r in whole[20:30]]
    for bad in ({"page": 0}, {"page": "x"}, {"page": 1, "page_size": 501}, {"page": 2**64}):
        assert c.get(url, bad).status_code == 422, bad


# ---------------------------------------------------------------- the shortcut of the whole list
# ``queries._nothing_to_judge`` lets the list skip ``mobilize.rules.judge`` for a shift with nothing near it;
# it must never skip one that ``judge`` would refuse.

_T0 = datetime(2026, 3, 2, tzinfo=ZoneInfo("Asia/Shanghai"))


@settings(max_examples=300, deadline=None)
@given(
    start=st.integers(0, 14 * 1440),
    length=st.integers(1, 3 * 1440),
    seats=st.integers(1, 5),
    taken=st.integers(0, 6),
    limit_hours=st.none() | st.integers(1, 80),
    others=st.lists(st.tuples(st.integers(-20 * 1440, 34 * 1440), st.integers(1, 2 * 1440)), max_size=4),
)
def test_the_shortcut_agrees_with_judge(
    start: int, length: int, seats: int, taken: int, limit_hours: int | None, others: list[tuple[int, int]]
) -> None:
    s, e = _T0 + timedelta(minutes=start), _T0 + timedelta(minutes=start + length)
    commitments = [
        mrules.Commitment("x", _T0 + timedelta(minutes=a), _T0 + timedelta(minutes=a + n), 1000 + i, None)
        for i, (a, n) in enumerate(others)
    ]
    reach = timedelta(days=8)
    near = [c for c in commitments if c.start - reach < e and c.end + reach > s]
    limit = None if limit_hours is None else limit_hours * 60
    breaches = mrules.judge(
        who="x", start=s, end=e, commitments=commitments, shift_id=1, seats=seats, taken=taken,
        week_limit_minutes=limit,
    )  # fmt: skip
    if queries._nothing_to_judge(
        near, seats, taken, (e - s).total_seconds(), None if limit is None else limit * 60
    ):
        assert breaches == []
    only_near = mrules.judge(
        who="x", start=s, end=e, commitments=near, shift_id=1, seats=seats, taken=taken,
        week_limit_minutes=limit,
    )  # fmt: skip
    assert only_near == breaches  # the commitments near are all judge needs
