"""The staff register's layout: its two sheets, their columns and choice spellings, and the
import's result."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from muster.orgs.models import EmploymentStatus, Gender, PoliticalStatus, UnitKind
from muster.tabular.cells import choice_table
from muster.tabular.schema import Column, SheetSpec, use_chinese

# ---------------------------------------------------------------- layout

UNITS = SheetSpec(
    key="units",
    zh="单位",
    en="Units",
    aliases=("unit", "单位表", "机构", "组织机构"),
    columns=(
        Column(
            "code", "编码", "Code", ("单位编码", "unit code", "代码", "单位代码", "机构编码"), required=True
        ),
        Column("name", "名称", "Name", ("单位名称", "unit name", "机构名称"), required=True),
        Column(
            "parent",
            "上级编码",
            "Parent code",
            ("上级单位编码", "上级", "parent", "上级代码", "上级单位代码"),
        ),
        Column("kind", "类型", "Type", ("单位类型", "kind", "unit type")),
    ),
)
PEOPLE = SheetSpec(
    key="people",
    zh="人员",
    en="People",
    aliases=("person", "persons", "staff", "人员名册", "名册", "人员表"),
    columns=(
        Column(
            "code",
            "工号",
            "Staff number",
            ("staff no", "staff_no", "person code", "employee no", "employee number", "职工号", "人员编码"),
            required=True,
        ),
        Column("name", "姓名", "Name", ("full name",), required=True),
        Column("gender", "性别", "Gender", ("sex",)),
        Column("birth_date", "出生日期", "Birth date", ("date of birth", "birthday", "生日", "出生年月日")),
        Column("unit", "单位编码", "Unit code", ("unit", "所在单位编码", "部门编码"), required=True),
        Column(
            "party_unit",
            "党组织编码",
            "Party unit code",
            ("party unit", "party organization", "party organization code", "所在党组织编码", "党支部编码"),
        ),
        Column("political_status", "政治面貌", "Political status", ()),
        Column("employment_status", "人员状态", "Employment status", ("status", "状态", "在职状态")),
        Column(
            "phone", "手机", "Phone", ("mobile", "手机号", "手机号码", "联系电话", "电话", "phone number")
        ),
        Column(
            "id_number",
            "身份证号",
            "ID number",
            ("id no", "身份证", "身份证号码", "公民身份号码", "证件号码", "id card"),
        ),
        Column("tags", "标签", "Tags", ("tag",)),
    ),
)

KIND_ZH = {
    UnitKind.CITY_BUREAU: "市局",
    UnitKind.BUREAU_ORGAN: "市局机关",
    UnitKind.DISTRICT_BUREAU: "区局",
    UnitKind.INSPECTION_BUREAU: "稽查局",
    UnitKind.SUB_BUREAU: "税务分局",
    UnitKind.SERVICE_CENTER: "纳税服务中心",
    UnitKind.TAX_OFFICE: "税务所",
    UnitKind.SECTION: "科室",
    UnitKind.SERVICE_HALL: "办税服务厅",
    UnitKind.PARTY_COMMITTEE: "党委",
    UnitKind.GENERAL_BRANCH: "党总支",
    UnitKind.BRANCH: "党支部",
    UnitKind.PARTY_GROUP: "党小组",
}
POLITICAL_ZH = {
    PoliticalStatus.MEMBER: "中共党员",
    PoliticalStatus.PROBATIONARY: "预备党员",
    PoliticalStatus.LEAGUE: "共青团员",
    PoliticalStatus.NON_PARTY: "群众",
    PoliticalStatus.OTHER_PARTY: "民主党派",
}
EMPLOYMENT_ZH = {
    EmploymentStatus.ACTIVE: "在职",
    EmploymentStatus.SECONDED: "借调",
    EmploymentStatus.RETIRED: "退休",
    EmploymentStatus.LEFT: "离职",
}
GENDER_ZH = {Gender.MALE: "男", Gender.FEMALE: "女"}
_EXTRA_SPELLINGS: dict[str, tuple[str, ...]] = {
    UnitKind.CITY_BUREAU: ("市税务局",),
    UnitKind.DISTRICT_BUREAU: ("区税务局",),
    UnitKind.SERVICE_CENTER: ("12366纳税服务中心",),
    PoliticalStatus.MEMBER: ("党员", "中国共产党党员", "正式党员"),
    PoliticalStatus.PROBATIONARY: ("中共预备党员",),
    PoliticalStatus.LEAGUE: ("团员", "共青团员"),
    PoliticalStatus.OTHER_PARTY: ("民主党派成员",),
    PoliticalStatus.NON_PARTY: ("无党派人士",),
    EmploymentStatus.ACTIVE: ("在岗",),
    Gender.MALE: ("male", "m", "男性"),
    Gender.FEMALE: ("female", "f", "女性"),
}

_CODE_MAX, _UNIT_NAME_MAX, _PERSON_NAME_MAX, _TAG_MAX = 40, 120, 60, 40
_SCI_RE = re.compile(r"^\d(?:\.\d+)?E\+?\d+$")


@dataclass
class _Choices:
    table: dict[str, str]
    allowed: str
    zh: dict[str, str]
    en: dict[str, str]

    def label(self, code: str, chinese: bool) -> str:
        if not code:
            return ""
        return (self.zh if chinese else self.en).get(code, code)


def _choices(choices: Any, zh: dict[Any, str]) -> _Choices:
    with translation.override("en"):
        en = {str(v): str(label) for v, label in choices.choices}
    zh_s = {str(k): v for k, v in zh.items()}
    table = choice_table(
        (code, (zh_s.get(code, ""), en[code], *_EXTRA_SPELLINGS.get(code, ()))) for code in en
    )
    allowed = ", ".join(zh_s.values()) if use_chinese() else ", ".join(en.values())
    return _Choices(table, allowed, zh_s, en)


def _all_choices() -> dict[str, _Choices]:
    return {
        "kind": _choices(UnitKind, KIND_ZH),
        "gender": _choices(Gender, GENDER_ZH),
        "political_status": _choices(PoliticalStatus, POLITICAL_ZH),
        "employment_status": _choices(EmploymentStatus, EMPLOYMENT_ZH),
    }


# ---------------------------------------------------------------- result


@dataclass
class PeopleImportResult:
    units_created: int = 0
    units_updated: int = 0
    units_moved: int = 0
    units_unchanged: int = 0
    people_created: int = 0
    people_updated: int = 0
    people_unchanged: int = 0
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def changed(self) -> bool:
        return bool(
            self.units_created
            or self.units_updated
            or self.units_moved
            or self.people_created
            or self.people_updated
        )


def summary(result: PeopleImportResult) -> str:
    lines = [
        _("Units: %(created)d created, %(updated)d updated, %(moved)d moved, %(unchanged)d unchanged.")
        % {
            "created": result.units_created,
            "updated": result.units_updated,
            "moved": result.units_moved,
            "unchanged": result.units_unchanged,
        },
        _("People: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.")
        % {
            "created": result.people_created,
            "updated": result.people_updated,
            "unchanged": result.people_unchanged,
        },
    ]
    if result.dry_run:
        lines.append(_("Dry run: nothing was written."))
    return "\n".join(lines)
