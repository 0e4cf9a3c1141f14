"""The volunteer-profile importer (issue 26): all or nothing, every problem with its sheet, row and column,
the neutral words for people out of scope, hostile cells, the round trip export → import → no change, and
the same importer through the API, the import page and the command line."""

from __future__ import annotations

import io
from datetime import date
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import load_workbook

from muster.orgs.access import SYSTEM
from muster.tabular.errors import TabularError
from muster.tabular.writer import SheetData, csv_bytes, xlsx_bytes
from muster.volunteers import profile_export, profile_io
from muster.volunteers import services as vsvc
from muster.volunteers.models import (
    DayOff,
    HomeObservation,
    Preference,
    Profile,
    Qualification,
    WeeklyWindow,
)

pytestmark = pytest.mark.django_db

API = "/api/v1/volunteers"

HEAD = {
    "志愿者": ["工号", "姓名", "可服务起始日", "可服务截止日", "每周最多小时", "不排夜班"],
    "技能": ["工号", "技能资质", "有效期至", "备注"],
    "每周时段": ["工号", "星期", "开始时间", "结束时间"],
    "不可服务日期": ["工号", "日期"],
    "偏好": ["工号", "类别", "内容", "意愿", "权重"],
    "居家观察": ["工号", "开始日期", "结束日期"],
}


def book(**sheets: list[list[Any]]) -> bytes:
    return xlsx_bytes([SheetData(name, HEAD[name], rows) for name, rows in sheets.items()])


GOOD = {
    "志愿者": [
        ["XH0001", "张丽", "2026-01-01", "2026-12-31", 20, "是"],
        ["XH0009", "周敏", "", "", "", "否"],
    ],
    "技能": [
        ["XH0001", "医护", "2026-06-30", "执业护士"],
        ["XH0001", "driver", "", ""],
        ["XH0009", "驾驶", "", ""],
    ],
    "每周时段": [
        ["XH0001", "周一", "08:00", "12:00"],
        ["XH0001", "Tue", "20:00", "24:00"],
        ["XH0009", "7", "9:00", "17:30"],
    ],
    "不可服务日期": [["XH0001", "2026-03-12"], ["XH0009", "2026/5/1"]],
    "偏好": [["XH0001", "班次类型", "hotline", "希望", 3], ["XH0001", "地点", "宛平社区", "不希望", ""]],
    "居家观察": [["XH0009", "2026-03-01", "2026-03-14"], ["XH0009", "2026-04-01", "2026-04-03"]],
}


def run(actor: Any, data: bytes, name: str = "profiles.xlsx", dry_run: bool = False) -> Any:
    return profile_io.volunteer_import(actor=actor, filename=name, data=data, dry_run=dry_run)


def test_import_writes_every_part_and_round_trips(org: Any, world: Any) -> None:
    r = run(world.leader, book(**GOOD))
    assert (r.people, r.profiles_created, r.profiles_updated, r.profiles_unchanged) == (2, 2, 0, 0)
    alice = Profile.objects.get(person=org.alice)
    assert (alice.available_from, alice.available_until, alice.max_hours_week, alice.no_nights) == (
        date(2026, 1, 1),
        date(2026, 12, 31),
        20,
        True,
    )
    assert dict(Qualification.objects.filter(person=org.alice).values_list("skill__code", "valid_until")) == {
        "medic": date(2026, 6, 30),
        "driver": None,
    }
    assert sorted(
        WeeklyWindow.objects.filter(person=org.alice).values_list("weekday", "start_minute", "end_minute")
    ) == [(0, 480, 720), (1, 1200, 1440)]
    assert list(WeeklyWindow.objects.filter(person=world.zhou).values_list("weekday", "start_minute")) == [
        (6, 540)
    ]
    assert list(DayOff.objects.filter(person=world.zhou).values_list("day", flat=True)) == [date(2026, 5, 1)]
    assert set(
        Preference.objects.filter(person=org.alice).values_list("kind", "value", "wanted", "weight")
    ) == {
        ("kind", "hotline", True, 3),
        ("site", "宛平社区", False, 1),
    }
    assert HomeObservation.objects.filter(person=world.zhou).count() == 2
    # the round trip: what the export writes imports back with no change, as .xlsx and as one .csv sheet
    data, ctype, filename = profile_export.volunteer_export(actor=world.leader, fmt="xlsx")
    assert filename.endswith(".xlsx") and "spreadsheet" in ctype
    again = run(world.leader, data, filename)
    assert (again.people, again.profiles_created, again.profiles_updated, again.profiles_unchanged) == (
        2,
        0,
        0,
        2,
    )
    csv, _t, csv_name = profile_export.volunteer_export(actor=world.leader, fmt="csv", sheet="windows")
    again = run(world.leader, csv, csv_name)
    assert (again.profiles_updated, again.profiles_unchanged) == (0, 2)


