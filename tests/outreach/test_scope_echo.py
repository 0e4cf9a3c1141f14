"""A visible visit, problem or enterprise never names what the caller may not see (security review 8, 9).

The world: an enterprise and a partner of the 徐汇 first tax office (XH-S1); a visit and a problem of that
office held with its party branch (XH-B01), by 王强 (XH-S1, no party unit) and 张丽 (party unit XH-B01).
A secretary of the branch sees the visit and the problem through the branch, but neither the tax office,
its enterprise and partner, nor 王强.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from django.conf import settings

from muster.orgs.access import SYSTEM
from muster.orgs.services import partner_create
from muster.outreach import services, tabular_io
from muster.outreach.models import Enterprise, Liaison
from muster.tabular.errors import TabularError
from muster.tabular.writer import SheetData, xlsx_bytes
from tests.outreach.conftest import VALID_CODES

SECRET_ENT = "徐汇保密企业有限公司"
SECRET_PARTNER = "漕河泾园区"


@pytest.fixture
def world(org: Any) -> Any:
    e = services.enterprise_create(
        actor=SYSTEM, credit_code=VALID_CODES[2], name=SECRET_ENT, unit=org.xuhui_office
    )
    partner = partner_create(
        actor=SYSTEM, code="P-CHJ", name=SECRET_PARTNER, kind="park", unit=org.xuhui_office
    )
    visit = services.visit_record(
        actor=SYSTEM,
        held_on=date(2026, 3, 1),
        unit=org.xuhui_office,
        branch=org.xuhui_branch,
        visitors=[org.bob, org.alice],
        enterprises=[e],
        partners=[partner],
        topics="走访",
    )
    problem = services.problem_raise(
        actor=SYSTEM,
        title="办税难题",
        unit=org.xuhui_office,
        branch=org.xuhui_branch,
        raised_on=date(2026, 3, 1),
        owner=org.bob,
        enterprise=e,
    )

    class W:
        pass

    w = W()
    w.ent, w.partner, w.visit, w.problem = e, partner, visit, problem  # type: ignore[attr-defined]
    return w


def _client(login: Any, user: Any) -> Any:
    c = login(user)
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return c


@pytest.fixture
def secretary(org: Any, make_user: Any, login: Any) -> Any:
    return _client(login, make_user("xb_sec", "secretary", org.xuhui_branch))


@pytest.fixture
def manager(org: Any, make_user: Any, login: Any) -> Any:
    return _client(login, make_user("xh_mgr", "manager", org.xuhui))


def test_visit_api_lists_only_visible_visitors_enterprises_partners(
    org: Any, world: Any, secretary: Any, manager: Any
) -> None:
    assert secretary.get(f"/api/v1/outreach/enterprises/{world.ent.credit_code}").status_code == 404
    for path in (f"/api/v1/outreach/visits/{world.visit.pk}", "/api/v1/outreach/visits"):
        body = secretary.get(path).json()
        v = body if "id" in body else body["items"][0]
        assert v["visitors"] == ["XH0001"]  # 张丽 (party unit XH-B01), not 王强 (XH-S1)
        assert v["enterprises"] == [] and v["partners"] == []
        assert v["unit"] is None and v["branch"]["code"] == "XH-B01"
        text = json.dumps(body, ensure_ascii=False)
        assert "XH0002" not in text and world.ent.credit_code not in text and "P-CHJ" not in text
    # Who may see them still sees them all.
    v = manager.get(f"/api/v1/outreach/visits/{world.visit.pk}").json()
    assert sorted(v["visitors"]) == ["XH0001", "XH0002"]
    assert v["enterprises"] == [world.ent.credit_code] and v["partners"] == ["P-CHJ"]


def test_visit_pages_name_only_what_is_visible(org: Any, world: Any, secretary: Any, manager: Any) -> None:
    html = secretary.get(f"/outreach/visits/{world.visit.pk}/").content.decode()
    assert "张丽" in html and org.xuhui_branch.name in html
    assert SECRET_ENT not in html and "王强" not in html and org.xuhui_office.name not in html
    assert "another unit" in html
    listing = secretary.get("/outreach/visits/").content.decode()
    assert f"/outreach/visits/{world.visit.pk}/" in listing
    assert SECRET_ENT not in listing and org.xuhui_office.name not in listing
    html = manager.get(f"/outreach/visits/{world.visit.pk}/").content.decode()
    assert SECRET_ENT in html and "王强" in html and org.xuhui_office.name in html
    assert SECRET_ENT in manager.get("/outreach/visits/").content.decode()


def test_problem_hides_invisible_owner_unit_and_enterprise(
    org: Any, world: Any, secretary: Any, manager: Any
) -> None:
    pr = world.problem
    for path in (f"/api/v1/outreach/problems/{pr.pk}", "/api/v1/outreach/problems"):
        body = secretary.get(path).json()
        p = body if "id" in body else body["items"][0]
        assert p["owner"] is None and p["unit"] is None and p["enterprise"] is None
        assert "XH0002" not in json.dumps(body)
    html = secretary.get(f"/outreach/problems/{pr.pk}/").content.decode()
    assert "办税难题" in html and "another unit" in html
    assert org.xuhui_office.name not in html and "王强" not in html and SECRET_ENT not in html
    listing = secretary.get("/outreach/problems/").content.decode()
    assert "办税难题" in listing and org.xuhui_office.name not in listing
    p = manager.get(f"/api/v1/outreach/problems/{pr.pk}").json()
    assert p["owner"] == "XH0002" and p["enterprise"] == world.ent.credit_code
    html = manager.get(f"/outreach/problems/{pr.pk}/").content.decode()
    assert org.xuhui_office.name in html and "王强" in html and SECRET_ENT in html


def test_liaisons_out_of_scope_are_not_named(
    org: Any, world: Any, make_user: Any, login: Any, manager: Any
) -> None:
    e = services.enterprise_create(actor=SYSTEM, credit_code=VALID_CODES[3], name="徐汇企业", unit=org.xuhui)
    services.liaison_assign(actor=SYSTEM, enterprise=e, person=org.alice, start=date(2026, 1, 1))
    hp_li = services.liaison_assign(actor=SYSTEM, enterprise=e, person=org.carol, start=date(2026, 1, 1))
    rows = manager.get(f"/api/v1/outreach/enterprises/{e.credit_code}/liaisons").json()
    assert [r["person"] for r in rows] == ["XH0001"]
    assert "李娜" not in json.dumps(rows, ensure_ascii=False)
    r = manager.post(
        f"/api/v1/outreach/liaisons/{hp_li.pk}/end", json.dumps({"end": "2026-02-01"}), "application/json"
    )
    assert r.status_code == 200
    assert r.json()["person"] is None and r.json()["name"] is None
    assert Liaison.objects.get(pk=hp_li.pk).end == date(2026, 2, 1)
    html = manager.get(f"/outreach/enterprises/{e.credit_code}/").content.decode()
    assert "张丽" in html and "李娜" not in html
    root = _client(login, make_user("root_mgr", "manager", org.root))
    assert [
        r["person"] for r in root.get(f"/api/v1/outreach/enterprises/{e.credit_code}/liaisons").json()
    ] == [
        "XH0001",
        "HP0001",
    ]


def test_duplicate_credit_code_of_an_invisible_enterprise_is_not_confirmed(
    org: Any, world: Any, make_user: Any, login: Any, manager: Any
) -> None:
    hp = _client(login, make_user("hp_mgr", "manager", org.huangpu))
    code = world.ent.credit_code
    r = hp.post(
        "/api/v1/outreach/enterprises",
        json.dumps({"credit_code": code, "name": "x", "unit": "HP"}),
        "application/json",
    )
    assert r.status_code == 422
    msg = r.json()["errors"]["credit_code"][0] if "errors" in r.json() else r.json()["detail"]
    assert code not in r.content.decode() and "already registered" not in r.content.decode()
    assert "cannot be registered here" in msg
    assert Enterprise.objects.filter(credit_code=code).count() == 1
    # Who sees the enterprise is told plainly.
    r = manager.post(
        "/api/v1/outreach/enterprises",
        json.dumps({"credit_code": code, "name": "x", "unit": "XH"}),
        "application/json",
    )
    assert r.status_code == 422
    assert f"An enterprise with the credit code {code} is already registered." in r.content.decode()


def test_import_of_an_invisible_credit_code_does_not_confirm_it(org: Any, world: Any, make_user: Any) -> None:
    hp = make_user("hp_imp", "manager", org.huangpu)
    headers = ["统一社会信用代码", "纳税人名称", "行业", "园区", "楼宇", "规模", "主管税务机关代码"]
    data = xlsx_bytes([SheetData("企业", headers, [[world.ent.credit_code, "甲", "", "", "", "", "HP"]])])
    with pytest.raises(TabularError) as exc:
        tabular_io.enterprise_import(actor=hp, filename="x.xlsx", data=data)
    [err] = exc.value.errors
    assert "cannot be registered here" in err.reason and "another unit" not in err.reason
