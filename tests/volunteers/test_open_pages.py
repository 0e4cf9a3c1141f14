"""The list of open shifts in pages (issue 26, performance): a page is read a chunk at a time and holds
exactly the rows of the whole list at its place — on the phone page, through the API, with hostile input."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

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
