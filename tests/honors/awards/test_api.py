"""Awards and commendations over the API, served by the honors app on their party-life paths: the chain
(403 visible but not allowed, 404 out of scope), evidence (multipart upload on propose and while
pending, size/type checked by content, download scoped like the honor), and an OpenAPI document that
did not change for these paths (operation ids, tag, schema names)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from muster.audit.models import AuditEvent
from muster.honors.models import Honor
from muster.points.queries import ledger_balances

from .conftest import API, Party, post

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64

# The operations as they were when they lived in ``muster.partylife.api`` (clients generated from the
# document keep their method names).
OPERATIONS = {
    ("get", "/api/v1/partylife/honors"): "muster_partylife_api_list_honors",
    ("post", "/api/v1/partylife/honors"): "muster_partylife_api_propose_honor",
    ("post", "/api/v1/partylife/honors/with-evidence"): "muster_partylife_api_propose_honor_with_evidence",
    ("post", "/api/v1/partylife/honors/{honor_id}/evidence"): "muster_partylife_api_attach_honor_evidence",
    ("get", "/api/v1/partylife/honors/{honor_id}/evidence"): "muster_partylife_api_honor_evidence",
    ("post", "/api/v1/partylife/honors/{honor_id}/decide"): "muster_partylife_api_decide_honor",
}


def fields(party: Party, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "award",
        "name": "优秀共产党员",
        "level": "district",
        "awarded_on": "2024-06-30",
        "branch": party.branch.code,
        "person": party.m1.code,
        **extra,
    }


@pytest.fixture(autouse=True)
def _small_evidence(settings: Any) -> None:
    settings.MUSTER_EVIDENCE_MAX_BYTES = 2048


def test_the_document_did_not_change_for_these_paths(client: Client) -> None:
    doc = client.get(API + "/openapi.json").json()
    found = {
        (method, path): op
        for path, methods in doc["paths"].items()
        if path.startswith("/api/v1/partylife/honors")
        for method, op in methods.items()
    }
    assert {k: op["operationId"] for k, op in found.items()} == OPERATIONS
    assert all(op["tags"] == ["party life"] for op in found.values())
    listing = found[("get", "/api/v1/partylife/honors")]
    assert listing["responses"]["200"]["content"]["application/json"]["schema"]["items"] == {
        "$ref": "#/components/schemas/HonorOut"
    }
    assert {"HonorOut", "HonorIn", "HonorApprovalOut", "DecideIn"} <= set(doc["components"]["schemas"])
    decide = found[("post", "/api/v1/partylife/honors/{honor_id}/decide")]
    assert decide["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/DecideIn"
    }


def test_honors_climb_their_chain(party: Party, login: Any) -> None:
    sec, committee, city = login(party.sec_user), login(party.committee_user), login(party.city_user)
    r = post(sec, "/partylife/honors", fields(party, level="city"))
    assert r.status_code == 422 and "evidence" in r.json()["errors"]
    r = post(sec, "/partylife/honors", fields(party, level="city", evidence_note="市局文件 2024-12号"))
    assert r.status_code == 201, r.content
    h = r.json()
    assert h["chain"] == ["XH-DW", "SH-DW"] and h["status"] == "in_approval"
    # the branch secretary is not an approver; Huangpu does not see it
    assert post(sec, f"/partylife/honors/{h['id']}/decide", {"approve": True}).status_code == 403
    hp = login(party.hp_user)
    assert post(hp, f"/partylife/honors/{h['id']}/decide", {"approve": True}).status_code == 404
    assert hp.get(API + "/partylife/honors").json() == []
    assert (
        post(committee, f"/partylife/honors/{h['id']}/decide", {"approve": True}).json()["status"]
        == "in_approval"
    )
    assert post(committee, f"/partylife/honors/{h['id']}/decide", {"approve": True}).status_code == 403
    r = post(city, f"/partylife/honors/{h['id']}/decide", {"approve": True, "opinion": "同意"})
    assert r.json()["status"] == "approved"
    assert [(a["unit"], a["approved"]) for a in r.json()["approvals"]] == [("XH-DW", True), ("SH-DW", True)]
    assert ledger_balances(2024, person_ids=[party.m1.pk]) == {party.m1.pk: Decimal("10.00")}
    listed = sec.get(API + "/partylife/honors", {"unit": party.branch.code, "status": "approved"}).json()
    assert [x["id"] for x in listed] == [h["id"]] and listed[0]["person"] == party.m1.code
    assert sec.get(API + "/partylife/honors", {"status": "rejected"}).json() == []


def test_hostile_input_is_a_4xx(party: Party, login: Any) -> None:
    sec = login(party.sec_user)
    for body in (
        fields(party, awarded_on="9999-12-31", evidence_note="x"),
        fields(party, person="NOBODY", evidence_note="x"),
        fields(party, kind="medal", evidence_note="x"),
        fields(party, branch="\x00", evidence_note="x"),
    ):
        assert post(sec, "/partylife/honors", body).status_code in (404, 422), body
    for hid in (2**63, 2**64, -1):
        assert post(sec, f"/partylife/honors/{hid}/decide", {"approve": True}).status_code in (404, 422)
        assert sec.get(f"{API}/partylife/honors/{hid}/evidence").status_code in (404, 422)
    assert not Honor.objects.exists()


def test_propose_with_evidence_file_and_download_scoped(party: Party, login: Any) -> None:
    sec = login(party.sec_user)
    url = API + "/partylife/honors/with-evidence"
    # wrong type (by content, whatever the name), too big, missing: 422 on the evidence, nothing written
    r = sec.post(url, {**fields(party), "evidence": SimpleUploadedFile("a.pdf", b"<html>hi</html>" * 3)})
    assert r.status_code == 422 and "PDF or a photo" in r.json()["errors"]["evidence"][0]
    r = sec.post(url, {**fields(party), "evidence": SimpleUploadedFile("a.pdf", PDF + b"x" * 4096)})
    assert r.status_code == 422 and "too large" in r.json()["errors"]["evidence"][0]
    r = sec.post(url, fields(party))
    assert r.status_code == 422
    assert not Honor.objects.exists()
    r = sec.post(url, {**fields(party), "evidence": SimpleUploadedFile("证书.pdf", PDF)})
    assert r.status_code == 201, r.content
    h = r.json()
    assert h["has_evidence"] is True and h["evidence_note"] == "" and h["status"] == "in_approval"
    got = sec.get(f"{API}/partylife/honors/{h['id']}/evidence")
    assert got.status_code == 200 and b"".join(got.streaming_content) == PDF
    assert got["Content-Disposition"].startswith("attachment") and got["X-Content-Type-Options"] == "nosniff"
    assert login(party.committee_user).get(f"{API}/partylife/honors/{h['id']}/evidence").status_code == 200
    assert login(party.hp_user).get(f"{API}/partylife/honors/{h['id']}/evidence").status_code == 404
    assert sec.get(f"{API}/partylife/honors/999999/evidence").status_code == 404
    # the JSON propose still works with a note only; it has no file to download
    r = post(sec, "/partylife/honors", fields(party, evidence_note="徐税党〔2024〕5号"))
    assert r.status_code == 201 and r.json()["has_evidence"] is False
    assert sec.get(f"{API}/partylife/honors/{r.json()['id']}/evidence").status_code == 404


def test_attach_evidence_while_pending(party: Party, login: Any) -> None:
    sec = login(party.sec_user)
    h = post(sec, "/partylife/honors", fields(party, evidence_note="文件在档案室")).json()
    url = f"{API}/partylife/honors/{h['id']}/evidence"
    r = sec.post(url, {"evidence": SimpleUploadedFile("x.png", b"GIF89a" + b"\x00" * 20)})
    assert r.status_code == 422 and "evidence" in r.json()["errors"]
    # 黄浦 does not see it (404); the branch's viewer sees it but does not record for the branch (403)
    assert login(party.hp_user).post(url, {"evidence": SimpleUploadedFile("p.jpg", JPEG)}).status_code == 404
    assert login(party.viewer).post(url, {"evidence": SimpleUploadedFile("p.jpg", JPEG)}).status_code == 403
    r = sec.post(url, {"evidence": SimpleUploadedFile("p.jpg", JPEG)})
    assert r.status_code == 200 and r.json()["has_evidence"] is True
    assert Honor.objects.get(pk=h["id"]).evidence.name.endswith(".jpg")
    assert AuditEvent.objects.filter(
        action="partylife.honor.evidence_attached", target_id=str(h["id"])
    ).exists()
    assert b"".join(sec.get(url).streaming_content) == JPEG
    # after the first decision the evidence is settled
    decided = post(login(party.committee_user), f"/partylife/honors/{h['id']}/decide", {"approve": True})
    assert decided.status_code == 200
    r = sec.post(url, {"evidence": SimpleUploadedFile("q.pdf", PDF)})
    assert r.status_code == 422 and "before the first decision" in r.json()["errors"]["evidence"][0]
