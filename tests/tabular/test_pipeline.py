"""The one import pipeline (``muster.tabular.pipeline``): an importer is a registration — its sheets, a plan
and an apply — and gets the rest for free: bounded reading, every problem reported at once, all or
nothing, dry runs, the workbook of several importers, templates with drop-downs and an example row, the
scope wording, and "confirm import" of a kept upload (``muster.tabular.uploads``)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from openpyxl.utils import column_index_from_string

from muster.mobilize.ledger_io import ledger_import
from muster.orgs.access import SYSTEM
from muster.orgs.models import Person, Tag
from muster.orgs.people_io import people_import, people_template
from muster.tabular import pipeline, uploads
from muster.tabular.cells import text
from muster.tabular.errors import ErrorCollector, TabularError
from muster.tabular.models import HeldUpload
from muster.tabular.pipeline import Importer, chunks, common_path
from muster.tabular.schema import Column, SheetSpec, Table
from muster.tabular.workbook import workbook_import
from tests.tabular.helpers import PEOPLE_HEADERS, csv_data, person_row, xlsx

pytestmark = pytest.mark.django_db

TOYS = SheetSpec(
    "toys",
    "玩具",
    "Toys",
    (Column("code", "编号", "Code", required=True), Column("count", "数量", "Count")),
)


@dataclass
class ToyResult:
    created: int = 0
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ToyPlan:
    codes: list[str] = field(default_factory=list)
    result: ToyResult = field(default_factory=ToyResult)


def toy_plan(actor: Any, tables: dict[str, Table], errors: ErrorCollector) -> ToyPlan:
    """The only checks a toy importer writes: its own rules, row by row."""
    plan = ToyPlan()
    t = tables["toys"]
    for rownum, cells in t.rows:
        code = text(t.get(cells, "code"))
        if not code.isalnum():
            errors.add(t.sheet, rownum, t.column("code"), code, "a code is letters and digits")
            continue
        count = text(t.get(cells, "count"))
        if count and not count.isdigit():
            errors.add(t.sheet, rownum, t.column("count"), count, "a count is a whole number")
            continue
        plan.codes.append(code)
    plan.result.created = len(plan.codes)
    return plan


def toy_apply(plan: ToyPlan, actor: Any, filename: str, tables: dict[str, Table]) -> None:
    for code in plan.codes:
        if code == "BOOM":  # a rule only the "service" knows, found half-way through the writes
            raise ValidationError("the service refused BOOM")
        Tag.objects.create(name=f"toy-{code}")


@pytest.fixture
def toy() -> Iterator[Importer]:
    imp = pipeline.register(
        Importer(
            key="toy",
            order=99,
            specs=(TOYS,),
            require=lambda actor: None,
            plan=toy_plan,
            apply=toy_apply,
            result=lambda plan: plan.result,
            summary=lambda result: f"{result.created} toys",
        )
    )
    yield imp
    pipeline.unregister("toy")


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


def toys(*rows: list[Any]) -> bytes:
    return csv_data([["Code", "Count"], *rows])


def toy_tags() -> list[str]:
    return sorted(Tag.objects.filter(name__startswith="toy-").values_list("name", flat=True))


# ----------------------------------------------------------------- a registration gets the skeleton


def test_a_registered_toy_importer_reports_every_problem_at_once_and_writes_nothing(toy: Importer) -> None:
    assert pipeline.importer("toy") is toy
    with pytest.raises(TabularError) as exc:
        toy.run(actor=SYSTEM, filename="toys.csv", data=toys(["A1", 1], ["b-2", 2], ["C3", "x"], ["D4", 4]))
    assert [(e.row, e.column, e.value) for e in exc.value.errors] == [(3, "Code", "b-2"), (4, "Count", "x")]
    assert str(exc.value).startswith("2 problems found; nothing was imported.")
    assert toy_tags() == []


def test_a_clean_file_is_written_and_a_dry_run_writes_nothing(toy: Importer) -> None:
    result = toy.run(actor=SYSTEM, filename="toys.csv", data=toys(["A1", 1], ["B2", 2]), dry_run=True)
    assert result.as_dict() == {"created": 2, "dry_run": True}
    assert toy_tags() == []
    result = toy.run(actor=SYSTEM, filename="toys.csv", data=toys(["A1", 1], ["B2", 2]))
    assert result.as_dict() == {"created": 2, "dry_run": False}
    assert toy_tags() == ["toy-A1", "toy-B2"]


def test_a_refusal_half_way_through_the_writes_undoes_them_all(toy: Importer) -> None:
    with pytest.raises(TabularError) as exc:
        toy.run(actor=SYSTEM, filename="toys.csv", data=toys(["A1"], ["B2"], ["BOOM"], ["C3"]))
    assert [e.reason for e in exc.value.errors] == ["the service refused BOOM"]
    assert toy_tags() == []


def test_the_toy_runs_in_one_transaction_with_the_staff_register(org: Any, toy: Importer) -> None:
    people = [PEOPLE_HEADERS, person_row("XH0950", "新人", "XH")]
    book = {"人员": people, "Toys": [["Code", "Count"], ["A1", 1], ["BOOM", 2]]}
    with pytest.raises(TabularError):
        workbook_import(actor=SYSTEM, filename="org.xlsx", data=xlsx(book))
    assert not Person.objects.filter(code="XH0950").exists() and toy_tags() == []  # all or nothing
    book["Toys"] = [["Code", "Count"], ["A1", 1]]
    result = workbook_import(actor=SYSTEM, filename="org.xlsx", data=xlsx(book))
    assert set(result.parts) == {"roster", "toy"} and result.as_dict()["created"] == 1
    assert Person.objects.filter(code="XH0950").exists() and toy_tags() == ["toy-A1"]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "The file is empty."),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "it looks like a PNG file"),
        (b"Code,Count\n", "The file has no data rows."),
        (b"Name,Place\nx,y\n", "No sheet of the expected layout was found"),
    ],
)
def test_hostile_or_empty_files_are_refused_before_any_plan(toy: Importer, data: bytes, reason: str) -> None:
    with pytest.raises(TabularError) as exc:
        toy.run(actor=SYSTEM, filename="toys.csv", data=data)
    assert reason in str(exc.value)


def test_the_shared_helpers() -> None:
    assert list(chunks({"c", "a", "b"}, 2)) == [["a", "b"], ["c"]]
    assert list(chunks(range(5), 2)) == [[0, 1], [2, 3], [4]]
    assert common_path(["00010002", "000100020003", ""]) == "00010002"
    assert common_path(["0001", "0002"]) == ""
    assert common_path([]) == ""


# ----------------------------------------------------------------- templates and the example row


def drop_downs(wb: Any, sheet: str) -> dict[str, list[Any]]:
    """Header → the values its drop-down offers (from the hidden lists sheet)."""
    ws, out = wb[sheet], {}
    for dv in ws.data_validations.dataValidation:
        first = str(dv.sqref).split(":")[0]
        header = ws.cell(1, column_index_from_string(first.rstrip("0123456789"))).value
        ref = dv.formula1.split("!")[1].replace("$", "")
        out[header] = [row[0].value for row in wb["lists"][ref]]
    return out


def test_the_register_template_has_drop_downs_of_the_scope_and_one_example_row(
    org: Any, make_user: Any
) -> None:
    manager = make_user("tpl", "manager", org.xuhui)
    with translation.override("zh-hans"):
        data, _type, _name = people_template(manager)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames[:2] == ["单位", "人员"] and wb["lists"].sheet_state == "hidden"
    people = wb["人员"]
    assert people.max_row == 2 and str(people["A2"].value).startswith("示例")
    offered = drop_downs(wb, "人员")
    assert offered["性别"] == ["男", "女"]
    assert "在职" in offered["人员状态"] and "中共党员" in offered["政治面貌"]
    assert set(offered["单位编码"]) == {"XH", "XH-S1"}  # the manager's scope only: no HP, no SH
    assert "HP" not in {c.value for row in wb["lists"].iter_rows() for c in row}
    assert drop_downs(wb, "单位")["类型"][:2] == ["市局", "市局机关"]


def test_the_untouched_template_says_what_to_do_and_a_filled_one_imports_only_its_rows(org: Any) -> None:
    data, _type, name = people_template(SYSTEM)
    with pytest.raises(TabularError) as exc:
        people_import(actor=SYSTEM, filename=name, data=data)
    assert len(exc.value.errors) == 1 and "only the template's example row" in exc.value.errors[0].reason
    wb = openpyxl.load_workbook(io.BytesIO(data))
    wb["People"].append(person_row("XH0960", "王五", "XH"))
    out = io.BytesIO()
    wb.save(out)
    result = people_import(actor=SYSTEM, filename=name, data=out.getvalue())
    assert (result.people_created, result.units_created) == (1, 0)  # the example rows were skipped
    assert Person.objects.filter(code="XH0960").exists()


# ----------------------------------------------------------------- the scope wording


def test_a_unit_outside_the_scope_and_a_unit_that_does_not_exist_read_the_same(
    org: Any, make_user: Any
) -> None:
    manager = make_user("scope", "manager", org.xuhui)
    rows = [person_row("XH0970", "甲", "HP"), person_row("XH0971", "乙", "NOPE")]
    with pytest.raises(TabularError) as exc:
        people_import(actor=manager, filename="p.csv", data=csv_data([PEOPLE_HEADERS, *rows]))
    reasons = [e.reason for e in exc.value.errors]
    assert len(reasons) == 2 and reasons[0] == reasons[1]
    assert "not in your scope" not in reasons[0] and "in your scope" in reasons[0]
    assert "HP" not in reasons[0]  # the cell shows the code; the reason tells nothing of it


def test_a_person_outside_the_scope_and_one_that_does_not_exist_read_the_same(
    org: Any, make_user: Any
) -> None:
    admin = make_user("xh-admin", "admin", org.xuhui)
    rows = [
        ["工号", "批次编号", "开始时间", "结束时间", "服务类型"],
        ["HP0001", "", "2022-03-18 08:00", "2022-03-18 10:00", "居家社区服务"],  # 黄浦: not the admin's
        ["XX9999", "", "2022-03-18 08:00", "2022-03-18 10:00", "居家社区服务"],  # nobody
    ]
    with pytest.raises(TabularError) as exc:
        ledger_import(actor=admin, filename="s.csv", data=csv_data(rows))
    reasons = [e.reason for e in exc.value.errors if e.column == "工号"]
    assert len(reasons) == 2 and reasons[0] == reasons[1] and "in your scope" in reasons[0]


# ----------------------------------------------------------------- kept uploads


def test_a_kept_upload_is_for_its_uploader_once_and_until_it_expires(
    org: Any, make_user: Any, fixed_clock: Any
) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    held = uploads.upload_keep(actor=alice, importer="roster", filename="p.csv", data=b"abc")
    assert held.sha256 and held.expires_at - held.created_at == timedelta(minutes=30)
    with pytest.raises(uploads.UploadUnknown):
        uploads.upload_take(actor=bob, importer="roster", token=held.token)
    with pytest.raises(uploads.UploadUnknown):
        uploads.upload_take(actor=alice, importer="ledger", token=held.token)
    assert uploads.upload_take(actor=alice, importer="roster", token=held.token).data == b"abc"
    with pytest.raises(uploads.UploadGone, match="imported already"):
        uploads.upload_take(actor=alice, importer="roster", token=held.token)
    assert HeldUpload.objects.get(pk=held.pk).data in (b"", memoryview(b""))

    late = uploads.upload_keep(actor=alice, importer="roster", filename="p.csv", data=b"abc")
    fixed_clock.shift(timedelta(minutes=31))
    with pytest.raises(uploads.UploadGone, match="expired"):
        uploads.upload_take(actor=alice, importer="roster", token=late.token)
