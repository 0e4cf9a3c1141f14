"""Certificates (志愿服务记录证明): issued by a leader or self-requested and approved by another leader, the
PDF (CJK font, QR code to the verification page), revocation, the public verification page, every bad input
of issue 26 (out of scope = 404, no approved hours, forged or revoked serials), and the audit trail."""

from __future__ import annotations

import base64
import re
import zlib
from typing import Any

import pytest
import segno
from django.core.exceptions import ValidationError
from django.core.management import CommandError
from django.http import Http404

from muster.audit.models import AuditEvent
from muster.honors import services
from muster.honors.models import Certificate, CertificateStatus
from muster.honors.pdf import certificate_pdf, verify_url
from muster.orgs.access import NotAllowed

from .conftest import add_hours, at, call_command, link

pytestmark = pytest.mark.django_db


def pdf_text(data: bytes) -> bytes:
    """The text strings drawn on the pages, one per line."""
    out = pdf_content(data)
    return b"\n".join(_unescape(m.group(1)) for m in re.finditer(rb"\(((?:\\.|[^\\)])*)\)", out, re.S))


def pdf_content(data: bytes) -> bytes:
    """The page content streams, inflated."""
    out = b""
    for m in re.finditer(rb"stream\r?\n(.*?)\s*endstream", data, re.S):
        raw = m.group(1)
        if raw.endswith(b"~>"):
            raw = base64.a85decode(raw[:-2].replace(b"\n", b""))
        try:
            out += zlib.decompress(raw)
        except zlib.error:
            out += raw
    return out


_ESC = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _unescape(raw: bytes) -> bytes:
    """A PDF literal string's bytes (``\\ddd`` octal, ``\\n``… and escaped parentheses)."""

    def one(m: re.Match[bytes]) -> bytes:
        e = m.group(1)
        if e[:1].isdigit():
            return bytes([int(e, 8)])
        return _ESC.get(e, e)

    return re.sub(rb"\\([0-7]{1,3}|.)", one, raw, flags=re.S)


def u16(text: str) -> bytes:
    return text.encode("utf-16-be")


def issue(actor: Any, person: Any, **kw: Any) -> Certificate:
    return services.certificate_issue(actor=actor, person=person, as_of=at("2026-01-01 00:00"), **kw)


def test_a_leader_issues_a_certificate_with_its_contents(org: Any, cast: Any) -> None:
    add_hours(org.alice, 130, first_day="2025-02-01")
    cert = issue(cast.leader, org.alice, person_in_charge="李明", contact="021-12366")
    assert cert.status == CertificateStatus.ISSUED
    assert cert.serial == "ZYFW-XH-2026-00001"
    assert len(cert.token or "") >= 32 and cert.serial not in (cert.token or "")
    assert cert.minutes == 130 * 60 and cert.name == "张丽" and cert.id_type == "居民身份证"
    assert cert.volunteer_number == "XH0001"
    assert str(cert.period_start) == "2025-02-01" and str(cert.period_end) == "2025-02-07"
    assert cert.issuing_unit == org.xuhui and cert.issued_by == cast.leader
    second = issue(cast.leader, org.alice)
    assert second.serial == "ZYFW-XH-2026-00002"
    ev = AuditEvent.objects.get(action="honors.certificate.issued", target_id=str(cert.pk))
    assert ev.actor == cast.leader and ev.changes["serial"] == cert.serial


def test_the_pdf(org: Any, cast: Any) -> None:
    add_hours(org.alice, 130)
    cert = issue(cast.leader, org.alice)
    data = certificate_pdf(cert, full_id=False, base_url="https://muster.example.org")
    assert data.startswith(b"%PDF")
    assert b"/STSong-Light" in data  # the standard CJK font of the PDF library
    text = pdf_text(data)
    assert u16("志愿服务记录证明") in text and u16("张丽") in text and u16(cert.serial or "") in text
    assert u16("130 小时") in text and u16("徐汇区税务局") in text
    full_id = org.alice.id_number
    assert u16(full_id) not in text and u16(full_id[:2] + "*") in text  # masked
    assert u16(full_id) in pdf_text(certificate_pdf(cert, full_id=True))
    url = verify_url(cert, "https://muster.example.org")
    assert url == f"https://muster.example.org/verify/{cert.token}/"
    assert u16(url) in text
    # the QR code: as many dark squares as the code of the URL has dark modules
    dark = sum(sum(1 for b in row if b) for row in segno.make(url, error="m", micro=False).matrix)
    assert pdf_content(data).count(b" re f") == dark