def test_a_sheet_the_file_lacks_is_kept_and_one_it_holds_replaces(org: Any, world: Any) -> None:
    run(world.leader, book(**GOOD))
    r = run(world.leader, book(技能=[["XH0001", "心理疏导", "", ""]]))
    assert (r.people, r.profiles_updated) == (1, 1)
    assert list(Qualification.objects.filter(person=org.alice).values_list("skill__code", flat=True)) == [
        "counsel"
    ]
    assert WeeklyWindow.objects.filter(person=org.alice).count() == 2  # no windows sheet: kept
    assert Profile.objects.get(person=org.alice).max_hours_week == 20  # not on the volunteers sheet: kept
    assert Qualification.objects.filter(person=world.zhou).count() == 1  # not named in the file: kept


def errors_of(actor: Any, data: bytes) -> list[Any]:
    with pytest.raises(TabularError) as exc:
        run(actor, data)
    return exc.value.errors


def test_every_problem_with_sheet_row_and_column_and_nothing_written(org: Any, world: Any) -> None:
    errors = errors_of(
        world.leader,
        book(
            志愿者=[
                ["XH0001", "", "9999-12-31", "", 99999999999999999999999, "也许"],
                ["XH0002", "", "2026-05-01", "2026-04-01", 1e300, ""],
                ["XH0001", "", "", "", "", ""],
            ],
            技能=[
                ["XH0001", "飞行", "", ""],
                ["XH0002", "医护", "", "坏\x07字"],
                ["XH0002", "medic", "", ""],
            ],
            每周时段=[
                ["XH0001", "周一", "08:00", "12:00"],
                ["XH0001", "周一", "11:00", "13:00"],
                ["XH0001", "周二", "12:00", "08:00"],
                ["XH0001", "周八", "25:00", "24:00"],
            ],
            不可服务日期=[["XH0001", "2026-02-30"], ["XH0001", "2026-03-01"], ["XH0001", "2026-03-01"]],
            偏好=[["XH0001", "心情", "x", "", ""], ["XH0001", "地点", "a", "希望", 11]],
            居家观察=[
                ["XH0009", "2026-03-10", "2026-03-01"],
                ["XH0009", "2026-03-01", "2026-03-10"],
                ["XH0009", "2026-03-05", "2026-03-20"],
            ],
        ),
    )
    where = {(e.sheet, e.row, e.column) for e in errors}
    expected = {
        ("志愿者", 2, "可服务起始日"),  # year 9999
        ("志愿者", 2, "每周最多小时"),  # past 2^63
        ("志愿者", 2, "不排夜班"),
        ("志愿者", 3, "可服务截止日"),  # ends before it starts
        ("志愿者", 3, "每周最多小时"),  # 1e300
        ("志愿者", 4, "工号"),  # the same person twice
        ("技能", 2, "技能资质"),  # not on the list
        ("技能", 4, "技能资质"),  # the same skill twice
        ("每周时段", 3, "开始时间"),  # overlaps row 2
        ("每周时段", 4, "结束时间"),  # ends before it starts
        ("每周时段", 5, "星期"),
        ("每周时段", 5, "开始时间"),
        ("不可服务日期", 2, "日期"),  # no such day
        ("不可服务日期", 4, "日期"),  # twice
        ("偏好", 2, "类别"),
        ("偏好", 3, "权重"),
        ("居家观察", 2, "结束日期"),  # ends before it starts
        ("居家观察", 4, "开始日期"),  # overlaps row 3
    }
    assert expected <= where, expected - where
    assert all(e.reason for e in errors)
    # a control character (in a .csv among good rows: an .xlsx cannot hold one)
    rows = [["XH0002", "地点", f"地点{i}", "希望", 1] for i in range(150)] + [
        ["XH0002", "地点", "坏\x07字", "", ""]
    ]
    with pytest.raises(TabularError) as exc:
        run(world.leader, csv_bytes(HEAD["偏好"], rows), "wishes.csv")
    assert [(e.row, e.column) for e in exc.value.errors] == [(152, "内容")]
    assert "control character" in exc.value.errors[0].reason
    assert not Profile.objects.exists() and not Qualification.objects.exists()
    assert not WeeklyWindow.objects.exists() and not HomeObservation.objects.exists()


def test_people_out_of_scope_get_the_same_words_as_nobody(org: Any, world: Any) -> None:
    errors = errors_of(world.leader, book(技能=[["HP0001", "医护", "", ""], ["ZZ9999", "医护", "", ""]]))
    reasons = {e.value: e.reason for e in errors}
    assert reasons["HP0001"] == reasons["ZZ9999"]
    assert "李娜" not in str(errors)
    assert not Qualification.objects.exists()


def test_dry_run_writes_nothing_and_a_plain_member_may_not_import(org: Any, world: Any) -> None:
    r = run(world.leader, book(**GOOD), dry_run=True)
    assert r.dry_run and r.profiles_created == 2
    assert not Profile.objects.exists()
    with pytest.raises(Exception) as exc:
        run(world.bob_user, book(**GOOD))
    assert exc.type.__name__ in {"NotAllowed", "PermissionDenied"}


