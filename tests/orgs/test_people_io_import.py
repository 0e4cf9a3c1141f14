"""The roster import service: what it understands, what it refuses (precisely, writing nothing), rights."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from django.test import override_settings
from django.utils import translation

from muster.audit.models import AuditEvent
from muster.orgs.access import SYSTEM, NotAllowed
from muster.orgs.models import Person, Tag, Unit
from muster.orgs.people_io import people_import
from muster.orgs.validators import mask_phone
from muster.tabular.errors import RowError, TabularError
from tests.conftest import make_id_number
from tests.tabular.helpers import PEOPLE_HEADERS, UNIT_HEADERS, csv_data, person_row, xlsx

pytestmark = pytest.mark.django_db
UNIT_NOT_IN_SCOPE = (
    "there is no unit with this code in your scope (it does not exist, or you do not manage it)"
)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def imp(data: bytes, filename: str = "roster.xlsx", actor=SYSTEM, **kw):
    return people_import(actor=actor, filename=filename, data=data, **kw)


def state() -> tuple:
    """Everything an import could write."""
    return (
        list(Unit.objects.order_by("code").values_list("code", "name", "kind", "path", "numchild")),
        list(Person.objects.order_by("code").values_list()),
        list(Tag.objects.values_list("name", flat=True)),
        list(Person.tags.through.objects.order_by("id").values_list("person_id", "tag_id")),
        AuditEvent.objects.count(),
    )


def refused(data: bytes, filename: str = "roster.xlsx", actor=SYSTEM) -> list[RowError]:
    before = state()
    with pytest.raises(TabularError) as exc:
        imp(data, filename, actor)
    assert state() == before, "a refused file must write nothing"
    return exc.value.errors


def one(errors: list[RowError]) -> RowError:
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]


def people_book(*rows, headers=PEOPLE_HEADERS, sheet="人员") -> bytes:
    return xlsx({sheet: [headers, *rows]})


# ---------------------------------------------------------------- what it does


def test_creates_units_parents_first_and_people_with_everything(org):
    id_number = make_id_number(birth="19851120", seq="131")
    data = xlsx(
        {
            "人员": [
                PEOPLE_HEADERS,
                person_row(
                    "XH0101",
                    "陈明",
                    "XH-S2-K1",
                    party="XH-B02",
                    political="中共党员",
                    status="在职",
                    phone="13811112222",
                    id=id_number,
                    tags="青年、骨干",
                ),
                person_row(
                    "XH0102",
                    "周静",
                    "XH-S2",
                    gender="女",
                    birth="1992-05-01",
                    political="共青团员",
                    status="借调",
                ),
            ],
            "单位": [
                UNIT_HEADERS,
                [
                    "XH-S2-K1",
                    "第二税务所第一科",
                    "XH-S2",
                    "科室",
                ],  # before its parent: the importer orders them
                ["XH-S2", "徐汇区税务局第二税务所", "XH", "税务所"],
                ["XH-B02", "第二税务所党支部", "XH-DW", "党支部"],
            ],
        }
    )
    result = imp(data)
    assert result.as_dict() == {
        "units_created": 3,
        "units_updated": 0,
        "units_moved": 0,
        "units_unchanged": 0,
        "people_created": 2,
        "people_updated": 0,
        "people_unchanged": 0,
        "dry_run": False,
    }
    k1 = Unit.objects.get(code="XH-S2-K1")
    s2 = Unit.objects.get(code="XH-S2")
    assert Unit.objects.get_parent(k1) == s2 and Unit.objects.get_parent(s2) == org.xuhui
    assert k1.kind == "section"
    assert Unit.objects.get_parent(Unit.objects.get(code="XH-B02")) == org.xuhui_committee
    assert Unit.objects.get(pk=org.xuhui.pk).numchild == 2  # treebeard's counters stay right
    assert all(not problems for problems in Unit.objects.find_problems())

    chen = Person.objects.get(code="XH0101")
    assert (chen.name, chen.unit, chen.party_unit) == ("陈明", k1, Unit.objects.get(code="XH-B02"))
    assert (chen.political_status, chen.employment_status) == ("member", "active")
    assert chen.phone == "13811112222" and chen.id_number == id_number
    assert "13811112222" not in chen.phone_enc  # encrypted at rest
    assert (chen.gender, chen.birth_date) == ("M", date(1985, 11, 20))  # taken from the ID number
    assert sorted(chen.tags.values_list("name", flat=True)) == ["青年", "骨干"]
    zhou = Person.objects.get(code="XH0102")
    assert (zhou.gender, zhou.birth_date, zhou.political_status, zhou.employment_status) == (
        "F",
        date(1992, 5, 1),
        "league",
        "seconded",
    )

    created = AuditEvent.objects.filter(action="orgs.person.created", target_id=str(chen.pk)).get()
    assert created.changes["phone"] == "138****2222" and created.changes["id_number"].count("*") == 15
    assert created.unit_path == k1.path
    summary = AuditEvent.objects.get(action="orgs.roster.imported")
    assert AuditEvent.objects.filter(batch=summary.batch, action="orgs.unit.created").count() == 3
    # units, people, the new tag (青年 existed), the summary
    assert AuditEvent.objects.filter(batch=summary.batch).count() == 3 + 2 + 1 + 1
    assert summary.changes["people_created"] == 2 and summary.changes["file"] == "roster.xlsx"
    assert summary.actor_name == "system"


def test_reimporting_the_same_file_changes_nothing(org):
    data = xlsx(
        {
            "单位": [UNIT_HEADERS, ["XH-S2", "第二税务所", "XH", "税务所"]],
            "人员": [
                PEOPLE_HEADERS,
                person_row(
                    "XH0101", "陈明", "XH-S2", phone="13811112222", tags="青年", id=make_id_number(seq="131")
                ),
            ],
        }
    )
    imp(data)
    before = state()
    stamps = list(Person.objects.values_list("updated_at", flat=True))
    again = imp(data)
    assert again.as_dict() == {
        "units_created": 0,
        "units_updated": 0,
        "units_moved": 0,
        "units_unchanged": 1,
        "people_created": 0,
        "people_updated": 0,
        "people_unchanged": 1,
        "dry_run": False,
    }
    after = state()
    assert after[:4] == before[:4]
    assert after[4] == before[4] + 1  # the summary event only
    assert AuditEvent.objects.order_by("-id").first().action == "orgs.roster.imported"
    assert list(Person.objects.values_list("updated_at", flat=True)) == stamps


def test_dry_run_counts_but_writes_nothing(org):
    data = people_book(person_row("XH0101", "陈明", "XH"), person_row("XH0001", "张丽丽", "XH"))
    before = state()
    result = imp(data, dry_run=True)
    assert (result.people_created, result.people_updated, result.dry_run) == (1, 1, True)
    assert state() == before


def test_updates_moves_and_audits_changes_with_masked_data(org):
    data = xlsx(
        {
            "units": [["code", "name", "parent", "type"], ["XH-S1", "徐汇一所", "HP", "tax_office"]],
            "people": [
                ["staff number", "name", "unit code", "phone", "employment status", "tags"],
                ["XH0002", "王强", "HP", "13900009999", "Retired", "驾驶员, 青年"],
            ],
        }
    )
    result = imp(data)
    assert (result.units_updated, result.units_moved, result.people_updated) == (1, 1, 1)
    office = Unit.objects.get(code="XH-S1")
    assert office.name == "徐汇一所" and Unit.objects.get_parent(office) == org.huangpu
    assert office.path.startswith(org.huangpu.path)
    bob = Person.objects.get(code="XH0002")
    assert (bob.unit, bob.phone, bob.employment_status) == (org.huangpu, "13900009999", "retired")
    assert sorted(bob.tags.values_list("name", flat=True)) == ["青年", "驾驶员"]
    moved = AuditEvent.objects.get(action="orgs.unit.moved")
    assert moved.changes == {"parent": ["XH", "HP"]}
    updated = AuditEvent.objects.get(action="orgs.person.updated", batch=moved.batch)
    assert updated.changes["phone"] == [mask_phone("13900001111"), mask_phone("13900009999")]
    assert updated.changes["unit"] == ["XH-S1", "HP"]
    assert updated.changes["employment_status"] == ["active", "retired"]
    assert AuditEvent.objects.filter(
        action="orgs.tag.created", target_repr="驾驶员", batch=moved.batch
    ).exists()
    assert all(not problems for problems in Unit.objects.find_problems())
    # A second run is a no-op.
    again = imp(data)
    assert not again.changed and again.units_unchanged == 1 and again.people_unchanged == 1


def test_english_headers_and_codes_in_csv_files(org):
    units = csv_data([["Code", "Name", "Parent code", "Type"], ["XH-S3", "Third office", "XH", "Tax office"]])
    assert imp(units, "units.csv").units_created == 1
    people = csv_data(
        [
            [
                "Staff number",
                "Name",
                "Gender",
                "Birth date",
                "Unit code",
                "Party unit code",
                "Political status",
                "Employment status",
                "Phone",
                "ID number",
                "Tags",
            ],
            [
                "XH0201",
                "Li Lei",
                "male",
                "1990/3/7",
                "XH-S3",
                "XH-B01",
                "Party member",
                "in service",
                "",
                "",
                "",
            ],
            ["XH0202", "Han Meimei", "F", "", "XH-S3", "", "non_party", "retired", "021-64871234", "", "a;b"],
        ]
    )
    assert imp(people, "people.csv").people_created == 2
    li = Person.objects.get(code="XH0201")
    assert (li.gender, li.birth_date, li.political_status, li.party_unit) == (
        "M",
        date(1990, 3, 7),
        "member",
        org.xuhui_branch,
    )
    assert Person.objects.get(code="XH0202").phone == "021-64871234"


def test_gb18030_csv_from_excel(org):
    rows = [["工号", "姓名", "单位编码", "政治面貌"], ["XH0301", "张伟", "XH", "群众"]]
    assert imp(csv_data(rows, "gb18030"), "名册.csv").people_created == 1


def test_understood_not_refused(org):
    wb = xlsx(
        {
            "人员": [
                ["徐汇区税务局人员名册（2022年3月）"],  # a title row above the header
                [" 工 号 ", "姓名 ", "出生日期", "单位编码", "手机", "身份证号", "政治面貌"],
                ["ＸＨ０４０１", " 王 　芳 ", 44638, " XH ", "１３８ 1234 5678", None, " 中共党员 "],
                [
                    "XH0402",
                    "刘洋",
                    datetime(1990, 3, 7, 0, 0),
                    "XH",
                    13812345679,
                    make_id_number(seq="135"),
                    "",
                ],
                ["XH0403", "赵敏", "1990年3月7日", "XH", "", "", ""],
                ["XH0404", "孙丽", "1990/3/7", "XH", "", "", ""],
                ["XH0405", "周杰", "19900307", "XH", "", "", ""],
                [None, None, None, None],
                [None, None, None, None],
            ],
            "单位": [UNIT_HEADERS],  # sheets in any order; an empty units sheet is fine
        }
    )
    assert imp(wb).people_created == 5
    wang = Person.objects.get(code="XH0401")
    assert (wang.name, wang.unit, wang.phone, wang.birth_date, wang.political_status) == (
        "王 芳",
        org.xuhui,
        "13812345678",
        date(2022, 3, 18),
        "member",
    )
    liu = Person.objects.get(code="XH0402")
    assert (liu.birth_date, liu.phone, liu.gender) == (date(1990, 3, 7), "13812345679", "M")
    for code in ("XH0403", "XH0404", "XH0405"):
        assert Person.objects.get(code=code).birth_date == date(1990, 3, 7)


def test_masked_values_keep_what_is_stored(org):
    alice_id = org.alice.id_number
    data = people_book(
        person_row(
            "XH0001",
            "张丽",
            "XH",
            party="XH-B01",
            political="中共党员",
            gender="女",
            phone="138****5678",
            id=alice_id[:4] + "*" * 10 + alice_id[-4:],
            tags="青年",
        )
    )
    result = imp(data)
    assert result.people_unchanged == 1
    alice = Person.objects.get(code="XH0001")
    assert (alice.phone, alice.id_number) == ("13812345678", alice_id)


# ---------------------------------------------------------------- refused, precisely, writing nothing


def test_missing_required_column(org):
    headers = ["工号", "姓名", "性别"]
    e = one(refused(xlsx({"人员": [headers, ["XH0101", "陈明", "男"]]})))
    assert (e.sheet, e.row, e.column) == ("人员", 1, "Unit code")
    assert "required column is missing" in e.reason and "单位编码" in e.reason


def test_unknown_unit_code(org):
    e = one(refused(people_book(person_row("XH0101", "陈明", "XH"), person_row("XH0102", "周静", "ZZ-9"))))
    assert (e.file, e.sheet, e.row, e.column, e.value) == ("roster.xlsx", "人员", 3, "单位编码", "ZZ-9")
    assert e.reason == UNIT_NOT_IN_SCOPE
    assert str(e) == "roster.xlsx · 人员 · row 3 · 单位编码 = 'ZZ-9' : " + UNIT_NOT_IN_SCOPE


def test_unit_out_of_scope_is_reported_as_unknown(org, make_user):
    # Issue 27 (12): "not in your scope" — the same words as for a code that does not exist (nothing leaks).
    manager = make_user("m", "manager", org.xuhui)
    e = one(refused(people_book(person_row("XH0101", "陈明", "HP")), actor=manager))
    assert (e.column, e.value, e.reason) == ("单位编码", "HP", UNIT_NOT_IN_SCOPE)
    units = xlsx({"单位": [UNIT_HEADERS, ["HP-S9", "黄浦九所", "HP", "税务所"]]})
    assert one(refused(units, actor=manager)).reason == UNIT_NOT_IN_SCOPE


def test_parent_cycle_within_the_file(org):
    data = xlsx(
        {
            "单位": [
                UNIT_HEADERS,
                ["A1", "甲", "B1", "科室"],
                ["B1", "乙", "A1", "科室"],
                ["C1", "丙", "C1", "科室"],
            ]
        }
    )
    errors = refused(data)
    by_row = {e.row: e for e in errors}
    assert sorted(by_row) == [2, 3, 4] and all(e.column == "上级编码" for e in errors)
    assert by_row[2].reason in (
        "this parent would make a cycle: A1 → B1 → A1",
        "this parent would make a cycle: B1 → A1 → B1",
    )
    assert by_row[3].reason == by_row[2].reason
    assert by_row[4].reason == "a unit cannot be its own parent"


def test_parent_cycle_through_units_already_stored(org):
    # XH-S1 is under XH; moving XH under XH-S1 would make XH its own ancestor.
    e = one(refused(xlsx({"单位": [UNIT_HEADERS, ["XH", "徐汇区税务局", "XH-S1", "区局"]]})))
    assert (e.row, e.column, e.value) == (2, "上级编码", "XH-S1")
    assert "cycle: XH → XH-S1 → XH" in e.reason


def test_duplicate_codes_within_the_file(org):
    errors = refused(
        xlsx(
            {
                "单位": [UNIT_HEADERS, ["N1", "一", "XH", "科室"], ["N1", "二", "XH", "科室"]],
                "人员": [
                    PEOPLE_HEADERS,
                    person_row("P1", "甲", "XH"),
                    person_row("P2", "乙", "XH"),
                    person_row("P1", "丙", "XH"),
                ],
            }
        )
    )
    assert sorted((e.sheet, e.row, e.column, e.value) for e in errors) == [
        ("人员", 4, "工号", "P1"),
        ("单位", 3, "编码", "N1"),
    ]
    assert all("already in row 2" in e.reason for e in errors)


def test_bad_id_check_digit(org):
    good = make_id_number(seq="131")
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    e = one(refused(people_book(person_row("P1", "甲", "XH", id=bad))))
    assert (e.row, e.column, e.value) == (2, "身份证号", bad)
    assert e.reason == f"the check digit should be {good[17]}, not {bad[17]}"


def test_id_number_that_excel_turned_into_a_number(org):
    e = one(refused(people_book(person_row("P1", "甲", "XH", id=310104199003071230.0))))
    assert "kept only 15 digits" in e.reason


def test_impossible_date(org):
    e = one(refused(people_book(person_row("P1", "甲", "XH", birth="2022-02-30"))))
    assert (e.row, e.column, e.value, e.reason) == (
        2,
        "出生日期",
        "2022-02-30",
        "there is no day 30 in 2022-02",
    )


def test_birth_date_that_disagrees_with_the_id_number(org):
    e = one(refused(people_book(person_row("P1", "甲", "XH", birth="1991-03-07", id=make_id_number()))))
    assert (e.column, e.reason) == ("出生日期", "the ID number says the birth date is 1990-03-07")
    e = one(refused(people_book(person_row("P1", "甲", "XH", gender="女", id=make_id_number(seq="131")))))
    assert e.column == "性别" and "gender is" in e.reason


def test_empty_files(org):
    assert one(refused(b"")).reason == "The file is empty."
    assert one(refused(people_book())).reason == "The file has no data rows."
    assert (
        one(refused(csv_data([["工号", "姓名", "单位编码"]]), "p.csv")).reason == "The file has no data rows."
    )


@pytest.mark.parametrize(
    ("filename", "data"),
    [("roster.xlsx", "工号,姓名\nP1,甲\n".encode()), ("roster.xlsx", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)],
)
def test_not_a_workbook(org, filename, data):
    e = one(refused(data, filename))
    assert e.row is None and "not an Excel workbook" in e.reason


@override_settings(MUSTER_IMPORT_MAX_BYTES=2048)
def test_file_over_the_size_limit(org):
    rows = [person_row(f"P{i}", "甲", "XH") for i in range(200)]
    data = csv_data([PEOPLE_HEADERS, *rows])
    assert len(data) > 2048
    assert "the limit is 2 KB" in one(refused(data, "big.csv")).reason


def test_formulas_in_cells(org):
    e = one(
        refused(
            people_book(person_row("P1", "甲", "XH"), person_row("P2", "乙", "XH", tags='=CONCAT("a","b")'))
        )
    )
    assert (e.row, e.column) == (3, "标签")
    assert "cell K3 holds a formula" in e.reason


def test_one_bad_row_among_thousands(org):
    rows = [person_row(f"XH{i:05d}", "张三", "XH-S1", phone=f"139{i:08d}") for i in range(3000)]
    rows[1776][8] = "12345"
    e = one(refused(people_book(*rows)))
    assert (e.row, e.column, e.value) == (1778, "手机", "12345")
    assert "11-digit mobile" in e.reason


def test_every_error_is_reported_up_to_a_cap(org):
    rows = [person_row(f"P{i}", "甲", "NOPE") for i in range(1200)]
    errors = refused(people_book(*rows))
    assert len(errors) == 1001
    assert errors[0].row == 2 and errors[999].row == 1001
    assert errors[-1].row is None and "200 more problems" in errors[-1].reason


def test_person_unit_must_be_administrative_and_party_unit_a_party_organization(org):
    errors = refused(
        people_book(person_row("P1", "甲", "XH-B01"), person_row("P2", "乙", "XH", party="XH-S1"))
    )
    assert [(e.row, e.column) for e in errors] == [(2, "单位编码"), (3, "党组织编码")]
    assert "is a party organization" in errors[0].reason and "not a party organization" in errors[1].reason


def test_unit_in_the_wrong_tree(org):
    e = one(refused(xlsx({"单位": [UNIT_HEADERS, ["XH-B09", "第九支部", "XH", "党支部"]]})))
    assert e.column == "上级编码" and "cannot be nested" in e.reason


def test_staff_number_or_id_number_of_someone_else(org, make_user):
    manager = make_user("m", "manager", org.xuhui)
    e = one(refused(people_book(person_row("HP0001", "李娜", "XH")), actor=manager))  # carol is in 黄浦
    # Neutral words out of scope: nobody named, no unit (security hole 9 of issue 22).
    assert (e.column, e.reason) == (
        "工号",
        "the staff number HP0001 cannot be used here; if it is right, ask an administrator of the "
        "whole organization",
    )
    e = one(refused(people_book(person_row("P1", "甲", "XH", id=org.carol.id_number)), actor=manager))
    assert (e.column, e.reason) == (
        "身份证号",
        "this ID number cannot be used here; if it is right, ask an administrator of the whole organization",
    )
    # Whoever may see carol's ID number is told who has it.
    e = one(refused(people_book(person_row("P1", "甲", "XH", id=org.carol.id_number))))
    assert (e.column, e.reason) == ("身份证号", "李娜 (HP0001) already has this ID number")
    e = one(
        refused(
            people_book(
                person_row("P1", "甲", "XH", id=make_id_number(seq="131")),
                person_row("P2", "乙", "XH", id=make_id_number(seq="131")),
            )
        )
    )
    assert e.row == 3 and "already in row 2" in e.reason


# ---------------------------------------------------------------- rights


def test_a_role_without_import_may_not_import(org, make_user):
    secretary = make_user("s", "secretary", org.xuhui)
    with pytest.raises(NotAllowed):
        imp(people_book(person_row("P1", "甲", "XH")), actor=secretary)


def test_manager_imports_within_their_subtree_only(org, make_user):
    manager = make_user("m", "manager", org.xuhui)
    data = xlsx(
        {
            "单位": [UNIT_HEADERS, ["XH-S2", "第二税务所", "XH", "税务所"]],
            "人员": [
                PEOPLE_HEADERS,
                person_row("XH0101", "陈明", "XH-S2"),
                person_row("XH0002", "王强", "XH"),
            ],
        }
    )
    result = imp(data, actor=manager)
    assert (result.units_created, result.people_created, result.people_updated) == (1, 1, 1)
    assert AuditEvent.objects.filter(action="orgs.person.created", actor=manager).count() == 1
    top = one(refused(xlsx({"单位": [UNIT_HEADERS, ["NEW", "新单位", "", "区局"]]}), actor=manager))
    assert "only a system administrator" in top.reason
    # Renaming the unit above their grant: XH's parent SH is out of scope, but XH itself is theirs.
    assert (
        imp(xlsx({"单位": [UNIT_HEADERS, ["XH", "徐汇区局", "SH", "区局"]]}), actor=manager).units_updated
        == 1
    )


def test_visible_but_not_importable(org, make_user):
    user = make_user("v", "manager", org.xuhui)
    from muster.orgs.services import role_grant

    role_grant(actor=SYSTEM, user=user, unit=org.huangpu, role="viewer")
    e = one(refused(people_book(person_row("HP0001", "李娜娜", "HP")), actor=user))
    assert (e.column, e.reason) == ("工号", "you may not change this person")
    e = one(refused(people_book(person_row("HP0009", "新人", "HP")), actor=user))
    assert (e.column, e.reason) == ("单位编码", "you may not import people into unit HP")
    # Unchanged rows of people they only see need no right at all.
    assert imp(people_book(person_row("HP0001", "李娜", "HP")), actor=user).people_unchanged == 1


def test_blank_unit_keeps_the_stored_one_but_a_new_person_needs_one(org):
    assert imp(people_book(person_row("XH0002", "王强", ""))).people_unchanged == 1
    e = one(refused(people_book(person_row("XH0109", "新人", ""))))
    assert (e.row, e.column, e.reason) == (2, "单位编码", "a unit code is required")
