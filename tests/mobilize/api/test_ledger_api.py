"""The service-hours ledger over the API: self-reports, approvals, corrections, balances, measures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from muster.mobilize.models import MeasureValue, ServiceEntry

from .conftest import Api

pytestmark = pytest.mark.django_db

COMMUNITY = {
    "kind": "community",
    "start": "2022-04-02 09:00",
    "end": "2022-04-02 12:30",
    "note": "帮助小区团购分发物资",
}


def test_community_self_report_approved_by_the_branch_secretary(
    org: Any, cast: Any, as_: Callable[[Any], Api]
) -> None:
    alice = as_(cast.alice_user)
    r = alice.post("/entries", COMMUNITY)
    assert r.status_code == 201, r.json()
    entry = r.json()
    assert (entry["status"], entry["source"], entry["minutes"], entry["note"]) == (
        "pending",
        "self",
        210,
        "帮助小区团购分发物资",
    )
    assert entry["may_decide"] is False  # nobody approves their own
    mine = alice.get("/me/balance").json()
    assert mine["minutes"] == 0 and mine["pending_minutes"] == 210 and len(mine["pending"]) == 1
    # approval by someone without the role (a viewer of 徐汇 sees alice) and by alice herself: refused
    assert as_(cast.viewer).post(f"/entries/{entry['id']}/approve", {}).status_code == 403
    assert alice.post(f"/entries/{entry['id']}/approve", {}).status_code == 403
    secretary = as_(cast.secretary)
    pending = secretary.get("/entries/pending").json()
    assert [p["id"] for p in pending] == [entry["id"]]
    r = secretary.post(f"/entries/{entry['id']}/approve", {"reason": "属实"})
    assert r.status_code == 200 and r.json()["status"] == "approved"
    assert [h["op"] for h in r.json()["history"]] == ["record", "approve"]
    mine = alice.get("/me/balance").json()
    assert (mine["minutes"], mine["hours"], mine["by_kind"], mine["pending"]) == (
        210,
        "3.50",
        {"community": 210},
        [],
    )
    again = secretary.post(f"/entries/{entry['id']}/approve", {})
    assert again.status_code == 422 and again.json()["code"] == "already_approved"
    assert as_(cast.manager_hp).get(f"/entries/{entry['id']}").status_code == 404


def test_entry_bad_input(org: Any, cast: Any, batch: Any, as_: Callable[[Any], Api]) -> None:
    alice = as_(cast.alice_user)
    r = alice.post("/entries", {**COMMUNITY, "end": "2022-04-03 12:30"})  # 27.5 hours
    assert r.status_code == 422 and r.json()["codes"] == {"end": ["too_long"]}
    r = alice.post("/entries", {**COMMUNITY, "end": "2022-04-02 08:00"})
    assert r.status_code == 422 and r.json()["code"] == "end_before_start"
    r = alice.post("/entries", {**COMMUNITY, "start": "2099-04-02 08:00", "end": "2099-04-02 09:00"})
    assert r.status_code == 422 and r.json()["code"] == "future"
    r = alice.post("/entries", {**COMMUNITY, "deployment": "XH-001"})
    assert r.status_code == 422 and "kind" in r.json()["errors"]
    alice.post("/entries", COMMUNITY)
    r = alice.post("/entries", {**COMMUNITY, "start": "2022-04-02 12:00", "end": "2022-04-02 13:00"})
    assert r.status_code == 422 and r.json()["code"] == "overlap"
    assert as_(cast.carol_user).post("/entries", {**COMMUNITY, "person": "XH0001"}).status_code == 422
    assert ServiceEntry.objects.count() == 1


def test_correction_request_then_a_correction_of_a_correction(
    org: Any, cast: Any, batch: Any, as_: Callable[[Any], Api]
) -> None:
    leader = as_(cast.leader)
    r = leader.post(
        "/entries",
        {
            "person": "XH0002",
            "kind": "dispatch",
            "deployment": "XH-001",
            "start": "2022-03-12 08:00",
            "end": "2022-03-12 16:00",
        },
    )
    assert r.status_code == 201 and r.json()["status"] == "approved"
    first = r.json()["id"]
    bob = as_(cast.bob_user)
    r = bob.post(
        f"/entries/{first}/correct",
        {"start": "2022-03-12 08:00", "end": "2022-03-12 17:00", "reason": "留到17点"},
    )
    assert r.status_code == 200 and r.json()["status"] == "correction_pending"
    request_id = r.json()["id"]
    assert r.json()["proposed"]["minutes"] == 540 and r.json()["approved_minutes"] == 480
    # a second request while one waits: refused
    r = bob.post(
        f"/entries/{request_id}/correct",
        {"start": "2022-03-12 08:00", "end": "2022-03-12 18:00", "reason": "再改"},
    )
    assert r.status_code == 422 and r.json()["code"] == "correction_pending"
    r = leader.post(f"/entries/{request_id}/approve", {})
    assert r.status_code == 200 and r.json()["status"] == "approved" and r.json()["minutes"] == 540
    head = r.json()["id"]
    # correcting the superseded row (a correction of a correction already decided): refused
    r = leader.post(
        f"/entries/{request_id}/correct",
        {"start": "2022-03-12 09:00", "end": "2022-03-12 17:00", "reason": "x"},
    )
    assert r.status_code == 422 and r.json()["code"] == "superseded"
    # correcting the current version works, and the sums follow
    r = leader.post(
        f"/entries/{head}/correct",
        {"start": "2022-03-12 09:00", "end": "2022-03-12 17:00", "reason": "核对签到表"},
    )
    assert r.status_code == 200 and r.json()["minutes"] == 480
    assert bob.get("/me/balance").json()["minutes"] == 480
    r = leader.post(f"/entries/{r.json()['id']}/reverse", {"reason": "重复登记"})
    assert r.status_code == 200 and r.json()["status"] == "reversed"
    assert bob.get("/me/balance").json()["minutes"] == 0
    ops = [h["op"] for h in bob.get(f"/entries/{head}").json()["history"]]
    assert ops == [
        "record",
        "correct_request",
        "reverse",
        "correct_approve",
        "reverse",
        "correct_approve",
        "reverse",
    ]


def test_reject_and_lists(org: Any, cast: Any, batch: Any, as_: Callable[[Any], Api]) -> None:
    alice = as_(cast.alice_user)
    e = alice.post("/entries", COMMUNITY).json()
    secretary = as_(cast.secretary)
    assert secretary.post(f"/entries/{e['id']}/reject", {"reason": ""}).status_code == 422
    r = secretary.post(f"/entries/{e['id']}/reject", {"reason": "无证明"})
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    as_(cast.leader).post(
        "/entries",
        {
            "person": "XH0002",
            "kind": "dispatch",
            "deployment": "XH-001",
            "start": "2022-03-12 08:00",
            "end": "2022-03-12 12:00",
        },
    )
    page = as_(cast.leader).get("/entries").json()
    assert page["count"] == 2
    assert {i["person"]["code"] for i in page["items"]} == {"XH0001", "XH0002"}
    assert as_(cast.leader).get("/entries", status="rejected").json()["items"][0]["id"] == r.json()["id"]
    assert as_(cast.leader).get("/entries", deployment="XH-001").json()["count"] == 1
    assert alice.get("/entries", mine=True).json()["count"] == 1
    assert as_(cast.manager_hp).get("/entries").json()["count"] == 0
    assert as_(cast.leader).get("/people/XH0002/balance").json()["minutes"] == 240
    assert as_(cast.manager_hp).get("/people/XH0002/balance").status_code == 404


def test_measures_catalog_and_values(
    org: Any, cast: Any, batch: Any, make_user: Any, as_: Callable[[Any], Api]
) -> None:
    admin = as_(make_user("root_admin", "admin", org.root))
    leader = as_(cast.leader)
    codes = [m["code"] for m in leader.get("/measures").json()]
    assert "households_served" in codes and "calls_answered" in codes
    body = {"code": "meals_delivered", "name": "送餐份数", "unit_label": "份", "order": 80}
    assert leader.post("/measures", body).status_code == 403
    r = admin.post("/measures", body)
    assert r.status_code == 201 and r.json()["unit_label"] == "份"
    assert admin.post("/measures", body).status_code == 422
    r = admin.patch("/measures/meals_delivered", {"is_active": False})
    assert r.status_code == 200 and r.json()["is_active"] is False
    assert "meals_delivered" not in [m["code"] for m in leader.get("/measures", active=True).json()]
    r = leader.post("/deployments/XH-001/measures", {"kind": "households_served", "value": 1500})
    assert r.status_code == 201
    leader.post("/deployments/XH-001/measures", {"kind": "residents_tested", "value": 4980})
    detail = leader.get("/deployments/XH-001").json()
    assert {(m["kind"], m["value"]) for m in detail["measures"]} == {
        ("households_served", 1500),
        ("residents_tested", 4980),
    }
    r = leader.post("/deployments/XH-001/measures", {"kind": "meals_delivered", "value": 3})
    assert r.status_code == 422  # no longer in use
    r = leader.post("/deployments/XH-001/measures", {"kind": "households_served", "value": -3})
    assert r.status_code == 422
    # a number on an entry: the volunteer on their own hotline record
    e = as_(cast.alice_user).post("/entries", COMMUNITY).json()
    r = as_(cast.alice_user).post(f"/entries/{e['id']}/measures", {"kind": "households_served", "value": 12})
    assert r.status_code == 201
    assert [m["value"] for m in as_(cast.alice_user).get(f"/entries/{e['id']}/measures").json()] == [12]
    value_id = r.json()["id"]
    assert as_(cast.manager_hp).delete(f"/measure-values/{value_id}?reason=x").status_code == 404
    assert as_(cast.alice_user).delete(f"/measure-values/{value_id}").status_code == 422  # no reason
    assert as_(cast.alice_user).delete(f"/measure-values/{value_id}?reason=记错了").status_code == 204
    assert not MeasureValue.objects.filter(pk=value_id).exists()