def test_api_import_confirm_export_and_refusal(org: Any, world: Any, login: Any) -> None:
    c = login(world.leader)
    data = book(**GOOD)
    r = c.post(f"{API}/import?dry_run=true", {"file": named(data, "p.xlsx")})
    assert r.status_code == 200, r.content
    assert r.json()["profiles_created"] == 2 and not Profile.objects.exists()
    r = c.post(f"{API}/import/confirm", {"token": r.json()["confirm_token"]}, content_type="application/json")
    assert r.status_code == 200 and r.json()["profiles_created"] == 2
    assert Profile.objects.count() == 2
    r = c.get(f"{API}/export", {"format": "csv", "sheet": "skills"})
    assert r.status_code == 200 and "医护" in r.content.decode("utf-8-sig")
    r = c.post(f"{API}/import", {"file": named(book(技能=[["XH0001", "飞行", "", ""]]), "bad.xlsx")})
    assert r.status_code == 422
    body = r.json()
    assert body["errors"][0]["sheet"] == "技能" and body["errors"][0]["row"] == 2
    assert login(world.bob_user).post(f"{API}/import", {"file": named(data, "p.xlsx")}).status_code == 403
    assert c.get(f"{API}/export", {"unit": "NOPE"}).status_code in (404, 422)


def named(data: bytes, name: str) -> Any:
    f = io.BytesIO(data)
    f.name = name
    return f


def test_import_page_and_template_with_drop_downs(org: Any, world: Any, login: Any) -> None:
    c = login(world.leader)
    assert 'href="/import/volunteers/"' in c.get("/volunteers/").content.decode()
    assert c.get("/import/volunteers/").status_code == 200
    r = c.get("/import/volunteers/template/")
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    lists = wb["lists"]
    values = {cell.value for col in lists.iter_cols() for cell in col}
    assert {"医护", "驾驶", "周一", "是", "希望"} <= values or {"medic", "Mon", "yes", "wanted"} & values
    sheet = next(ws for ws in wb.worksheets if ws.title in ("技能", "Skills"))
    assert sheet.data_validations.dataValidation
    # the untouched template is refused with what to do
    with pytest.raises(TabularError, match="example"):
        run(world.leader, r.content)
    r = c.post("/import/volunteers/", {"file": named(book(**GOOD), "p.xlsx"), "dry_run": ""})
    assert r.status_code == 200
    assert Profile.objects.count() == 2
    assert login(world.bob_user).get("/import/volunteers/").status_code == 403


def test_cli_import_export(org: Any, world: Any, tmp_path: Any) -> None:
    path = tmp_path / "p.xlsx"
    path.write_bytes(book(**GOOD))
    out = StringIO()
    call_command("volunteers", "import", str(path), "--dry-run", stdout=out)
    assert "2 created" in out.getvalue() and not Profile.objects.exists()
    call_command("volunteers", "import", str(path), stdout=StringIO())
    back = tmp_path / "back.xlsx"
    call_command("volunteers", "export", str(back), "--unit", "XH", stdout=StringIO())
    out = StringIO()
    call_command("volunteers", "import", str(back), stdout=out)
    assert "0 created, 0 changed, 2 unchanged" in out.getvalue()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes(HEAD["技能"], [["XH0001", "飞行", "", ""]]))
    err = StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("volunteers", "import", str(bad), stderr=err)
    assert "row 2" in err.getvalue()
    with pytest.raises(CommandError):
        call_command("volunteers", "import", str(path), "--as", "mgr_hp", stderr=StringIO())


def test_services_profile_set_still_refuses_what_the_file_would(org: Any, world: Any) -> None:
    """The importer writes through ``profile_set``: its checks stay the one authority."""
    with pytest.raises(Exception, match="overlaps"):
        vsvc.profile_set(
            actor=SYSTEM,
            person=org.alice,
            windows=[vsvc.WindowIn(0, 480, 720), vsvc.WindowIn(0, 600, 800)],
        )


def test_the_export_is_for_those_who_may_edit_profiles_and_holds_only_people_they_may_edit(
    org: Any, world: Any, make_user: Any, client: Any
) -> None:
    """Windows, days off and home observation are private: a viewer gets no file (403), and a manager of
    another district exports none of these people."""
    run(world.leader, book(**GOOD))
    viewer = make_user("viewer_xh", "viewer", org.xuhui)
    with pytest.raises(Exception) as exc:
        profile_export.volunteer_export(actor=viewer, fmt="xlsx")
    assert type(exc.value).__name__ == "NotAllowed"
    client.force_login(viewer)
    assert client.get(f"{API}/export").status_code == 403
    people = profile_export.people_with_profiles(world.leader, None)
    assert [p.code for p in people] == ["XH0001", "XH0009"]
    assert profile_export.people_with_profiles(world.manager_hp, None) == []
    data, _ctype, _name = profile_export.volunteer_export(actor=world.manager_hp, fmt="xlsx")
    sheets = load_workbook(io.BytesIO(data))
    assert all(ws.max_row <= 1 for ws in sheets.worksheets)  # headers only
