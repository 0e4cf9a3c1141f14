"""Import (all or nothing, Chinese or English headers), export (audited, names the exporter) and the
``muster care`` and ``muster metrics`` commands."""

from __future__ import annotations

import io as stdio
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook, load_workbook

from muster.audit.models import AuditEvent
from muster.care import io
from muster.care import services as care
from muster.care.models import CareSubject, Observation
from muster.orgs.access import SYSTEM
from muster.tabular.errors import TabularError
from muster.tabular.workbook import workbook_import


def xlsx(sheets: dict[str, list[list[Any]]]) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    out = stdio.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_import_subjects_and_answers_with_chinese_headers(cared: Any) -> None:
    r = care.round_open(actor=SYSTEM, unit=cared.org.xuhui, name="第一轮")
    data = xlsx(
        {
            "关爱对象": [
                ["编号", "单位代码", "工号", "姓名", "出生日期", "联系电话", "联络员工号"],
                ["C0100", "XH", None, "孙桂兰", "1938-02-03", "13900002222", "XH0002"],
                ["C0101", "XH-S1", "XH0002", None, None, None, None],
            ],
            "排摸记录": [
                ["排摸轮次", "对象编号", "联系方式", "时间", "项目", "答案"],
                [r.pk, "C0100", "电话", "2026-03-04 09:00", "居住情况", "独居"],
                [r.pk, "C0100", "电话", "2026-03-04 09:00", "health", "一般"],
                [r.pk, "C0001", "微信", "2026-03-03 18:00", "living", "与家人同住"],
            ],
        }
    )
    result = io.care_import(actor=cared.nurse, filename="care.xlsx", data=data)
    assert (result.subjects_created, result.answers_recorded) == (2, 3)
    s = CareSubject.objects.get(code="C0100")
    assert s.phone == "13900002222" and set(care.current_tags(s)) == {"advanced_age", "living_alone"}
    assert CareSubject.objects.get(code="C0101").person == cared.org.bob


def test_import_with_english_headers_through_the_workbook_registry(cared: Any) -> None:
    data = xlsx(
        {"Care subjects": [["Code", "Unit code", "Name", "Phone"], ["C0200", "XH", "Li Mei", "13900003333"]]}
    )
    result = workbook_import(actor=cared.manager, filename="care.xlsx", data=data)
    assert result.as_dict()["care_subjects_created"] == 1


def test_one_bad_row_and_nothing_is_written(cared: Any) -> None:
    r = care.round_open(actor=SYSTEM, unit=cared.org.xuhui, name="第一轮")
    data = xlsx(
        {
            "关爱对象": [
                ["编号", "单位代码", "姓名", "联系电话", "身份证号"],
                ["C0300", "XH", "好人", "13900004444", None],
                ["C0301", "XH", "坏号", "1234", "310104199013071234"],
                ["C0302", "HP", "外区", None, None],
            ],
            "排摸记录": [
                ["排摸轮次", "对象编号", "联系方式", "时间", "项目", "答案"],
                [r.pk, "C0300", "电话", "2099-01-01 09:00", "health", "良好"],
                [r.pk, "C0300", "飞鸽", "2026-03-04 09:00", "health", "很棒"],
            ],
        }
    )
    with pytest.raises(TabularError) as exc:
        io.care_import(actor=cared.manager, filename="care.xlsx", data=data)
    text = str(exc.value)
    assert "row 3" in text and "联系电话" in text and "身份证号" in text
    assert "row 4" in text  # 黄浦 is out of the manager's scope: "no unit with this code"
    assert "时间" in text and "联系方式" in text and "答案" in text
    assert not CareSubject.objects.filter(code__startswith="C03").exists()
    assert not Observation.objects.exists()


def test_export_is_audited_and_names_the_exporter(cared: Any) -> None:
    content, _type, _name = io.care_export(actor=cared.nurse, unit=cared.org.xuhui)
    wb = load_workbook(stdio.BytesIO(content))
    about = [[c.value for c in row] for row in wb.worksheets[0].iter_rows()]
    assert any("xh_nurse" in row for row in about)
    codes = [row[0].value for row in wb.worksheets[1].iter_rows(min_row=2)]
    assert codes == ["C0001", "C0002"]  # 黄浦's subject is not in it
    ev = AuditEvent.objects.get(action="care.ledger.exported")
    assert ev.actor_name == "xh_nurse" and ev.changes["health"] is True


