"""Editing and closing taxpayer homes, classes and co-building agreements, and the visits and classes that
belong to an agreement (issue 25, round three): the same services behind the pages and the API; per-field
errors (422) with nothing written, out of scope 404, visible but not writable 403, audited before/after."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings

from muster.audit.models import AuditEvent
from muster.orgs.access import SYSTEM
from muster.orgs.services import partner_create
from muster.outreach import services
from muster.outreach import services_service as ss
from muster.outreach.models import Agreement, TaxClass, TaxpayerHome

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fixed_clock")]

API = "/api/v1/outreach"
PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)"


def _en(c: Any) -> Any:
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return c


@pytest.fixture
def partners(org: Any) -> dict[str, Any]:
    return {
        "xh": partner_create(actor=SYSTEM, code="P-XH", name="漕河泾社区", kind="community", unit=org.xuhui),
        "xh2": partner_create(actor=SYSTEM, code="P-XH2", name="田林社区", kind="community", unit=org.xuhui),
        "hp": partner_create(actor=SYSTEM, code="P-HP", name="外滩社区", kind="community", unit=org.huangpu),
        "b": partner_create(actor=SYSTEM, code="P-B", name="徐家汇村", kind="village", unit=org.xuhui_branch),
        "b2": partner_create(
            actor=SYSTEM, code="P-B2", name="某小学", kind="community", unit=org.xuhui_branch
        ),
    }


@pytest.fixture
def home(org: Any, partners: Any) -> TaxpayerHome:
    return ss.home_create(
        actor=SYSTEM,
        name="漕河泾纳税人之家",
        unit=org.xuhui,
        opened_on=date(2025, 6, 1),
        partner=partners["xh"],
    )


@pytest.fixture
def tax_class(org: Any, home: Any) -> TaxClass:
    return ss.class_record(
        actor=SYSTEM,
        held_on=date(2026, 2, 10),
        topic="个税汇算",
        unit=org.xuhui,
        attendees=30,
        branch=org.xuhui_branch,
        home=home,
    )


@pytest.fixture
def agreement(org: Any, partners: Any) -> Agreement:
    return ss.agreement_create(
        actor=SYSTEM,
        branch=org.xuhui_branch,
        partner=partners["b"],
        start=date(2026, 1, 1),
        title="村支部共建",
    )


@pytest.fixture
def manager(org: Any, make_user: Any, login: Any) -> Any:
    return _en(login(make_user("m", "manager", org.xuhui)))


@pytest.fixture
def secretary(org: Any, make_user: Any, login: Any) -> Any:
    return _en(login(make_user("sec", "secretary", org.xuhui_branch)))


def _audit(action: str) -> list[dict[str, Any]]:
    return list(AuditEvent.objects.filter(action=action).order_by("id").values_list("changes", flat=True))


# ------------------------------------------------------------------ services


def test_home_update_and_close_audit_before_and_after(org: Any, home: Any, partners: Any) -> None:
    ss.home_update(actor=SYSTEM, home=home, name="漕河泾之家", partner=partners["xh2"], address="宜山路1号")
    home.refresh_from_db()
    assert (home.name, home.partner, home.address) == ("漕河泾之家", partners["xh2"], "宜山路1号")
    assert _audit("outreach.home.updated") == [
        {
            "name": ["漕河泾纳税人之家", "漕河泾之家"],
            "partner": ["P-XH", "P-XH2"],
            "address": ["", "宜山路1号"],
        }
    ]
    ss.home_update(actor=SYSTEM, home=home, name="漕河泾之家")  # no change: nothing logged
    assert len(_audit("outreach.home.updated")) == 1
    with pytest.raises(Exception) as exc:
        ss.home_close(actor=SYSTEM, home=home, closed_on=date(2025, 5, 1))
    assert "cannot close before the day it opened" in str(exc.value)
    ss.home_close(actor=SYSTEM, home=home, closed_on=date(2026, 3, 1))
    assert _audit("outreach.home.closed") == [{"closed_on": [None, "2026-03-01"]}]
    with pytest.raises(Exception) as exc:
        ss.home_close(actor=SYSTEM, home=home, closed_on=date(2026, 3, 2))
    assert "This home closed on 2026-03-01." in str(exc.value)
    with pytest.raises(Exception) as exc:  # an opening after the closing
        ss.home_update(actor=SYSTEM, home=home, opened_on=date(2026, 3, 2))
    assert "cannot open after the day it closed" in str(exc.value)
    with pytest.raises(Exception) as exc:
        ss.home_update(actor=SYSTEM, home=home, unit=org.huangpu)
    assert "cannot be changed" in str(exc.value)


def test_class_update_checks_and_audit(org: Any, tax_class: Any, agreement: Any, partners: Any) -> None:
    ss.class_update(actor=SYSTEM, tax_class=tax_class, attendees=45, satisfaction=Decimal("98.5"))
    assert _audit("outreach.class.updated") == [{"attendees": [30, 45], "satisfaction": [None, "98.50"]}]
    for fields, key in (
        ({"held_on": date(2026, 3, 5)}, "held_on"),  # the future
        ({"topic": ""}, "topic"),
        ({"attendees": 2**63 + 5}, "attendees"),
        ({"satisfaction": Decimal("101")}, "satisfaction"),
        ({"satisfaction": Decimal("-1")}, "satisfaction"),
        ({"branch": org.xuhui_office}, "branch"),  # not a party organization
        ({"speaker": "a\x00b"}, "speaker"),
    ):
        with pytest.raises(Exception) as exc:
            ss.class_update(actor=SYSTEM, tax_class=tax_class, **fields)
        assert key in exc.value.message_dict, fields  # type: ignore[attr-defined]
    tax_class.refresh_from_db()
    assert (tax_class.attendees, tax_class.topic) == (45, "个税汇算")
    ss.class_update(actor=SYSTEM, tax_class=tax_class, agreement=agreement)
    with pytest.raises(Exception) as exc:  # moved before the agreement's start
        ss.class_update(actor=SYSTEM, tax_class=tax_class, held_on=date(2025, 12, 1))
    assert "outside the agreement's period" in str(exc.value)


def test_agreement_update_close_and_activities(
    org: Any, agreement: Any, tax_class: Any, ent: Any, partners: Any
) -> None:
    visit = services.visit_record(
        actor=SYSTEM,
        held_on=date(2026, 2, 1),
        unit=org.xuhui,
        branch=org.xuhui_branch,
        visitors=[org.alice],
        enterprises=[ent],
    )
    other = services.visit_record(
        actor=SYSTEM,
        held_on=date(2026, 2, 1),
        unit=org.huangpu,
        visitors=[org.carol],
        partners=[partners["hp"]],
    )
    ss.agreement_attach(actor=SYSTEM, agreement=agreement, visit=visit)
    ss.agreement_attach(actor=SYSTEM, agreement=agreement, tax_class=tax_class)
    assert list(agreement.visits.all()) == [visit] and list(agreement.classes.all()) == [tax_class]
    with pytest.raises(Exception) as exc:
        ss.agreement_attach(actor=SYSTEM, agreement=agreement, visit=visit)
    assert "already belongs" in str(exc.value)
    with pytest.raises(Exception) as exc:
        ss.agreement_attach(actor=SYSTEM, agreement=agreement, visit=other)
    assert "is not of the party branch" in str(exc.value)
    with pytest.raises(Exception) as exc:  # the period would leave its activities out
        ss.agreement_close(actor=SYSTEM, agreement=agreement, end=date(2026, 1, 31))
    assert "2 activities of this agreement would fall outside the period" in str(exc.value)
    with pytest.raises(Exception) as exc:
        ss.agreement_update(actor=SYSTEM, agreement=agreement, start=date(2026, 2, 5))
    assert "would fall outside the period" in str(exc.value)
    ss.agreement_close(actor=SYSTEM, agreement=agreement, end=date(2026, 12, 31))
    assert _audit("outreach.agreement.closed") == [{"end": [None, "2026-12-31"]}]
    with pytest.raises(Exception) as exc:
        ss.agreement_close(actor=SYSTEM, agreement=agreement, end=date(2027, 6, 30))
    assert "already ends on 2026-12-31" in str(exc.value)
    ss.agreement_update(actor=SYSTEM, agreement=agreement, title="共建2026", end=None)
    assert _audit("outreach.agreement.updated") == [
        {"title": ["村支部共建", "共建2026"], "end": ["2026-12-31", None]}
    ]
    with pytest.raises(Exception) as exc:
        ss.agreement_update(actor=SYSTEM, agreement=agreement, end=date(2025, 1, 1))
    assert "cannot end before it starts" in str(exc.value)
    ss.agreement_detach(actor=SYSTEM, agreement=agreement, visit=visit)
    visit.refresh_from_db()
    assert visit.agreement is None
    with pytest.raises(Exception) as exc:
        ss.agreement_detach(actor=SYSTEM, agreement=agreement, visit=visit)
    assert "does not belong" in str(exc.value)


# ------------------------------------------------------------------ pages


def test_home_edit_and_close_pages(
    org: Any, home: Any, manager: Any, make_user: Any, login: Any, partners: Any
) -> None:
    page = manager.get("/outreach/homes/").content.decode()
    assert f'data-edit-home="{home.pk}"' in page and f'data-close-home="{home.pk}"' in page
    r = manager.get(f"/outreach/homes/{home.pk}/edit/", HTTP_USER_AGENT=PHONE)
    assert r.status_code == 200 and 'id="home-edit-form"' in r.content.decode()
    assert 'value="P-XH"' in r.content.decode()
    good = {"name": "新名字", "opened_on": "2025-06-01", "partner": "P-XH", "address": ""}
    for bad, words in (
        ({"name": ""}, "required"),
        ({"partner": "P-HP"}, "There is no partner with the code P-HP."),  # out of sight: as unknown
        ({"opened_on": "9999-12-31"}, ""),
        ({"opened_on": "2025-02-31"}, ""),
        ({"address": "a\x00b"}, ""),
    ):
        r = manager.post(f"/outreach/homes/{home.pk}/edit/", {**good, **bad})
        assert r.status_code == 422 and words in r.content.decode(), bad
    home.refresh_from_db()
    assert home.name == "漕河泾纳税人之家"
    r = manager.post(f"/outreach/homes/{home.pk}/edit/", good)
    assert r.status_code == 302
    home.refresh_from_db()
    assert home.name == "新名字"
    r = manager.post(f"/outreach/homes/{home.pk}/close/", {"on": "2025-01-01"})
    assert r.status_code == 422 and "cannot close before the day it opened" in r.content.decode()
    assert manager.post(f"/outreach/homes/{home.pk}/close/", {"on": "2026-03-01"}).status_code == 302
    home.refresh_from_db()
    assert home.closed_on == date(2026, 3, 1)
    viewer = _en(login(make_user("v", "viewer", org.xuhui)))
    assert f'data-edit-home="{home.pk}"' not in viewer.get("/outreach/homes/").content.decode()
    assert viewer.get(f"/outreach/homes/{home.pk}/edit/").status_code == 403
    assert viewer.post(f"/outreach/homes/{home.pk}/close/", {"on": "2026-03-01"}).status_code == 403
    outsider = _en(login(make_user("o", "manager", org.huangpu)))
    assert outsider.get(f"/outreach/homes/{home.pk}/edit/").status_code == 404
    assert outsider.post(f"/outreach/homes/{home.pk}/close/", {"on": "2026-03-01"}).status_code == 404
    assert manager.get("/outreach/homes/999999/edit/").status_code == 404


def test_class_page_edit_and_agreement(
    org: Any, tax_class: Any, agreement: Any, manager: Any, make_user: Any, login: Any, ent: Any
) -> None:
    r = manager.get(f"/outreach/classes/{tax_class.pk}/", HTTP_USER_AGENT=PHONE)
    page = r.content.decode()
    assert r.status_code == 200 and 'id="class-edit-form"' in page and 'id="class-attach"' in page
    good = {
        "held_on": "2026-02-10",
        "topic": "个税汇算清缴",
        "branch": org.xuhui_branch.pk,
        "home": tax_class.home_id,
        "speaker": "王老师",
        "partner": "",
        "attendees": "50",
        "satisfaction": "96.5",
        "enterprises": ent.credit_code,
        "agreement": "",
    }
    for bad in (
        {"attendees": str(2**63 + 5)},
        {"attendees": "-1"},
        {"satisfaction": "100.5"},
        {"held_on": "2026-03-05"},
        {"enterprises": "91110000802100433B"},  # valid, but not registered
        {"topic": ""},
    ):
        r = manager.post(f"/outreach/classes/{tax_class.pk}/", {**good, **bad})
        assert r.status_code == 422, bad
    tax_class.refresh_from_db()
    assert tax_class.topic == "个税汇算" and tax_class.agreement is None
    r = manager.post(f"/outreach/classes/{tax_class.pk}/", good)
    assert r.status_code == 302, [m for m in r.content.decode().split("invalid-feedback")[1:]]
    tax_class.refresh_from_db()
    assert (tax_class.topic, tax_class.attendees, tax_class.agreement) == ("个税汇算清缴", 50, None)
    assert list(tax_class.enterprises.all()) == [ent]
    # the branch's secretary (who sees the branch's agreements) counts the class for the agreement; the
    # home and the enterprise out of the secretary's sight stay as they are
    sec = _en(login(make_user("sec", "secretary", org.xuhui_branch)))
    r = sec.post(f"/outreach/classes/{tax_class.pk}/", {**good, "enterprises": "", "agreement": agreement.pk})
    assert r.status_code == 302, [m for m in r.content.decode().split("invalid-feedback")[1:]]
    tax_class.refresh_from_db()
    assert (tax_class.agreement, tax_class.home_id) == (agreement, good["home"])
    assert list(tax_class.enterprises.all()) == [ent]
    viewer = _en(login(make_user("v", "viewer", org.xuhui)))
    page = viewer.get(f"/outreach/classes/{tax_class.pk}/").content.decode()
    assert "个税汇算清缴" in page and 'id="class-edit-form"' not in page and 'id="class-attach"' not in page
    assert viewer.post(f"/outreach/classes/{tax_class.pk}/", good).status_code == 403
    outsider = _en(login(make_user("o", "manager", org.huangpu)))
    assert outsider.get(f"/outreach/classes/{tax_class.pk}/").status_code == 404


def test_agreement_pages_attach_detach_edit_close(
    org: Any,
    agreement: Any,
    tax_class: Any,
    secretary: Any,
    manager: Any,
    make_user: Any,
    login: Any,
    ent: Any,
) -> None:
    visit = services.visit_record(
        actor=SYSTEM,
        held_on=date(2026, 2, 1),
        unit=org.xuhui,
        branch=org.xuhui_branch,
        visitors=[org.alice],
        enterprises=[ent],
    )
    assert (
        f'href="/outreach/agreements/{agreement.pk}/"'
        in secretary.get("/outreach/agreements/").content.decode()
    )
    r = secretary.get(f"/outreach/agreements/{agreement.pk}/", HTTP_USER_AGENT=PHONE)
    page = r.content.decode()
    assert r.status_code == 200 and 'id="agreement-attach-form"' in page and 'id="edit-agreement"' in page
    assert f'<option value="{visit.pk}">' in page and f'<option value="{tax_class.pk}">' in page
    r = secretary.post(f"/outreach/agreements/{agreement.pk}/activities/", {})
    assert r.status_code == 422 and "Choose one visit or one class." in r.content.decode()
    r = secretary.post(
        f"/outreach/agreements/{agreement.pk}/activities/", {"visit": visit.pk, "tax_class": tax_class.pk}
    )
    assert r.status_code == 422
    r = secretary.post(f"/outreach/agreements/{agreement.pk}/activities/", {"visit": visit.pk})
    assert r.status_code == 302
    r = secretary.post(f"/outreach/agreements/{agreement.pk}/activities/", {"tax_class": tax_class.pk})
    assert r.status_code == 302
    page = secretary.get(f"/outreach/agreements/{agreement.pk}/").content.decode()
    assert f'data-visit="{visit.pk}"' in page and f'data-class="{tax_class.pk}"' in page
    # an attached visit is no longer offered, and attaching it again is refused
    r = secretary.post(f"/outreach/agreements/{agreement.pk}/activities/", {"visit": visit.pk})
    assert r.status_code == 422
    r = secretary.post(f"/outreach/agreements/{agreement.pk}/activities/visit/{visit.pk}/detach/")
    assert r.status_code == 302
    visit.refresh_from_db()
    assert visit.agreement is None
    # edit: per-field errors, nothing written
    edit = f"/outreach/agreements/{agreement.pk}/edit/"
    good = {"partner": "P-B2", "title": "共建", "start": "2026-01-01", "end": ""}
    r = secretary.post(edit, {**good, "end": "2025-12-31"})
    assert r.status_code == 422 and "cannot end before it starts" in r.content.decode()
    r = secretary.post(edit, {**good, "partner": "P-HP"})
    assert r.status_code == 422 and "There is no partner with the code P-HP." in r.content.decode()
    r = secretary.post(edit, {**good, "start": "2026-02-20"})  # the class of 10 Feb would fall out
    assert r.status_code == 422 and "would fall outside the period" in r.content.decode()
    agreement.refresh_from_db()
    assert (agreement.title, agreement.partner.code) == ("村支部共建", "P-B")
    assert secretary.post(edit, good).status_code == 302
    agreement.refresh_from_db()
    assert (agreement.title, agreement.partner.code) == ("共建", "P-B2")
    close = f"/outreach/agreements/{agreement.pk}/close/"
    r = secretary.post(close, {"on": "2026-02-01"})
    assert r.status_code == 422 and "would fall outside the period" in r.content.decode()
    assert secretary.post(close, {"on": "2026-12-31"}).status_code == 302
    agreement.refresh_from_db()
    assert agreement.end == date(2026, 12, 31)
    # the district manager does not see the party tree's agreements: 404; a viewer of the branch: 403
    assert manager.get(edit).status_code == 404
    assert manager.post(close, {"on": "2026-06-30"}).status_code == 404
    member = _en(login(make_user("bv", "viewer", org.xuhui_branch)))
    assert member.get(f"/outreach/agreements/{agreement.pk}/").status_code == 200
    assert member.get(edit).status_code == 403
    assert member.post(close, {"on": "2026-06-30"}).status_code == 403
    outsider = _en(login(make_user("o", "secretary", org.huangpu_committee)))
    for url in (f"/outreach/agreements/{agreement.pk}/", edit, close):
        assert outsider.get(url).status_code == 404
    r = outsider.post(f"/outreach/agreements/{agreement.pk}/activities/", {"visit": visit.pk})
    assert r.status_code == 404


# ------------------------------------------------------------------ API


def _patch(c: Any, path: str, body: dict[str, Any]) -> Any:
    return c.patch(API + path, body, content_type="application/json")


def _post(c: Any, path: str, body: dict[str, Any]) -> Any:
    return c.post(API + path, body, content_type="application/json")


def test_api_edit_and_close(
    org: Any,
    home: Any,
    tax_class: Any,
    agreement: Any,
    manager: Any,
    secretary: Any,
    make_user: Any,
    login: Any,
    ent: Any,
) -> None:
    r = _patch(manager, f"/homes/{home.pk}", {"name": "之家", "partner": None})
    assert r.status_code == 200 and r.json()["name"] == "之家"
    home.refresh_from_db()
    assert home.partner is None
    r = _patch(manager, f"/homes/{home.pk}", {"partner": "P-HP"})
    assert r.status_code == 422 and "partners" in r.json()["errors"]
    assert _patch(manager, f"/homes/{home.pk}", {"name": "\x00"}).status_code == 422
    assert _patch(manager, f"/homes/{home.pk}", {"opened_on": "9999-12-31"}).status_code == 422
    assert _patch(manager, f"/homes/{2**63 + 5}", {"name": "x"}).status_code == 422
    r = _post(manager, f"/homes/{home.pk}/close", {"closed_on": "2026-03-01"})
    assert r.status_code == 200 and r.json()["closed_on"] == "2026-03-01"
    r = _patch(manager, f"/classes/{tax_class.pk}", {"agreement": agreement.pk})  # not in the manager's sight
    assert r.status_code == 422 and "agreement" in r.json()["errors"]
    r = _patch(secretary, f"/classes/{tax_class.pk}", {"attendees": 60, "agreement": agreement.pk})
    assert r.status_code == 200 and (r.json()["attendees"], r.json()["agreement"]) == (60, agreement.pk)
    assert _patch(manager, f"/classes/{tax_class.pk}", {"attendees": 2**63 + 5}).status_code == 422
    assert _patch(manager, f"/classes/{tax_class.pk}", {"agreement": 999999}).status_code == 422
    r = _patch(secretary, f"/agreements/{agreement.pk}", {"title": "新", "end": "2025-01-01"})
    assert r.status_code == 422 and "end" in r.json()["errors"]
    r = _post(secretary, f"/agreements/{agreement.pk}/close", {"end": "2026-12-31"})
    assert r.status_code == 200 and r.json()["end"] == "2026-12-31" and r.json()["classes"] == [tax_class.pk]
    visit = services.visit_record(
        actor=SYSTEM,
        held_on=date(2026, 2, 1),
        unit=org.xuhui,
        branch=org.xuhui_branch,
        visitors=[org.alice],
        enterprises=[ent],
    )
    r = _post(secretary, f"/agreements/{agreement.pk}/activities", {"visit": visit.pk})
    assert r.status_code == 200 and r.json()["visits"] == [visit.pk]
    assert _post(secretary, f"/agreements/{agreement.pk}/activities", {}).status_code == 422
    r = _post(secretary, f"/agreements/{agreement.pk}/activities/detach", {"visit": visit.pk})
    assert r.status_code == 200 and r.json()["visits"] == []
    assert secretary.get(f"{API}/agreements/{agreement.pk}").status_code == 200
    # rights and scope
    assert _patch(manager, f"/agreements/{agreement.pk}", {"title": "x"}).status_code == 404
    outsider = _en(login(make_user("o", "manager", org.huangpu)))
    assert _patch(outsider, f"/homes/{home.pk}", {"name": "x"}).status_code == 404
    assert _patch(outsider, f"/classes/{tax_class.pk}", {"topic": "x"}).status_code == 404
    assert outsider.get(f"{API}/agreements/{agreement.pk}").status_code == 404
    viewer = _en(login(make_user("v", "viewer", org.xuhui)))
    assert _patch(viewer, f"/homes/{home.pk}", {"name": "x"}).status_code == 403


def test_a_partner_out_of_sight_is_not_shown_and_stays(org: Any, manager: Any, partners: Any) -> None:
    home = ss.home_create(
        actor=SYSTEM, name="外滩之家", unit=org.xuhui, opened_on=date(2025, 6, 1), partner=partners["hp"]
    )
    page = manager.get(f"/outreach/homes/{home.pk}/edit/").content.decode()
    assert "P-HP" not in page and "外滩社区" not in page
    r = manager.post(
        f"/outreach/homes/{home.pk}/edit/",
        {"name": "外滩纳税人之家", "opened_on": "2025-06-01", "partner": "", "address": ""},
    )
    assert r.status_code == 302
    home.refresh_from_db()
    assert (home.name, home.partner) == ("外滩纳税人之家", partners["hp"])
    assert "P-HP" not in str(_audit("outreach.home.updated"))  # the partner did not change: not logged
