"""Leak check: every GET operation under /api/v1/mobilize (from the OpenAPI document), with every filter
and with the other district's ids, never shows a user anything outside their scope."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

import openpyxl
import pytest
from django.test import Client

from muster.mobilize import services as svc
from muster.mobilize.models import MeasureKind, Shift

from .conftest import at

pytestmark = pytest.mark.django_db

QUERIES = ["", "?page_size=500", "?status=all", "?mine=true", "?unit=XH", "?unit=HP", "?format=csv",
           "?format=csv&sheet=deployments", "?start=2022-03-12 00:00&end=2022-03-13 00:00"]  # fmt: skip


def _strings(value: Any) -> set[str]:
    out: set[str] = set()
    if isinstance(value, str):
        out.add(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            out |= {str(k)} | _strings(v)
    elif isinstance(value, list):
        for v in value:
            out |= _strings(v)
    return out


def _cells(r: Any) -> set[str]:
    ctype = r["Content-Type"]
    if ctype.startswith("application/json"):
        return _strings(json.loads(r.content))
    if ctype.startswith("text/csv"):
        return {c for row in csv.reader(io.StringIO(r.content.decode("utf-8-sig"))) for c in row}
    wb = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True)
    return {
        str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v is not None
    }


@pytest.fixture
def two_districts(org: Any, cast: Any, batch: Any, partner: Any) -> dict[str, list[str]]:
    """Data on both sides: 徐汇 (a batch, a shift, entries, a post, a request) and 黄浦 (the same)."""
    from muster.orgs.access import SYSTEM
    from muster.orgs.services import partner_create

    hp_partner = partner_create(
        actor=SYSTEM, code="HP-P1", name="外滩街道", kind="subdistrict", unit=org.huangpu
    )
    xh_req = svc.request_create(
        actor=cast.leader, unit=org.xuhui, partner=partner, title="徐汇求援", people_needed=2,
        start=at("2022-03-12 06:00"), end=at("2022-03-12 20:00"),
    )  # fmt: skip
    hp_req = svc.request_create(
        actor=cast.manager_hp, unit=org.huangpu, partner=hp_partner, title="黄浦求援", people_needed=2,
        start=at("2022-03-12 06:00"), end=at("2022-03-12 20:00"),
    )  # fmt: skip
    hp = svc.deployment_dispatch(
        actor=cast.manager_hp, unit=org.huangpu, title="外滩核酸", start=at("2022-03-12 06:00"),
        end=at("2022-03-12 20:00"), people=[org.carol], request=hp_req,
    ).deployment  # fmt: skip
    hp_shift = svc.shift_create(
        actor=cast.manager_hp, deployment=hp, start=at("2022-03-12 08:00"), end=at("2022-03-12 12:00")
    )
    svc.shift_assign(actor=cast.manager_hp, shift=hp_shift, person=org.carol)
    hp_entry = svc.entry_record(
        actor=cast.manager_hp, person=org.carol, kind="dispatch", deployment=hp,
        start=at("2022-03-12 08:00"), end=at("2022-03-12 12:00"),
    )  # fmt: skip
    xh_entry = svc.entry_record(
        actor=cast.leader, person=org.bob, kind="dispatch", deployment=batch.deployment,
        start=at("2022-03-12 08:00"), end=at("2022-03-12 16:00"),
    )  # fmt: skip
    kind = MeasureKind.objects.get(code="households_served")
    svc.measure_record(actor=cast.leader, kind=kind, value=1500, deployment=batch.deployment)
    svc.measure_record(actor=cast.manager_hp, kind=kind, value=900, deployment=hp)
    svc.measure_record(actor=cast.manager_hp, kind=kind, value=7, entry=hp_entry)
    svc.post_create(actor=cast.leader, unit=org.xuhui, code="XH-12366", name="徐汇热线", kind="hotline")
    svc.post_create(actor=cast.manager_hp, unit=org.huangpu, code="HP-12366", name="黄浦热线", kind="hotline")
    return {
        "requests": [xh_req.code, hp_req.code],
        "deployments": [batch.deployment.code, hp.code],
        "posts": ["XH-12366", "HP-12366"],
        "shifts": [str(batch.shift.pk), str(hp_shift.pk)],
        "tokens": [batch.shift.token, hp_shift.token],
        "entries": [str(xh_entry.pk), str(hp_entry.pk)],
        "people": ["XH0002", "HP0001"],
        "measures": ["households_served"],
    }


def _fill(path: str, ids: dict[str, list[str]]) -> list[str]:
    if "{" not in path:
        return [path]
    if "{token}" in path:
        return [path.replace("{token}", t) for t in ids["tokens"]]
    if "{shift_id}" in path:
        return [path.replace("{shift_id}", s) for s in ids["shifts"]]
    if "{entry_id}" in path:
        return [path.replace("{entry_id}", e) for e in ids["entries"]]
    for family in ("requests", "deployments", "posts", "people", "measures"):
        if f"/{family}/{{code}}" in path:
            return [path.replace("{code}", c) for c in ids[family]]
    raise AssertionError(f"add sample values for {path}")


def crawl(client: Client, ids: dict[str, list[str]], forbidden: set[str]) -> set[str]:
    doc = client.get("/api/v1/openapi.json").json()
    paths = [p for p, ops in doc["paths"].items() if "get" in ops and p.startswith("/api/v1/mobilize/")]
    assert len(paths) >= 15
    seen: set[str] = set()
    for path in paths:
        for url in _fill(path, ids):
            for query in QUERIES:
                r = client.get(url + query)
                if r.status_code != 200:
                    continue
                found = _cells(r)
                leaked = found & forbidden
                assert not leaked, f"{url}{query} leaks {sorted(leaked)}"
                seen |= found
    return seen


XH_ONLY = {"XH-001", "XH0001", "XH0002", "张丽", "王强", "徐汇热线", "XH-12366", "徐汇求援", "宛平社区"}
HP_ONLY = {"HP-001", "HP0001", "李娜", "黄浦热线", "HP-12366", "黄浦求援", "外滩核酸", "外滩街道"}


def test_huangpu_manager_sees_nothing_of_xuhui(
    cast: Any, two_districts: dict[str, list[str]], login: Callable[[Any], Client]
) -> None:
    seen = crawl(login(cast.manager_hp), two_districts, XH_ONLY)
    assert {"HP-001", "HP0001", "黄浦热线"} <= seen


def test_xuhui_leader_sees_nothing_of_huangpu(
    cast: Any, two_districts: dict[str, list[str]], login: Callable[[Any], Client]
) -> None:
    seen = crawl(login(cast.leader), two_districts, HP_ONLY)
    assert {"XH-001", "XH0002", "徐汇热线"} <= seen


def test_a_volunteer_sees_only_their_own(
    cast: Any, two_districts: dict[str, list[str]], login: Callable[[Any], Client]
) -> None:
    # bob: no grant; he sees his batch (XH-001, with its members) and his own entries, nothing of 黄浦
    seen = crawl(login(cast.bob_user), two_districts, HP_ONLY | {"徐汇热线", "徐汇求援"})
    assert "XH-001" in seen and Shift.objects.exists()
