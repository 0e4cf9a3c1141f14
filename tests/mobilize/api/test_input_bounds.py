"""Security holes 6 and 7 of issue 22 for mobilization: whole numbers keep the web forms' bounds on every
path (2**63 is a 422, not an OverflowError 500), text keeps the same rules in the ledger import as in the API,
the OpenAPI document declares the bounds, and no JSON write of any app answers a lone surrogate with a 500.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from muster.mobilize import services as svc
from muster.mobilize.models import Deployment, MeasureKind, MeasureValue, Post, Request, ServiceEntry, Shift
from muster.orgs.access import SYSTEM
from tests.tabular.helpers import xlsx

API = "/api/v1"
BIG = [2**63, 10**18]


@pytest.fixture
def boss(org: Any, make_user: Callable[..., Any], login: Callable[[Any], Client]) -> Client:
    """A superuser: every permission, so that only the rules can refuse (pages and messages in Chinese)."""
    return login(make_user("boss", is_superuser=True))


def state() -> tuple[Any, ...]:
    return (
        list(Shift.objects.order_by("pk").values_list("pk", "seats")),
        list(Request.objects.values_list("code", "people_needed")),
        list(MeasureValue.objects.values_list("pk", "value")),
        list(MeasureKind.objects.order_by("code").values_list("code", "order")),
        list(Post.objects.values_list("code", "required_seats")),
        list(Deployment.objects.order_by("code").values_list("code", "title")),
        ServiceEntry.objects.count(),
    )


def api_refusal(client: Client, url: str, body: dict[str, Any]) -> dict[str, list[str]]:
    before = state()
    r = client.post(API + url, body, content_type="application/json")
    assert r.status_code == 422, r.content
    assert state() == before, "a refused request must write nothing"
    return r.json()["errors"]


def web_refusal(client: Client, url: str, data: dict[str, Any]) -> dict[str, list[str]]:
    before = state()
    r = client.post(url, data)
    assert r.status_code == 200, r.status_code
    assert state() == before, "a refused form must write nothing"
    return {k: list(v) for k, v in r.context["form"].errors.items()}


def bound(field: str, lo: int, hi: int) -> str:
    return f"{field}必须是 {lo} 到 {hi} 之间的整数。"


SHIFT = {"deployment": "XH-001", "start": "2022-03-12T08:00", "end": "2022-03-12T09:00"}
SHIFT_FORM = {"start": "2022-03-12T08:00", "end": "2022-03-12T09:00", "label": ""}


# ---------------------------------------------------------------- whole numbers


@pytest.mark.django_db
def test_seats_keep_the_forms_bounds_everywhere(org: Any, batch: Any, boss: Client) -> None:
    message = bound("坐席数", 1, 500)
    shift_form = reverse("mobilize:batch_shift_create", args=[batch.deployment.pk])
    template_form = reverse("mobilize:batch_shift_template", args=[batch.deployment.pk])
    for seats in [0, 501, *BIG]:
        assert api_refusal(boss, "/mobilize/shifts", {**SHIFT, "seats": seats}) == {"seats": [message]}
        assert web_refusal(boss, shift_form, {**SHIFT_FORM, "seats": seats}) == {"seats": [message]}
        template = {"deployment": "XH-001", "template": "duty_24h", "first_day": "2022-03-12", "seats": seats}
        assert api_refusal(boss, "/mobilize/shifts/template", template) == {"seats": [message]}
        form = {"template": "duty24", "first_day": "2022-03-12", "days": 1, "start_hour": 8, "max_hours": 4}
        assert web_refusal(boss, template_form, {**form, "seats": seats}) == {"seats": [message]}
        with translation.override("en"), pytest.raises(ValidationError) as exc:  # the service itself
            svc.shift_create(actor=SYSTEM, deployment=batch.deployment, seats=seats, **_span())
        assert exc.value.message_dict == {"seats": ["Seats must be a whole number from 1 to 500."]}
    r = boss.post(API + "/mobilize/shifts", {**SHIFT, "seats": 500}, content_type="application/json")
    assert r.status_code == 201 and r.json()["seats"] == 500


def _span() -> dict[str, Any]:
    from tests.mobilize.conftest import at

    return {"start": at("2022-03-12 08:00"), "end": at("2022-03-12 09:00")}


@pytest.mark.django_db
def test_template_days_keep_the_forms_bounds(org: Any, batch: Any, boss: Client) -> None:
    message = bound("天数", 1, 62)
    template = {"deployment": "XH-001", "template": "duty_24h", "first_day": "2022-03-12"}
    form = {"template": "duty24", "first_day": "2022-03-12", "seats": 1, "start_hour": 8, "max_hours": 4}
    template_form = reverse("mobilize:batch_shift_template", args=[batch.deployment.pk])
    for days in [0, 63, 2**63]:
        assert api_refusal(boss, "/mobilize/shifts/template", {**template, "days": days}) == {
            "days": [message]
        }
        assert web_refusal(boss, template_form, {**form, "days": days}) == {"days": [message]}


@pytest.mark.django_db
def test_people_needed_keep_the_forms_bounds_everywhere(org: Any, partner: Any, boss: Client) -> None:
    message = bound("所需人数", 1, 100000)
    body = {"unit": "XH", "partner": "XH-P1", "title": "核酸采样", "start": "2022-03-12T08:00"}
    body["end"] = "2022-03-12T18:00"
    form = {
        "unit": org.xuhui.pk,
        "partner": partner.pk,
        "title": "核酸采样",
        "start": "2022-03-12T08:00",
        "end": "2022-03-12T18:00",
    }
    for needed in [0, 100001, *BIG]:
        assert api_refusal(boss, "/mobilize/requests", {**body, "people_needed": needed}) == {
            "people_needed": [message]
        }
        assert web_refusal(boss, reverse("mobilize:request_create"), {**form, "people_needed": needed}) == {
            "people_needed": [message]
        }
    r = boss.post(API + "/mobilize/requests", {**body, "people_needed": 3}, content_type="application/json")
    assert r.status_code == 201, r.content
    before = state()
    r = boss.patch(
        API + f"/mobilize/requests/{r.json()['code']}",
        {"people_needed": 2**63},
        content_type="application/json",
    )
    assert r.status_code == 422 and r.json()["errors"] == {"people_needed": [message]}
    assert state() == before


@pytest.mark.django_db
def test_measure_values_are_bounded_everywhere(org: Any, batch: Any, boss: Client) -> None:
    message = bound("数值", 0, 10**9)
    kind = MeasureKind.objects.get(code="households_served")
    page = reverse("mobilize:batch_measure", args=[batch.deployment.pk])
    for value in [-1, 10**9 + 1, *BIG]:
        url = "/mobilize/deployments/XH-001/measures"
        assert api_refusal(boss, url, {"kind": kind.code, "value": value}) == {"value": [message]}
        before = state()
        r = boss.post(page, {"kind": kind.pk, "value": value}, follow=True)  # the batch page shows why
        assert r.status_code == 200 and state() == before
        assert [str(m) for m in get_messages(r.wsgi_request)] == [message]
        with translation.override("en"), pytest.raises(ValidationError) as exc:
            svc.measure_record(actor=SYSTEM, kind=kind, value=value, deployment=batch.deployment)
        assert exc.value.message_dict == {"value": ["Value must be a whole number from 0 to 1000000000."]}
    r = boss.post(
        API + "/mobilize/deployments/XH-001/measures",
        {"kind": kind.code, "value": 10**9},
        content_type="application/json",
    )
    assert r.status_code == 201


@pytest.mark.django_db
def test_measure_order_fits_its_column(org: Any, boss: Client) -> None:
    message = bound("排序", 0, 32767)
    for order in [-1, 32768, 2**63]:
        body = {"code": "meals", "name": "送餐份数", "order": order}
        assert api_refusal(boss, "/mobilize/measures", body) == {"order": [message]}
    before = state()
    r = boss.patch(
        API + "/mobilize/measures/households_served", {"order": 40000}, content_type="application/json"
    )
    assert r.status_code == 422 and r.json()["errors"] == {"order": [message]} and state() == before


@pytest.mark.django_db
def test_a_posts_seat_curve_keeps_the_shifts_bound(org: Any, boss: Client) -> None:
    message = bound("每小时所需坐席数", 0, 500)
    body = {"code": "HOT-9", "name": "12366 热线", "kind": "hotline", "unit": "XH"}
    for value in [501, 2**63]:
        assert api_refusal(boss, "/mobilize/posts", {**body, "required_seats": [value] * 24}) == {
            "required_seats": [message]
        }
        form = {"unit": org.xuhui.pk, "code": "HOT-9", "name": "12366 热线", "kind": "hotline"}
        assert web_refusal(
            boss, reverse("mobilize:post_create"), {**form, "required_seats": f"{value} " * 24}
        ) == {"required_seats": [message]}


# ---------------------------------------------------------------- text: the ledger import and the API


def _cell(value: str) -> str:
    return re.sub("[\x00-\x1f\x7f-\x9f]", lambda m: f"_x{ord(m.group()):04X}_", value)


def ledger_refusal(client: Client, sheets: dict[str, list[list[Any]]]) -> dict[str, list[str]]:
    before = state()
    f = io.BytesIO(
        xlsx(
            {
                name: [[_cell(v) if isinstance(v, str) else v for v in row] for row in rows]
                for name, rows in sheets.items()
            }
        )
    )
    f.name = "ledger.xlsx"
    r = client.post(API + "/mobilize/import", {"file": f})
    assert r.status_code == 422, r.content
    assert state() == before
    out: dict[str, list[str]] = {}
    for e in r.json()["errors"]:
        out.setdefault(e["column"], []).append(e["reason"])
    return out


BATCH_HEADERS = ["批次编号", "派出单位编码", "任务", "服务地点", "开始时间", "结束时间"]
SERVICE_HEADERS = ["工号", "批次编号", "开始时间", "结束时间", "服务类型", "状态", "备注"]


@pytest.mark.django_db
def test_the_ledger_import_and_the_api_refuse_the_same_text_alike(org: Any, batch: Any, boss: Client) -> None:
    dispatch = {"unit": "XH", "start": "2022-03-20T08:00", "end": "2022-03-20T18:00", "people": ["XH0002"]}
    row = ["XH-009", "XH", "核酸检测", "", "2022-03-20 08:00", "2022-03-20 18:00"]

    title = api_refusal(boss, "/mobilize/deployments", {**dispatch, "title": "核酸\x00检测"})
    imported = ledger_refusal(boss, {"派出批次": [BATCH_HEADERS, [*row[:2], "核酸\x00检测", *row[3:]]]})
    assert title == {"title": ["任务含有控制字符（U+0000），不允许使用。"]}
    assert imported == {"任务": title["title"]}

    code = api_refusal(boss, "/mobilize/deployments", {**dispatch, "title": "核酸检测", "code": "XH 009"})
    imported = ledger_refusal(boss, {"派出批次": [BATCH_HEADERS, ["XH 009", *row[1:]]]})
    assert code == {"code": ["代码只能包含字母、数字、连字符（-）、下划线（_）和点（.）。"]}
    assert imported == {"批次编号": code["code"]}

    entry = {"person": "XH0002", "kind": "community", "start": "2022-03-01T08:00", "end": "2022-03-01T10:00"}
    note = api_refusal(boss, "/mobilize/entries", {**entry, "note": "上门\x07服务"})
    line = ["XH0002", "", "2022-03-01 08:00", "2022-03-01 10:00", "居家社区服务", "", "上门\x07服务"]
    imported = ledger_refusal(boss, {"服务记录": [SERVICE_HEADERS, line]})
    assert note == {"note": ["备注含有控制字符（U+0007），不允许使用。"]}
    assert imported == {"备注": note["note"]}


# ---------------------------------------------------------------- the OpenAPI document


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _body(doc: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    content = doc["paths"][path][method]["requestBody"]["content"]["application/json"]
    return _resolve(doc, content["schema"])


def _bounds(prop: dict[str, Any]) -> tuple[Any, Any]:
    for option in [prop, *prop.get("anyOf", [])]:
        if "minimum" in option:
            return option["minimum"], option["maximum"]
    return None, None


@pytest.mark.django_db
def test_the_openapi_document_declares_the_bounds(client: Client) -> None:
    doc = client.get(API + "/openapi.json").json()
    m = "/api/v1/mobilize"
    expected = {
        (f"{m}/shifts", "post", "seats"): (1, 500),
        (f"{m}/shifts/template", "post", "seats"): (1, 500),
        (f"{m}/shifts/template", "post", "days"): (1, 62),
        (f"{m}/shifts/template", "post", "start_hour"): (0, 23),
        (f"{m}/requests", "post", "people_needed"): (1, 100000),
        (f"{m}/requests/{{code}}", "patch", "people_needed"): (1, 100000),
        (f"{m}/deployments/{{code}}/measures", "post", "value"): (0, 10**9),
        (f"{m}/measures", "post", "order"): (0, 32767),
    }
    for (path, method, field), bounds in expected.items():
        assert _bounds(_body(doc, path, method)["properties"][field]) == bounds, (path, field)


@pytest.mark.django_db
def test_no_json_write_answers_a_lone_surrogate_with_a_500(boss: Client) -> None:
    """Every JSON write of every app: "\\ud800" in each of its text members is a 422 naming them."""
    doc = boss.get(API + "/openapi.json").json()
    tried = 0
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            content = op.get("requestBody", {}).get("content", {})
            if method not in ("post", "patch", "put") or "application/json" not in content:
                continue
            schema = _resolve(doc, content["application/json"]["schema"])
            props = schema.get("properties", {})
            texts = [
                name
                for name, prop in props.items()
                if "string" in {p.get("type") for p in [prop, *prop.get("anyOf", [])]}
            ]
            if not texts:
                continue
            url = re.sub(r"\{[^}]+\}", "1", path)
            r = getattr(boss, method)(
                url, {name: "\ud800" for name in texts}, content_type="application/json"
            )
            assert r.status_code == 422, (method, path, r.status_code)
            assert set(r.json()["errors"]) == set(texts), (method, path)
            tried += 1
    assert tried > 40
