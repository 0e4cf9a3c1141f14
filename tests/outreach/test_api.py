"""Outreach over the API: the bad inputs of the issue each answered with a clear 4xx, scoping 404/403."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from muster.orgs.access import SYSTEM
from muster.outreach import services
from muster.outreach.models import Enterprise, Problem
from muster.tabular.writer import SheetData, xlsx_bytes
from tests.outreach.conftest import VALID_CODES

API = "/api/v1/outreach"


@pytest.fixture
def client_of(login: Callable[[Any], Client], make_user: Any) -> Callable[..., Client]:
    def _c(name: str, role: str | None, unit: Any) -> Client:
        c = login(make_user(name, role, unit))
        c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return c

    return _c


def post(c: Client, path: str, body: dict[str, Any]) -> Any:
    return c.post(API + path, body, content_type="application/json")


def test_enterprise_create_and_wrong_check_character(org: Any, client_of: Any) -> None:
    c = client_of("m", "manager", org.xuhui)
    r = post(c, "/enterprises", {"credit_code": "91350100M000100Y44", "name": "甲", "unit": "XH-S1"})
    assert r.status_code == 422
    assert "3 is expected" in r.json()["errors"]["credit_code"][0]
    r = post(
        c, "/enterprises", {"credit_code": VALID_CODES[0], "name": "甲", "unit": "XH-S1", "size": "small"}
    )
    assert r.status_code == 201, r.content
    assert r.json()["unit"] == {"code": "XH-S1", "name": "徐汇区税务局第一税务所"}
    r = post(c, "/enterprises", {"credit_code": VALID_CODES[1], "name": "乙", "unit": "HP"})
    assert r.status_code == 422 and "unit" in r.json()["errors"]  # a unit out of scope reads as unknown
    r = post(c, "/enterprises", {"credit_code": VALID_CODES[1], "name": "乙\x00", "unit": "XH"})
    assert r.status_code == 422


def test_enterprise_out_of_scope_404_not_allowed_403(org: Any, ent: Enterprise, client_of: Any) -> None:
    hp = client_of("hp", "manager", org.huangpu)
    assert hp.get(f"{API}/enterprises/{ent.credit_code}").status_code == 404
    assert (
        hp.patch(f"{API}/enterprises/{ent.credit_code}", {"name": "x"}, "application/json").status_code == 404
    )
    assert hp.get(f"{API}/enterprises").json()["count"] == 0
    viewer = client_of("v", "viewer", org.xuhui)
    assert viewer.get(f"{API}/enterprises/{ent.credit_code.lower()}").status_code == 200
    r = viewer.patch(f"{API}/enterprises/{ent.credit_code}", {"name": "x"}, "application/json")
    assert r.status_code == 403


def test_liaisons_and_my_enterprises(
    org: Any, ent: Enterprise, client_of: Any, login: Any, make_user: Any
) -> None:
    c = client_of("m", "manager", org.xuhui)
    r = post(c, f"/enterprises/{ent.credit_code}/liaisons", {"person": "XH0001", "start": "2018-08-01"})
    assert r.status_code == 201
    lid = r.json()["id"]
    assert post(c, f"/liaisons/{lid}/end", {"end": "2018-01-01"}).status_code == 422
    alice_user = make_user("alice")
    org.alice.user = alice_user
    org.alice.save()
    mine = login(alice_user).get(f"{API}/my-enterprises?on=2019-01-01").json()
    assert [e["credit_code"] for e in mine] == [ent.credit_code]
    r = post(c, f"/enterprises/{ent.credit_code}/liaisons", {"person": "HP0001", "start": "2018-08-01"})
    assert r.status_code == 422  # a person out of scope reads as unknown


@pytest.mark.usefixtures("fixed_clock")
def test_visit_in_the_future_and_problem_flow(org: Any, ent: Enterprise, client_of: Any) -> None:
    c = client_of("m", "manager", org.xuhui)
    body = {"held_on": "2026-03-05", "unit": "XH", "visitors": ["XH0001"], "enterprises": [ent.credit_code]}
    r = post(c, "/visits", body)
    assert r.status_code == 422 and "future" in r.json()["errors"]["held_on"][0]
    r = post(c, "/visits", {**body, "held_on": "2026-03-01", "topics": "退税"})
    assert r.status_code == 201
    vid = r.json()["id"]
    assert c.get(f"{API}/visits/{vid}").json()["enterprises"] == [ent.credit_code]
    assert c.get(f"{API}/visits/99999999999999999999").status_code == 422
    r = post(
        c,
        "/problems",
        {
            "title": "退税慢",
            "unit": "XH-S1",
            "raised_on": "2026-03-01",
            "visit": vid,
            "deadline": "2026-03-03",
        },
    )
    assert r.status_code == 201, r.content
    pid = r.json()["id"]
    r = post(c, f"/problems/{pid}/resolve", {"resolution": ""})
    assert r.status_code == 422 and "resolution" in r.json()["errors"]
    assert c.get(f"{API}/problems?overdue_on=2026-03-04").json()["count"] == 1
    assert post(c, f"/problems/{pid}/resolve", {"resolution": "已退", "on": "2026-03-02"}).status_code == 200
    r = post(c, f"/problems/{pid}/resolve", {"resolution": "again"})
    assert r.status_code == 422 and "reopen" in r.json()["errors"]["status"][0]
    r = c.patch(f"{API}/problems/{pid}", {"title": "x"}, "application/json")
    assert r.status_code == 422 and "reopen" in r.json()["errors"]["status"][0]
    r = post(c, f"/problems/{pid}/reopen", {"reason": "企业反映未到账", "on": "2026-03-04"})
    assert r.status_code == 200
    assert [h["action"] for h in r.json()["history"]] == ["raised", "resolved", "reopened"]
    f = c.get(f"{API}/figures?unit=XH&as_of=2026-03-03T00:00:00").json()
    assert (f["visits"], f["problems"], f["problems_resolved"], f["resolution_rate_text"]) == (
        1,
        1,
        1,
        "100.0%",
    )
    f = c.get(f"{API}/figures?unit=XH&as_of=2026-03-05T00:00:00").json()
    assert (f["problems_resolved"], f["problems_overdue"], f["resolution_rate"]) == (0, 1, "0.0")
    assert c.get(f"{API}/figures?unit=HP").status_code == 422  # out of scope: "no unit with the code HP"
    assert c.get(f"{API}/figures?unit=XH&as_of=9999-12-31T00:00:00").status_code == 422


def test_problem_out_of_scope(org: Any, ent: Enterprise, client_of: Any) -> None:
    from datetime import date

    pr = services.problem_raise(actor=SYSTEM, title="p", unit=org.xuhui_office, raised_on=date(2018, 1, 2))
    hp = client_of("hp", "manager", org.huangpu)
    assert hp.get(f"{API}/problems/{pr.pk}").status_code == 404
    assert post(hp, f"/problems/{pr.pk}/resolve", {"resolution": "x"}).status_code == 404
    viewer = client_of("v", "viewer", org.xuhui)
    assert post(viewer, f"/problems/{pr.pk}/resolve", {"resolution": "x"}).status_code == 403
    assert Problem.objects.get().status == "open"


def test_import_one_bad_row_and_export(org: Any, client_of: Any) -> None:
    c = client_of("m", "manager", org.xuhui)
    headers = ["统一社会信用代码", "纳税人名称", "主管税务机关代码"]
    bad = xlsx_bytes(
        [SheetData("企业", headers, [[VALID_CODES[0], "甲", "XH"], ["91350100M000100Y44", "乙", "XH"]])]
    )
    from django.core.files.uploadedfile import SimpleUploadedFile

    r = c.post(f"{API}/enterprises/import", {"file": SimpleUploadedFile("e.xlsx", bad)})
    assert r.status_code == 422
    assert r.json()["errors"][0]["row"] == 3
    assert not Enterprise.objects.exists()
    good = xlsx_bytes([SheetData("企业", headers, [[VALID_CODES[0], "甲", "XH"]])])
    r = c.post(f"{API}/enterprises/import", {"file": SimpleUploadedFile("e.xlsx", good)})
    assert r.status_code == 200 and r.json()["enterprises_created"] == 1
    r = c.get(f"{API}/enterprises/export?format=csv")
    assert r.status_code == 200 and VALID_CODES[0] in r.content.decode("utf-8-sig")
    viewer = client_of("v", "viewer", org.xuhui)
    assert (
        viewer.post(f"{API}/enterprises/import", {"file": SimpleUploadedFile("e.xlsx", good)}).status_code
        == 403
    )


def test_measures_and_indicators_over_the_api(org: Any, client_of: Any) -> None:
    c = client_of("m", "manager", org.xuhui)
    hp_admin = client_of("hpa", "manager", org.huangpu)
    xh_cat = post(c, "/measure-categories", {"unit": "XH", "name": "智能办税"}).json()["id"]
    hp_cat = post(hp_admin, "/measure-categories", {"unit": "HP", "name": "智能办税"}).json()["id"]
    r = post(
        c, "/measures", {"category": xh_cat, "title": "预审", "unit": "XH-S1", "started_on": "2022-03-01"}
    )
    assert r.status_code == 201
    mid = r.json()["id"]
    r = c.patch(f"{API}/measures/{mid}", {"category": hp_cat}, "application/json")
    assert r.status_code == 422  # another unit's category is not even visible: "no such category"
    r = post(
        c,
        "/indicators",
        {
            "unit": "XH",
            "name": "退税时长",
            "measure_unit": "days",
            "baseline": "10",
            "baseline_on": "2021-12-31",
        },
    )
    iid = r.json()["id"]
    body = {"measured_on": "2022-05-31", "value": "7.2", "measure_unit": "hours"}
    r = post(c, f"/indicators/{iid}/values", body)
    assert r.status_code == 422 and "not in hours" in r.json()["errors"]["measure_unit"][0]
    r = post(c, f"/indicators/{iid}/values", {**body, "measure_unit": "days", "value": "-1"})
    assert r.status_code == 422 and "negative" in r.json()["errors"]["value"][0]
    assert post(c, f"/indicators/{iid}/values", {**body, "measure_unit": "days"}).status_code == 201
    [row] = c.get(f"{API}/indicators?unit=XH&as_of=2022-06-15T00:00:00").json()
    assert row["change_percent"] == "-28.0"
    assert hp_admin.get(f"{API}/indicators?unit=XH").status_code == 422
