"""The import/export page: summary or every row error; nothing written on errors; exports."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from muster.audit.models import AuditEvent
from muster.orgs.models import Person, Unit
from tests.conftest import make_id_number

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _workbook(units: list[list[object]], people: list[list[object]]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "单位"
    ws.append(["编码", "名称", "上级编码", "类型"])
    for row in units:
        ws.append(row)
    ws = wb.create_sheet("人员")
    ws.append(
        [
            "工号",
            "姓名",
            "性别",
            "出生日期",
            "单位编码",
            "党组织编码",
            "政治面貌",
            "人员状态",
            "手机",
            "身份证号",
            "标签",
        ]
    )
    for row in people:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


GOOD_UNITS = [["XH-S9", "徐汇区税务局第九税务所", "XH", "税务所"]]
GOOD_PEOPLE = [
    [
        "XH0901",
        "孙敏",
        "女",
        "1990-03-07",
        "XH-S9",
        "",
        "中共党员",
        "在职",
        "13811112222",
        make_id_number(seq="222"),
        "青年",
    ],
    ["XH0902", "周涛", "男", "2022年3月18日", "XH-S9", "", "群众", "在职", "", "", ""],
]


def _upload(client, data: bytes, *, name: str = "名册.xlsx", dry_run: bool = False):
    payload = {"file": SimpleUploadedFile(name, data, content_type=XLSX)}
    if dry_run:
        payload["dry_run"] = "on"
    return client.post(reverse("web:people_import"), payload)


def _state() -> tuple[int, int, int]:
    return Person.objects.count(), Unit.objects.count(), AuditEvent.objects.count()


@pytest.mark.django_db
def test_validate_only_writes_nothing(org, as_role) -> None:
    c = as_role("manager", org.xuhui)
    before = _state()
    r = _upload(c, _workbook(GOOD_UNITS, GOOD_PEOPLE), dry_run=True)
    assert r.status_code == 200
    assert r.context["result_counts"]["people_created"] == 2
    assert 'id="import-result"' in r.content.decode()
    assert _state() == before


@pytest.mark.django_db
def test_import_writes_and_people_are_listed(org, as_role) -> None:
    c = as_role("manager", org.xuhui)
    r = _upload(c, _workbook(GOOD_UNITS, GOOD_PEOPLE))
    assert r.status_code == 200
    summary = r.context["result_counts"]
    assert (summary["units_created"], summary["people_created"]) == (1, 2)
    assert Person.objects.get(code="XH0901").unit.code == "XH-S9"
    people = c.get(reverse("web:people"), {"q": "XH09"}).content.decode()
    assert "孙敏" in people and "周涛" in people
    assert AuditEvent.objects.filter(action="orgs.roster.imported", channel="web").exists()
    # Importing the same file again changes nothing.
    again = _upload(c, _workbook(GOOD_UNITS, GOOD_PEOPLE)).context["result_counts"]
    assert (again["people_created"], again["people_updated"], again["people_unchanged"]) == (0, 0, 2)


@pytest.mark.django_db
def test_bad_rows_are_all_shown_and_nothing_is_written(org, as_role) -> None:
    c = as_role("manager", org.xuhui)
    bad_id = make_id_number(seq="333")
    bad_id = bad_id[:-1] + ("0" if bad_id[-1] != "0" else "1")
    people = [
        *GOOD_PEOPLE,
        ["XH0903", "吴刚", "男", "", "NOPE", "", "群众", "在职", "", "", ""],
        ["XH0904", "郑爽", "女", "", "XH-S9", "", "群众", "在职", "", bad_id, ""],
        ["XH0905", "冯军", "男", "2022-02-30", "XH-S9", "", "群众", "在职", "", "", ""],
    ]
    before = _state()
    r = _upload(c, _workbook(GOOD_UNITS, people))
    assert r.status_code == 400
    errors = r.context["row_errors"]
    by_row = {e.row: e for e in errors}
    assert {4, 5, 6} <= set(by_row)
    assert by_row[4].value == "NOPE" and by_row[4].sheet == "人员"
    assert by_row[5].value == bad_id
    assert by_row[6].value.startswith("2022-02-30")
    html = r.content.decode()
    assert 'id="import-errors"' in html and "NOPE" in html and bad_id in html
    for e in errors:
        assert e.reason in html
    assert _state() == before
    assert not Person.objects.filter(code="XH0901").exists()


@pytest.mark.django_db
def test_a_file_that_is_not_a_workbook_is_refused(org, as_role) -> None:
    c = as_role("manager", org.xuhui)
    before = _state()
    r = _upload(c, b"this is not a workbook")
    assert r.status_code == 400
    assert r.context["row_errors"] and 'id="import-errors"' in r.content.decode()
    assert _state() == before


@pytest.mark.django_db
def test_size_limit_and_file_type(org, as_role, settings) -> None:
    c = as_role("manager", org.xuhui)
    settings.MUSTER_IMPORT_MAX_BYTES = 1000
    before = _state()
    r = _upload(c, _workbook(GOOD_UNITS, GOOD_PEOPLE))
    assert r.status_code == 400
    assert "MB" in r.context["form"].errors["file"][0]
    settings.MUSTER_IMPORT_MAX_BYTES = 20 * 1024 * 1024
    r = _upload(c, b"a,b", name="roster.txt")
    assert r.status_code == 400 and "file" in r.context["form"].errors
    assert _state() == before


@pytest.mark.django_db
def test_exports_and_template(org, as_role) -> None:
    c = as_role("manager", org.xuhui)
    page = c.get(reverse("web:people_import")).content.decode()
    assert reverse("web:people_template") in page and reverse("web:people_export") in page

    r = c.post(reverse("web:people_export"), {"what": "xlsx", "unit": ""})
    assert r.status_code == 200 and r["Content-Type"] == XLSX
    assert "attachment" in r["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    codes = {row[0] for row in wb["人员"].iter_rows(min_row=2, values_only=True)}
    assert codes == {"XH0001", "XH0002"}  # only what the manager may see

    r = c.post(reverse("web:people_export"), {"what": "csv-units", "unit": org.xuhui.pk})
    assert r.status_code == 200 and "csv" in r["Content-Type"]
    text = r.content.decode("utf-8-sig")
    assert "XH-S1" in text and "HP" not in text.split()

    r = c.post(reverse("web:people_export"), {"what": "csv-people", "unit": org.xuhui_office.pk})
    text = r.content.decode("utf-8-sig")
    assert "XH0002" in text and "XH0001" not in text

    # A unit outside the scope is not a valid choice.
    r = c.post(reverse("web:people_export"), {"what": "xlsx", "unit": org.huangpu.pk})
    assert r.status_code == 400

    r = c.get(reverse("web:people_template"))
    assert r.status_code == 200 and r["Content-Type"] == XLSX
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["单位", "人员", "lists"] and wb["人员"].max_row == 2  # one example row
    assert str(wb["人员"]["A2"].value).startswith("示例") and wb["lists"].sheet_state == "hidden"


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["secretary", "leader", "member", "viewer"])
def test_roster_needs_the_import_permission(org, as_role, role) -> None:
    c = as_role(role, org.xuhui)
    assert reverse("web:people_import") not in c.get(reverse("web:home")).content.decode()
    before = _state()
    assert c.get(reverse("web:people_import")).status_code == 403
    assert _upload(c, _workbook(GOOD_UNITS, GOOD_PEOPLE)).status_code == 403
    assert c.post(reverse("web:people_export"), {"what": "xlsx"}).status_code == 403
    assert c.get(reverse("web:people_template")).status_code == 403
    assert _state() == before
