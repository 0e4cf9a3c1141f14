"""The enterprise sheet's text cells (name, industry, park, building), checked by the shared ``TextCells``
(issue 23): the same words, values shown and order as the importer always had, in Chinese and English. A
cell gets one problem, the first that applies: a control or invalid character (the raw cell shown), a
blank name, too long (the clean text shown; the name with its own words)."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from muster.orgs.access import SYSTEM
from muster.outreach import tabular_io
from muster.outreach.models import Enterprise
from muster.tabular.errors import TabularError
from muster.tabular.writer import csv_bytes
from tests.outreach.conftest import VALID_CODES

ZH_ENT = ["统一社会信用代码", "纳税人名称", "行业", "园区", "楼宇", "规模", "主管税务机关代码"]
EN_ENT = ["Credit code", "Name", "Industry", "Park", "Building", "Size", "Tax office code"]

ROWS = [
    [VALID_CODES[0], "坏\x07名", "", "", "", "", "XH"],
    [VALID_CODES[1], "   ", "行" * 61, "\x0b园区", "楼" * 121, "", "XH"],
    [VALID_CODES[2], "名" * 121 + "\x01", "行\x1b", "园" * 121, "", "", "XH"],
    [VALID_CODES[3], " 　" + "名" * 121 + " ", " " + "行" * 60 + " ", "园" * 120, "楼" * 120, "", "XH"],
]


def _errors(headers: list[str]) -> list[tuple[int | None, str, str, str]]:
    with pytest.raises(TabularError) as exc:
        tabular_io.enterprise_import(actor=SYSTEM, filename="企业.csv", data=csv_bytes(headers, ROWS))
    assert not Enterprise.objects.exists()
    return [(e.row, e.column, e.value, e.reason) for e in exc.value.errors]


# The words as users see them today (the park's and the industry's rule messages name the field by its key:
# the rules have no label for them).
def test_text_cells_in_chinese(org: Any) -> None:
    with translation.override("zh-hans"):
        got = _errors(ZH_ENT)
    assert got == [
        (2, "纳税人名称", "坏\x07名", "名称含有控制字符（U+0007），不允许使用。"),
        (3, "纳税人名称", "", "名称为必填项"),
        (3, "行业", "行" * 61, "最多 60 个字符"),
        (3, "园区", "\x0b园区", "park含有控制字符（U+000B），不允许使用。"),
        (3, "楼宇", "楼" * 121, "最多 120 个字符"),
        (4, "纳税人名称", "名" * 121 + "\x01", "名称含有控制字符（U+0001），不允许使用。"),
        (4, "行业", "行\x1b", "industry含有控制字符（U+001B），不允许使用。"),
        (4, "园区", "园" * 121, "最多 120 个字符"),
        (5, "纳税人名称", "名" * 121, "最多120个字符"),  # the name's own words
    ]


def test_text_cells_in_english(org: Any) -> None:
    with translation.override("en"):
        got = _errors(EN_ENT)
    reasons = [(row, column, reason) for row, column, _value, reason in got]
    assert reasons == [
        (2, "Name", "Name contains a control character (U+0007), which is not allowed."),
        (3, "Name", "a name is required"),
        (3, "Industry", "at most 60 characters"),
        (3, "Park", "park contains a control character (U+000B), which is not allowed."),
        (3, "Building", "at most 120 characters"),
        (4, "Name", "Name contains a control character (U+0001), which is not allowed."),
        (4, "Industry", "industry contains a control character (U+001B), which is not allowed."),
        (4, "Park", "at most 120 characters"),
        (5, "Name", "at most 120 characters"),
    ]


def test_text_at_the_limits_is_written_clean(org: Any) -> None:
    rows = [[VALID_CODES[0], " 　" + "名" * 120 + " ", " " + "行" * 60, "园" * 120, "楼" * 120, "", "XH"]]
    result = tabular_io.enterprise_import(actor=SYSTEM, filename="企业.csv", data=csv_bytes(ZH_ENT, rows))
    assert result.enterprises_created == 1
    e = Enterprise.objects.get()
    assert (e.name, e.industry, e.park, e.building) == ("名" * 120, "行" * 60, "园" * 120, "楼" * 120)
