"""Requests, batches, posts, shifts and coverage over the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from muster.audit.models import AuditEvent
from muster.mobilize.models import Deployment, DeploymentMember, Shift

from .conftest import Api

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------- requests


def test_request_create_list_with_coverage_and_update(
    org: Any, cast: Any, partner: Any, as_: Callable[[Any], Api]
) -> None:
    api = as_(cast.leader)
    r = api.post(
        "/requests",
        {
            "unit": "XH",
            "partner": "XH-P1",
            "title": "核酸检测",
            "people_needed": 3,
            "start": "2022-03-18 8:00",
            "end": "2022-03-18 24:00",
            "skills": ["青年"],
        },
    )
    assert r.status_code == 201, r.json()
    req = r.json()
    assert req["end"] == "2022-03-19T00:00:00+08:00" and req["missing"] == 3 and req["skills"] == ["青年"]
    d = api.post(
        "/deployments",
        {
            "unit": "XH",
            "title": "核酸检测",
            "start": "2022-03-18 08:00",
            "end": "2022-03-18 20:00",
            "people": ["XH0001", "XH0002"],
            "request": req["code"],
        },
    )
    assert d.status_code == 201, d.json()
    assert d.json()["partner"]["code"] == "XH-P1"  # from the request
    page = api.get("/requests").json()
    assert page["count"] == 1
    item = page["items"][0]
    assert (item["people_needed"], item["assigned"], item["missing"]) == (3, 2, 1)
    r = api.patch(f"/requests/{req['code']}", {"status": "closed"})
    assert r.status_code == 200 and r.json()["status"] == "closed"
    assert api.get("/requests").json()["count"] == 0
    assert api.get("/requests", status="all").json()["count"] == 1


def test_request_scope_and_rights(org: Any, cast: Any, partner: Any, as_: Callable[[Any], Api]) -> None:
    body = {
        "unit": "XH",
        "partner": "XH-P1",
        "title": "t",
        "people_needed": 1,
        "start": "2022-03-18 8:00",
        "end": "2022-03-18 9:00",
    }
    assert as_(cast.viewer).post("/requests", body).status_code == 403  # sees 徐汇, may not dispatch
    r = as_(cast.leader).post("/requests", body)
    code = r.json()["code"]
    assert as_(cast.manager_hp).get(f"/requests/{code}").status_code == 404
    assert as_(cast.manager_hp).get("/requests").json()["count"] == 0
    bad = as_(cast.leader).post("/requests", {**body, "end": "2022-03-18 7:00"})
    assert bad.status_code == 422 and "end" in bad.json()["errors"]


# ---------------------------------------------------------------- batches


def test_dispatch_from_team_and_people_detail_and_list(
    org: Any, cast: Any, as_: Callable[[Any], Api]
) -> None:
    api = as_(cast.leader)
    r = api.post(
        "/deployments",
        {
            "unit": "XH",
            "title": "协助核酸检测",
            "start": "2022/3/11 7:00",
            "end": "2022年3月11日 20时",
            "teams": ["XH-T1"],
            "people": ["XH0002"],
            "leader": "XH0001",
            "site": "宛平社区",
        },
    )
    assert r.status_code == 201, r.json()
    d = r.json()
    assert d["code"] == "XH-001" and d["seq"] == 1
    assert d["end"] == "2022-03-11T20:00:00+08:00"
    assert {(m["person"], m["team"]) for m in d["members"]} == {("XH0001", "XH-T1"), ("XH0002", None)}
    second = api.post(
        "/deployments",
        {
            "unit": "XH",
            "title": "第二批",
            "start": "2022-03-13 7:00",
            "end": "2022-03-13 19:00",
            "people": ["XH0002"],
        },
    ).json()
    assert second["seq"] == 2
    page = api.get("/deployments", unit="XH", since="2022-03-12 00:00").json()
    assert [i["code"] for i in page["items"]] == ["XH-002"]
    assert page["items"][0]["member_count"] == 1
    detail = api.get("/deployments/XH-001").json()
    assert detail["leader"]["code"] == "XH0001" and detail["shifts"] == [] and detail["measures"] == []
    assert as_(cast.manager_hp).get("/deployments/XH-001").status_code == 404
    assert as_(cast.manager_hp).get("/deployments").json()["count"] == 0
    # a member sees their own batch without any grant
    assert as_(cast.bob_user).get("/deployments/XH-001").status_code == 200


def test_overlapping_batch_is_a_conflict_naming_the_other(
    org: Any, cast: Any, batch: Any, as_: Callable[[Any], Api]
) -> None:
    r = as_(cast.leader).post(
        "/deployments",
        {
            "unit": "XH",
            "title": "另一批",
            "start": "2022-03-12 10:00",
            "end": "2022-03-12 12:00",
            "people": ["XH0002"],
        },
    )
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "conflict" and body["codes"] == {"person": ["conflict"]}
    assert "XH-001" in body["errors"]["person"][0]
    assert Deployment.objects.count() == 1


def test_dispatch_end_before_start_and_unknown_people(org: Any, cast: Any, as_: Callable[[Any], Api]) -> None:
    api = as_(cast.leader)
    base = {
        "unit": "XH",
        "title": "t",
        "start": "2022-03-12 10:00",
        "end": "2022-03-12 09:00",
        "people": ["XH0002"],
    }
    r = api.post("/deployments", base)
    assert r.status_code == 422 and "end" in r.json()["errors"]
    r = api.post("/deployments", {**base, "end": "2022-03-12 12:00", "people": ["HP0001"]})  # out of scope
    assert r.status_code == 422 and "HP0001" in r.json()["errors"]["people"][0]
    r = api.post("/deployments", {**base, "end": "2022-03-12 12:00", "start": "yesterday"})
    assert r.status_code == 422 and r.json()["codes"] == {"start": ["bad_time"]}
    assert as_(cast.viewer).post("/deployments", {**base, "end": "2022-03-12 12:00"}).status_code == 403
    assert Deployment.objects.count() == 0


def test_update_cancel_and_members(org: Any, cast: Any, batch: Any, as_: Callable[[Any], Api]) -> None:
    api = as_(cast.leader)
    r = api.patch("/deployments/XH-001", {"title": "核酸筛查", "site": "田林街道"})
    assert r.status_code == 200 and r.json()["title"] == "核酸筛查" and r.json()["site"] == "田林街道"
    r = api.post("/deployments/XH-001/members", {"person": "JG0001"})
    assert r.status_code == 422 and "JG0001" in r.json()["errors"]["person"][0]  # outside 徐汇: unknown
    r = as_(cast.viewer).post("/deployments/XH-001/members", {"person": "XH0002"})
    assert r.status_code == 403
    # bob is on the shift but has not served: he can be taken out (and off its shifts)
    assert api.delete("/deployments/XH-001/members/XH0002").status_code == 204
    assert not DeploymentMember.objects.filter(deployment=batch.deployment, person=org.bob).exists()
    r = api.post("/deployments/XH-001/members", {"person": "XH0002", "team": "XH-T1"})
    assert r.status_code == 200 and {m["person"] for m in r.json()["members"]} == {"XH0001", "XH0002"}
    assert api.post("/deployments/XH-001/cancel", {"reason": ""}).status_code == 422
    r = api.post("/deployments/XH-001/cancel", {"reason": "任务取消"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    again = api.post("/deployments/XH-001/cancel", {"reason": "again"})
    assert again.status_code == 422
    assert AuditEvent.objects.filter(action="mobilize.deployment.cancelled").count() == 1


# ---------------------------------------------------------------- shifts


def test_three_rotations_template_on_a_batch(org: Any, cast: Any, as_: Callable[[Any], Api]) -> None:
    api = as_(cast.leader)
    api.post(
        "/deployments",
        {
            "unit": "XH",
            "title": "卡口",
            "start": "2022-03-14 00:00",
            "end": "2022-03-16 08:00",
            "people": ["XH0002"],
        },
    )
    r = api.post(
        "/shifts/template",
        {
            "deployment": "XH-001",
            "template": "three_rotations",
            "first_day": "2022-03-14",
            "days": 2,
            "seats": 2,
        },
    )
    assert r.status_code == 201, r.json()
    shifts = r.json()["items"]
    assert r.json()["count"] == 6
    assert [(s["start"][11:16], s["end"][11:16]) for s in shifts[:3]] == [
        ("08:00", "16:00"),
        ("16:00", "00:00"),
        ("00:00", "08:00"),
    ]
    assert shifts[2]["end"].startswith("2022-03-15T08:00")  # the night shift crosses midnight
    detail = api.get("/deployments/XH-001").json()
    assert len(detail["shifts"]) == 6 and all(s["token"] for s in detail["shifts"])
    # a template that runs past the batch is refused whole
    r = api.post(
        "/shifts/template",
        {"deployment": "XH-001", "template": "duty_24h", "first_day": "2022-03-15", "days": 2},
    )
    assert r.status_code == 422 and Shift.objects.count() == 6


def test_overlapping_shifts_for_one_person(
    org: Any, cast: Any, batch: Any, as_: Callable[[Any], Api]
) -> None:
    api = as_(cast.leader)
    r = api.post("/shifts", {"deployment": "XH-001", "start": "2022-03-12 12:00", "end": "2022-03-12 20:00"})
    assert r.status_code == 201
    other = r.json()["id"]
    r = api.post(f"/shifts/{other}/assignments", {"person": "XH0002"})  # bob is on 08:00–16:00
    assert r.status_code == 422
    assert r.json()["code"] == "conflict" and "08:00" in r.json()["errors"]["person"][0]
    r = api.post("/shifts", {"deployment": "XH-001", "start": "2022-03-12 16:00", "end": "2022-03-12 08:00"})
    assert r.status_code == 422 and "end" in r.json()["errors"]


def test_assign_unassign_delete_and_scope(org: Any, cast: Any, batch: Any, as_: Callable[[Any], Api]) -> None:
    api = as_(cast.leader)
    s = api.post(
        "/shifts",
        {"deployment": "XH-001", "start": "2022-03-12 20:00", "end": "2022-03-13 04:00", "label": "夜"},
    ).json()
    assert s["label"] == "夜" and s["people"] == []
    r = api.post(f"/shifts/{s['id']}/assignments", {"person": "XH0001"})
    assert r.status_code == 200 and r.json()["created"] and r.json()["shift"]["people"] == ["XH0001"]
    assert api.delete(f"/shifts/{s['id']}").status_code == 422  # someone is on it
    assert api.delete(f"/shifts/{s['id']}/assignments/XH0001").status_code == 204
    assert as_(cast.manager_hp).get(f"/shifts/{s['id']}").status_code == 404
    assert as_(cast.manager_hp).delete(f"/shifts/{s['id']}").status_code == 404
    assert api.delete(f"/shifts/{s['id']}").status_code == 204
    assert api.get(f"/shifts/{s['id']}").status_code == 404
    token = batch.shift.token
    assert as_(cast.bob_user).get(f"/shifts/by-token/{token}").json()["id"] == batch.shift.pk


# ---------------------------------------------------------------- posts and coverage


def test_hotline_post_curve_coverage_green_and_red(org: Any, cast: Any, as_: Callable[[Any], Api]) -> None:
    api = as_(cast.leader)
    curve = [0] * 8 + [2] * 4 + [1] * 4 + [0] * 8  # 08–12: 2 seats, 12–16: 1 seat
    r = api.post(
        "/posts",
        {"code": "XH-12366", "name": "12366热线", "kind": "hotline", "unit": "XH", "required_seats": curve},
    )
    assert r.status_code == 201, r.json()
    r = api.post(
        "/shifts/template",
        {
            "post": "XH-12366",
            "template": "hotline_curve",
            "first_day": "2022-03-14",
            "max_hours": 4,
            "remote": True,
        },
    )
    assert r.status_code == 201, r.json()
    shifts = r.json()["items"]
    assert [(s["start"][11:13], s["end"][11:13], s["seats"], s["mode"]) for s in shifts] == [
        ("08", "12", 2, "remote"),
        ("12", "16", 1, "remote"),
    ]
    api.post(f"/shifts/{shifts[0]['id']}/assignments", {"person": "XH0001"})
    api.post(f"/shifts/{shifts[1]['id']}/assignments", {"person": "XH0002"})
    cov = api.get("/posts/XH-12366/coverage", start="2022-03-14 07:00", end="2022-03-14 17:00").json()
    states = [h["state"] for h in cov["hours"]]
    assert states == ["idle"] + ["red"] * 4 + ["green"] * 4 + ["idle"]
    assert cov["red_hours"] == 4 and cov["hours"][1]["missing"] == 1
    assert as_(cast.manager_hp).get("/posts/XH-12366/coverage").status_code == 404
    r = api.get("/posts/XH-12366/coverage", start="2022-03-14 07:00", end="2022-05-14 07:00")
    assert r.status_code == 422
    r = api.patch("/posts/XH-12366", {"required_seats": [1, 2]})
    assert r.status_code == 422 and "required_seats" in r.json()["errors"]
    assert [p["code"] for p in api.get("/posts").json()] == ["XH-12366"]
    assert as_(cast.manager_hp).get("/posts").json() == []


def test_an_out_of_scope_supported_unit_reads_like_an_unknown_code(
    org: Any, cast: Any, as_: Callable[[Any], Api]
) -> None:
    """The dispatch API uses the web form's rule (``mobilize.policy.supportable_unit``): a unit the
    dispatcher may not see, and that is no district bureau, reads exactly like a code that does not exist;
    another district may be supported (宝山 → 松江)."""
    hidden = org.organ  # the city bureau's organ: out of 徐汇's sight and no district bureau
    api = as_(cast.leader)
    body = {
        "unit": "XH",
        "title": "支援",
        "start": "2022-03-18 08:00",
        "end": "2022-03-18 20:00",
        "people": ["XH0001"],
    }
    a = api.post("/deployments", {**body, "supported_unit": hidden.code})
    b = api.post("/deployments", {**body, "supported_unit": "NOPE9"})
    assert a.status_code == b.status_code == 422
    said = a.json()["errors"]["supported_unit"][0].replace(hidden.code, "X")
    assert said == b.json()["errors"]["supported_unit"][0].replace("NOPE9", "X")
    ok = api.post("/deployments", {**body, "supported_unit": org.huangpu.code})
    assert ok.status_code == 201, ok.json()
