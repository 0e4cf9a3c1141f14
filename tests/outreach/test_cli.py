"""``muster outreach import|export|figures|overdue``."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from muster.orgs.access import SYSTEM
from muster.outreach import services
from muster.outreach.models import Enterprise
from muster.tabular.writer import SheetData, xlsx_bytes
from tests.outreach.conftest import VALID_CODES

HEADERS = ["统一社会信用代码", "纳税人名称", "主管税务机关代码"]


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("outreach", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_bad_row_then_good_and_export(org: Any, tmp_path: Path) -> None:
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(
        xlsx_bytes(
            [SheetData("企业", HEADERS, [[VALID_CODES[0], "甲", "XH"], ["91350100M000100Y4", "乙", "XH"]])]
        )
    )
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("outreach", "import", str(bad), stdout=io.StringIO(), stderr=err)
    assert "row 3" in err.getvalue() and "18 characters" in err.getvalue()
    assert not Enterprise.objects.exists()
    good = tmp_path / "good.xlsx"
    good.write_bytes(xlsx_bytes([SheetData("企业", HEADERS, [[VALID_CODES[0], "甲", "XH"]])]))
    out, _ = run("import", str(good))
    assert "1 created" in out
    target = tmp_path / "out.csv"
    run("export", str(target))
    assert VALID_CODES[0] in target.read_text("utf-8-sig")


def test_import_as_a_user_without_rights(org: Any, make_user: Any, tmp_path: Path) -> None:
    make_user("viewer", "viewer", org.root)
    f = tmp_path / "e.xlsx"
    f.write_bytes(xlsx_bytes([SheetData("企业", HEADERS, [[VALID_CODES[0], "甲", "XH"]])]))
    with pytest.raises(CommandError, match="may not import"):
        run("import", str(f), "--as", "viewer")


def test_figures_and_overdue(org: Any, ent: Enterprise, make_user: Any) -> None:
    pr = services.problem_raise(
        actor=SYSTEM,
        title="逾期问题",
        unit=org.xuhui_office,
        raised_on=date(2018, 9, 1),
        deadline=date(2018, 9, 10),
    )
    services.visit_record(
        actor=SYSTEM, held_on=date(2018, 9, 1), unit=org.xuhui, visitors=[org.alice], enterprises=[ent]
    )
    out, _ = run("figures", "--unit", "XH", "--as-of", "2018-10-11 24:00", "--json")
    data = json.loads(out)
    assert data["as_of"] == "2018-10-12T00:00:00+08:00"
    assert (data["outreach.visits"], data["outreach.problems"], data["outreach.problems_overdue"]) == (
        1,
        1,
        1,
    )
    assert data["outreach.resolution_rate"] == "0.0%"
    out, _ = run("overdue", "--on", "2018-10-11")
    assert "逾期问题" in out and "+31" in out
    make_user("hp", "manager", org.huangpu)
    with pytest.raises(CommandError, match="Unknown unit XH"):
        run("figures", "--unit", "XH", "--as", "hp")
    with pytest.raises(CommandError):
        run("figures", "--unit", "XH", "--as-of", "9999-12-31")
    assert pr.pk
