"""The care API: scoping (out of scope = 404, not allowed = 403), the care-data permission and its read
audit, the one-tap contact, rounds with coverage, and the bad inputs of the issue."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.test import Client

from muster.audit.models import AuditEvent
from muster.care import services as care
from muster.care.models import CareSubject, DeliveryRun, Observation
from muster.orgs.access import SYSTEM

API = "/api/v1/care"


def client(login: Any, user: Any) -> Client:
    c = login(user)
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return c


def post(c: Client, path: str, body: dict[str, Any]) -> Any:
    return c.post(API + path, json.dumps(body), content_type="application/json")


def test_out_of_scope_subject_is_404_everywhere(cared: Any, login: Any) -> None:
    c = client(login, cared.manager)
    assert c.get(f"{API}/subjects/C0003").status_code == 404
    assert c.get(f"{API}/subjects/NOPE").status_code == 404
    assert post(c, "/subjects/C0003/contacts", {"channel": "phone"}).status_code == 404
    r = care.round_open(actor=SYSTEM, unit=cared.org.huangpu, name="黄浦排摸")
    assert c.get(f"{API}/rounds/{r.pk}").status_code == 404
    mine = care.round_open(actor=SYSTEM, unit=cared.org.xuhui, name="徐汇排摸")
    got = post(
        c,
        f"/rounds/{mine.pk}/answers",
        {"subject": "C0003", "channel": "phone", "answers": {"health": "良好"}},
    )
    assert got.status_code == 404
    listed = c.get(f"{API}/subjects").json()
    assert {s["code"] for s in listed["items"]} == {"C0001", "C0002"}
    assert "周建国" not in json.dumps(listed, ensure_ascii=False)


def test_health_details_need_care_data_and_are_read_audited(cared: Any, login: Any) -> None:
    r = care.round_open(actor=SYSTEM, unit=cared.org.xuhui, name="r")
    care.survey_answer_record(
        actor=SYSTEM, subject=cared.old, round=r, channel="phone", answers={"health": "较差"}
    )
    plain = client(login, cared.manager).get(f"{API}/subjects/C0001").json()
    assert "answers" not in plain and "tags" not in plain and plain["phone"] == "136****2222"
    assert not AuditEvent.objects.filter(action="care.health.viewed").exists()
    full = client(login, cared.nurse).get(f"{API}/subjects/C0001").json()
    assert full["tags"] == ["advanced_age"] and full["answers"][0]["value"] == "较差"
    assert full["phone"] == "13611112222"
    ev = AuditEvent.objects.get(action="care.health.viewed")
    assert ev.actor_name == "xh_nurse" and ev.target_id == str(cared.old.pk)


def test_liaison_due_list_and_one_tap(cared: Any, login: Any) -> None:
    c = client(login, cared.liaison_user)
    due = c.get(f"{API}/due").json()
    assert [i["code"] for i in due["items"]] == ["C0001", "C0002"]
    assert due["items"][0]["phone"] == "13611112222"  # the liaison calls them
    got = post(c, "/subjects/C0001/contacts", {"channel": "phone", "outcome": "ok"})
    assert got.status_code == 201
    assert [i["code"] for i in c.get(f"{API}/due").json()["items"]] == ["C0002"]
    # the liaison sees their subjects, but a manager's action is not theirs: 403
    assert post(c, "/subjects/C0001/status", {"status": "moved", "on": "2026-03-01"}).status_code == 403


def test_round_coverage_and_answers_over_api(cared: Any, login: Any) -> None:
    m = client(login, cared.manager)
    got = post(m, "/rounds", {"unit": "XH", "name": "第一轮"})
    assert got.status_code == 201
    rid = got.json()["id"]
    lc = client(login, cared.liaison_user)
    ok = post(
        lc, f"/rounds/{rid}/answers", {"subject": "C0001", "channel": "wechat", "answers": {"health": "良好"}}
    )
    assert ok.status_code == 201
    detail = m.get(f"{API}/rounds/{rid}").json()
    assert detail["coverage"] == {"reached": 1, "total": 2, "percent": 50.0}
    assert [s["code"] for s in detail["not_reached"]] == ["C0002"]
    bad = post(
        lc, f"/rounds/{rid}/answers", {"subject": "C0002", "channel": "phone", "answers": {"health": "棒"}}
    )
    assert bad.status_code == 422 and "health" in bad.json()["errors"]
    future = post(
        lc,
        f"/rounds/{rid}/answers",
        {
            "subject": "C0002",
            "channel": "phone",
            "answers": {"health": "良好"},
            "at": "2099-01-01T10:00:00+08:00",
        },
    )
    assert future.status_code == 422
    assert post(m, f"/rounds/{rid}/close", {}).status_code == 200
    closed = post(
        lc, f"/rounds/{rid}/answers", {"subject": "C0002", "channel": "phone", "answers": {"health": "良好"}}
    )
    assert closed.status_code == 422 and "closed" in json.dumps(closed.json())
    assert Observation.objects.count() == 1


def test_bad_subject_inputs(cared: Any, login: Any) -> None:
    m = client(login, cared.manager)
    phone = post(m, "/subjects", {"unit": "XH", "code": "C9", "name": "某", "phone": "110"})
    assert phone.status_code == 422 and "phone" in phone.json()["errors"]
    idn = post(m, "/subjects", {"unit": "XH", "code": "C9", "name": "某", "id_number": "310104199013071234"})
    assert idn.status_code == 422 and "id_number" in idn.json()["errors"]
    ctrl = post(m, "/subjects", {"unit": "XH", "code": "C9", "name": "某\x07"})
    assert ctrl.status_code == 422
    far = post(m, "/subjects", {"unit": "HP", "code": "C9", "name": "某"})
    assert far.status_code == 404
    assert not CareSubject.objects.filter(code="C9").exists()


def test_delivery_quantities_and_deceased(cared: Any, login: Any) -> None:
    m = client(login, cared.manager)
    for qty in ["-2", "abc", 10**30]:
        got = post(
            m,
            "/deliveries",
            {
                "unit": "XH",
                "name": "蔬菜包",
                "kind": "supplies",
                "lines": [{"subject": "C0001", "item": "蔬菜包", "quantity": qty}],
            },
        )
        assert got.status_code == 422, qty
    assert post(m, "/subjects/C0001/status", {"status": "deceased", "on": "2026-03-01"}).status_code == 200
    dead = post(
        m,
        "/deliveries",
        {
            "unit": "XH",
            "name": "蔬菜包",
            "kind": "supplies",
            "lines": [{"subject": "C0001", "item": "蔬菜包", "quantity": 1}],
        },
    )
    assert dead.status_code == 422 and "deceased" in json.dumps(dead.json())
    assert post(client(login, cared.nurse), "/subjects/C0001/plan", {"on": "2026-03-05"}).status_code == 422
    assert not DeliveryRun.objects.exists()


def test_payment_approval_and_help_resolved_twice(cared: Any, login: Any) -> None:
    n = client(login, cared.nurse)
    pay = post(
        n, "/consolations", {"subject": "C0001", "kind": "payment", "amount": "2000", "channel": "wechat"}
    )
    assert pay.status_code == 201
    pid = pay.json()["id"]
    assert post(n, f"/consolations/{pid}/approve", {}).status_code == 422  # the requester
    assert post(client(login, cared.manager), f"/consolations/{pid}/approve", {}).status_code == 403
    h = post(
        n,
        "/help",
        {
            "subject": "C0001",
            "source": "contact",
            "category": "food",
            "urgency": "urgent",
            "description": "没有调味品",
        },
    )
    hid = h.json()["id"]
    assert post(n, f"/help/{hid}/steps", {"status": "resolved"}).status_code == 200
    again = post(n, f"/help/{hid}/steps", {"status": "resolved"})
    assert again.status_code == 422 and "already" in json.dumps(again.json())


def test_drive_amounts_only_for_its_manager(cared: Any, login: Any) -> None:
    m = client(login, cared.manager)
    d = post(m, "/drives", {"unit": "XH", "name": "爱心捐款", "beneficiary": "两名困难学生"}).json()
    assert (
        post(m, f"/drives/{d['id']}/contributions", {"person": "XH0001", "amount": "200"}).status_code == 201
    )
    assert post(m, f"/drives/{d['id']}/contributions", {"name": "匿名", "amount": "300"}).status_code == 201
    mine = m.get(f"{API}/drives/{d['id']}").json()
    assert mine["total"] == "500.00" and len(mine["items"]) == 2
    other = client(login, cared.nurse).get(f"{API}/drives/{d['id']}").json()
    assert other["total"] == "500.00" and "items" not in other