def test_pdf_on_the_web_masks_the_id_unless_permitted(
    org: Any, cast: Any, login: Any, make_user: Any
) -> None:
    add_hours(org.alice, 130)
    cert = issue(cast.leader, org.alice)
    full_id = org.alice.id_number
    r = login(cast.leader).get(f"/honors/certificates/{cert.pk}/pdf/")  # a leader may not see ID numbers
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert u16(full_id) not in pdf_text(r.content)
    manager = make_user("mgr_xh", "manager", org.xuhui)
    assert u16(full_id) in pdf_text(login(manager).get(f"/honors/certificates/{cert.pk}/pdf/").content)
    assert u16(full_id) in pdf_text(
        login(cast.alice_user).get(f"/honors/certificates/{cert.pk}/pdf/").content
    )
    assert login(cast.manager_hp).get(f"/honors/certificates/{cert.pk}/pdf/").status_code == 404
    assert login(cast.bob_user).get(f"/honors/certificates/{cert.pk}/pdf/").status_code == 404
    assert login(cast.leader).get(f"/api/v1/honors/certificates/{cert.pk}/pdf").content.startswith(b"%PDF")


def test_out_of_scope_is_404_and_no_hours_is_a_clear_4xx(org: Any, cast: Any, login: Any) -> None:
    add_hours(org.carol, 120)  # 黄浦
    with pytest.raises(Http404):
        issue(cast.leader, org.carol)
    with pytest.raises(ValidationError, match="no approved service hours"):
        issue(cast.leader, org.bob)
    c = login(cast.leader)
    assert c.post(f"/honors/people/{org.carol.code}/issue/", {"as_of": "2025-12-31"}).status_code == 404
    r = c.post(f"/honors/people/{org.bob.code}/issue/", {"as_of": "2025-12-31"})
    assert r.status_code == 400 and "no approved service hours" in r.content.decode()
    r = c.post(f"/api/v1/honors/people/{org.carol.code}/certificates", {}, content_type="application/json")
    assert r.status_code == 404 and "李娜" not in r.content.decode()
    r = c.post(f"/api/v1/honors/people/{org.bob.code}/certificates", {}, content_type="application/json")
    assert r.status_code == 422 and "no approved service hours" in r.json()["errors"]["person"][0]
    with pytest.raises(CommandError, match="Not found"):
        call_command("honors", "certificate", "--person", "HP0001", "--pdf", "/dev/null", "--as", "leader")
    with pytest.raises(CommandError, match="no approved service hours"):
        call_command("honors", "certificate", "--person", "XH0002", "--pdf", "/dev/null", "--as", "leader")
    assert not Certificate.objects.exists()
    # visible but not a leader: 403
    add_hours(org.alice, 10)
    r = login(cast.bob_user).post(
        f"/api/v1/honors/people/{org.bob.code}/certificates", {}, content_type="application/json"
    )
    assert r.status_code == 403
    with pytest.raises(NotAllowed):
        issue(cast.alice_user, org.alice)  # nobody certifies their own hours


def test_hostile_texts_and_dates_are_refused(org: Any, cast: Any, login: Any) -> None:
    add_hours(org.alice, 10)
    with pytest.raises(ValidationError):
        issue(cast.leader, org.alice, person_in_charge="李\x00明")
    with pytest.raises(ValidationError):
        issue(cast.leader, org.alice, contact="x" * 500)
    c = login(cast.leader)
    r = c.post(
        f"/api/v1/honors/people/{org.alice.code}/certificates",
        {"as_of": "9999-12-31"},
        content_type="application/json",
    )
    assert r.status_code == 422
    assert c.post(f"/honors/people/{org.alice.code}/issue/", {"as_of": "0001-01-01"}).status_code == 400
    assert not Certificate.objects.exists()


