"""Receipts over the API: upload checked by content, scoped (404 out of scope), download audited."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from muster.audit.models import AuditEvent
from muster.care import services as care
from muster.care.models import Receipt
from muster.orgs.access import SYSTEM

API = "/api/v1/care"
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


def test_receipt_upload_and_download(cared: Any, login: Any, make_user: Any, tmp_path: Any) -> None:
    from django.test import override_settings

    with override_settings(MUSTER_CARE_RECEIPTS_ROOT=str(tmp_path)):
        d = care.donation_record(
            actor=SYSTEM, unit=cared.org.xuhui, donor="税务所", kind="money", value="5000", beneficiary="学生"
        )
        c = login(cared.manager)
        c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        bad = c.post(f"{API}/receipts/donation/{d.pk}", {"file": SimpleUploadedFile("x.pdf", b"MZ\x90\x00")})
        assert bad.status_code == 422 and "x.pdf" in bad.content.decode()
        ok = c.post(f"{API}/receipts/donation/{d.pk}", {"file": SimpleUploadedFile("收据.pdf", PDF)})
        assert ok.status_code == 201 and ok.json()["content_type"] == "application/pdf"
        rid = ok.json()["id"]
        got = c.get(f"{API}/receipts/{rid}")
        assert got.status_code == 200 and got.content == PDF
        assert AuditEvent.objects.filter(action="care.receipt.viewed").count() == 1
        hp = login(make_user("hp_manager", "manager", cared.org.huangpu))
        assert hp.get(f"{API}/receipts/{rid}").status_code == 404
        assert (
            hp.post(f"{API}/receipts/donation/{d.pk}", {"file": SimpleUploadedFile("a.pdf", PDF)}).status_code
            == 404
        )
        assert (
            c.post(f"{API}/receipts/nothing/{d.pk}", {"file": SimpleUploadedFile("a.pdf", PDF)}).status_code
            == 404
        )
        assert Receipt.objects.count() == 1
