"""Care web forms: subjects, survey answers (the liaison's phone form), deliveries, help requests,
consolation payments and their approval, donations and drives, and receipts (checked by content, size
bounded, stored privately, served only through the scoped, audited view). Out of scope is 404; bad input
is a 422 with the message on its field; nothing half written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as dj_settings
from django.core.files.uploadedfile import SimpleUploadedFile

from muster.audit.models import AuditEvent
from muster.care import services as care
from muster.care.models import (
    CareSubject,
    CharityDrive,
    Consolation,
    DeliveryLine,
    Donation,
    HelpRequest,
    Observation,
    Receipt,
    SurveyRound,
)
from muster.orgs.access import SYSTEM

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def private_receipts(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "receipts"
    settings.MUSTER_CARE_RECEIPTS_ROOT = str(root)
    return root


def _round(cared: Any) -> SurveyRound:
    return care.round_open(actor=SYSTEM, unit=cared.org.xuhui, name="四月排摸")


def test_liaison_answers_a_survey_on_the_phone_form(cared: Any, login: Any) -> None:
    r = _round(cared)
    c = login(cared.liaison_user)
    today = c.get("/care/").content.decode()
    assert f"/care/rounds/{r.pk}/answer/C0001/" in today
    page = c.get(f"/care/rounds/{r.pk}/answer/C0001/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "身体状况" in html and 'class="btn-check"' in html and 'inputmode="numeric"' in html
    bad = c.post(
        f"/care/rounds/{r.pk}/answer/C0001/",
        {"d_health": "良好", "d_vaccine_doses": "三", "channel": "visit"},
    )
    assert bad.status_code == 422
    assert "疫苗接种剂次" in bad.content.decode()  # the message names the question, next to it
    assert not Observation.objects.exists()
    ok = c.post(
        f"/care/rounds/{r.pk}/answer/C0001/",
        {"d_health": "良好", "d_vaccine_doses": "3", "d_living": "独居", "channel": "visit"},
    )
    assert ok.status_code == 302
    assert sorted(Observation.objects.values_list("dimension__code", "value")) == [
        ("health", "良好"),
        ("living", "独居"),
        ("vaccine_doses", "3"),
    ]
    empty = c.post(f"/care/rounds/{r.pk}/answer/C0002/", {"channel": "phone"})
    assert empty.status_code == 422
    # out of scope: a subject not theirs is not found, whatever the round
    assert c.get(f"/care/rounds/{r.pk}/answer/C0003/").status_code == 404


def test_closed_round_and_deceased_subject_refuse_answers(cared: Any, login: Any) -> None:
    r = _round(cared)
    care.round_close(actor=SYSTEM, round=r)
    got = login(cared.liaison_user).post(
        f"/care/rounds/{r.pk}/answer/C0001/", {"d_health": "良好", "channel": "phone"}
    )
    assert got.status_code == 422 and not Observation.objects.exists()


def test_liaison_records_a_delivery_that_closes_a_help_request_with_a_receipt(
    cared: Any, login: Any, private_receipts: Path
) -> None:
    hr = care.help_request_raise(
        actor=SYSTEM,
        unit=cared.org.xuhui,
        subject=cared.old,
        source="contact",
        category="food",
        urgency="urgent",
        description="家中缺菜",
    )
    c = login(cared.liaison_user)
    page = c.get("/care/subjects/C0001/delivery/").content.decode()
    assert f'value="{hr.pk}"' in page
    bad = c.post(
        "/care/subjects/C0001/delivery/",
        {"kind": "supplies", "item": "蔬菜包", "quantity": "-2", "delivered": "on"},
    )
    assert bad.status_code == 422 and 'class="invalid-feedback d-block"' in bad.content.decode()
    assert not DeliveryLine.objects.exists()
    ok = c.post(
        "/care/subjects/C0001/delivery/",
        {
            "kind": "supplies",
            "item": "蔬菜包",
            "quantity": "1",
            "help_request": str(hr.pk),
            "delivered": "on",
            "receipt": SimpleUploadedFile("签收.png", PNG, content_type="image/png"),
        },
    )
    assert ok.status_code == 302
    line = DeliveryLine.objects.get()
    assert line.status == "delivered" and line.help_request_id == hr.pk
    hr.refresh_from_db()
    assert hr.status == "resolved"
    rc = Receipt.objects.get()
    assert rc.run_id == line.run_id and rc.content_type == "image/png" and rc.size == len(PNG)
    # stored privately: under the receipts root, not under the media or static roots, random name
    stored = private_receipts / rc.stored_as
    assert stored.read_bytes() == PNG
    assert not str(stored).startswith(str(dj_settings.MEDIA_ROOT))
    assert "签收" not in rc.stored_as
    assert AuditEvent.objects.filter(action="care.receipt.attached").count() == 1
    # served through the scoped view, audited
    got = c.get(f"/care/receipts/{rc.pk}/")
    assert got.status_code == 200 and got.content == PNG
    assert got["Content-Disposition"].startswith("attachment") and got["X-Content-Type-Options"] == "nosniff"
    assert AuditEvent.objects.filter(action="care.receipt.viewed", actor_name="wangqiang").count() == 1


def test_receipt_is_checked_by_content_and_size(cared: Any, login: Any, settings: Any) -> None:
    c = login(cared.manager)
    run = care.delivery_run_create(
        actor=SYSTEM,
        unit=cared.org.xuhui,
        name="菜",
        kind="supplies",
        lines=[care.LineIn(cared.old, "菜", 1)],
    )
    fake = SimpleUploadedFile(
        "photo.png", b"<html><script>alert(1)</script></html>", content_type="image/png"
    )
    got = c.post(f"/care/receipts/run/{run.pk}/upload/", {"receipt": fake}, follow=True)
    assert "photo.png" in got.content.decode() and not Receipt.objects.exists()
    settings.MUSTER_CARE_RECEIPT_MAX_BYTES = 100
    big = SimpleUploadedFile("big.pdf", PDF + b"0" * 200, content_type="application/pdf")
    got = c.post(f"/care/receipts/run/{run.pk}/upload/", {"receipt": big}, follow=True)
    assert "MB" in got.content.decode() and not Receipt.objects.exists()
    settings.MUSTER_CARE_RECEIPT_MAX_BYTES = 10_000
    ok = SimpleUploadedFile("scan.bin", PDF, content_type="application/octet-stream")
    c.post(f"/care/receipts/run/{run.pk}/upload/", {"receipt": ok})
    assert Receipt.objects.get().content_type == "application/pdf"


def test_receipts_and_runs_out_of_scope_are_not_found(cared: Any, login: Any, make_user: Any) -> None:
    run = care.delivery_run_create(
        actor=SYSTEM,
        unit=cared.org.xuhui,
        name="菜",
        kind="supplies",
        lines=[care.LineIn(cared.old, "菜", 1)],
    )
    rc = care.receipt_attach(actor=SYSTEM, data=PNG, filename="a.png", run=run)
    hp = login(make_user("hp_manager", "manager", cared.org.huangpu))
    assert hp.get(f"/care/receipts/{rc.pk}/").status_code == 404
    assert hp.get(f"/care/deliveries/{run.pk}/").status_code == 404
    assert hp.post(f"/care/receipts/run/{run.pk}/upload/", {}).status_code == 404
    assert not AuditEvent.objects.filter(action="care.receipt.viewed").exists()
    for url in ("/care/subjects/C0001/", "/care/subjects/C0001/edit/", "/care/subjects/C0001/delivery/"):
        assert hp.get(url).status_code == 404, url


def test_manager_creates_and_edits_a_subject_with_masked_pii(cared: Any, login: Any) -> None:
    c = login(cared.manager)
    bad = c.post(
        "/care/subjects/new/",
        {
            "unit": cared.org.xuhui.pk,
            "code": "C0100",
            "name": "王阿婆",
            "phone": "12345",
            "liaison": "XH0002",
        },
    )
    assert bad.status_code == 422 and "12345" in bad.content.decode()
    assert not CareSubject.objects.filter(code="C0100").exists()
    ok = c.post(
        "/care/subjects/new/",
        {
            "unit": cared.org.xuhui.pk,
            "code": "C0100",
            "name": "王阿婆",
            "phone": "13912345678",
            "address": "徐汇区天钥桥路1号",
            "liaison": "XH0002",
        },
    )
    assert ok.status_code == 302
    s = CareSubject.objects.get(code="C0100")
    assert s.liaison == cared.org.bob and s.phone == "13912345678"
    edit = c.get("/care/subjects/C0100/edit/").content.decode()
    assert "139****5678" in edit and "13912345678" not in edit and "天钥桥路1号" not in edit
    c.post("/care/subjects/C0100/edit/", {"liaison": "XH0002", "community": "天平街道", "phone": ""})
    s.refresh_from_db()
    assert s.community == "天平街道" and s.phone == "13912345678"
    # a liaison out of scope reads like a code that does not exist
    got = c.post("/care/subjects/C0100/edit/", {"liaison": "HP0001"})
    assert got.status_code == 422 and "HP0001" in got.content.decode()
    # the status form: deceased, then no delivery
    c.post("/care/subjects/C0100/status/", {"status": "deceased", "on": "2026-03-01"})
    s.refresh_from_db()
    assert s.status == "deceased"
    got = c.post("/care/subjects/C0100/delivery/", {"kind": "supplies", "item": "菜", "quantity": "1"})
    assert got.status_code == 422 and not DeliveryLine.objects.exists()


def test_liaison_may_not_manage(cared: Any, login: Any) -> None:
    c = login(cared.liaison_user)
    assert c.get("/care/subjects/new/").status_code == 403
    assert c.get("/care/subjects/C0001/edit/").status_code == 403
    assert c.get("/care/rounds/new/").status_code == 403


def test_round_open_and_close_by_form(cared: Any, login: Any) -> None:
    c = login(cared.manager)
    bad = c.post("/care/rounds/new/", {"unit": cared.org.xuhui.pk, "name": ""})
    assert bad.status_code == 422
    ok = c.post(
        "/care/rounds/new/", {"unit": cared.org.xuhui.pk, "name": "五月排摸", "dimensions": ["health"]}
    )
    r = SurveyRound.objects.get(name="五月排摸")
    assert ok.status_code == 302 and [d.code for d in r.dimensions.all()] == ["health"]
    page = c.get(f"/care/rounds/{r.pk}/").content.decode()
    assert "0/2" in page and f"/care/rounds/{r.pk}/answer/C0001/" in page
    c.post(f"/care/rounds/{r.pk}/close/")
    r.refresh_from_db()
    assert r.closed_at is not None


def test_help_request_form_and_steps(cared: Any, login: Any) -> None:
    c = login(cared.manager)
    bad = c.post(
        "/care/help/new/",
        {
            "unit": cared.org.xuhui.pk,
            "source": "duty_post",
            "category": "food",
            "urgency": "urgent",
            "description": "",
            "requester_name": "李阿姨",
        },
    )
    assert bad.status_code == 422
    ok = c.post(
        "/care/help/new/",
        {
            "unit": cared.org.xuhui.pk,
            "source": "duty_post",
            "category": "medicine",
            "urgency": "urgent",
            "description": "需要降压药",
            "requester_name": "李阿姨",
        },
    )
    hr = HelpRequest.objects.get()
    assert ok.status_code == 302 and hr.requester_name == "李阿姨"
    assert c.post(f"/care/help/{hr.pk}/", {"status": "assigned"}).status_code == 422  # no assignee
    c.post(f"/care/help/{hr.pk}/", {"status": "assigned", "assignee": "XH0002"})
    c.post(f"/care/help/{hr.pk}/", {"status": "resolved", "note": "已送药"})
    hr.refresh_from_db()
    assert hr.status == "resolved" and hr.steps.count() == 3
    assert c.post(f"/care/help/{hr.pk}/", {"status": "resolved"}).status_code == 422
    assert f"#{hr.pk}" in c.get("/care/help/?state=all").content.decode()
    assert login(cared.liaison_user).get(f"/care/help/{hr.pk}/").status_code == 404


def test_consolation_payment_needs_a_second_person(cared: Any, login: Any, make_user: Any) -> None:
    c = login(cared.nurse)
    bad = c.post("/care/subjects/C0001/consolation/", {"kind": "payment", "amount": "abc", "channel": "微信"})
    assert bad.status_code == 422 and not Consolation.objects.exists()
    ok = c.post(
        "/care/subjects/C0001/consolation/",
        {
            "kind": "payment",
            "amount": "1000",
            "channel": "微信",
            "to_family": "on",
            "receipt": SimpleUploadedFile("转账.png", PNG),
        },
    )
    assert ok.status_code == 302
    pay = Consolation.objects.get()
    assert pay.receipts.count() == 1
    own = c.get("/care/consolations/").content.decode()
    assert f"/care/consolations/{pay.pk}/approve/" not in own
    c.post(f"/care/consolations/{pay.pk}/approve/")
    pay.refresh_from_db()
    assert pay.approved_at is None
    # the manager without the care-data permission sees no approve button and cannot approve
    assert (
        f"/care/consolations/{pay.pk}/approve/"
        not in login(cared.manager).get("/care/consolations/").content.decode()
    )
    assert login(cared.manager).post(f"/care/consolations/{pay.pk}/approve/").status_code == 403
    lead = make_user("xh_lead", "manager", cared.org.xuhui)
    care.care_grant(actor=SYSTEM, user=lead, unit=cared.org.xuhui)
    second = login(lead)
    assert f"/care/consolations/{pay.pk}/approve/" in second.get("/care/consolations/").content.decode()
    second.post(f"/care/consolations/{pay.pk}/approve/")
    pay.refresh_from_db()
    assert pay.approved_at is not None and pay.approved_by_name == "xh_lead"


def test_donation_and_drive_forms(cared: Any, login: Any, make_user: Any) -> None:
    c = login(cared.manager)
    bad = c.post(
        "/care/donations/new/",
        {
            "unit": cared.org.xuhui.pk,
            "donor": "税务所",
            "kind": "goods",
            "value": "5000",
            "beneficiary": "社区",
        },
    )
    assert bad.status_code == 422 and not Donation.objects.exists()  # goods need their items
    ok = c.post(
        "/care/donations/new/",
        {
            "unit": cared.org.xuhui.pk,
            "donor": "税务所",
            "kind": "goods",
            "value": "5200",
            "items": "口罩、消毒液",
            "beneficiary": "漕河泾社区",
            "receipt": SimpleUploadedFile("单据.pdf", PDF),
        },
    )
    assert ok.status_code == 302
    d = Donation.objects.get()
    assert d.receipts.get().content_type == "application/pdf"
    c.post("/care/drives/new/", {"unit": cared.org.xuhui.pk, "name": "爱心捐款", "beneficiary": "两名学生"})
    drive = CharityDrive.objects.get()
    assert c.post(f"/care/drives/{drive.pk}/", {"name": "小王", "amount": "-5"}).status_code == 422
    c.post(f"/care/drives/{drive.pk}/", {"name": "小王", "amount": "200"})
    c.post(f"/care/drives/{drive.pk}/", {"person": "XH0001", "amount": "300"})
    mine = c.get(f"/care/drives/{drive.pk}/").content.decode()
    assert "500" in mine and "小王 · 200" in mine
    other = login(cared.nurse).get(f"/care/drives/{drive.pk}/").content.decode()
    assert "500" in other and "小王 · 200" not in other
    hp = login(make_user("hp_manager", "manager", cared.org.huangpu))
    assert hp.get(f"/care/drives/{drive.pk}/").status_code == 404
    assert "税务所" not in hp.get("/care/donations/").content.decode()


def test_pages_render_for_the_phone(cared: Any, login: Any) -> None:
    c = login(cared.manager)
    for url in (
        "/care/subjects/",
        "/care/rounds/",
        "/care/deliveries/",
        "/care/help/",
        "/care/consolations/",
        "/care/donations/",
        "/care/deliveries/new/",
        "/care/donations/new/",
        "/care/help/new/",
    ):
        got = c.get(url)
        assert got.status_code == 200, url
        assert 'id="care-nav"' in got.content.decode()


def test_run_form_reports_the_bad_line(cared: Any, login: Any) -> None:
    c = login(cared.manager)
    got = c.post(
        "/care/deliveries/new/",
        {
            "unit": cared.org.xuhui.pk,
            "name": "第一批",
            "kind": "supplies",
            "lines": "C0001, 蔬菜包, 1\nC0002, 鲜肉, abc",
        },
    )
    assert got.status_code == 422 and "abc" in got.content.decode()
    assert not DeliveryLine.objects.exists()
    got = c.post(
        "/care/deliveries/new/",
        {
            "unit": cared.org.xuhui.pk,
            "name": "第一批",
            "kind": "supplies",
            "lines": "C0001, 蔬菜包, 1\nC0003, 鲜肉, 1",
        },
    )
    assert got.status_code == 422 and not DeliveryLine.objects.exists()  # C0003 is out of scope
    ok = c.post(
        "/care/deliveries/new/",
        {
            "unit": cared.org.xuhui.pk,
            "name": "第一批",
            "kind": "supplies",
            "lines": "C0001, 蔬菜包, 1\nC0002, 鲜肉, 1.5",
            "delivered": "on",
        },
    )
    assert ok.status_code == 302 and DeliveryLine.objects.filter(status="delivered").count() == 2
    line = DeliveryLine.objects.first()
    assert line is not None
    c.post(f"/care/deliveries/{line.run_id}/", {"line": line.pk, "status": "failed", "reason": ""})
    line.refresh_from_db()
    assert line.status == "delivered"  # a failure needs its reason
    c.post(f"/care/deliveries/{line.run_id}/", {"line": line.pk, "status": "confirmed"})
    line.refresh_from_db()
    assert line.status == "confirmed"
