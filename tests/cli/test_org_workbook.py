"""A whole-organization workbook (units, people, batches, service records) imports in one all-or-nothing step.

Through ``muster import FILE`` (call_command) and ``POST /api/v1/roster/import``; into an empty database:
the ledger sheets are checked after the same file's units and people are written, in one transaction.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import Client

from muster.audit.models import AuditEvent
from muster.mobilize.ledger_io import ledger_export
from muster.mobilize.models import Deployment, DeploymentMember, ServiceEntry
from muster.orgs.access import SYSTEM
from muster.orgs.models import Person, Unit
from muster.orgs.people_io import people_export
from muster.reports import services as reports
from muster.reports.rollup import parse_cutoff
from tests.conftest import make_id_number
from tests.ops import org_builder
from tests.tabular.helpers import PEOPLE_HEADERS, UNIT_HEADERS, person_row, read_back, xlsx

pytestmark = pytest.mark.django_db

DEP_HEADERS = ["批次编号", "派出单位编码", "任务", "服务地点", "开始时间", "结束时间"]
SVC_HEADERS = ["工号", "批次编号", "开始时间", "结束时间", "服务类型", "状态"]
ID_ZHANG = make_id_number(seq="124")
ID_WANG = make_id_number(birth="19850612", seq="315")

UNITS = [
    UNIT_HEADERS,
    ["SH", "国家税务总局上海市税务局", "", "市局"],
    ["XH", "徐汇区税务局", "SH", "区局"],
    ["XH-S1", "徐汇区税务局第一税务所", "XH", "税务所"],
    ["SH-DW", "上海市税务局党委", "", "党委"],
    ["XH-B01", "第一税务所党支部", "SH-DW", "党支部"],
]
PEOPLE = [
    PEOPLE_HEADERS,
    person_row(
        "XH0001", "张丽", "XH", party="XH-B01", political="中共党员", phone="13812345678", id=ID_ZHANG
    ),
    person_row("XH0002", "王强", "XH-S1", id=ID_WANG),
]
BATCHES = [DEP_HEADERS, ["XH-2022-01", "XH", "核酸检测", "宛平社区", "2022-03-12 06:00", "2022-03-13 06:00"]]
SERVICE = [
    SVC_HEADERS,
    ["XH0001", "XH-2022-01", "2022-03-12 08:00", "2022-03-12 16:00", "派出", "已审核"],
    ["XH0002", "XH-2022-01", "2022-03-12 08:00", "2022-03-12 12:30", "派出", ""],
    ["XH0002", "", "2022-03-15 09:00", "2022-03-15 11:00", "居家社区服务", ""],
]


def workbook(people: list[list[Any]] = PEOPLE, service: list[list[Any]] = SERVICE) -> bytes:
    return xlsx({"单位": UNITS, "人员": people, "派出批次": BATCHES, "服务记录": service})


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def fails(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as exc:
        call_command(*args, stdout=out, stderr=err)
    return str(exc.value), err.getvalue()


def nothing_written() -> None:
    assert Unit.objects.count() == 0
    assert Person.objects.count() == 0
    assert Deployment.objects.count() == 0
    assert ServiceEntry.objects.count() == 0
    assert not AuditEvent.objects.exists()


def test_a_whole_organization_imports_into_an_empty_database_in_one_step(tmp_path: Path) -> None:
    path = tmp_path / "org.xlsx"
    path.write_bytes(workbook())
    out, err = run("import", str(path))
    assert err == ""
    assert "Units: 5 created, 0 updated, 0 moved, 0 unchanged." in out
    assert "People: 2 created, 0 updated, 0 unchanged." in out
    assert "Batches: 1 created, 0 updated, 0 unchanged." in out
    assert "Service entries: 3 created, 0 unchanged." in out
    zhang = Person.objects.get(code="XH0001")
    assert (zhang.unit.code, zhang.party_unit.code if zhang.party_unit else None) == ("XH", "XH-B01")
    assert zhang.id_number == ID_ZHANG and zhang.phone == "13812345678"
    batch = Deployment.objects.get(code="XH-2022-01")
    assert set(DeploymentMember.objects.filter(deployment=batch).values_list("person__code", flat=True)) == {
        "XH0001",
        "XH0002",
    }
    figures = reports.rollup(Unit.objects.get(code="SH"), parse_cutoff("2022-03-20 24:00")).total
    assert (figures.batches, figures.person_times, figures.persons) == (1, 2, 2)
    assert (figures.hours, figures.community_hours) == (pytest.approx(12.5), pytest.approx(2))
    summaries = AuditEvent.objects.filter(action__in=["orgs.roster.imported", "mobilize.ledger.imported"])
    assert {(e.action, e.actor_name, e.channel) for e in summaries} == {
        ("orgs.roster.imported", "system", "cli"),
        ("mobilize.ledger.imported", "system", "cli"),
    }
    out, _ = run("import", str(path))  # again: nothing changes
    assert "People: 0 created, 0 updated, 2 unchanged." in out
    assert "Service entries: 0 created, 3 unchanged." in out


def test_a_bad_ledger_row_writes_nothing_at_all(tmp_path: Path) -> None:
    path = tmp_path / "org.xlsx"
    overlapping = ["XH0001", "XH-2022-01", "2022-03-12 15:00", "2022-03-12 18:00", "派出", "已审核"]
    path.write_bytes(workbook(service=[*SERVICE, overlapping]))
    message, err = fails("import", str(path))
    assert "1 problem found; nothing was imported." in message
    assert err.startswith("org.xlsx · 服务记录 · row 5")
    nothing_written()  # units and people included


def test_a_dry_run_reports_the_problems_of_both_parts(tmp_path: Path) -> None:
    bad_id = ID_WANG[:-1] + ("0" if ID_WANG[-1] != "0" else "1")
    people = [PEOPLE[0], PEOPLE[1], [*PEOPLE[2][:9], bad_id, ""]]
    service = [
        SVC_HEADERS,
        ["XH0001", "XH-2022-01", "2022-03-12 08:00", "2022-03-12 16:00", "派出", "已审核"],  # fine
        ["XH0001", "XH-2022-01", "2022-03-12 18:00", "2022-03-12 17:00", "派出", "已审核"],  # end first
    ]
    path = tmp_path / "org.xlsx"
    path.write_bytes(workbook(people=people, service=service))
    message, err = fails("import", str(path), "--dry-run")
    assert "2 problems found; nothing was imported." in message
    lines = err.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("org.xlsx · 人员 · row 3 · 身份证号")
    assert lines[1].startswith("org.xlsx · 服务记录 · row 3")  # row 2 names a person of the file: fine
    nothing_written()


def test_a_dry_run_of_a_good_workbook_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "org.xlsx"
    path.write_bytes(workbook())
    out, _ = run("import", str(path), "--dry-run")
    assert "Units: 5 created" in out and "Service entries: 3 created" in out
    assert out.count("Dry run: nothing was written.") == 1
    nothing_written()


def test_an_export_of_an_organization_imports_into_an_empty_database(tmp_path: Path, settings: Any) -> None:
    """The roster export and the ledger export, in one workbook, rebuild the same figures."""
    settings.MEDIA_ROOT = tmp_path / "media"
    as_of = parse_cutoff(org_builder.AS_OF)

    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        org_builder.build()
        roster = read_back(people_export(actor=SYSTEM, fmt="xlsx")[0])
        ledger = read_back(ledger_export(actor=SYSTEM, fmt="xlsx")[0])
        report = reports.rollup(Unit.objects.get(code="SH"), as_of)
        before, before_total = report.contract_json(), report.total.as_dict()
        ids = dict(Person.objects.values_list("code", "id_number_enc"))
        raise Undo  # back to an empty database
    nothing_written()
    assert set(roster) == {"Units", "People"} and set(ledger) == {"Deployments", "Service"}
    path = tmp_path / "whole.xlsx"
    path.write_bytes(xlsx({**roster, **ledger}))
    out, err = run("import", str(path))
    assert err == "" and "Service entries: 4 created" in out
    report = reports.rollup(Unit.objects.get(code="SH"), as_of)
    assert (report.contract_json(), report.total.as_dict()) == (before, before_total)
    total = json.loads(before)["total"]
    assert (total["batches"], total["person_times"], before_total["pending_entries"]) == (1, 2, 1)
    people = {p.code: p for p in Person.objects.all()}
    assert set(people) == set(ids)
    from muster.orgs import crypto

    assert {c: p.id_number for c, p in people.items()} == {c: crypto.decrypt(e) for c, e in ids.items()}


def test_the_roster_upload_takes_a_whole_organization(
    make_user: Callable[..., Any], login: Callable[[Any], Client]
) -> None:
    """A manager (roster import and dispatch on their unit) uploads units, people and their ledger."""
    from muster.orgs.services import unit_create

    root = unit_create(
        actor=SYSTEM, code="SH", name="国家税务总局上海市税务局", kind="city_bureau", parent=None
    )
    unit_create(actor=SYSTEM, code="SH-DW", name="上海市税务局党委", kind="party_committee", parent=None)
    manager = login(make_user("mgr", "manager", root))

    def upload(units: list[list[Any]], people: list[list[Any]], query: str = "") -> Any:
        data = xlsx({"单位": units, "人员": people, "派出批次": BATCHES, "服务记录": SERVICE})
        file = SimpleUploadedFile("org.xlsx", data)
        return manager.post("/api/v1/roster/import", {"file": file}, QUERY_STRING=query)

    # A party branch outside the manager's units: the whole file is refused, nothing written.
    r = upload([UNITS[0], UNITS[2], UNITS[3], UNITS[5]], PEOPLE)
    assert r.status_code == 422
    assert "单位" in {e["sheet"] for e in r.json()["errors"]}
    assert Unit.objects.count() == 2 and not Person.objects.exists() and not Deployment.objects.exists()
    people = [PEOPLE[0], person_row("XH0001", "张丽", "XH", id=ID_ZHANG), PEOPLE[2]]
    r = upload([UNITS[0], UNITS[2], UNITS[3]], people, "dry_run=true")
    assert r.status_code == 200 and r.json()["dry_run"] is True and r.json()["entries_created"] == 3
    assert Unit.objects.count() == 2 and not Deployment.objects.exists()
    r = upload([UNITS[0], UNITS[2], UNITS[3]], people)
    assert r.status_code == 200
    body = r.json()
    assert (body["units_created"], body["people_created"], body["deployments_created"]) == (2, 2, 1)
    assert (body["entries_created"], body["dry_run"]) == (3, False)
    assert ServiceEntry.objects.count() == 3
