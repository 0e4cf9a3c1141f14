"""The staff register (人员名册) lives at /people/import/ (issue 23: "roster" means rostering).

The old page addresses under /roster/ redirect with 308 (a POST stays a POST), and the API keeps
/api/v1/roster/import and /export as deprecated aliases of /api/v1/people/import and /export.
"""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from muster.orgs.models import Person

pytestmark = pytest.mark.django_db


def _csv(code: str) -> SimpleUploadedFile:
    buf = io.StringIO()
    csv.writer(buf).writerows([["工号", "姓名", "单位编码"], [code, "周杰", "XH"]])
    return SimpleUploadedFile("people.csv", buf.getvalue().encode("utf-8"), content_type="text/csv")


def test_the_register_pages_have_their_own_addresses(org, as_role) -> None:
    assert reverse("web:people_import") == "/people/import/"
    assert reverse("web:people_export") == "/people/export/"
    assert reverse("web:people_template") == "/people/template/"
    c = as_role("manager", org.xuhui)
    page = c.get("/people/import/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'href="/people/template/"' in html and 'action="/people/export/"' in html
    assert c.get("/people/template/").status_code == 200


def test_the_old_register_address_is_now_rostering_but_an_old_form_still_lands(org, as_role) -> None:
    """/roster/ is the rostering plans index (排班); a POST from an old bookmark of the register's import
    form is sent on to /people/import/ with its method kept."""
    c = as_role("manager", org.xuhui)
    assert reverse("roster:plan_list") == "/roster/"
    assert c.get("/roster/").status_code == 200
    r = c.post("/roster/")
    assert r.status_code == 308 and r["Location"] == "/people/import/"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/roster/export/", "/people/export/"),
        ("/roster/template/", "/people/template/"),
    ],
)
def test_the_old_addresses_redirect_keeping_the_method(org, as_role, old: str, new: str) -> None:
    c = as_role("manager", org.xuhui)
    r = c.get(old + "?x=1")
    assert r.status_code == 308
    assert r["Location"] == new + "?x=1"
    assert c.post(old).status_code == 308  # the browser repeats the POST at the new address


def test_an_old_bookmark_still_imports(org, as_role) -> None:
    c = as_role("manager", org.xuhui)
    r = c.post("/roster/", {"file": _csv("XH0931")})
    assert r.status_code == 308 and not Person.objects.filter(code="XH0931").exists()
    r = c.post(r["Location"], {"file": _csv("XH0931")})  # the browser sends the same form again there
    assert r.status_code == 200
    assert Person.objects.filter(code="XH0931").exists()


def test_rostering_keeps_its_own_addresses(org, as_role) -> None:
    assert reverse("roster:plan_new") == "/roster/new/"
    r = as_role("manager", org.xuhui).get("/roster/new/")
    assert r.status_code != 308  # rostering's page, not a redirect to the register


@pytest.mark.parametrize("path", ["/api/v1/people/import", "/api/v1/roster/import"])
def test_the_api_imports_at_the_new_path_and_the_old_alias(org, as_role, path: str) -> None:
    c = as_role("manager", org.xuhui)
    code = "XH0941" if "people" in path else "XH0942"
    r = c.post(path, {"file": _csv(code)})
    assert r.status_code == 200, r.content
    assert Person.objects.filter(code=code).exists()


@pytest.mark.parametrize("path", ["/api/v1/people/export", "/api/v1/roster/export"])
def test_the_api_exports_at_the_new_path_and_the_old_alias(org, as_role, path: str) -> None:
    c = as_role("manager", org.xuhui)
    r = c.get(path, {"format": "csv", "unit": "XH"})
    assert r.status_code == 200
    assert "工号" in r.content.decode("utf-8-sig").splitlines()[0]


def test_the_openapi_document_names_the_new_paths_and_marks_the_aliases_deprecated(org, as_role) -> None:
    doc = as_role("manager", org.xuhui).get("/api/v1/openapi.json").json()
    assert "deprecated" not in doc["paths"]["/api/v1/people/import"]["post"]
    assert doc["paths"]["/api/v1/roster/import"]["post"]["deprecated"] is True
    assert doc["paths"]["/api/v1/roster/export"]["get"]["deprecated"] is True
    assert "/api/v1/roster/plans" in doc["paths"]  # rostering stays under /roster/
