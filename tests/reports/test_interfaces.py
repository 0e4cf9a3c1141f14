"""The report through the CLI and the API (the stable contract), scoping, snapshots, the time series and
the metric registry."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from muster.mobilize import services as svc
from muster.mobilize.models import EntryKind, ServiceEntry
from muster.orgs.access import SYSTEM
from muster.orgs.models import Unit
from muster.reports import registry, services
from muster.reports.models import Snapshot
from muster.reports.rollup import rollup, series

from .conftest import at

CONTRACT_ROW = {
    "code",
    "name",
    "batches",
    "person_times",
    "persons",
    "hours",
    "community_persons",
    "community_hours",
}


@pytest.fixture
def ledger(org: Any) -> Any:
    """徐汇 (office XH-S1) sends alice and bob; 黄浦 sends carol; dave (organ) reports community service."""
    xh = svc.deployment_dispatch(
        actor=SYSTEM,
        unit=org.xuhui_office,
        title="核酸检测",
        start=at("2022-03-12 06:00"),
        end=at("2022-03-14 06:00"),
        people=[org.alice, org.bob],
        site="宛平社区",
    ).deployment
    hp = svc.deployment_dispatch(
        actor=SYSTEM,
        unit=org.huangpu,
        title="疾控",
        start=at("2022-03-13 06:00"),
        end=at("2022-03-14 06:00"),
        people=[org.carol],
    ).deployment
    rec = svc.entry_record
    rec(
        actor=SYSTEM,
        person=org.alice,
        kind=EntryKind.DISPATCH,
        deployment=xh,
        start=at("2022-03-12 08:00"),
        end=at("2022-03-12 16:30"),
    )
    rec(
        actor=SYSTEM,
        person=org.alice,
        kind=EntryKind.DISPATCH,
        deployment=xh,
        start=at("2022-03-13 20:00"),
        end=at("2022-03-14 04:00"),
    )
    rec(
        actor=SYSTEM,
        person=org.bob,
        kind=EntryKind.DISPATCH,
        deployment=xh,
        start=at("2022-03-12 08:00"),
        end=at("2022-03-12 12:00"),
    )
    rec(
        actor=SYSTEM,
        person=org.carol,
        kind=EntryKind.DISPATCH,
        deployment=hp,
        start=at("2022-03-13 08:00"),
        end=at("2022-03-13 10:00"),
    )
    rec(
        actor=SYSTEM,
        person=org.dave,
        kind=EntryKind.COMMUNITY,
        start=at("2022-03-13 09:00"),
        end=at("2022-03-13 12:00"),
    )
    pending = rec(
        actor=SYSTEM,
        person=org.carol,
        kind=EntryKind.COMMUNITY,
        start=at("2022-03-13 14:00"),
        end=at("2022-03-13 15:00"),
        approve=False,
    )
    return {"xh": xh, "hp": hp, "pending": pending}


def report_json(*args: str) -> dict[str, Any]:
    out = StringIO()
    call_command("report", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_cli_contract_and_the_24_oclock_cutoff(org: Any, ledger: Any) -> None:
    data = report_json("--as-of", "2022-03-13 24:00")
    assert data["as_of"] == "2022-03-14T00:00:00+08:00"
    assert data["unit"] == {"code": "SH", "name": org.root.name}
    rows = {r["code"]: r for r in data["rows"]}
    assert set(rows["XH"]) == CONTRACT_ROW
    # alice 8.5 h + 4 h (20:00–24:00 of a shift running to 04:00), bob 4 h
    assert rows["XH"] == {**rows["XH"], "batches": 1, "person_times": 2, "persons": 2, "hours": 16.5}
    assert (
        rows["HP"]["hours"] == 2
        and rows["SH-JG"]["community_persons"] == 1
        and rows["SH-JG"]["community_hours"] == 3
    )
    assert data["total"] == {
        "batches": 2,
        "person_times": 3,
        "persons": 3,
        "hours": 18.5,
        "community_persons": 1,
        "community_hours": 3,
    }  # the pending hour of carol is not counted
    assert data == report_json("--as-of", "2022-03-14 00:00")
    text = StringIO()
    call_command("report", "--as-of", "2022-03-13 24:00", "--json", stdout=text)
    assert '"hours": 18.50' in text.getvalue()  # two decimals, as numbers
    sub = report_json("--as-of", "2022-03-14 04:00", "--unit", "XH")
    assert [r["code"] for r in sub["rows"]] == ["XH-S1"] and sub["total"]["hours"] == 20.5


def test_cli_bad_input(org: Any) -> None:
    with pytest.raises(CommandError, match="as-of"):
        call_command("report", "--as-of", "yesterday-ish", "--json", stdout=StringIO())
    with pytest.raises(CommandError, match="NOPE"):
        call_command("report", "--as-of", "2022-03-18 24:00", "--unit", "NOPE", stdout=StringIO())


def test_api_same_contract_and_scoped(org: Any, ledger: Any, make_user: Any, login: Any) -> None:
    admin = login(make_user("boss", "viewer", org.root))
    r = admin.get("/api/v1/reports/rollup", {"as_of": "2022-03-13 24:00"})
    assert r.status_code == 200
    assert r.json() == report_json("--as-of", "2022-03-13 24:00")
    assert b'"hours": 18.50' in r.content
    xh_user = login(make_user("xh", "viewer", org.xuhui))
    r = xh_user.get("/api/v1/reports/rollup", {"as_of": "2022-03-13 24:00"})
    assert r.status_code == 200 and r.json()["unit"]["code"] == "XH"  # default: the user's own top unit
    assert "HP" not in r.content.decode() and "SH-JG" not in r.content.decode()
    assert (
        xh_user.get("/api/v1/reports/rollup", {"as_of": "2022-03-13 24:00", "unit": "HP"}).status_code == 404
    )
    assert (
        xh_user.get("/api/v1/reports/rollup", {"as_of": "2022-03-13 24:00", "unit": "SH"}).status_code == 404
    )
    assert xh_user.get("/api/v1/reports/rollup", {"as_of": "2022-13-45 25:00"}).status_code == 422
    assert login(make_user("nobody")).get("/api/v1/reports/rollup", {"unit": "XH"}).status_code == 404
    from django.test import Client

    assert Client().get("/api/v1/reports/rollup").status_code == 401


def test_pending_shown_apart_and_late_correction_in_snapshot_diff(
    org: Any, ledger: Any, make_user: Any, login: Any
) -> None:
    cut = at("2022-03-14 00:00")
    report = rollup(org.root, cut)
    organ = report.row("SH-JG")
    hp = report.row("HP")
    assert hp.figures.pending_entries == 1 and hp.figures.pending_minutes == 60
    assert organ.figures.pending_entries == 0
    manager = make_user("mgr", "manager", org.root)
    snap = services.snapshot_publish(actor=manager, unit=org.root, as_of=cut, title="3月13日统计")
    assert snap.figures["contract"]["total"]["hours"] == "18.50"
    assert not services.snapshot_diff(snap).changed
    # a late correction: bob's shift was 08:00–14:00, not 08:00–12:00
    bob_row = ServiceEntry.objects.get(person=org.bob)
    svc.entry_correct(
        actor=SYSTEM, entry=bob_row, start=at("2022-03-12 08:00"), end=at("2022-03-12 14:00"), reason="补录"
    )
    diff = services.snapshot_diff(Snapshot.objects.get(pk=snap.pk))
    assert diff.changed and diff.total.frozen.minutes == 1110 and diff.total.live.minutes == 1230
    assert [r.code for r in diff.rows if r.changed] == ["XH"]
    assert Snapshot.objects.get(pk=snap.pk).figures == snap.figures  # the published report never changes
    with pytest.raises(TypeError):
        snap.save()
    with pytest.raises(TypeError):
        Snapshot.objects.filter(pk=snap.pk).update(title="x")
    # the API: viewers see snapshots in scope, may not publish; out of scope is 404
    viewer = login(make_user("v", "viewer", org.xuhui))
    assert (
        viewer.post(
            "/api/v1/reports/snapshots", {"as_of": "2022-03-14 00:00"}, content_type="application/json"
        ).status_code
        == 403
    )
    assert viewer.get(f"/api/v1/reports/snapshots/{snap.pk}").status_code == 404
    assert viewer.get("/api/v1/reports/snapshots").json() == []
    boss = login(manager)
    detail = boss.get(f"/api/v1/reports/snapshots/{snap.pk}").json()
    assert detail["changed"] is True and detail["figures"]["total"]["hours"] == "18.50"
    assert detail["live"]["total"]["hours"] == 20.5
    made = boss.post(
        "/api/v1/reports/snapshots",
        {"as_of": "2022-03-14 00:00", "unit": "XH"},
        content_type="application/json",
    )
    assert made.status_code == 201 and made.json()["unit"]["code"] == "XH"


def test_series_day_by_day(org: Any, ledger: Any) -> None:
    points = series(org.root, start=date(2022, 3, 11), as_of=at("2022-03-14 02:00"))
    assert [p.day for p in points] == [date(2022, 3, d) for d in (11, 12, 13, 14)]
    for p in points[:-1]:
        end = at(f"{p.day + timedelta(days=1):%Y-%m-%d} 00:00")
        assert p.cumulative == rollup(org.root, end, pending=False).total
    assert points[-1].cumulative == rollup(org.root, at("2022-03-14 02:00"), pending=False).total
    assert points[1].daily.minutes == (8 * 60 + 30) + 4 * 60 and points[2].daily.person_times == 1
    assert sum((p.daily.minutes for p in points), 0) == points[-1].cumulative.minutes


def test_registry_answers_and_discovers(org: Any, ledger: Any) -> None:
    ids = {m.id for m in registry.metrics()}
    assert {"dispatch.batches", "dispatch.hours", "community.persons"} <= ids
    assert any(i.startswith("points.") for i in ids)  # another app's metrics module
    assert registry.answer("dispatch.hours", org.xuhui, at("2022-03-14 00:00")) == Decimal("16.50")
    assert registry.answer("dispatch.persons", Unit.objects.get(code="SH"), at("2022-03-14 00:00")) == 3


def test_brief_command(org: Any, ledger: Any) -> None:
    out = StringIO()
    call_command("brief", "--as-of", "2022-03-13 24:00", "--headline", stdout=out)
    assert out.getvalue().strip() == (
        "截至3月13日晚24点，2个区税务局，已累计派出2批3人次志愿者参与地方疫情防控，累计服务时长18.5小时。"
        "共有1名居家观察干部参与社区疫情防控志愿服务，累计服务时长3小时。"
    )
