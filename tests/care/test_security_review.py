"""Fixes after the security review: nothing outside the caller's scope leaks through the care ledger
(liaisons from other districts, code / ID number / username / round oracles) and health data stays behind
the care-data permission (the liaison's phone page, help request texts, the audit log)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import translation

from muster.audit.models import AuditEvent
from muster.care import services as care
from muster.care.models import CareSubject, HelpStep, Observation, RiskLevel
from muster.orgs.access import SYSTEM
from muster.orgs.services import person_link_user, role_grant
from tests.conftest import make_id_number

API = "/api/v1/care"


def client(login: Any, user: Any) -> Client:
    c = login(user)
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return c


def post(c: Client, path: str, body: dict[str, Any]) -> Any:
    return c.post(API + path, json.dumps(body), content_type="application/json")


def test_cross_district_liaison_is_refused_like_an_unknown_person(
    cared: Any, login: Any, make_user: Any
) -> None:
    u = make_user("xh_mgr_hp_view", "manager", cared.org.xuhui)
    role_grant(actor=SYSTEM, user=u, unit=cared.org.huangpu, role="viewer")  # sees 黄浦's people
    c = client(login, u)
    body = {"unit": "XH", "code": "C0500", "name": "某某", "phone": "13611113333"}
    far = post(c, "/subjects", {**body, "liaison": "HP0001"})
    unknown = post(c, "/subjects", {**body, "liaison": "HP9999"})
    assert far.status_code == unknown.status_code == 422
    assert far.json()["errors"]["liaison"] == ["There is no person with the code HP0001."]
    assert unknown.json()["errors"]["liaison"] == ["There is no person with the code HP9999."]
    assert not CareSubject.objects.filter(code="C0500").exists()
    # a liaison of the subject unit's subtree is fine (王强 works in a 徐汇 tax office)
    assert post(c, "/subjects", {**body, "liaison": "XH0002"}).status_code == 201
    with pytest.raises(ValidationError) as exc, translation.override("en"):
        care.subject_update(actor=SYSTEM, subject=cared.old, liaison=cared.org.carol)
    assert exc.value.message_dict == {"liaison": ["There is no person with the code HP0001."]}
    assert CareSubject.objects.get(pk=cared.old.pk).liaison_id == cared.org.bob.pk


def test_liaison_and_unit_only_shown_when_visible(cared: Any, login: Any, make_user: Any) -> None:
    # an old record with a liaison from another district: the 徐汇 manager does not learn who it is
    CareSubject.objects.filter(pk=cared.old.pk).update(liaison=cared.org.carol)
    got = client(login, cared.manager).get(f"{API}/subjects/C0001").json()
    assert got["liaison"] is None and got["unit"] == {"code": "XH", "name": cared.org.xuhui.name}
    listed = client(login, cared.manager).get(f"{API}/subjects").json()["items"]
    assert [s["liaison"] for s in listed if s["code"] == "C0001"] == [None]
    # the 黄浦 liaison sees their subject, but not the 徐汇 unit it belongs to
    carol_user = make_user("carol_login")
    person_link_user(actor=SYSTEM, person=cared.org.carol, user=carol_user)
    mine = client(login, carol_user).get(f"{API}/subjects/C0001").json()
    assert mine["unit"] is None and mine["liaison"]["code"] == "HP0001"


def test_duplicate_code_does_not_reveal_invisible_subjects(cared: Any, login: Any) -> None:
    c = client(login, cared.manager)
    assert c.get(f"{API}/subjects/C0003").status_code == 404
    far = post(c, "/subjects", {"unit": "XH", "code": "C0003", "name": "x"})
    assert far.status_code == 422 and "C0003" not in far.content.decode()
    assert far.json()["errors"]["code"] == [
        "This code cannot be used here. If it is right, ask an administrator of the whole organization."
    ]
    near = post(c, "/subjects", {"unit": "XH", "code": "C0001", "name": "x"})
    assert near.json()["errors"]["code"] == ["A care subject with the code C0001 exists."]


def test_duplicate_id_number_does_not_reveal_invisible_subjects(cared: Any, login: Any) -> None:
    c = client(login, cared.manager)
    idn = make_id_number(seq="357")
    care.subject_create(actor=SYSTEM, unit=cared.org.huangpu, code="C0777", name="某人", id_number=idn)
    hidden = post(c, "/subjects", {"unit": "XH", "code": "C0888", "name": "x", "id_number": idn})
    assert hidden.json()["errors"]["id_number"] == [
        "This ID number cannot be used here. If it is right, ask an administrator of the whole organization."
    ]
    idn2 = make_id_number(seq="358")
    care.subject_create(actor=SYSTEM, unit=cared.org.xuhui, code="C0778", name="某人", id_number=idn2)
    seen = post(c, "/subjects", {"unit": "XH", "code": "C0889", "name": "x", "id_number": idn2})
    assert seen.json()["errors"]["id_number"] == ["Another care subject has this ID number."]


def test_bulk_create_refuses_a_liaison_from_another_district(cared: Any) -> None:
    with pytest.raises(ValidationError) as exc, translation.override("en"):
        care.subjects_create_bulk(
            actor=SYSTEM,
            rows=[{"unit": cared.org.xuhui, "code": "C0600", "name": "甲", "liaison": cared.org.carol}],
        )
    assert exc.value.message_dict == {"liaison": ["There is no person with the code HP0001."]}
    assert not CareSubject.objects.filter(code="C0600").exists()


def test_liaison_today_page_hides_risk_without_care_data(cared: Any, login: Any) -> None:
    CareSubject.objects.filter(pk=cared.old.pk).update(
        risk_level=RiskLevel.HIGH, next_due_on=date(2000, 1, 1)
    )
    page = client(login, cared.liaison_user).get("/care/")
    assert page.status_code == 200 and "陈秀英" in page.content.decode()
    assert "High risk" not in page.content.decode()
    care.care_grant(actor=SYSTEM, user=cared.liaison_user, unit=cared.org.xuhui)
    assert "High risk" in client(login, cared.liaison_user).get("/care/").content.decode()


def test_medical_help_texts_need_care_data(cared: Any, login: Any, make_user: Any) -> None:
    text = "需要代配降压药，近期血压180"
    r = care.help_request_raise(
        actor=SYSTEM,
        unit=cared.org.xuhui,
        subject=cared.old,
        source="contact",
        category="medical",
        urgency="normal",
        description=text,
    )
    assert HelpStep.objects.get(request=r).note == ""  # the description is not copied into a step
    care.help_request_raise(
        actor=SYSTEM, unit=cared.org.xuhui, source="hotline", category="food", urgency="normal",
        description="送米", requester_name="李",
    )  # fmt: skip
    viewer = make_user("xh_viewer", "viewer", cared.org.xuhui)
    got = client(login, viewer).get(f"{API}/help?unit=XH")
    assert got.status_code == 200 and "血压" not in got.content.decode()
    items = {i["category"]: i for i in got.json()["items"]}
    assert items["medical"]["description"] is None and items["food"]["description"] == "送米"
    nurse = client(login, cared.nurse).get(f"{API}/help?unit=XH").json()["items"]
    assert [i["description"] for i in nurse if i["category"] == "medical"] == [r.description]


def test_manual_risk_tag_audit_holds_no_reason(cared: Any) -> None:
    care.risk_tag_set(
        actor=cared.nurse, subject=cared.young, tag="serious_illness", on=True, reason="晚期肺癌，化疗中"
    )
    ev = AuditEvent.objects.filter(action="care.tag.set").get()
    dumped = json.dumps(ev.changes, ensure_ascii=False)
    assert "肺癌" not in dumped and "serious_illness" not in dumped and ev.changes["on"] is True


def test_grant_checks_permission_before_looking_up_the_user(cared: Any, login: Any, make_user: Any) -> None:
    make_user("hp_someone", "viewer", cared.org.huangpu)
    make_user("xh_someone", "viewer", cared.org.xuhui)
    m = client(login, cared.manager)  # a manager holds no grant permission
    for name in ("hp_someone", "no_such_user_x", "xh_someone"):
        assert post(m, "/grants", {"username": name, "unit": "XH"}).status_code == 403
    admin = client(login, make_user("xh_admin", "admin", cared.org.xuhui))
    far = post(admin, "/grants", {"username": "hp_someone", "unit": "XH"})
    unknown = post(admin, "/grants", {"username": "no_such_user_x", "unit": "XH"})
    assert far.status_code == unknown.status_code == 404 and far.json() == unknown.json()
    assert post(admin, "/grants", {"username": "xh_someone", "unit": "XH"}).status_code == 201


def test_answers_to_an_invisible_round_are_404_and_never_name_it(cared: Any, login: Any) -> None:
    r = care.round_open(actor=SYSTEM, unit=cared.org.root, name="全市保密轮次")
    body = {"subject": "C0001", "channel": "phone", "answers": {"health": "良好"}}
    m = client(login, cared.nurse)  # sees the subject, not the city-wide round
    got = post(m, f"/rounds/{r.pk}/answers", body)
    assert got.status_code == 404
    care.round_close(actor=SYSTEM, round=r)
    closed = post(m, f"/rounds/{r.pk}/answers", body)
    assert closed.status_code == 404 and "全市保密轮次" not in closed.content.decode()
    assert not Observation.objects.exists()
    # the subject's liaison still answers a round that covers their subject, without learning its name
    lc = client(login, cared.liaison_user)
    refused = post(lc, f"/rounds/{r.pk}/answers", body)
    assert refused.status_code == 422 and "全市保密轮次" not in refused.content.decode()


def test_import_hides_codes_and_liaisons_out_of_scope(cared: Any, make_user: Any) -> None:
    import io as stdio

    from openpyxl import Workbook

    from muster.care import io
    from muster.tabular.errors import TabularError

    u = make_user("xh_mgr_hp_view2", "manager", cared.org.xuhui)
    role_grant(actor=SYSTEM, user=u, unit=cared.org.huangpu, role="viewer")
    care.subject_create(actor=SYSTEM, unit=cared.org.organ, code="C0900", name="机关某人")
    wb = Workbook()
    ws = wb.active
    for row in (
        ["编号", "单位代码", "姓名", "联络员工号"],
        ["C0900", "XH", "甲", None],  # a subject of the city organ: invisible to this manager
        ["C0700", "XH", "乙", "HP0001"],  # a 黄浦 liaison for a 徐汇 subject
        ["C0701", "XH", "丙", "HP9999"],
    ):
        ws.append(row)
    ws.title = "关爱对象"
    buf = stdio.BytesIO()
    wb.save(buf)
    with pytest.raises(TabularError) as exc:
        io.care_import(actor=u, filename="care.xlsx", data=buf.getvalue())
    text = str(exc.value)
    assert "exists" not in text and "this code cannot be used here" in text
    assert text.count("there is no person with this staff number") == 2
    assert not CareSubject.objects.filter(code__in=["C0700", "C0701"]).exists()