def test_cli_round_open_show_close_and_export(cared: Any, tmp_path: Path) -> None:
    out = stdio.StringIO()
    call_command("care", "--as", "xh_manager", "round", "open", "--unit", "XH", "--name", "排摸", stdout=out)
    rid = SurveyRoundId.last()
    care.survey_answer_record(
        actor=SYSTEM, subject=cared.old, round=rid, channel="phone", answers={"health": "良好"}
    )
    out = stdio.StringIO()
    call_command("care", "round", "show", str(rid.pk), stdout=out)
    assert "1/2" in out.getvalue() and "C0002" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("care", "--as", "xh_manager", "export", "--unit", "HP", "-o", str(tmp_path / "x.xlsx"))
    call_command(
        "care", "--as", "xh_manager", "export", "--unit", "XH", "-o", str(tmp_path / "x.xlsx"), stdout=out
    )
    assert (tmp_path / "x.xlsx").stat().st_size > 0
    call_command("care", "round", "close", str(rid.pk), stdout=out)
    bad = tmp_path / "bad.csv"
    bad.write_text("编号,单位代码,姓名\nC0400,XH,某\u0007\n", encoding="utf-8")
    with pytest.raises(CommandError) as exc:
        call_command("care", "import", str(bad))
    assert "nothing was imported" in str(exc.value)
    assert not CareSubject.objects.filter(code="C0400").exists()


class SurveyRoundId:
    @staticmethod
    def last() -> Any:
        from muster.care.models import SurveyRound

        return SurveyRound.objects.latest("pk")


def test_metrics_command_and_api(cared: Any, login: Any) -> None:
    out = stdio.StringIO()
    call_command("metrics", "--as-of", "2026-03-05 00:00", "--unit", "XH", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["unit"] == {"code": "XH", "name": "徐汇区税务局"}
    assert data["metrics"]["care.subjects"] == 2
    c = login(cared.manager)
    got = c.get("/api/v1/reports/metrics", {"as_of": "2026-03-05 00:00", "unit": "XH"}).json()
    assert got["metrics"]["care.subjects"] == 2 and got["as_of"] == "2026-03-05T00:00:00+08:00"
    assert c.get("/api/v1/reports/metrics", {"as_of": "2026-03-05 00:00", "unit": "HP"}).status_code == 404
    assert c.get("/api/v1/reports/metrics", {"as_of": "9999-12-31 24:00", "unit": "XH"}).status_code == 422
    with pytest.raises(CommandError):
        call_command("metrics", "--as-of", "not a time", "--unit", "XH", "--json")


def _id_number(body17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body17 + "10X98765432"[sum(int(c) * w for c, w in zip(body17, weights, strict=True)) % 11]


def test_id_numbers_are_checked_per_row_and_one_held_elsewhere_is_never_said_to_exist(cared: Any) -> None:
    here = _id_number("31010419410502002")
    far = _id_number("31010119500101003")
    new = _id_number("31010419400101001")
    care.subject_create(actor=SYSTEM, unit=cared.org.xuhui, code="C0008", name="徐汇某", id_number=here)
    care.subject_create(actor=SYSTEM, unit=cared.org.huangpu, code="C0009", name="黄浦某", id_number=far)
    data = xlsx(
        {
            "关爱对象": [
                ["编号", "单位代码", "姓名", "身份证号"],
                ["C0400", "XH", "甲", here],
                ["C0401", "XH", "乙", far],
                ["C0402", "XH", "丙", new],
                ["C0403", "XH", "丁", new],
            ]
        }
    )
    with pytest.raises(TabularError) as exc:
        io.care_import(actor=cared.manager, filename="care.xlsx", data=data)
    by_row = {e.row: e.reason for e in exc.value.errors}
    assert set(by_row) == {2, 3, 5}
    assert "exists already" in by_row[2]
    assert "cannot be used here" in by_row[3] and "exist" not in by_row[3]
    assert "another row" in by_row[5]
    assert not CareSubject.objects.filter(code__startswith="C04").exists()


def test_an_age_rule_edited_into_nonsense_applies_to_nobody_instead_of_failing_the_import(cared: Any) -> None:
    from muster.care.models import RiskRule, RuleOp

    head = ["编号", "单位代码", "姓名", "出生日期"]
    RiskRule.objects.filter(op=RuleOp.AGE_AT_LEAST).update(value=["eighty"])
    data = xlsx({"关爱对象": [head, ["C0500", "XH", "老人", "1930-01-01"]]})
    assert io.care_import(actor=cared.manager, filename="care.xlsx", data=data).subjects_created == 1
    assert "advanced_age" not in care.current_tags(CareSubject.objects.get(code="C0500"))
    RiskRule.objects.filter(op=RuleOp.AGE_AT_LEAST).update(value=[80])
    data = xlsx({"关爱对象": [head, ["C0501", "XH", "老人", "1930-01-01"]]})
    io.care_import(actor=cared.manager, filename="care.xlsx", data=data)
    assert "advanced_age" in care.current_tags(CareSubject.objects.get(code="C0501"))