def test_self_request_approved_by_another_leader(org: Any, cast: Any, login: Any, make_user: Any) -> None:
    add_hours(org.alice, 150)
    a = login(cast.alice_user)
    assert a.post("/honors/request/", {"as_of": "2025-12-31"}).status_code == 302
    cert = Certificate.objects.get()
    assert cert.status == CertificateStatus.REQUESTED and cert.serial is None and cert.token is None
    # asking twice while one waits
    r = a.post("/honors/request/", {"as_of": "2025-12-31"})
    assert r.status_code == 400 and "already have a request" in r.content.decode()
    # the requester cannot approve their own request, even with a leader's role
    link_leader = make_user("alice_lead", "leader", org.xuhui)
    link(org.alice, link_leader)
    cert.requested_by = link_leader
    cert.save(update_fields=["requested_by"])
    with pytest.raises(NotAllowed):
        services.certificate_approve(actor=link_leader, certificate=cert)
    # bob (no role) cannot; 黄浦 cannot even see it
    assert (
        login(cast.bob_user)
        .post(f"/honors/certificates/{cert.pk}/decide/", {"action": "approve"})
        .status_code
        == 404
    )
    assert (
        login(cast.manager_hp)
        .post(f"/api/v1/honors/certificates/{cert.pk}/approve", {}, content_type="application/json")
        .status_code
        == 404
    )
    # the pending list of another leader shows it; approving issues it
    lead = login(cast.leader)
    assert org.alice.name in lead.get("/honors/approvals/").content.decode()
    assert [c["id"] for c in lead.get("/api/v1/honors/certificates/pending").json()] == [cert.pk]
    r = lead.post(f"/honors/certificates/{cert.pk}/decide/", {"action": "approve", "next": "approvals"})
    assert r.status_code == 302
    cert.refresh_from_db()
    assert (
        cert.status == CertificateStatus.ISSUED and cert.issued_by == cast.leader and cert.minutes == 150 * 60
    )
    with pytest.raises(ValidationError, match="waiting for approval"):
        services.certificate_approve(actor=cast.leader2, certificate=cert)
    actions = set(
        AuditEvent.objects.filter(target_type="honors.certificate").values_list("action", flat=True)
    )
    assert {"honors.certificate.requested", "honors.certificate.issued"} <= actions


def test_a_request_rejected_with_a_reason(org: Any, cast: Any, login: Any) -> None:
    add_hours(org.alice, 5)
    r = login(cast.alice_user).post(
        "/api/v1/honors/certificates/request",
        {"as_of": "2025-12-31", "note": "升学需要"},
        content_type="application/json",
    )
    assert r.status_code == 201
    cid = r.json()["id"]
    lead = login(cast.leader)
    r = lead.post(
        f"/api/v1/honors/certificates/{cid}/reject", {"reason": " "}, content_type="application/json"
    )
    assert r.status_code == 422
    r = lead.post(
        f"/api/v1/honors/certificates/{cid}/reject", {"reason": "时长有误"}, content_type="application/json"
    )
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    # a request without hours is refused up front
    r = login(cast.bob_user).post("/api/v1/honors/certificates/request", {}, content_type="application/json")
    assert r.status_code == 422


def test_verification_page_valid_revoked_and_forged(org: Any, cast: Any, login: Any, client: Any) -> None:
    add_hours(org.alice, 130)
    cert = issue(cast.leader, org.alice)
    r = client.get(f"/verify/{cert.token}/")  # public: no login
    body = r.content.decode()
    assert r.status_code == 200 and 'data-state="valid"' in body
    assert "张*" in body and "张丽" not in body and "130" in body and "徐汇区税务局" in body
    assert org.alice.id_number not in body and org.alice.code not in body
    # forged codes: a clear answer, nothing leaked, never a 500
    for forged in (
        "ZYFW-XH-2026-00001",
        "A" * 32,
        (cert.token or "")[:-1] + "x",
        "<script>",
        "x" * 5000,
        "%00",
    ):
        r = client.get(f"/verify/{forged}/")
        assert r.status_code == 404
        assert 'data-state="unknown"' in r.content.decode() and "徐汇" not in r.content.decode()
    assert client.get("/api/v1/honors/verify/" + "B" * 40).json()["found"] is False
    # revocation: needs a reason, then the page says so
    with pytest.raises(ValidationError, match="Say why"):
        services.certificate_revoke(actor=cast.leader, certificate=cert, reason="  ")
    with pytest.raises(Http404):
        services.certificate_revoke(actor=cast.manager_hp, certificate=cert, reason="x")
    r = login(cast.leader).post(
        f"/honors/certificates/{cert.pk}/decide/", {"action": "revoke", "reason": "时长有误"}
    )
    assert r.status_code == 302
    r = client.get(f"/verify/{cert.token}/")
    body = r.content.decode()
    assert 'data-state="revoked"' in body and "时长有误" not in body
    assert client.get(f"/api/v1/honors/verify/{cert.token}").json()["revoked"] is True
    with pytest.raises(ValidationError, match="Only an issued certificate"):
        services.certificate_revoke(actor=cast.leader, certificate=cert, reason="again")
    # every view of the page is audited, the unknown look-ups too
    assert (
        AuditEvent.objects.filter(action="honors.certificate.verified", target_id=str(cert.pk)).count() == 3
    )
    assert AuditEvent.objects.filter(action="honors.certificate.verify_unknown").count() == 7
    assert AuditEvent.objects.filter(action="honors.certificate.revoked").count() == 1
    # the revoked PDF is marked
    assert u16("已撤销") in pdf_text(login(cast.leader).get(f"/honors/certificates/{cert.pk}/pdf/").content)


