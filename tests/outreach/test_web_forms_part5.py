"""Web create/edit forms of issue 25 part 5: taxpayer homes and classes, service measures (categories,
measures, indicators and their values) and co-building agreements. Thin views over the same services:
per-field errors with 422 and nothing written, out of scope 404, no right 403, hostile input a 4xx, the
buttons only for those who may write, usable on a phone."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings

from muster.audit.models import AuditEvent
from muster.orgs.access import SYSTEM
from muster.orgs.services import partner_create, role_grant
from muster.outreach import services_service as ss
from muster.outreach.models import (
    Agreement,
    Enterprise,
    Indicator,
    IndicatorValue,
    MeasureCategory,
    ServiceMeasure,
    TaxClass,
    TaxpayerHome,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fixed_clock")]

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)"
HUGE = str(2**63 + 5)


def _en(c: Any) -> Any:
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return c


@pytest.fixture
def manager(org: Any, make_user: Any, login: Any) -> Any:
    return _en(login(make_user("m", "manager", org.xuhui)))


@pytest.fixture
def viewer(org: Any, make_user: Any, login: Any) -> Any:
    return _en(login(make_user("v", "viewer", org.xuhui)))


@pytest.fixture
def partners(org: Any) -> dict[str, Any]:
    return {
        "xh": partner_create(actor=SYSTEM, code="P-XH", name="漕河泾社区", kind="community", unit=org.xuhui),
        "hp": partner_create(actor=SYSTEM, code="P-HP", name="外滩社区", kind="community", unit=org.huangpu),
        "b": partner_create(actor=SYSTEM, code="P-B", name="徐家汇村", kind="village", unit=org.xuhui_branch),
    }


# ------------------------------------------------------------------ taxpayer homes


def test_home_create_and_its_errors(org: Any, manager: Any, partners: Any) -> None:
    r = manager.get("/outreach/homes/new/", HTTP_USER_AGENT=PHONE)
    assert r.status_code == 200
    page = r.content.decode()
    assert 'id="home-form"' in page and 'name="viewport"' in page and 'class="form-control"' in page
    good = {
        "name": "漕河泾纳税人之家",
        "unit": org.xuhui.pk,
        "opened_on": "2025-06-01",
        "partner": "P-XH",
        "address": "宜山路1号",
    }
    # a partner of another district is answered like one that does not exist
    r = manager.post("/outreach/homes/new/", {**good, "partner": "P-HP"})
    assert r.status_code == 422
    assert "There is no partner with the code P-HP." in r.content.decode()
    r = manager.post("/outreach/homes/new/", {**good, "partner": "NOPE"})
    assert r.status_code == 422 and "There is no partner with the code NOPE." in r.content.decode()
    # a unit out of the user's reach is not a choice
    assert manager.post("/outreach/homes/new/", {**good, "unit": org.huangpu.pk}).status_code == 422
    # hostile input: control characters, year 9999, a pk past 2^63
    r = manager.post("/outreach/homes/new/", {**good, "name": "bad\x07name"})
    assert r.status_code == 422 and "control character" in r.content.decode()
    assert manager.post("/outreach/homes/new/", {**good, "opened_on": "9999-12-31"}).status_code == 422
    assert manager.post("/outreach/homes/new/", {**good, "unit": HUGE}).status_code == 422
    assert manager.post("/outreach/homes/new/", {**good, "name": "x" * 5000}).status_code == 422
    assert not TaxpayerHome.objects.exists()  # nothing half written
    r = manager.post("/outreach/homes/new/", good)
    assert r.status_code == 302 and r["Location"] == "/outreach/homes/"
    home = TaxpayerHome.objects.get()
    assert (home.name, home.unit, home.partner, home.address) == (
        "漕河泾纳税人之家",
        org.xuhui,
        partners["xh"],
        "宜山路1号",
    )
    assert AuditEvent.objects.filter(action="outreach.home.created").count() == 1
    assert "data-home=" in manager.get("/outreach/homes/").content.decode()


def test_home_buttons_and_rights(org: Any, manager: Any, viewer: Any, make_user: Any, login: Any) -> None:
    assert 'id="new-home"' in manager.get("/outreach/homes/").content.decode()
    page = viewer.get("/outreach/homes/").content.decode()
    assert 'id="new-home"' not in page and 'id="new-class"' not in page
    assert viewer.get("/outreach/homes/new/").status_code == 403
    assert viewer.post("/outreach/homes/new/", {"name": "x", "unit": org.xuhui.pk}).status_code == 403
    assert viewer.get("/outreach/classes/new/").status_code == 403
    assert not TaxpayerHome.objects.exists()
    anon = _en(login(make_user("nobody")))
    assert anon.get("/outreach/homes/new/").status_code == 403


# ------------------------------------------------------------------ taxpayer classes


def test_class_record_and_its_errors(org: Any, ent: Enterprise, manager: Any, partners: Any) -> None:
    home = ss.home_create(actor=SYSTEM, name="之家", unit=org.xuhui, opened_on=date(2024, 1, 1))
    other_home = ss.home_create(actor=SYSTEM, name="黄浦之家", unit=org.huangpu, opened_on=date(2024, 1, 1))
    r = manager.get("/outreach/classes/new/", HTTP_USER_AGENT=PHONE)
    assert r.status_code == 200 and 'id="class-form"' in r.content.decode()
    assert "黄浦之家" not in r.content.decode()
    good = {
        "held_on": "2026-03-01",
        "topic": "心驿税务小讲堂",
        "unit": org.xuhui.pk,
        "home": home.pk,
        "speaker": "张老师",
        "partner": "P-XH",
        "attendees": "40",
        "satisfaction": "98.5",
        "enterprises": ent.credit_code,
    }
    bad_cases: list[tuple[dict[str, Any], str]] = [
        ({"held_on": "2026-04-01"}, "is in the future"),  # the clock stands at 2026-03-04
        ({"attendees": "-1"}, "greater than or equal to 0"),
        ({"attendees": HUGE}, "less than or equal to 100000"),
        ({"satisfaction": "101"}, "less than or equal to 100."),
        ({"enterprises": f"{ent.credit_code}, 91110000802100433B"}, "credit code 91110000802100433B"),
        ({"home": other_home.pk}, "Select a valid choice"),
        ({"topic": ""}, "This field is required"),
        ({"held_on": "9999-12-31"}, "Dates must fall between"),
    ]
    for change, expected in bad_cases:
        r = manager.post("/outreach/classes/new/", {**good, **change})
        assert r.status_code == 422, change
        errors = re.findall(r'invalid-feedback d-block">([^<]*)<', r.content.decode())
        assert any(expected in e for e in errors), (change, errors)
    assert not TaxClass.objects.exists()
    r = manager.post("/outreach/classes/new/", good)
    assert r.status_code == 302
    c = TaxClass.objects.get()
    assert (c.topic, c.attendees, c.satisfaction, c.home, c.partner) == (
        "心驿税务小讲堂",
        40,
        Decimal("98.50"),
        home,
        partners["xh"],
    )
    assert list(c.enterprises.all()) == [ent]
    assert "心驿税务小讲堂" in manager.get("/outreach/homes/").content.decode()


# ------------------------------------------------------------------ measures, categories, indicators


def test_category_and_measure_create(org: Any, manager: Any) -> None:
    r = manager.get("/outreach/measures/")
    page = r.content.decode()
    assert 'id="new-measure"' in page and 'id="new-category"' in page and 'id="new-indicator"' in page
    assert manager.get("/outreach/measure-categories/new/").status_code == 200
    r = manager.post(
        "/outreach/measure-categories/new/", {"unit": org.xuhui.pk, "name": "办税缴费", "order": 1}
    )
    assert r.status_code == 302
    cat = MeasureCategory.objects.get()
    r = manager.post(
        "/outreach/measure-categories/new/", {"unit": org.xuhui.pk, "name": "办税缴费", "order": 2}
    )
    assert r.status_code == 422 and "already has a category named 办税缴费" in r.content.decode()
    r = manager.post("/outreach/measure-categories/new/", {"unit": org.xuhui.pk, "name": "x", "order": HUGE})
    assert r.status_code == 422
    assert MeasureCategory.objects.count() == 1
    good = {
        "category": cat.pk,
        "title": "延时服务",
        "unit": org.xuhui_office.pk,
        "started_on": "2026-01-01",
        "state": "in_force",
    }
    assert manager.post("/outreach/measures/new/", {**good, "state": "bogus"}).status_code == 422
    assert manager.post("/outreach/measures/new/", {**good, "title": ""}).status_code == 422
    assert manager.post("/outreach/measures/new/", {**good, "category": HUGE}).status_code == 422
    office_cat = ss.category_create(actor=SYSTEM, unit=org.xuhui_office, name="第一税务所目录")
    r = manager.post("/outreach/measures/new/", {**good, "category": office_cat.pk, "unit": org.xuhui.pk})
    assert r.status_code == 422 and "belongs to the catalog of" in r.content.decode()
    assert not ServiceMeasure.objects.exists()
    assert manager.post("/outreach/measures/new/", good).status_code == 302
    m = ServiceMeasure.objects.get()
    assert (m.title, m.unit, m.category) == ("延时服务", org.xuhui_office, cat)
    page = manager.get("/outreach/measures/").content.decode()
    assert f'data-edit-measure="{m.pk}"' in page


def test_measure_edit_scope_rights_and_catalog(
    org: Any, manager: Any, viewer: Any, make_user: Any, login: Any
) -> None:
    xh = ss.category_create(actor=SYSTEM, unit=org.xuhui, name="办税缴费")
    xh2 = ss.category_create(actor=SYSTEM, unit=org.xuhui, name="便民服务")
    root_cat = ss.category_create(actor=SYSTEM, unit=org.root, name="市局目录")
    m = ss.measure_create(
        actor=SYSTEM, category=xh, title="预约办税", unit=org.xuhui, started_on=date(2026, 1, 1)
    )
    url = f"/outreach/measures/{m.pk}/edit/"
    r = manager.get(url, HTTP_USER_AGENT=PHONE)
    assert r.status_code == 200 and "预约办税" in r.content.decode()
    # a category of another unit's catalog: the service's own words, on the field, nothing changed
    both = make_user("mm", "manager", org.xuhui)
    role_grant(actor=SYSTEM, user=both, unit=org.root, role="viewer")  # sees the city's catalog too
    r = _en(login(both)).post(url, {"category": root_cat.pk, "state": "in_force"})
    assert r.status_code == 422
    assert "is of another unit&#x27;s catalog" in r.content.decode()
    m.refresh_from_db()
    assert m.category == xh
    assert manager.post(url, {"category": xh2.pk, "state": "bogus"}).status_code == 422
    r = manager.post(url, {"category": xh2.pk, "state": "retired"})
    assert r.status_code == 302
    m.refresh_from_db()
    assert (m.category, m.state) == (xh2, "retired")
    assert AuditEvent.objects.filter(action="outreach.measure.updated").count() == 1
    # a viewer sees the measure but may not write: no pencil, 403
    assert f'data-edit-measure="{m.pk}"' not in viewer.get("/outreach/measures/").content.decode()
    assert 'id="new-measure"' not in viewer.get("/outreach/measures/").content.decode()
    assert viewer.get(url).status_code == 403
    assert viewer.post(url, {"category": xh.pk, "state": "in_force"}).status_code == 403
    # another district's manager does not learn that it exists: 404, like a missing one
    hp = _en(login(make_user("hpm", "manager", org.huangpu)))
    assert hp.get(url).status_code == 404
    assert hp.post(url, {"category": xh.pk, "state": "in_force"}).status_code == 404
    assert manager.get("/outreach/measures/999999/edit/").status_code == 404
    assert manager.get(f"/outreach/measures/{HUGE}/edit/").status_code == 404
    m.refresh_from_db()
    assert (m.category, m.state) == (xh2, "retired")


def test_indicator_and_values(org: Any, manager: Any, viewer: Any, make_user: Any, login: Any) -> None:
    good = {
        "unit": org.xuhui.pk,
        "name": "平均办税申报时长",
        "measure_unit": "minutes",
        "baseline": "30",
        "baseline_on": "2025-01-01",
    }
    for change in ({"baseline": "-1"}, {"baseline": "0"}, {"measure_unit": "years"}, {"baseline": "1e400"}):
        assert manager.post("/outreach/indicators/new/", {**good, **change}).status_code == 422, change
    assert not Indicator.objects.exists()
    assert manager.post("/outreach/indicators/new/", good).status_code == 302
    ind = Indicator.objects.get()
    page = manager.get("/outreach/measures/").content.decode()
    assert f'data-add-value="{ind.pk}"' in page
    url = f"/outreach/indicators/{ind.pk}/values/new/"
    r = manager.get(url, HTTP_USER_AGENT=PHONE)
    assert r.status_code == 200 and "Value (minutes)" in r.content.decode()
    r = manager.post(url, {"measured_on": "2024-12-31", "value": "3.9"})
    assert r.status_code == 422 and "before the baseline date" in r.content.decode()
    assert manager.post(url, {"measured_on": "2026-03-01", "value": "-3"}).status_code == 422
    assert manager.post(url, {"measured_on": "2026-03-01", "value": HUGE}).status_code == 422
    assert manager.post(url, {"measured_on": "2026-04-01", "value": "3"}).status_code == 422  # future
    assert not IndicatorValue.objects.exists()
    assert manager.post(url, {"measured_on": "2026-03-01", "value": "3.9"}).status_code == 302
    assert IndicatorValue.objects.get().value == Decimal("3.90")
    assert 'data-change="-87.0"' in manager.get("/outreach/measures/").content.decode()
    assert f'data-add-value="{ind.pk}"' not in viewer.get("/outreach/measures/").content.decode()
    assert viewer.get(url).status_code == 403
    assert viewer.get("/outreach/indicators/new/").status_code == 403
    hp = _en(login(make_user("hpm", "manager", org.huangpu)))
    assert hp.get(url).status_code == 404
    assert hp.post(url, {"measured_on": "2026-03-01", "value": "1"}).status_code == 404
    assert IndicatorValue.objects.count() == 1


# ------------------------------------------------------------------ co-building agreements


def test_agreement_create(org: Any, manager: Any, partners: Any, make_user: Any, login: Any) -> None:
    # the district manager holds no right on the party tree: no button, 403
    assert 'id="new-agreement"' not in manager.get("/outreach/agreements/").content.decode()
    assert manager.get("/outreach/agreements/new/").status_code == 403
    sec = _en(login(make_user("sec", "secretary", org.xuhui_branch)))
    assert 'id="new-agreement"' in sec.get("/outreach/agreements/").content.decode()
    r = sec.get("/outreach/agreements/new/", HTTP_USER_AGENT=PHONE)
    assert r.status_code == 200 and 'id="agreement-form"' in r.content.decode()
    good = {
        "branch": org.xuhui_branch.pk,
        "partner": "P-B",
        "title": "支部共建",
        "start": "2026-01-01",
        "end": "2027-12-31",
    }
    r = sec.post("/outreach/agreements/new/", {**good, "end": "2025-12-31"})
    assert r.status_code == 422 and "cannot end before it starts" in r.content.decode()
    for code in ("P-HP", "P-XH"):  # partners out of the secretary's sight: as if there were none
        r = sec.post("/outreach/agreements/new/", {**good, "partner": code})
        assert r.status_code == 422 and f"There is no partner with the code {code}." in r.content.decode()
    assert sec.post("/outreach/agreements/new/", {**good, "partner": ""}).status_code == 422
    r = sec.post("/outreach/agreements/new/", {**good, "branch": org.huangpu_committee.pk})
    assert r.status_code == 422
    assert sec.post("/outreach/agreements/new/", {**good, "title": "a\x00b"}).status_code == 422
    assert sec.post("/outreach/agreements/new/", {**good, "start": "9999-12-31"}).status_code == 422
    assert not Agreement.objects.exists()
    r = sec.post("/outreach/agreements/new/", good)
    assert r.status_code == 302 and r["Location"] == "/outreach/agreements/"
    a = Agreement.objects.get()
    assert (a.branch, a.partner, a.end) == (org.xuhui_branch, partners["b"], date(2027, 12, 31))
    assert 'data-agreement="' in sec.get("/outreach/agreements/").content.decode()
