"""Ledger export (API and ``muster export --ledger``), ``muster import`` of ledgers, ``muster dispatch``
and ``muster entry``, through call_command and the real console script."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from openpyxl import Workbook, load_workbook

from muster.audit.models import AuditEvent
from muster.mobilize import queries
from muster.mobilize.ledger_io import ledger_export, ledger_import
from muster.mobilize.models import Deployment, ServiceEntry
from tests.cli.conftest import make_script_env

from .conftest import at, xlsx
from .test_ledger_import import DEPLOYMENTS, SERVICE

pytestmark = pytest.mark.django_db


def test_export_xlsx_and_csv_reimport_changes_nothing(
    org: Any, cast: Any, partner: Any, login: Callable[[Any], Client]
) -> None:
    ledger_import(actor=cast.leader, filename="l.xlsx", data=xlsx(DEPLOYMENTS, SERVICE))
    client = login(cast.leader)
    r = client.get("/api/v1/mobilize/export", {"format": "xlsx"})
    assert r.status_code == 200 and "attachment" in r["Content-Disposition"]
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["派出批次", "服务记录"]  # the request's language (Chinese by default)
    rows = list(wb["服务记录"].iter_rows(values_only=True))
    assert rows[0] == ("工号", "批次编号", "开始时间", "结束时间", "服务类型", "状态", "备注")
    assert ("XH0002", "XH-2022-02", "派出", "待审核") in {(x[0], x[1], x[4], x[5]) for x in rows}
    assert len(rows) == 5 and ("XH0002", "XH-2022-02") in {(x[0], x[1]) for x in rows}
    result = ledger_import(actor=cast.leader, filename="export.xlsx", data=r.content)
    assert (result.entries_created, result.entries_unchanged, result.deployments_unchanged) == (0, 4, 2)
    csv = client.get("/api/v1/mobilize/export", {"format": "csv", "sheet": "service"})
    assert csv.status_code == 200 and csv.content.startswith(b"\xef\xbb\xbf")
    assert "2022-03-18 08:00" in csv.content.decode("utf-8-sig")
    again = ledger_import(actor=cast.leader, filename="service.csv", data=csv.content)
    assert (again.entries_created, again.entries_unchanged) == (0, 4)
    # 黄浦's manager may dispatch there, but sees nothing of 徐汇's ledger
    empty = login(cast.manager_hp).get("/api/v1/mobilize/export", {"format": "csv"})
    assert empty.content.decode("utf-8-sig").strip().count("\n") == 0
    assert login(cast.viewer).get("/api/v1/mobilize/export").status_code == 403
    assert AuditEvent.objects.filter(action="mobilize.ledger.exported").count() == 3


def test_export_skips_rejected_entries(org: Any, cast: Any) -> None:
    from muster.mobilize import services

    row = services.entry_record(
        actor=cast.alice_user,
        person=org.alice,
        kind="community",
        start=at("2022-04-01 09:00"),
        end=at("2022-04-01 10:00"),
    )
    services.entry_reject(actor=cast.secretary, entry=row, reason="无证明")
    content, _type, _name = ledger_export(actor=cast.leader, fmt="csv", sheet="service")
    assert content.decode("utf-8-sig").strip().count("\n") == 0


def test_api_import_errors_and_rights(org: Any, cast: Any, login: Callable[[Any], Client]) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = xlsx(None, [["XH9999", "", "2022-04-01 09:00", "2022-04-01 10:00", "居家社区服务", ""]])
    r = login(cast.leader).post("/api/v1/mobilize/import", {"file": SimpleUploadedFile("l.xlsx", bad)})
    assert r.status_code == 422
    err = r.json()["errors"][0]
    assert (err["sheet"], err["row"], err["column"], err["value"]) == ("服务记录", 2, "工号", "XH9999")
    r = login(cast.viewer).post("/api/v1/mobilize/import", {"file": SimpleUploadedFile("l.xlsx", bad)})
    assert r.status_code == 403


# ---------------------------------------------------------------- commands


def test_muster_import_and_export_handle_ledgers(org: Any, cast: Any, partner: Any, tmp_path: Path) -> None:
    path = tmp_path / "台账.xlsx"
    path.write_bytes(xlsx(DEPLOYMENTS, SERVICE))
    out = io.StringIO()
    call_command("import", str(path), "--dry-run", stdout=out)
    assert "Service entries: 4 created" in out.getvalue() and ServiceEntry.objects.count() == 0
    call_command("import", str(path), stdout=out)
    assert ServiceEntry.objects.count() == 4
    assert AuditEvent.objects.filter(action="mobilize.entry.recorded", channel="cli").count() == 4
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(xlsx(None, [["XH9999", "", "2022-04-01 09:00", "2022-04-01 10:00", "", ""]]))
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 problem"):
        call_command("import", str(bad), stderr=err)
    assert "XH9999" in err.getvalue()
    target = tmp_path / "ledger.xlsx"
    call_command("export", str(target), "--ledger", "--unit", "XH", stdout=io.StringIO())
    assert load_workbook(target).sheetnames == ["Deployments", "Service"]
    csv_target = tmp_path / "batches.csv"
    call_command("export", str(csv_target), "--ledger", "--sheet", "deployments", stdout=io.StringIO())
    assert "XH-2022-01" in csv_target.read_text(encoding="utf-8-sig")


def test_dispatch_command(org: Any, cast: Any) -> None:
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "dispatch",
        "--unit", "XH", "--team", "XH-T1", "--person", "XH0002", "--title", "核酸检测",
        "--start", "2022-03-18 8:00", "--end", "2022-03-18 24:00", "--site", "宛平社区", "--leader", "XH0001",
        stdout=out, stderr=err,
    )  # fmt: skip
    d = Deployment.objects.get()
    assert "XH-001" in out.getvalue() and d.end == at("2022-03-19 00:00") and d.members.count() == 2
    event = AuditEvent.objects.get(action="mobilize.deployment.dispatched")
    assert event.channel == "cli" and event.actor_name == "system"
    with pytest.raises(CommandError, match="XH-001"):  # bob is already on it: a conflict naming it
        call_command(
            "dispatch", "--unit", "XH", "--person", "XH0002", "--title", "t",
            "--start", "2022-03-18 10:00", "--end", "2022-03-18 12:00",
        )  # fmt: skip
    with pytest.raises(CommandError, match="HP0001"):  # out of the user's scope: unknown
        call_command(
            "dispatch", "--unit", "XH", "--person", "HP0001", "--title", "t",
            "--start", "2022-03-20 10:00", "--end", "2022-03-20 12:00", "--as", "leader",
        )  # fmt: skip
    with pytest.raises(CommandError, match="--end"):
        call_command(
            "dispatch", "--unit", "XH", "--person", "XH0002", "--title", "t",
            "--start", "2022-03-20 10:00", "--end", "soon",
        )  # fmt: skip
    with pytest.raises(CommandError, match="not allowed"):
        call_command(
            "dispatch", "--unit", "XH", "--person", "XH0002", "--title", "t",
            "--start", "2022-03-20 10:00", "--end", "2022-03-20 12:00", "--as", "viewer",
        )  # fmt: skip
    assert Deployment.objects.count() == 1


def test_entry_command_record_approve_list(org: Any, cast: Any, batch: Any) -> None:
    out = io.StringIO()
    call_command(
        "entry", "record", "--person", "XH0002", "--kind", "派出", "--deployment", "XH-001",
        "--start", "2022-03-12 08:00", "--end", "2022-03-12 16:00", "--pending", "--as", "leader", stdout=out,
    )  # fmt: skip
    row = ServiceEntry.objects.get()
    assert "pending" in out.getvalue() and row.sign == 0 and row.source == "manual"
    with pytest.raises(CommandError, match="not allowed"):
        call_command("entry", "approve", str(row.pk), "--as", "viewer")
    call_command("entry", "approve", str(row.pk), "--as", "leader", stdout=out)
    assert queries.balance(org.bob) == 480
    with pytest.raises(CommandError, match="24"):
        call_command(
            "entry", "record", "--person", "XH0001", "--kind", "community",
            "--start", "2022-04-01 08:00", "--end", "2022-04-02 09:00",
        )  # fmt: skip
    listing = io.StringIO()
    call_command("entry", "list", "--person", "XH0002", stdout=listing)
    assert "XH-001" in listing.getvalue() and "8.00" in listing.getvalue()


def test_console_script(tmp_path: Path, migrated_template: Path) -> None:
    """The real ``muster`` script against a fresh (migrated) database: roster, dispatch, entry, ledger
    import."""
    env = make_script_env(tmp_path / "var", database=migrated_template)
    wb = Workbook()
    assert wb.active is not None
    units = wb.active
    units.title = "单位"
    units.append(["编码", "名称", "上级编码", "类型"])
    units.append(["SH", "国家税务总局上海市税务局", "", "市局"])
    units.append(["XH", "徐汇区税务局", "SH", "区局"])
    people = wb.create_sheet("人员")
    people.append(["工号", "姓名", "单位编码"])
    people.append(["XH0001", "张丽", "XH"])
    people.append(["XH0002", "王强", "XH"])
    roster = tmp_path / "roster.xlsx"
    wb.save(roster)
    r = env.run("import", str(roster))
    assert r.returncode == 0, r.stderr
    r = env.run(
        "dispatch", "--unit", "XH", "--person", "XH0001,XH0002", "--title", "核酸检测",
        "--start", "2022-03-18 8:00", "--end", "2022-03-18 24:00",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "XH-001" in r.stdout
    r = env.run(
        "entry", "record", "--person", "XH0001", "--kind", "dispatch", "--deployment", "XH-001",
        "--start", "2022-03-18 08:00", "--end", "2022-03-18 16:00",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    r = env.run(
        "entry", "record", "--person", "XH0001", "--kind", "dispatch", "--deployment", "XH-001",
        "--start", "2022-03-18 12:00", "--end", "2022-03-18 14:00",
    )  # fmt: skip
    assert r.returncode != 0 and "XH-001" in r.stderr  # overlaps the first entry
    ledger = tmp_path / "ledger.xlsx"
    ledger.write_bytes(xlsx(None, [["XH0002", "XH-001", "2022-03-18 08:00", "2022-03-18 16:00", "派出", ""]]))
    r = env.run("import", str(ledger))
    assert r.returncode == 0, r.stderr
    assert "Service entries: 1 created" in r.stdout
    counts = env.counts(
        entries=("mobilize.ServiceEntry", {}),
        cli=("audit.AuditEvent", {"channel": "cli", "action": "mobilize.entry.recorded"}),
    )
    assert counts == {"entries": 2, "cli": 2}
