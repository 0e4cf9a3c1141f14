"""Honor evidence over the API (multipart upload on propose and while pending, size/type checked by
content, download scoped like the honor) and exemptions over the API (grant, list, revoke; 403/404)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from muster.audit.models import AuditEvent
from muster.partylife.models import Exemption, Honor

from .conftest import API, Party, post

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MUSTER_EVIDENCE_MAX_BYTES = 2048


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
    assert (
        post(
            login(party.committee_user), f"/partylife/honors/{h['id']}/decide", {"approve": True}
        ).status_code
        == 200
    )
    r = sec.post(url, {"evidence": SimpleUploadedFile("q.pdf", PDF)})
    assert r.status_code == 422 and "before the first decision" in r.json()["errors"]["evidence"][0]


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