def test_certificate_cli(org: Any, cast: Any, tmp_path: Any, capsys: Any) -> None:
    add_hours(org.alice, 101)
    out = tmp_path / "c.pdf"
    call_command(
        "honors",
        "certificate",
        "--person",
        "XH0001",
        "--as-of",
        "2025-12-31",
        "--in-charge",
        "李明",
        "--pdf",
        str(out),
        "--as",
        "leader",
    )
    assert out.read_bytes().startswith(b"%PDF")
    cert = Certificate.objects.get()
    assert cert.serial in capsys.readouterr().out
    call_command("honors", "verify", cert.token)
    assert "valid" in capsys.readouterr().out
    with pytest.raises(CommandError, match="No such certificate"):
        call_command("honors", "verify", "nope-" * 5)
    call_command("honors", "revoke", "--serial", cert.serial, "--reason", "重复出具", "--as", "leader")
    call_command("honors", "verify", cert.token)
    assert "revoked" in capsys.readouterr().out
    with pytest.raises(CommandError, match="Not found"):
        call_command("honors", "revoke", "--serial", cert.serial, "--reason", "x", "--as", "mgr_hp")


def test_the_record_page_offers_issue_and_request(org: Any, cast: Any, login: Any) -> None:
    add_hours(org.alice, 20)
    page = login(cast.leader).get(f"/honors/people/{org.alice.code}/").content.decode()
    assert f"/honors/people/{org.alice.code}/issue/" in page
    own = login(cast.alice_user).get("/honors/").content.decode()
    assert "/honors/request/" in own and "/issue/" not in own
    r = login(cast.leader).post(
        f"/honors/people/{org.alice.code}/issue/", {"as_of": "2025-12-31", "person_in_charge": "李明"}
    )
    assert r.status_code == 302
    assert "ZYFW-XH-2026-00001" in login(cast.alice_user).get("/honors/").content.decode()


def test_hostile_api_input_is_a_4xx(org: Any, cast: Any, login: Any) -> None:
    c = login(cast.leader)
    for url in (
        "/api/v1/honors/certificates/" + "9" * 30,
        f"/api/v1/honors/certificates/{2**63}",
        "/api/v1/honors/certificates/-1",
        "/api/v1/honors/people/%00/record",
        "/api/v1/honors/people/XH0001/record?as_of=0001-01-01",
        "/api/v1/honors/verify/%00",
    ):
        assert 400 <= c.get(url).status_code < 500, url
    r = c.post(
        f"/api/v1/honors/certificates/{2**64}/revoke", {"reason": "x"}, content_type="application/json"
    )
    assert 400 <= r.status_code < 500
    r = c.post(
        "/api/v1/honors/people/XH0001/certificates", {"contact": "\x07" * 3}, content_type="application/json"
    )
    assert 400 <= r.status_code < 500


def test_a_verification_key_never_starts_with_a_dash(monkeypatch: Any) -> None:
    """``muster honors verify TOKEN`` would read a leading "-" as an option (a key did, 1 in 64 runs)."""
    from muster.honors import services as hs

    keys = iter(["-starts-with-a-dash-000000000000", "fine-key-0000000000000000000000"])
    monkeypatch.setattr(hs.secrets, "token_urlsafe", lambda _n: next(keys))
    assert hs.new_token() == "fine-key-0000000000000000000000"
