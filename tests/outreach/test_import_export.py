"""Enterprises and liaisons from Excel (all or nothing, zh/en headers) and back."""

from __future__ import annotations

from typing import Any

import pytest

from muster.orgs.access import SYSTEM, NotAllowed
from muster.outreach import tabular_io
from muster.outreach.models import Enterprise, Liaison
from muster.tabular.errors import TabularError
from muster.tabular.workbook import workbook_import
from muster.tabular.writer import SheetData, csv_bytes, xlsx_bytes
from tests.outreach.conftest import VALID_CODES

ZH_ENT = ["统一社会信用代码", "纳税人名称", "行业", "园区", "楼宇", "规模", "主管税务机关代码"]
ZH_LIA = ["统一社会信用代码", "工号", "角色", "起始日期", "终止日期"]


def _book(ent_rows: list[list[Any]], lia_rows: list[list[Any]] | None = None) -> bytes:
    sheets = [SheetData("企业", ZH_ENT, ent_rows)]
    if lia_rows is not None:
        sheets.append(SheetData("联络人", ZH_LIA, lia_rows))
    return xlsx_bytes(sheets)


def test_import_creates_enterprises_and_liaisons(org: Any) -> None:
    data = _book(
        [
            [VALID_CODES[0], "甲公司", "制造业", "G60科创走廊", "", "中型", "XH-S1"],
            [VALID_CODES[1].lower(), "乙公司", "", "", "", "", "XH"],
        ],
        [[VALID_CODES[0], "XH0001", "党建指导人", "2018-08-01", ""]],
    )
    result = tabular_io.enterprise_import(actor=SYSTEM, filename="企业.xlsx", data=data)
    assert (result.enterprises_created, result.liaisons_created) == (2, 1)
    e = Enterprise.objects.get(credit_code=VALID_CODES[1])
    assert e.unit == org.xuhui
    assert Enterprise.objects.get(credit_code=VALID_CODES[0]).size == "medium"
    assert Liaison.objects.get().role == "party_guide"
    again = tabular_io.enterprise_import(actor=SYSTEM, filename="企业.xlsx", data=data)
    assert (again.enterprises_unchanged, again.liaisons_unchanged) == (2, 1)


def test_one_bad_row_and_nothing_is_written(org: Any) -> None:
    data = _book(
        [
            [VALID_CODES[0], "甲公司", "", "", "", "", "XH-S1"],
            ["91350100M000100Y44", "乙公司", "", "", "", "", "XH-S1"],
        ]
    )
    with pytest.raises(TabularError) as exc:
        tabular_io.enterprise_import(actor=SYSTEM, filename="企业.xlsx", data=data)
    [err] = exc.value.errors
    assert (err.sheet, err.row, err.column) == ("企业", 3, "统一社会信用代码")
    assert "expected" in err.reason
    assert not Enterprise.objects.exists()


def test_every_problem_is_reported(org: Any) -> None:
    data = _book(
        [
            [VALID_CODES[0], "", "", "", "", "巨型", "NOPE"],
            [VALID_CODES[0], "丙", "", "", "", "", "XH"],
        ],
        [[VALID_CODES[2], "XH9999", "", "2018-13-01", ""]],
    )
    with pytest.raises(TabularError) as exc:
        tabular_io.enterprise_import(actor=SYSTEM, filename="x.xlsx", data=data)
    where = {(e.sheet, e.row, e.column) for e in exc.value.errors}
    assert ("企业", 2, "纳税人名称") in where
    assert ("企业", 2, "规模") in where
    assert ("企业", 2, "主管税务机关代码") in where
    assert ("企业", 3, "统一社会信用代码") in where  # twice in the file
    assert ("联络人", 2, "统一社会信用代码") in where
    assert ("联络人", 2, "工号") in where
    assert ("联络人", 2, "起始日期") in where


def test_unit_out_of_scope_reads_as_unknown(org: Any, make_user: Any) -> None:
    hp = make_user("hp", "manager", org.huangpu)
    data = _book([[VALID_CODES[0], "甲", "", "", "", "", "XH"]])
    with pytest.raises(TabularError) as exc:
        tabular_io.enterprise_import(actor=hp, filename="x.xlsx", data=data)
    assert "no unit with this code" in exc.value.errors[0].reason
    with pytest.raises(NotAllowed):
        tabular_io.enterprise_import(actor=make_user("v", "viewer", org.root), filename="x.xlsx", data=data)


def test_english_csv_and_export_round_trip(org: Any) -> None:
    csv = csv_bytes(
        ["Credit code", "Name", "Industry", "Park", "Building", "Size", "Tax office code"],
        [[VALID_CODES[2], "Acme", "IT", "", "", "small", "HP"]],
    )
    tabular_io.enterprise_import(actor=SYSTEM, filename="e.csv", data=csv)
    assert Enterprise.objects.get().unit == org.huangpu
    content, _ctype, name = tabular_io.enterprise_export(actor=SYSTEM, fmt="xlsx")
    assert name.endswith(".xlsx")
    result = tabular_io.enterprise_import(actor=SYSTEM, filename=name, data=content)
    assert result.enterprises_unchanged == 1 and result.enterprises_created == 0


def test_registered_in_the_workbook_pipeline(org: Any) -> None:
    data = _book([[VALID_CODES[3], "丁公司", "", "", "", "", "XH"]])
    result = workbook_import(actor=SYSTEM, filename="all.xlsx", data=data)
    assert result.parts["outreach"].enterprises_created == 1
