"""Exemptions over the API (grant, list, revoke; 403/404). (Honor evidence over the API moved with the
awards to the honors app: ``tests/honors/awards/test_api.py``.)"""

from __future__ import annotations

from typing import Any

from muster.partylife.models import Exemption

from .conftest import API, Party, post


def test_exemptions_over_the_api(party: Party, login: Any) -> None:
    committee, sec, hp = login(party.committee_user), login(party.sec_user), login(party.hp_user)
    body = {
        "unit": "XH-B01",
        "requirement": "theme_day",
        "start": "2024-10-01",
        "end": "2025-01-01",
        "reason": "值守",
    }
    assert post(sec, "/partylife/exemptions", body).status_code == 403  # not the approver
    r = post(hp, "/partylife/exemptions", body)  # a unit out of sight is an unknown code, as everywhere
    assert r.status_code == 422 and "unit" in r.json()["errors"] and not Exemption.objects.exists()
    r = post(committee, "/partylife/exemptions", {**body, "requirement": "nope", "end": "2024-09-01"})
    assert r.status_code == 422 and {"requirement_code", "end"} <= set(r.json()["errors"])
    r = post(committee, "/partylife/exemptions", body)
    assert r.status_code == 201, r.content
    x = r.json()
    assert (x["unit"], x["requirement"], x["approved_by"], x["revoked"]) == (
        "XH-B01",
        "theme_day",
        "xhdw",
        False,
    )
    listed = committee.get(
        f"{API}/partylife/exemptions", {"unit": "XH-DW", "start": "2024-10-01", "end": "2025-01-01"}
    )
    assert [e["id"] for e in listed.json()] == [x["id"]]
    assert hp.get(f"{API}/partylife/exemptions", {"unit": "XH-DW"}).status_code == 422  # unknown to them
    assert [e["id"] for e in hp.get(f"{API}/partylife/exemptions", {"unit": "HP-DW"}).json()] == []
    revoke = f"/partylife/exemptions/{x['id']}/revoke"
    assert post(sec, revoke, {"reason": "x"}).status_code == 403
    assert post(hp, revoke, {"reason": "x"}).status_code == 404
    assert post(committee, revoke, {"reason": ""}).status_code == 422
    r = post(committee, revoke, {"reason": "取消"})
    assert r.status_code == 200 and r.json()["revoked"] is True
    assert Exemption.objects.get(pk=x["id"]).revoked
    assert post(committee, revoke, {"reason": "again"}).status_code == 422
