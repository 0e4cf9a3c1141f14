"""Through HTTP as people use it: the phone page with one-tap sign-up, the profile form, the answer link,
and the API (bad input is a 4xx, out of scope is 404)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from muster.mobilize.models import Assignment
from muster.volunteers import services as vsvc
from muster.volunteers.models import CallUpInvite, WeeklyWindow

from .conftest import at

pytestmark = pytest.mark.django_db


def test_phone_page_one_tap_sign_up_and_cancel(org: Any, world: Any, login: Any) -> None:
    c = login(world.alice_user)
    page = c.get("/volunteers/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="viewport"' in html and f"/volunteers/openings/{world.morning.opening.pk}/signup/" in html
    r = c.post(f"/volunteers/openings/{world.morning.opening.pk}/signup/", follow=True)
    assert r.status_code == 200
    assert Assignment.objects.filter(shift=world.morning, person=org.alice).exists()
    su = world.morning.opening.signups.get(person=org.alice)
    assert f"/volunteers/signups/{su.pk}/cancel/" in r.content.decode()
    c.post(f"/volunteers/signups/{su.pk}/cancel/")
    assert not Assignment.objects.filter(shift=world.morning, person=org.alice).exists()


def test_refusal_is_shown_on_the_page(org: Any, world: Any, login: Any, fixed_clock: Any) -> None:
    fixed_clock.move_to(at("2026-03-09 19:00"))
    c = login(world.alice_user)
    r = c.post(f"/volunteers/openings/{world.morning.opening.pk}/signup/", follow=True)
    assert "closed at 2026-03-09 18:00" in r.content.decode()


def test_profile_form_names_the_bad_line(org: Any, world: Any, login: Any) -> None:
    c = login(world.alice_user)
    assert c.get("/volunteers/profile/").status_code == 200
    r = c.post("/volunteers/profile/", {"windows": "1 08:00-12:00\n1 11:00-13:00"})
    assert r.status_code == 200
    assert "Window 2 (11:00–13:00) overlaps another window of the same day." in r.content.decode()
    r = c.post("/volunteers/profile/", {"windows": "1 18:00-09:00"})
    assert "Window 1 ends (09:00) before it starts (18:00)." in r.content.decode()
    r = c.post("/volunteers/profile/", {"windows": "8 08:00-12:00"})
    assert "Line 1" in r.content.decode()
    assert not WeeklyWindow.objects.exists()
    r = c.post("/volunteers/profile/", {"windows": "2 08:00-24:00", "qualifications": "medic 2026-12-31"})
    assert r.status_code == 302
    assert WeeklyWindow.objects.get().end_minute == 1440


def test_leader_view_and_scope(org: Any, world: Any, login: Any) -> None:
    assert login(world.leader).get(f"/volunteers/people/{world.zhou.code}/profile/").status_code == 200
    assert login(world.manager_hp).get(f"/volunteers/people/{org.alice.code}/profile/").status_code == 404
    assert login(world.carol_user).get(f"/volunteers/people/{org.alice.code}/profile/").status_code == 404


def test_answer_link_without_login(org: Any, world: Any, client: Any, login: Any) -> None:
    callup = vsvc.callup_create(
        actor=world.leader,
        unit=org.xuhui,
        title="党员集结号",
        start=at("2026-03-06 08:00"),
        end=at("2026-03-06 18:00"),
        people_needed=1,
        deadline=at("2026-03-05 12:00"),
        team=org.alice.team_memberships.get().team,
    )
    inv = CallUpInvite.objects.get(callup=callup, person=org.alice)
    assert client.get(f"/volunteers/answer/{inv.token}/").status_code == 200
    r = client.post(f"/volunteers/answer/{inv.token}/", {"answer": "no"})
    assert "Say why you cannot attend." in r.content.decode()
    r = client.post(f"/volunteers/answer/{inv.token}/", {"answer": "yes"})
    assert r.status_code == 302
    r = client.post(f"/volunteers/answer/{inv.token}/", {"answer": "no", "reason": "x"})
    assert "already answered" in r.content.decode()
    assert client.get("/volunteers/answer/forged-token/").status_code == 404
    leader = login(world.leader)
    page = leader.get(f"/volunteers/callups/{callup.code}/")
    assert page.status_code == 200 and "张丽" in page.content.decode()


def put(c: Any, url: str, body: Any) -> Any:
    return c.put(url, data=json.dumps(body), content_type="application/json")


def post(c: Any, url: str, body: Any) -> Any:
    return c.post(url, data=json.dumps(body), content_type="application/json")


API = "/api/v1/volunteers"


def test_api_profile(org: Any, world: Any, login: Any) -> None:
    c = login(world.alice_user)
    r = put(
        c, f"{API}/people/me/profile", {"windows": [{"weekday": 0, "start_minute": 600, "end_minute": 540}]}
    )
    assert r.status_code == 422
    assert "windows.0" in r.json()["errors"]
    r = put(c, f"{API}/people/me/profile", {"max_hours_week": 2**63})
    assert r.status_code == 422
    r = put(c, f"{API}/people/me/profile", {"days_off": ["9999-12-31"]})
    assert r.status_code == 422
    r = put(
        c,
        f"{API}/people/me/profile",
        {"qualifications": [{"skill": "medic", "valid_until": "2026-12-31"}], "max_hours_week": 20},
    )
    assert r.status_code == 200, r.content
    assert r.json()["qualifications"][0]["skill"] == "medic"
    assert login(world.manager_hp).get(f"{API}/people/{org.alice.code}/profile").status_code == 404
    assert login(world.leader).get(f"{API}/people/{org.alice.code}/profile").json()["max_hours_week"] == 20


def test_api_open_shifts_and_sign_up(org: Any, world: Any, login: Any) -> None:
    c = login(world.alice_user)
    rows = c.get(f"{API}/people/me/open-shifts").json()
    assert {r["shift"] for r in rows} == {world.morning.pk, world.remote.pk, world.night.pk}
    r = post(c, f"{API}/openings/{world.remote.opening.pk}/signup", {})
    assert r.status_code == 200 and r.json()["status"] == "seated"
    r = post(login(world.bob_user), f"{API}/openings/{world.remote.opening.pk}/signup", {})
    assert r.status_code == 422 and "waiting list" in json.dumps(r.json(), ensure_ascii=False)
    r = post(login(world.carol_user), f"{API}/openings/{world.remote.opening.pk}/signup", {})
    assert r.status_code == 404
    r = post(login(world.bob_user), f"{API}/openings/{world.remote.opening.pk}/signup", {"wait": True})
    assert r.json()["status"] == "waiting"
    r = post(c, f"{API}/signups/{world.remote.opening.signups.get(person=org.alice).pk}/cancel", {})
    assert r.json()["promoted"] == org.bob.code


def test_api_needs_and_openings(org: Any, world: Any, login: Any) -> None:
    c = login(world.leader)
    r = put(c, f"{API}/shifts/{world.morning.pk}/needs", {"skills_all": ["medic"], "min_party_members": 1})
    assert r.status_code == 200 and r.json()["skills_all"] == ["medic"]
    r = put(c, f"{API}/shifts/{world.morning.pk}/needs", {"skills_all": ["pilot"]})
    assert r.status_code == 422
    assert put(login(world.alice_user), f"{API}/shifts/{world.morning.pk}/needs", {}).status_code == 404
    assert put(login(world.manager_hp), f"{API}/shifts/{world.morning.pk}/needs", {}).status_code == 404
    r = post(
        c,
        f"{API}/openings",
        {
            "shifts": [world.morning.pk],
            "unit": "XH",
            "deadline": "2026-03-11T00:00:00+08:00",
            "cancel_cutoff": "2026-03-09T00:00:00+08:00",
        },
    )
    assert r.status_code == 422 and "deadline" in r.json()["errors"]


def test_api_callup(org: Any, world: Any, login: Any) -> None:
    c = login(world.leader)
    body = {
        "unit": "XH",
        "title": "集结号",
        "start": "2026-03-06T08:00:00+08:00",
        "end": "2026-03-06T18:00:00+08:00",
        "people_needed": 1,
        "deadline": "2026-03-05T12:00:00+08:00",
        "audience_unit": "XH",
        "deployment": world.deployment.code,
    }
    r = post(c, f"{API}/callups", body)
    assert r.status_code == 200, r.content
    code = r.json()["code"]
    assert r.json()["invited"] == 4
    a = login(world.alice_user)
    assert post(a, f"{API}/callups/{code}/answer", {"answer": "yes"}).status_code == 200
    r = post(a, f"{API}/callups/{code}/answer", {"answer": "yes"})
    assert r.status_code == 422
    r = post(c, f"{API}/callups/{code}/pick", {"engine": True})
    assert r.status_code == 200 and r.json()["picked"] == 1
    assert world.deployment.memberships.filter(person=org.alice).exists()
    assert login(world.manager_hp).get(f"{API}/callups/{code}").status_code == 404
    assert post(c, f"{API}/callups", {**body, "people_needed": 2**63}).status_code == 422
    assert post(c, f"{API}/callups", {**body, "title": "bad\x00title"}).status_code in {400, 422}


def test_page_says_why_other_shifts_do_not_fit(org: Any, world: Any, login: Any) -> None:
    from datetime import date

    vsvc.profile_set(actor=world.alice_user, person=org.alice, days_off=[date(2026, 3, 10)])
    html = login(world.alice_user).get("/volunteers/").content.decode()
    assert "No open shift fits you right now." in html or "没有适合" in html
    assert "a date off" in html or "不可服务日期" in html
