"""Import without friction (issue 27, item 12) through HTTP: a passing dry run is followed by "confirm
import" of the same upload (web page and API), for the uploader only, once, within the time it is kept;
and the import/export endpoints the pipeline's factory makes answer hostile files with a 4xx."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from muster.orgs.models import Person
from muster.tabular.models import HeldUpload
from tests.tabular.helpers import PEOPLE_HEADERS, csv_data, person_row

pytestmark = pytest.mark.django_db


def people_csv(*codes: str) -> SimpleUploadedFile:
    rows = [person_row(code, "新同事", "XH-S1") for code in codes]
    return SimpleUploadedFile("people.csv", csv_data([PEOPLE_HEADERS, *rows]), content_type="text/csv")


def dry_run(client: Any, *codes: str) -> str:
    """Upload with "validate only" on the page; the token of the confirm form it shows."""
    r = client.post(reverse("web:people_import"), {"file": people_csv(*codes), "dry_run": "on"})
    assert r.status_code == 200, r.content.decode()[:2000]
    page = r.content.decode()
    assert 'id="confirm-form"' in page and not Person.objects.filter(code__in=codes).exists()
    return HeldUpload.objects.latest("pk").token


# ----------------------------------------------------------------- the page


@pytest.mark.usefixtures("fixed_clock")
def test_a_passing_dry_run_is_confirmed_without_choosing_the_file_again(org: Any, as_role: Any) -> None:
    c = as_role("manager", org.xuhui)
    token = dry_run(c, "XH0981", "XH0982")
    r = c.post(reverse("web:people_import_confirm"), {"token": token})
    assert r.status_code == 200
    assert Person.objects.filter(code__in=["XH0981", "XH0982"]).count() == 2
    assert 'id="import-result"' in r.content.decode() and 'id="confirm-form"' not in r.content.decode()
    # Once: a second confirmation says so and writes nothing more.
    r = c.post(reverse("web:people_import_confirm"), {"token": token})
    assert r.status_code == 410 and 'id="confirm-error"' in r.content.decode()


def test_only_the_uploader_can_confirm(org: Any, as_role: Any) -> None:
    token = dry_run(as_role("manager", org.xuhui), "XH0983")
    other = as_role("manager", org.xuhui, username="another-manager")
    r = other.post(reverse("web:people_import_confirm"), {"token": token})
    assert r.status_code == 404 and not Person.objects.filter(code="XH0983").exists()
    r = other.post(reverse("web:people_import_confirm"), {"token": "made-up"})
    assert r.status_code == 404


def test_a_confirmation_after_the_upload_expired_says_so(org: Any, as_role: Any, fixed_clock: Any) -> None:
    c = as_role("manager", org.xuhui)
    token = dry_run(c, "XH0984")
    fixed_clock.shift(timedelta(minutes=31))
    r = c.post(reverse("web:people_import_confirm"), {"token": token})
    assert r.status_code == 410
    assert "expired" in r.content.decode() or "过期" in r.content.decode()
    assert not Person.objects.filter(code="XH0984").exists()


def test_a_failing_dry_run_offers_no_confirmation(org: Any, as_role: Any) -> None:
    c = as_role("manager", org.xuhui)
    bad = SimpleUploadedFile("p.csv", csv_data([PEOPLE_HEADERS, person_row("XH0985", "甲", "HP")]))
    r = c.post(reverse("web:people_import"), {"file": bad, "dry_run": "on"})
    assert r.status_code == 400 and 'id="confirm-form"' not in r.content.decode()
    assert not HeldUpload.objects.exists()


def test_the_confirm_page_needs_the_import_right(org: Any, as_role: Any) -> None:
    token = dry_run(as_role("manager", org.xuhui), "XH0986")
    assert (
        as_role("viewer", org.xuhui).post(reverse("web:people_import_confirm"), {"token": token}).status_code
        == 403
    )


# ----------------------------------------------------------------- the API (the factory's endpoints)


@pytest.mark.parametrize(
    ("importer", "confirm"),
    [("/api/v1/people/import", "/api/v1/people/import/confirm"), ("/api/v1/roster/import", None)],
)
def test_the_api_dry_run_answers_a_token_that_imports_the_same_file(
    org: Any, as_role: Any, importer: str, confirm: str | None
) -> None:
    c = as_role("manager", org.xuhui)
    r = c.post(importer + "?dry_run=true", {"file": people_csv("XH0987")})
    assert r.status_code == 200 and r.json()["dry_run"] is True and r.json()["people_created"] == 1
    token = r.json()["confirm_token"]
    assert not Person.objects.filter(code="XH0987").exists()
    r = c.post("/api/v1/people/import/confirm", {"token": token}, content_type="application/json")
    assert r.status_code == 200 and r.json()["people_created"] == 1 and r.json()["dry_run"] is False
    assert Person.objects.filter(code="XH0987").exists()
    r = c.post("/api/v1/people/import/confirm", {"token": token}, content_type="application/json")
    assert r.status_code == 410
    r = c.post("/api/v1/mobilize/import/confirm", {"token": token}, content_type="application/json")
    assert r.status_code in (403, 404)  # another importer's token is no token of this one


HOSTILE = [
    ("png.xlsx", b"\x89PNG\r\n\x1a\n" + b"\0" * 100),
    ("huge-number.csv", f"工号,姓名,单位编码,出生日期\nXH0992,甲,XH,{2**70}\n".encode()),
    ("year-9999.csv", "工号,姓名,单位编码,出生日期\nXH0990,甲,XH,9999-12-31\n".encode()),
    ("controls.csv", "工号,姓名,单位编码\nXH\x000991,\x1b[31m甲,XH\n".encode()),
    ("empty.csv", b""),
    ("not-utf8.csv", b"\xff\xfe\xfa" * 50),
]


@pytest.mark.parametrize(("name", "data"), HOSTILE, ids=[h[0] for h in HOSTILE])
@pytest.mark.parametrize(
    ("path", "role"),
    [
        ("/api/v1/people/import", "manager"),
        ("/api/v1/mobilize/import", "admin"),
        ("/api/v1/outreach/enterprises/import", "manager"),
    ],
)
def test_the_factory_endpoints_answer_hostile_files_with_a_4xx(
    org: Any, as_role: Any, path: str, role: str, name: str, data: bytes
) -> None:
    c = as_role(role, org.xuhui)
    r = c.post(path, {"file": SimpleUploadedFile(name, data)})
    assert 400 <= r.status_code < 500, (r.status_code, r.content[:500])
    assert r.json()["detail"]


@override_settings(MUSTER_IMPORT_MAX_BYTES=100)
def test_a_file_over_the_limit_is_413_before_it_is_read(org: Any, as_role: Any) -> None:
    c = as_role("manager", org.xuhui)
    r = c.post("/api/v1/people/import", {"file": SimpleUploadedFile("big.csv", b"x" * 500)})
    assert r.status_code == 413 and "500" in r.json()["detail"] and "100" in r.json()["detail"]


def test_the_factory_exports_answer_the_file_and_refuse_an_unknown_sheet(org: Any, as_role: Any) -> None:
    c = as_role("manager", org.xuhui)
    r = c.get("/api/v1/people/export", {"format": "csv", "sheet": "units"})
    assert r.status_code == 200 and "attachment" in r["Content-Disposition"]
    assert c.get("/api/v1/people/export", {"format": "csv", "sheet": "nope"}).status_code == 422
    assert c.get("/api/v1/people/export", {"unit": "HP"}).status_code == 404  # out of scope
    assert c.get("/api/v1/outreach/enterprises/export", {"format": "csv"}).status_code == 200


# ----------------------------------------------------------------- the pipeline's page for other importers


def batches_csv(code: str) -> SimpleUploadedFile:
    rows = [
        ["批次编号", "派出单位编码", "任务", "服务地点", "开始时间", "结束时间"],
        [code, "XH", "支援社区", "宛平社区", "2022-03-18 08:00", "2022-03-20 18:00"],
    ]
    return SimpleUploadedFile("batches.csv", csv_data(rows), content_type="text/csv")


def test_the_ledger_page_checks_then_confirms_the_same_upload(org: Any, as_role: Any) -> None:
    from muster.mobilize.models import Deployment

    c = as_role("admin", org.xuhui)
    page = c.get("/import/ledger/")
    assert page.status_code == 200 and 'id="template-link"' in page.content.decode()
    r = c.post("/import/ledger/", {"file": batches_csv("XH-L901"), "dry_run": "on"})
    assert r.status_code == 200 and 'id="confirm-form"' in r.content.decode()
    assert not Deployment.objects.filter(code="XH-L901").exists()
    token = HeldUpload.objects.get(importer="ledger").token
    assert c.post("/import/outreach/confirm/", {"token": token}).status_code in (403, 404)
    r = c.post("/import/ledger/confirm/", {"token": token})
    assert r.status_code == 200 and Deployment.objects.filter(code="XH-L901").count() == 1


def test_the_pipeline_pages_keep_their_rights(org: Any, as_role: Any) -> None:
    viewer = as_role("viewer", org.xuhui)
    assert viewer.get("/import/ledger/").status_code == 403
    assert viewer.get("/import/ledger/template/").status_code == 403
    assert viewer.get("/import/no-such-importer/").status_code == 404
    assert viewer.get("/import/roster/").status_code == 302  # the register has its own page


def test_every_template_downloads_and_its_untouched_copy_imports_nothing(org: Any, as_role: Any) -> None:
    c = as_role("admin", org.root)
    for key in ("ledger", "outreach", "care"):
        r = c.get(f"/import/{key}/template/")
        assert r.status_code == 200 and "attachment" in r["Content-Disposition"], key
        name = r["Content-Disposition"].split('"')[1]
        refused = c.post(f"/import/{key}/", {"file": SimpleUploadedFile(name, r.content)})
        assert refused.status_code == 400, key
        assert "示例" in refused.content.decode() or "Example" in refused.content.decode(), key
