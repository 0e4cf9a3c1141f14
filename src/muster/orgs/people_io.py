"""The staff register (人员名册): import and export of units and people in one layout.

(Named ``people_io``: "roster" in code means rostering, 排班 — the ``roster`` app. The audit codes
``orgs.roster.imported`` / ``orgs.roster.exported`` and the importer key "roster" stay as they are, since
stored events and files name them.)

Layout: a units sheet (单位 / units: 编码, 名称, 上级编码, 类型) and a people sheet (人员 / people:
工号, 姓名, 性别, 出生日期, 单位编码, 党组织编码, 政治面貌, 人员状态, 手机, 身份证号, 标签), in an .xlsx
workbook (either sheet may be left out) or one of them per .csv file. Headers in Chinese or English.

Import rules:
- Units are matched by code, people by staff number (工号): a known code updates, a new one creates, and
  re-importing the same file changes nothing. A unit is created after its parent; units may move.
- An empty cell keeps what is stored (a new record gets the default); a masked value (with ``*``, as in
  an export for a role that may not see personal data) keeps the stored phone or ID number. Missing
  性别 / 出生日期 are taken from the ID number; when given, they must agree with it.
- A unit code the actor may not see reads like one that does not exist ("not in your scope"). The actor
  needs ``Perm.IMPORT`` on every unit it adds units under, moves or changes, and on the old and new unit of
  every person it adds or changes.
- The whole file is checked first and every problem reported (``TabularError``); nothing is written
  unless there are none. Then all writes happen in one transaction, in bulk, with one audit event per
  created or changed object (personal data masked) and one summary event ``orgs.roster.imported``.
  The steps around the plan and the writes are the import pipeline's (``muster.tabular.pipeline``);
  this module registers ``IMPORTER`` with it.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date
from types import SimpleNamespace
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Max, Q
from django.db.models.base import ModelState
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from muster.audit.services import PendingEvent, diff, log_action, log_actions_bulk
from muster.orgs import access, crypto, rules, signals
from muster.orgs.access import Perm
from muster.orgs.models import (
    PARTY_KINDS,
    EmploymentStatus,
    Gender,
    Person,
    PoliticalStatus,
    Tag,
    Unit,
    UnitKind,
)
from muster.orgs.validators import (
    InvalidValue,
    id_birth_date,
    id_gender,
    mask_id_number,
    mask_phone,
    normalize_phone,
)
from muster.tabular.bulk import insert_many
from muster.tabular.cells import CellError, choice_table, is_blank, parse_choice, parse_date, split_tags, text
from muster.tabular.errors import ErrorCollector
from muster.tabular.pipeline import (
    CHUNK,
    ExportSheet,
    Importer,
    check_export,
    chunks,
    common_path,
    export_file,
    too_long,
    under,
    unit_not_in_scope,
)
from muster.tabular.schema import Column, SheetSpec, Table, use_chinese
from muster.tabular.template import TemplateSheet, template_file

log = logging.getLogger(__name__)

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
class RosterImportResult:
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


# ---------------------------------------------------------------- plan


@dataclass
class _DbUnit:
    id: int
    code: str
    name: str
    kind: str
    path: str
    parent_code: str | None


@dataclass
class _FileUnit:
    row: int
    code: str
    name: str
    kind: str | None
    parent: str  # as given; "" keeps the stored parent
    existing: _DbUnit | None
    final_parent: str | None = None
    changes: dict[str, list[Any]] = field(default_factory=dict)
    moved: bool = False


@dataclass
class _DbPerson:
    id: int
    code: str
    name: str
    gender: str
    birth_date: date | None
    unit_id: int
    party_unit_id: int | None
    political_status: str
    employment_status: str
    phone_enc: str
    id_number_enc: str
    id_number_digest: str | None
    user_id: int | None
    tags: list[str] = field(default_factory=list)


@dataclass
class _PersonRow:
    """A person as the file wants them. Personal data stays plain until written (encrypted then)."""

    row: int
    code: str
    existing: _DbPerson | None
    name: str
    gender: str
    birth_date: date | None
    unit: str
    party_unit: str | None
    political_status: str
    employment_status: str
    phone: str | None  # plain value to store; None keeps the stored one
    id_number: str | None  # plain value to store; None keeps the stored one
    id_number_digest: str | None  # as it will be stored
    tags: list[str]
    changes: dict[str, list[Any]] = field(default_factory=dict)


class _Planner:
    """Checks a matched workbook against the database and the actor's rights; collects every error."""

    def __init__(self, actor: Any, errors: ErrorCollector) -> None:
        self.actor = actor
        self.errors = errors
        self.choices = _all_choices()
        self.all_powerful = access.is_all_powerful(actor)
        self.view_paths = access.scope_paths(actor, Perm.VIEW)
        self.import_paths = access.scope_paths(actor, Perm.IMPORT)
        self.db_units: dict[str, _DbUnit] = {}
        self.unit_by_id: dict[int, _DbUnit] = {}
        self.file_codes: set[str] = set()  # every code in the units sheet, good rows or not
        self.units: dict[str, _FileUnit] = {}
        self.final_parent: dict[str, str | None] = {}
        self.final_kind: dict[str, str] = {}
        self.people: list[_PersonRow] = []
        self.new_tags: set[str] = set()
        self.result = RosterImportResult()
        self._import_ok: dict[str, bool] = {}
        self._people_total: int | None = None
        self._load_units()

    # ------------------------------------------------ loading

    def _load_units(self) -> None:
        rows = list(Unit.objects.values_list("id", "code", "name", "kind", "path"))
        by_path = {r[4]: r[1] for r in rows}
        step = Unit.steplen
        for pk, code, name, kind, path in rows:
            u = _DbUnit(pk, code, name, kind, path, by_path.get(path[:-step]) if len(path) > step else None)
            self.db_units[code] = u
            self.unit_by_id[pk] = u
        self.final_parent = {c: u.parent_code for c, u in self.db_units.items()}
        self.final_kind = {c: u.kind for c, u in self.db_units.items()}

    def visible(self, code: str) -> bool:
        u = self.db_units.get(code)
        return u is not None and under(u.path, self.view_paths)

    def import_ok(self, code: str | None) -> bool:
        """Whether the actor may import into (under) unit ``code`` as it will be after the import."""
        if self.all_powerful:
            return True
        if code is None:
            return False
        if code not in self._import_ok:
            self._import_ok[code] = False  # guards against a cycle while computing
            fu = self.units.get(code)
            if fu is not None and fu.existing is None:
                ok = self.import_ok(self.final_parent.get(code))
            else:
                u = self.db_units.get(code)
                ok = u is not None and under(u.path, self.import_paths)
            self._import_ok[code] = ok
        return self._import_ok[code]

    def is_party(self, code: str) -> bool:
        return self.final_kind.get(code) in PARTY_KINDS

    # ------------------------------------------------ units

    def plan_units(self, t: Table) -> None:
        err = self.errors.add
        kinds = self.choices["kind"]
        seen: dict[str, int] = {}
        for rownum, cells in t.rows:
            ok = True
            raw_code = t.get(cells, "code")
            code = text(raw_code)
            if not code:
                err(t.sheet, rownum, t.column("code"), "", _("a code is required"))
                ok = False
            elif problem := rules.cell_problem(raw_code, "code", code=True):
                err(t.sheet, rownum, t.column("code"), raw_code, problem)
                ok = False
            elif len(code) > _CODE_MAX:
                err(t.sheet, rownum, t.column("code"), code, too_long(_CODE_MAX))
                ok = False
            elif code in seen:
                err(t.sheet, rownum, t.column("code"), code, _already_in_row(seen[code]))
                ok = False
            else:
                seen[code] = rownum
            self.file_codes.add(code)
            raw_name = t.get(cells, "name")
            name = text(raw_name)
            if problem := rules.cell_problem(raw_name, "name"):
                err(t.sheet, rownum, t.column("name"), raw_name, problem)
                ok = False
            elif not name:
                err(t.sheet, rownum, t.column("name"), "", _("a name is required"))
                ok = False
            elif len(name) > _UNIT_NAME_MAX:
                err(t.sheet, rownum, t.column("name"), name, too_long(_UNIT_NAME_MAX))
                ok = False
            kind = None
            raw_kind = t.get(cells, "kind")
            try:
                kind = parse_choice(raw_kind, kinds.table, kinds.allowed)
            except CellError as exc:
                err(t.sheet, rownum, t.column("kind"), raw_kind, str(exc))
                ok = False
            existing = self.db_units.get(code) if code else None
            if kind is None and ok and existing is None:
                err(t.sheet, rownum, t.column("kind"), "", _("a type is required for a new unit"))
                ok = False
            if existing is not None and not self.visible(code):
                # Never tell whether the unit is out of scope or merely taken: same words as a clash.
                err(
                    t.sheet,
                    rownum,
                    t.column("code"),
                    code,
                    _("another unit already has the code %(code)s") % {"code": code},
                )
                ok = False
            parent = text(t.get(cells, "parent"))
            if ok:
                self.units[code] = _FileUnit(rownum, code, name, kind, parent, existing)

        # Where each unit will hang.
        for fu in self.units.values():
            if fu.kind:
                self.final_kind[fu.code] = fu.kind
            elif fu.existing:
                fu.kind = fu.existing.kind
        unresolved: set[str] = set()
        for fu in self.units.values():
            p = fu.parent
            if not p:
                if fu.existing is None:
                    self.final_parent[fu.code] = None
                    if not self.all_powerful:
                        err(
                            t.sheet,
                            fu.row,
                            t.column("parent"),
                            "",
                            _(
                                "a new unit needs a parent unit code; "
                                "only a system administrator can add a top-level unit"
                            ),
                        )
                        unresolved.add(fu.code)
                continue
            if p == fu.code:
                err(t.sheet, fu.row, t.column("parent"), p, _("a unit cannot be its own parent"))
                unresolved.add(fu.code)
                continue
            known = p in self.units or (
                p in self.db_units
                and (self.visible(p) or (fu.existing is not None and fu.existing.parent_code == p))
            )
            if not known:
                if p not in self.file_codes:  # a bad row of the file is reported on its own
                    err(t.sheet, fu.row, t.column("parent"), p, unit_not_in_scope())
                unresolved.add(fu.code)
                continue
            self.final_parent[fu.code] = p
        self._check_cycles(t, unresolved)
        self._check_trees(t, unresolved)
        self._check_unit_rights(t, unresolved)

    def _check_cycles(self, t: Table, unresolved: set[str]) -> None:
        done: set[str] = set()
        for fu in self.units.values():
            if fu.code in unresolved or fu.code in done:
                continue
            chain: list[str] = []
            where: dict[str, int] = {}
            c: str | None = fu.code
            while c is not None and c not in done:
                if c in where:
                    cycle = chain[where[c] :]
                    shown = " → ".join([*cycle, cycle[0]])
                    for member in cycle:
                        m = self.units.get(member)
                        if m is not None:
                            self.errors.add(
                                t.sheet,
                                m.row,
                                t.column("parent"),
                                self.final_parent.get(member) or "",
                                _("this parent would make a cycle: %(cycle)s") % {"cycle": shown},
                            )
                            unresolved.add(member)
                    break
                where[c] = len(chain)
                chain.append(c)
                c = self.final_parent.get(c)
            done.update(chain)

    def _check_trees(self, t: Table, unresolved: set[str]) -> None:
        for fu in self.units.values():
            if fu.code in unresolved:
                continue
            p = self.final_parent.get(fu.code)
            if p is not None and p in self.final_kind and fu.code in self.final_kind:
                if self.is_party(fu.code) != self.is_party(p):
                    self.errors.add(
                        t.sheet,
                        fu.row,
                        t.column("parent"),
                        p,
                        _("a party organization and an administrative unit cannot be nested in each other"),
                    )
                    unresolved.add(fu.code)
                    continue
            if fu.existing is not None and (fu.existing.kind in PARTY_KINDS) != self.is_party(fu.code):
                stays = [
                    c for c, u in self.db_units.items() if u.parent_code == fu.code and c not in self.units
                ]
                has_people = (
                    Person.objects.filter(unit_id=fu.existing.id).exists()
                    or Person.objects.filter(party_unit_id=fu.existing.id).exists()
                )
                if stays or has_people:
                    self.errors.add(
                        t.sheet,
                        fu.row,
                        t.column("kind"),
                        fu.kind or "",
                        _(
                            "this unit has sub-units or people, so it cannot move between the administrative "
                            "and the party tree"
                        ),
                    )
                    unresolved.add(fu.code)

    def _check_unit_rights(self, t: Table, unresolved: set[str]) -> None:
        for fu in self.units.values():
            if fu.code in unresolved:
                continue
            final_parent = self.final_parent.get(fu.code)
            if final_parent in unresolved:
                continue  # the parent's own row says what is wrong
            if fu.existing is None:
                if final_parent is not None and not self.import_ok(final_parent):
                    self.errors.add(
                        t.sheet,
                        fu.row,
                        t.column("parent"),
                        final_parent,
                        _("you may not add units under %(code)s") % {"code": final_parent},
                    )
                continue
            before = {"name": fu.existing.name, "kind": fu.existing.kind}
            after = {"name": fu.name, "kind": fu.kind or fu.existing.kind}
            fu.changes = diff(before, after)
            fu.moved = final_parent != fu.existing.parent_code
            if (fu.changes or fu.moved) and not self.import_ok(fu.code):
                self.errors.add(
                    t.sheet,
                    fu.row,
                    t.column("code"),
                    fu.code,
                    _("you may not change the unit %(code)s") % {"code": fu.code},
                )
            elif fu.moved and not self.import_ok(final_parent):
                self.errors.add(
                    t.sheet,
                    fu.row,
                    t.column("parent"),
                    final_parent or "",
                    _("you may not move units under %(code)s") % {"code": final_parent},
                )
        for fu in self.units.values():
            if fu.existing is None:
                self.result.units_created += 1
            else:
                self.result.units_updated += bool(fu.changes)
                self.result.units_moved += fu.moved
                self.result.units_unchanged += not (fu.changes or fu.moved)

    def depth(self, code: str) -> int:
        d, c = 0, code
        while d < 10_000:
            d += 1
            parent = self.final_parent.get(c)
            if parent is None:
                break
            c = parent
        return d

    # ------------------------------------------------ people

    def _load_people(self, codes: list[str]) -> dict[str, _DbPerson]:
        out: dict[str, _DbPerson] = {}
        fields = (
            "id",
            "code",
            "name",
            "gender",
            "birth_date",
            "unit_id",
            "party_unit_id",
            "political_status",
            "employment_status",
            "phone_enc",
            "id_number_enc",
            "id_number_digest",
            "user_id",
        )
        through = Person.tags.through
        if self._scan_all(len(codes)):  # a large file: one pass over the table beats many IN (...) queries
            wanted = set(codes)
            for row in Person.objects.values_list(*fields).iterator(chunk_size=5000):
                if row[1] in wanted:
                    out[row[1]] = _DbPerson(*row)
            by_id = {p.id: p for p in out.values()}
            for pid, tag in through.objects.values_list("person_id", "tag__name").iterator(chunk_size=5000):
                if pid in by_id:
                    by_id[pid].tags.append(tag)
        else:
            for chunk in chunks(codes):
                for row in Person.objects.filter(code__in=chunk).values_list(*fields):
                    out[row[1]] = _DbPerson(*row)
            by_id = {p.id: p for p in out.values()}
            for chunk in chunks(list(by_id)):
                for pid, tag in through.objects.filter(person_id__in=chunk).values_list(
                    "person_id", "tag__name"
                ):
                    by_id[pid].tags.append(tag)
        for p in out.values():
            p.tags.sort()
        return out

    def _scan_all(self, wanted: int) -> bool:
        """Whether to read the whole people table rather than look ``wanted`` keys up in chunks."""
        if wanted < 5 * CHUNK:
            return False
        if self._people_total is None:
            self._people_total = Person.objects.count()
        return wanted * 3 >= self._people_total

    def person_visible(self, p: _DbPerson) -> bool:
        if p.user_id is not None and p.user_id == getattr(self.actor, "pk", None):
            return True
        u = self.unit_by_id.get(p.unit_id)
        pu = self.unit_by_id.get(p.party_unit_id) if p.party_unit_id else None
        return any(x is not None and under(x.path, self.view_paths) for x in (u, pu))

    def plan_people(self, t: Table) -> None:
        err = self.errors.add
        sheet = t.sheet
        ch = self.choices
        idx = t.index
        col = {c.key: t.column(c.key) for c in PEOPLE.columns}

        def at(key: str) -> int:
            return idx.get(key, 1 << 30)

        i_code, i_name, i_unit, i_party = at("code"), at("name"), at("unit"), at("party_unit")
        i_gender, i_birth, i_phone, i_id, i_tags = (
            at("gender"),
            at("birth_date"),
            at("phone"),
            at("id_number"),
            at("tags"),
        )
        i_choice = {k: at(k) for k in ("gender", "political_status", "employment_status")}
        rows_in = [(n, cells, text(cells[i_code]) if i_code < len(cells) else "") for n, cells in t.rows]
        existing_people = self._load_people(sorted({c for _n, _c, c in rows_in if c}))
        digests_in_file: dict[str, int] = {}
        seen: dict[str, int] = {}
        rows: list[_PersonRow] = []
        unit_ok: dict[tuple[str, str | None, bool], str | None] = {}  # (code, current, party) → problem
        choice_memo: dict[tuple[str, Any], str | None] = {}
        today = timezone.localdate()

        def check_unit(code: str, current: str | None, party: bool) -> str | None:
            """None if fine; "" if bad but reported already (a bad row of the units sheet); else why."""
            key = (code, current, party)
            if key not in unit_ok:
                known = code in self.units or (
                    code in self.db_units and (self.visible(code) or code == current)
                )
                if not known:
                    unit_ok[key] = "" if code in self.file_codes else unit_not_in_scope()
                elif party and not self.is_party(code):
                    unit_ok[key] = _("%(code)s is not a party organization") % {"code": code}
                elif not party and self.is_party(code):
                    unit_ok[key] = _("%(code)s is a party organization, not an administrative unit") % {
                        "code": code
                    }
                else:
                    unit_ok[key] = None
            return unit_ok[key]

        def choice(key: str, raw: Any) -> str | None:
            memo_key = (key, raw)
            if memo_key not in choice_memo:
                choice_memo[memo_key] = parse_choice(raw, ch[key].table, ch[key].allowed)
            return choice_memo[memo_key]

        for rownum, cells, code in rows_in:
            n = len(cells)
            ok = True
            if not code:
                err(sheet, rownum, col["code"], "", _("a staff number is required"))
                ok = False
            elif problem := rules.cell_problem(cells[i_code], "code", code=True):
                err(sheet, rownum, col["code"], cells[i_code], problem)
                ok = False
            elif len(code) > _CODE_MAX:
                err(sheet, rownum, col["code"], code, too_long(_CODE_MAX))
                ok = False
            elif code in seen:
                err(sheet, rownum, col["code"], code, _already_in_row(seen[code]))
                ok = False
            else:
                seen[code] = rownum
            cur = existing_people.get(code) if code else None
            if cur is not None and not self.person_visible(cur):
                # Neutral words: never tell who has the number, nor where (security hole 9, issue 22).
                err(sheet, rownum, col["code"], code, _staff_number_unusable(code))
                ok = False
                cur = None
            cur_unit = self.unit_by_id[cur.unit_id].code if cur else None
            cur_party = self.unit_by_id[cur.party_unit_id].code if cur and cur.party_unit_id else None

            name = text(cells[i_name]) if i_name < n else ""
            if problem := rules.cell_problem(cells[i_name] if i_name < n else None, "name"):
                err(sheet, rownum, col["name"], cells[i_name], problem)
                ok = False
            elif not name:
                err(sheet, rownum, col["name"], "", _("a name is required"))
                ok = False
            elif len(name) > _PERSON_NAME_MAX:
                err(sheet, rownum, col["name"], name, too_long(_PERSON_NAME_MAX))
                ok = False

            unit = text(cells[i_unit]) if i_unit < n else ""
            if not unit and cur_unit is not None:
                unit = cur_unit  # blank keeps the stored unit (an export leaves units out of view blank)
            elif not unit:
                err(sheet, rownum, col["unit"], "", _("a unit code is required"))
                ok = False
            else:
                problem = check_unit(unit, cur_unit, party=False)
                if problem is not None:
                    if problem:
                        err(sheet, rownum, col["unit"], unit, problem)
                    ok = False

            party_unit = cur_party
            raw_party = text(cells[i_party]) if i_party < n else ""
            if raw_party:
                problem = check_unit(raw_party, cur_party, party=True)
                if problem is not None:
                    if problem:
                        err(sheet, rownum, col["party_unit"], raw_party, problem)
                    ok = False
                party_unit = raw_party

            values: dict[str, str | None] = {}
            for key, i in i_choice.items():
                raw_choice = cells[i] if i < n else None
                try:
                    values[key] = choice(key, raw_choice)
                except CellError as exc:
                    err(sheet, rownum, col[key], raw_choice, str(exc))
                    ok = False
                    values[key] = None

            raw_birth = cells[i_birth] if i_birth < n else None
            birth: date | None = None
            birth_bad = False
            try:
                birth = parse_date(raw_birth)
                if birth is not None and (problem := rules.birth_date_problem(birth, today)):
                    raise CellError(problem)
            except CellError as exc:
                err(sheet, rownum, col["birth_date"], raw_birth, str(exc))
                ok = False
                birth, birth_bad = None, True

            phone: str | None = None  # None keeps what is stored
            raw_phone = cells[i_phone] if i_phone < n else None
            phone_text = text(raw_phone)
            if phone_text and "*" not in phone_text:
                if (
                    len(phone_text) == 11
                    and phone_text.isascii()
                    and phone_text.isdigit()
                    and phone_text[0] == "1"
                    and phone_text[1] > "2"
                ):
                    phone = phone_text  # the usual mobile number, as normalize_phone would return it
                else:
                    try:
                        phone = normalize_phone(phone_text)
                    except InvalidValue:
                        err(
                            sheet,
                            rownum,
                            col["phone"],
                            raw_phone,
                            _(
                                "a phone is an 11-digit mobile number (1xxxxxxxxxx) "
                                "or a landline like 021-12345678"
                            ),
                        )
                        ok = False

            id_number: str | None = None
            raw_id = cells[i_id] if i_id < n else None
            if not is_blank(raw_id) and "*" not in text(raw_id):
                try:
                    id_number = _clean_id_number(raw_id)
                except CellError as exc:
                    err(sheet, rownum, col["id_number"], raw_id, str(exc))
                    ok = False

            tags: list[str] | None = None
            raw_tags = cells[i_tags] if i_tags < n else None
            if problem := rules.cell_problem(raw_tags, "tags"):
                err(sheet, rownum, col["tags"], raw_tags, problem)
                ok = False
            elif not is_blank(raw_tags):
                tags = split_tags(raw_tags)
                for tag in tags:
                    if len(tag) > _TAG_MAX:
                        err(
                            sheet,
                            rownum,
                            col["tags"],
                            tag,
                            _("a tag has at most %(n)d characters") % {"n": _TAG_MAX},
                        )
                        ok = False

            # For a new person, or a new ID number, the ID number gives birth date and gender when they are
            # missing, and must agree with them when given. For anyone else an empty cell keeps what is
            # stored, and a date or gender that changes is checked against the stored ID number.
            gender = values["gender"]
            id_digest = crypto.digest(id_number) if id_number is not None else None
            fresh = cur is None or (id_digest is not None and id_digest != cur.id_number_digest)
            check_birth = birth is not None and (fresh or cur is None or birth != cur.birth_date)
            check_gender = bool(gender) and (fresh or cur is None or gender != cur.gender)
            derive_birth = fresh and birth is None and not birth_bad
            derive_gender = fresh and not gender
            ident = id_number
            if ident is None and cur is not None and cur.id_number_enc and (check_birth or check_gender):
                ident = crypto.decrypt(cur.id_number_enc)
            if ident:
                id_birth, id_sex = id_birth_date(ident), id_gender(ident)
                if check_birth and birth is not None and (problem := rules.id_birth_problem(ident, birth)):
                    err(sheet, rownum, col["birth_date"], raw_birth, problem)
                    ok = False
                if check_gender and gender and (problem := rules.id_gender_problem(ident, gender)):
                    err(sheet, rownum, col["gender"], cells[i_gender] if i_gender < n else "", problem)
                    ok = False
                if derive_birth:
                    birth = id_birth
                if derive_gender:
                    gender = id_sex

            if not ok:
                continue
            row = self._person_row(
                rownum,
                code,
                cur,
                name=name,
                unit=unit,
                party_unit=party_unit,
                gender=gender,
                birth=birth,
                political=values["political_status"],
                employment=values["employment_status"],
                phone=phone,
                id_number=id_number,
                id_digest=id_digest,
                tags=tags,
            )
            if id_number is not None and row.id_number_digest:
                other = digests_in_file.get(row.id_number_digest)
                if other is not None:
                    err(sheet, rownum, col["id_number"], raw_id, _already_in_row(other))
                    continue
                digests_in_file[row.id_number_digest] = rownum
            rows.append(row)

        self._check_id_numbers_taken(t, rows, col["id_number"])
        self._check_people_rights(t, rows, col)
        self.people = rows

    def _person_row(
        self,
        rownum: int,
        code: str,
        cur: _DbPerson | None,
        *,
        name: str,
        unit: str,
        party_unit: str | None,
        gender: str | None,
        birth: date | None,
        political: str | None,
        employment: str | None,
        phone: str | None,
        id_number: str | None,
        id_digest: str | None,
        tags: list[str] | None,
    ) -> _PersonRow:
        if cur is None:
            return _PersonRow(
                rownum,
                code,
                None,
                name,
                gender or "",
                birth,
                unit,
                party_unit,
                political or PoliticalStatus.NON_PARTY,
                employment or EmploymentStatus.ACTIVE,
                phone or "",
                id_number or "",
                id_digest if id_number else None,
                sorted(set(tags or [])),
            )
        cur_unit = self.unit_by_id[cur.unit_id].code
        cur_party = self.unit_by_id[cur.party_unit_id].code if cur.party_unit_id else None
        row = _PersonRow(
            rownum,
            code,
            cur,
            name,
            gender if gender is not None else cur.gender,
            birth if birth is not None else cur.birth_date,
            unit,
            party_unit,
            political or cur.political_status,
            employment or cur.employment_status,
            None,
            None,
            cur.id_number_digest,
            sorted(set(tags)) if tags is not None else cur.tags,
        )
        changes = diff(
            {
                "name": cur.name,
                "gender": cur.gender,
                "birth_date": _iso(cur.birth_date),
                "unit": cur_unit,
                "party_unit": cur_party,
                "political_status": cur.political_status,
                "employment_status": cur.employment_status,
                "tags": cur.tags,
            },
            {
                "name": row.name,
                "gender": row.gender,
                "birth_date": _iso(row.birth_date),
                "unit": row.unit,
                "party_unit": row.party_unit,
                "political_status": row.political_status,
                "employment_status": row.employment_status,
                "tags": row.tags,
            },
        )
        if phone is not None:
            old_phone = crypto.decrypt(cur.phone_enc)
            if old_phone != phone:
                row.phone = phone
                changes["phone"] = [mask_phone(old_phone), mask_phone(phone)]
        if id_number is not None and id_digest != cur.id_number_digest:
            row.id_number, row.id_number_digest = id_number, id_digest
            old_id = crypto.decrypt(cur.id_number_enc)
            changes["id_number"] = [mask_id_number(old_id), mask_id_number(id_number)]
        row.changes = changes
        return row

    def _check_id_numbers_taken(self, t: Table, rows: list[_PersonRow], column: str) -> None:
        """An ID number given to someone must not belong to a person outside the file's changes."""
        mine = {
            r.id_number_digest: r
            for r in rows
            if r.id_number_digest
            and (r.existing is None or r.id_number_digest != r.existing.id_number_digest)
        }
        if not mine:
            return
        # Digests that people of this file give up (e.g. two people swapping a mistyped number).
        released = {
            r.existing.id_number_digest
            for r in rows
            if r.existing is not None and r.existing.id_number_digest != r.id_number_digest
        }
        found: list[tuple[int, str | None]] = []
        if self._scan_all(len(mine)):
            every = Person.objects.exclude(id_number_digest=None).values_list("id", "id_number_digest")
            found = [(pid, dig) for pid, dig in every.iterator(chunk_size=5000) if dig in mine]
        else:
            for chunk in chunks(list(mine)):
                found += Person.objects.filter(id_number_digest__in=chunk).values_list(
                    "id", "id_number_digest"
                )
        clashes: list[tuple[int, _PersonRow]] = []
        for pid, dig in found:
            r = mine[str(dig)]
            if (r.existing is not None and r.existing.id == pid) or dig in released:
                continue
            clashes.append((pid, r))
        if not clashes:
            return
        id_paths = access.scope_paths(self.actor, Perm.VIEW_ID)
        holders = {
            h[0]: h
            for h in Person.objects.filter(pk__in=[pid for pid, _r in clashes]).values_list(
                "id", "code", "name", "unit_id", "party_unit_id", "user_id"
            )
        }
        for pid, r in clashes:
            _pk, code, name, unit_id, party_unit_id, user_id = holders[pid]
            units = [self.unit_by_id.get(u) for u in (unit_id, party_unit_id) if u is not None]
            own_record = user_id is not None and user_id == getattr(self.actor, "pk", None)
            sees = own_record or any(
                u is not None and under(u.path, self.view_paths) and under(u.path, id_paths) for u in units
            )
            # Who has it only when the actor may see that person's ID number; else neutral words.
            reason = (
                _("%(name)s (%(code)s) already has this ID number") % {"name": name, "code": code}
                if sees
                else _(
                    "this ID number cannot be used here; if it is right, ask an administrator of the "
                    "whole organization"
                )
            )
            self.errors.add(t.sheet, r.row, column, "", reason)

    def _check_people_rights(self, t: Table, rows: list[_PersonRow], col: dict[str, str]) -> None:
        for r in rows:
            if r.existing is None:
                if not self.import_ok(r.unit):
                    self.errors.add(
                        t.sheet,
                        r.row,
                        col["unit"],
                        r.unit,
                        _("you may not import people into unit %(code)s") % {"code": r.unit},
                    )
                else:
                    self.result.people_created += 1
                    self.new_tags.update(r.tags)
                continue
            if not r.changes:
                self.result.people_unchanged += 1
                continue
            old_unit = self.unit_by_id[r.existing.unit_id].code
            if not self.import_ok(old_unit):
                self.errors.add(t.sheet, r.row, col["code"], r.code, _("you may not change this person"))
            elif r.unit != old_unit and not self.import_ok(r.unit):
                self.errors.add(
                    t.sheet,
                    r.row,
                    col["unit"],
                    r.unit,
                    _("you may not import people into unit %(code)s") % {"code": r.unit},
                )
            else:
                self.result.people_updated += 1
                if "tags" in r.changes:
                    self.new_tags.update(r.tags)


def _staff_number_unusable(code: str) -> str:
    return _(
        "the staff number %(code)s cannot be used here; if it is right, ask an administrator of the "
        "whole organization"
    ) % {"code": code}


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def _snapshot(r: _PersonRow) -> dict[str, Any]:
    return {
        "code": r.code,
        "name": r.name,
        "gender": r.gender,
        "birth_date": _iso(r.birth_date),
        "unit": r.unit,
        "party_unit": r.party_unit,
        "political_status": r.political_status,
        "employment_status": r.employment_status,
        "phone": mask_phone(r.phone or ""),
        "id_number": mask_id_number(r.id_number or ""),
        "tags": r.tags,
    }


def _already_in_row(row: int) -> str:
    return _("the same value is already in row %(row)d") % {"row": row}


def _clean_id_number(raw: Any) -> str:
    """A valid 18-character resident ID number (GB 11643), or ``CellError`` saying precisely what is wrong."""
    if isinstance(raw, int | float) and not isinstance(raw, bool) and abs(raw) >= 1e15:
        raise CellError(_id_lost_digits())
    v = text(raw).replace(" ", "").upper()
    if _SCI_RE.match(v):
        raise CellError(_id_lost_digits())
    try:
        return rules.clean_id_number(raw if isinstance(raw, str) else v)
    except InvalidValue as exc:
        raise CellError(str(exc)) from None


def _id_lost_digits() -> str:
    return _(
        "the ID number was stored as a number, so Excel kept only 15 digits; "
        "format the column as text and type it again"
    )


# ---------------------------------------------------------------- import


def roster_import(*, actor: Any, filename: str, data: bytes, dry_run: bool = False) -> RosterImportResult:
    """Check a roster file and, unless ``dry_run``, apply it; raise ``TabularError`` listing every problem
    (the steps are the pipeline's: ``muster.tabular.pipeline.import_file``)."""
    result: RosterImportResult = IMPORTER.run(actor=actor, filename=filename, data=data, dry_run=dry_run)
    return result


def require(actor: Any) -> None:
    """Who may import or export the register: ``Perm.IMPORT`` somewhere."""
    if not access.can_anywhere(actor, Perm.IMPORT):
        raise access.NotAllowed(Perm.IMPORT)


def roster_plan(*, actor: Any, tables: dict[str, Table], errors: ErrorCollector) -> _Planner:
    """Check the units and people sheets (``tables`` by sheet key) against the database and the actor's
    rights, adding every problem to ``errors``; ``roster_apply`` writes the plan (``.result``: the counts).
    A whole-organization workbook (``muster.tabular.workbook``) runs the two before its ledger sheets."""
    planner = _Planner(actor, errors)
    if "units" in tables:
        planner.plan_units(tables["units"])
    if "people" in tables:
        planner.plan_people(tables["people"])
    return planner


def roster_apply(
    plan: _Planner, *, actor: Any, filename: str, tables: dict[str, Table] | None = None
) -> None:
    """Write a checked plan (in one transaction, or inside the caller's)."""
    _apply(plan, actor, filename)
    access.forget(actor)  # units may have moved: later parts of a workbook check rights on the new paths


def summary(result: RosterImportResult) -> str:
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


def _apply(plan: _Planner, actor: Any, filename: str) -> None:
    with _large_cache():
        _write(plan, actor, filename)


@contextmanager
def _large_cache() -> Iterator[None]:
    """On SQLite, a 64 MB page cache while writing: inserts into several indexes then stay in memory
    (twice as fast for 100,000 people); the connection's own setting comes back afterwards."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = int(cursor.fetchone()[0])
        cursor.execute("PRAGMA cache_size = -65536")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {before:d}")


def _write(plan: _Planner, actor: Any, filename: str) -> None:
    batch = uuid.uuid4().hex
    now = timezone.now()
    with transaction.atomic():
        events: list[PendingEvent] = []
        t0 = time.perf_counter()
        _apply_units(plan, now, events)
        unit_ids: dict[str, int] = {}
        unit_paths: dict[str, str] = {}
        for pk, code, path in Unit.objects.values_list("id", "code", "path"):
            unit_ids[code], unit_paths[code] = pk, path
        tag_ids = _ensure_tags(plan, events)

        new_rows = [r for r in plan.people if r.existing is None]
        upd_rows = [r for r in plan.people if r.existing is not None and r.changes]
        encrypt = crypto.encrypt
        if new_rows:
            last_id = Person.objects.aggregate(m=Max("id"))["m"] or 0
            insert_many(
                Person,
                _PERSON_INSERT_FIELDS,
                (
                    (
                        r.code, r.name, r.gender, r.birth_date, unit_ids[r.unit],
                        unit_ids[r.party_unit] if r.party_unit else None,
                        r.political_status, r.employment_status,
                        encrypt(r.phone or ""), encrypt(r.id_number or ""), r.id_number_digest, now, now,
                    )
                    for r in new_rows
                ),
            )  # fmt: skip
            # The new ids: one query (ids only grow; rows of other transactions are filtered out by code).
            ids = dict(Person.objects.filter(id__gt=last_id).values_list("code", "id"))
            new_people = [_event_target(ids[r.code], r.code, r.name) for r in new_rows]
        else:
            new_people = []
        upd_people = []
        for r in upd_rows:
            cur = r.existing
            assert cur is not None
            upd_people.append(
                Person(
                    pk=cur.id, code=r.code, name=r.name, gender=r.gender, birth_date=r.birth_date,
                    unit_id=unit_ids[r.unit], party_unit_id=unit_ids[r.party_unit] if r.party_unit else None,
                    political_status=r.political_status, employment_status=r.employment_status,
                    phone_enc=encrypt(r.phone) if r.phone is not None else cur.phone_enc,
                    id_number_enc=encrypt(r.id_number) if r.id_number is not None else cur.id_number_enc,
                    id_number_digest=r.id_number_digest, updated_at=now,
                )
            )  # fmt: skip
        if upd_people:
            # Clear changed ID numbers first, so two people swapping theirs never clash on the unique digest.
            swapping = [p.pk for p, r in zip(upd_people, upd_rows, strict=True) if "id_number" in r.changes]
            for chunk in chunks(swapping):
                Person.objects.filter(pk__in=chunk).update(id_number_digest=None)
            Person.objects.bulk_update(upd_people, _PERSON_FIELDS, batch_size=500)
            rehomed = [
                p.pk
                for p, r in zip(upd_people, upd_rows, strict=True)
                if r.existing is not None and p.unit_id != r.existing.unit_id
            ]
            if rehomed:
                signals.home_units_changed.send(Person, person_ids=rehomed)

        through = Person.tags.through
        retag = [p.pk for p, r in zip(upd_people, upd_rows, strict=True) if "tags" in r.changes]
        for chunk in chunks(retag):
            through.objects.filter(person_id__in=chunk).delete()
        links = [(p.pk, tag_ids[name]) for p, r in zip(new_people, new_rows, strict=True) for name in r.tags]
        links += [
            (p.pk, tag_ids[name])
            for p, r in zip(upd_people, upd_rows, strict=True)
            if "tags" in r.changes
            for name in r.tags
        ]
        if links:
            insert_many(through, ["person", "tag"], links)
        t1 = time.perf_counter()

        for p, r in zip(new_people, new_rows, strict=True):
            events.append(PendingEvent("orgs.person.created", p, unit_paths[r.unit], _snapshot(r)))
        for p, r in zip(upd_people, upd_rows, strict=True):
            events.append(PendingEvent("orgs.person.updated", p, unit_paths[r.unit], r.changes))
        log_actions_bulk(actor, events, batch=batch)
        log.debug(
            "roster import writes: units and people %.2fs, audit %.2fs", t1 - t0, time.perf_counter() - t1
        )
        summary: dict[str, Any] = plan.result.as_dict()
        summary.pop("dry_run", None)
        summary["file"] = filename[:200]
        log_action(
            actor,
            action="orgs.roster.imported",
            unit_path=common_path(e.unit_path for e in events),
            changes=summary,
            batch=batch,
        )


def _event_target(pk: int, code: str, name: str) -> Person:
    """A Person standing for a just-inserted row in its audit event (which reads pk, ``_meta`` and str()).

    Made without ``Person.__init__``: for 100,000 rows the per-field descriptors of a full model
    instance cost more than the rest of the event.
    """
    p = Person.__new__(Person)
    p.__dict__.update(id=pk, code=code, name=name, _state=ModelState())
    return p


_PERSON_INSERT_FIELDS = [
    "code", "name", "gender", "birth_date", "unit", "party_unit", "political_status", "employment_status",
    "phone_enc", "id_number_enc", "id_number_digest", "created_at", "updated_at",
]  # fmt: skip
_PERSON_FIELDS = [
    "name",
    "gender",
    "birth_date",
    "unit",
    "party_unit",
    "political_status",
    "employment_status",
    "phone_enc",
    "id_number_enc",
    "id_number_digest",
    "updated_at",
]


def _apply_units(plan: _Planner, now: Any, events: list[PendingEvent]) -> None:
    """Create new units (paths computed here, in bulk), then move and update existing ones."""
    new = sorted((fu for fu in plan.units.values() if fu.existing is None), key=lambda u: plan.depth(u.code))
    step = Unit.steplen
    if new:
        path_of: dict[str, str] = {}
        last_step: dict[str, int] = {}  # parent path ("" for roots) → last child step in use
        for code, path in Unit.objects.values_list("code", "path"):
            path_of[code] = path
            parent = path[:-step]
            last_step[parent] = max(last_step.get(parent, 0), Unit._str2int(path[-step:]))
        added: dict[str, int] = {}  # parent path → children added
        objs = []
        for fu in new:
            parent_code = plan.final_parent.get(fu.code)
            ppath = path_of[parent_code] if parent_code else ""
            n = last_step.get(ppath, 0) + 1
            last_step[ppath] = n
            added[ppath] = added.get(ppath, 0) + 1
            depth = len(ppath) // step + 1
            path = Unit._get_path(ppath, depth, n)
            if len(path) > 255 or len(path) != depth * step:
                raise ValidationError(
                    _("The unit tree is too deep or too wide at %(code)s.") % {"code": fu.code}
                )
            path_of[fu.code] = path
            objs.append(Unit(code=fu.code, name=fu.name, kind=fu.kind, path=path, depth=depth, numchild=0))
        new_paths = {o.path for o in objs}
        for o in objs:
            o.numchild = added.get(o.path, 0)
        Unit.objects.bulk_create(objs, batch_size=500)
        for ppath, count in added.items():
            if ppath and ppath not in new_paths:
                Unit.objects.filter(path=ppath).update(numchild=F("numchild") + count)
    # Moves, in the order of the final depth: every target is then already where it will stay.
    moved = sorted((fu for fu in plan.units.values() if fu.moved), key=lambda u: plan.depth(u.code))
    for fu in moved:
        assert fu.existing is not None
        parent_code = plan.final_parent.get(fu.code)
        assert parent_code is not None
        node = Unit.objects.get(pk=fu.existing.id)
        old_path = node.path
        Unit.objects.move(node, Unit.objects.get(code=parent_code), "last-child")
        new_path = Unit.objects.filter(pk=node.pk).values_list("path", flat=True).get()
        signals.unit_moved.send(Unit, unit_id=node.pk, old_path=old_path, new_path=new_path)
    changed = [fu for fu in plan.units.values() if fu.existing is not None and fu.changes]
    for fu in changed:
        assert fu.existing is not None
        Unit.objects.filter(pk=fu.existing.id).update(name=fu.name, kind=fu.kind, updated_at=now)
    touched = [fu.code for fu in new] + [fu.code for fu in moved] + [fu.code for fu in changed]
    units: dict[str, Unit] = {}
    for chunk in chunks(touched):
        units.update((u.code, u) for u in Unit.objects.filter(code__in=chunk))
    for fu in new:
        u = units[fu.code]
        snap = {"code": u.code, "name": u.name, "short_name": "", "kind": u.kind, "is_active": True}
        events.append(PendingEvent("orgs.unit.created", u, u.path, snap))
    for fu in changed:
        u = units[fu.code]
        events.append(PendingEvent("orgs.unit.updated", u, u.path, fu.changes))
    for fu in moved:
        assert fu.existing is not None
        u = units[fu.code]
        change = {"parent": [fu.existing.parent_code, plan.final_parent.get(fu.code)]}
        events.append(PendingEvent("orgs.unit.moved", u, u.path, change))


def _ensure_tags(plan: _Planner, events: list[PendingEvent]) -> dict[str, int]:
    needed = sorted(plan.new_tags)
    if not needed:
        return {}
    ids: dict[str, int] = {}
    for chunk in chunks(needed):
        ids.update(Tag.objects.filter(name__in=chunk).values_list("name", "id"))
    missing = [Tag(name=n) for n in needed if n not in ids]
    if missing:
        Tag.objects.bulk_create(missing)
        for chunk in chunks([t.name for t in missing]):
            for t in Tag.objects.filter(name__in=chunk):
                ids[t.name] = t.pk
                events.append(PendingEvent("orgs.tag.created", t, ""))
    return ids


# ---------------------------------------------------------------- export


def roster_export(
    *, actor: Any, fmt: str, unit: Unit | None = None, sheet: str = "people"
) -> tuple[bytes, str, str]:
    """The roster of what ``actor`` may see (under ``unit``, if given): (content, content type, file name).

    ``fmt`` "xlsx" writes both sheets; "csv" writes one, ``sheet`` ("people" or "units"). Phones and ID
    numbers are masked unless the actor may see them. The file imports back with no changes.
    """
    check_export(fmt, sheet, ("people", "units"))
    require(actor)
    if unit is not None and not access.can(actor, Perm.VIEW, unit):
        raise Http404
    chinese = use_chinese()
    choices = _all_choices()
    counts = {"units": 0, "people": 0}

    def unit_rows() -> Iterator[list[Any]]:
        all_units = list(Unit.objects.values_list("code", "name", "kind", "path").order_by("path"))
        code_by_path = {u[3]: u[0] for u in all_units}
        view = access.scope_paths(actor, Perm.VIEW)
        step = Unit.steplen
        for code, name, kind, path in all_units:
            if not under(path, view) or (unit is not None and not path.startswith(unit.path)):
                continue
            counts["units"] += 1
            parent_path = path[:-step]
            # A parent the actor may not see stays blank: the export must not reveal it (blank = keep).
            visible_parent = len(path) > step and under(parent_path, view)
            parent = code_by_path.get(parent_path, "") if visible_parent else ""
            yield [code, name, parent, choices["kind"].label(kind, chinese)]

    def people_rows() -> Iterator[list[Any]]:
        qs = access.scoped(Person.objects.all(), actor, Perm.VIEW)
        view = access.scope_paths(actor, Perm.VIEW)
        if unit is not None:
            qs = qs.filter(Q(unit__path__startswith=unit.path) | Q(party_unit__path__startswith=unit.path))
        rows = list(
            qs.order_by("code").values_list(
                "id",
                "code",
                "name",
                "gender",
                "birth_date",
                "unit__code",
                "unit__path",
                "party_unit__code",
                "party_unit__path",
                "political_status",
                "employment_status",
                "phone_enc",
                "id_number_enc",
                "user_id",
            )
        )
        tags: dict[int, list[str]] = {}
        through = Person.tags.through
        ids = [r[0] for r in rows]
        for chunk in chunks(ids):
            for pid, name in through.objects.filter(person_id__in=chunk).values_list(
                "person_id", "tag__name"
            ):
                tags.setdefault(pid, []).append(name)
        sep = "、" if chinese else ", "
        may: dict[tuple[Any, ...], tuple[bool, bool]] = {}
        for (
            pid,
            code,
            name,
            gender,
            birth,
            ucode,
            upath,
            pcode,
            ppath,
            pol,
            emp,
            phone_enc,
            id_enc,
            user_id,
        ) in rows:
            key = (upath, ppath, user_id == getattr(actor, "pk", None) and user_id is not None)
            if key not in may:
                who = SimpleNamespace(
                    user_id=user_id,
                    unit=SimpleNamespace(path=upath),
                    party_unit=SimpleNamespace(path=ppath) if ppath else None,
                )
                may[key] = (
                    access.may_see_personal(actor, who, Perm.VIEW_PHONE),
                    access.may_see_personal(actor, who, Perm.VIEW_ID),
                )
            see_phone, see_id = may[key]
            phone = crypto.decrypt(phone_enc) if phone_enc else ""
            id_number = crypto.decrypt(id_enc) if id_enc else ""
            counts["people"] += 1
            yield [
                code,
                name,
                choices["gender"].label(gender, chinese),
                birth,
                ucode if under(upath, view) else "",  # units out of the actor's view stay blank (= keep)
                pcode if pcode and under(ppath, view) else "",
                choices["political_status"].label(pol, chinese),
                choices["employment_status"].label(emp, chinese),
                phone if see_phone else mask_phone(phone),
                id_number if see_id else mask_id_number(id_number),
                sep.join(sorted(tags.get(pid, []))),
            ]

    return export_file(
        actor=actor,
        action="orgs.roster.exported",
        name="roster",
        fmt=fmt,
        sheet=sheet,
        unit=unit,
        sheets=[
            ExportSheet("units", UNITS, unit_rows(), (16, 36, 16, 14)),
            ExportSheet("people", PEOPLE, people_rows(), (12, 10, 6, 12, 14, 14, 12, 10, 14, 21, 24)),
        ],
        counts=counts,
    )


_TEMPLATE_UNITS = 2000  # unit codes offered in a template's drop-down


def scope_unit_codes(actor: Any, perm: Perm, *, party: bool | None = None) -> list[str]:
    """The codes of the units ``actor`` holds ``perm`` on (for a template's drop-down), by path."""
    if actor is None:
        return []
    qs = access.scoped(Unit.objects.all(), actor, perm)
    if party is not None:
        qs = qs.filter(kind__in=PARTY_KINDS) if party else qs.exclude(kind__in=PARTY_KINDS)
    return list(qs.order_by("path").values_list("code", flat=True)[:_TEMPLATE_UNITS])


def roster_template(actor: Any = None) -> tuple[bytes, str, str]:
    """A register workbook to fill in: both sheets' headers, one example row each (marked 示例 / Example,
    skipped by the import), drop-down lists for unit type, gender, political status and state, and for
    unit codes the units ``actor`` may import into: (content, content type, file name)."""
    chinese = use_chinese()
    choices = _all_choices()

    def labels(name: str) -> list[str]:
        c = choices[name]
        return list((c.zh if chinese else c.en).values())

    admin = scope_unit_codes(actor, Perm.IMPORT, party=False)
    party = scope_unit_codes(actor, Perm.IMPORT, party=True)
    unit_example = {
        "code": f"{admin[0]}-X1" if admin else "XH-S9",
        "name": "第九税务所" if chinese else "Ninth tax office",
        "parent": admin[0] if admin else "XH",
        "kind": choices["kind"].label(UnitKind.TAX_OFFICE, chinese),
    }
    person_example = {
        "code": "A00001",
        "name": "张三" if chinese else "Zhang San",
        "gender": choices["gender"].label(Gender.MALE, chinese),
        "birth_date": "1990-03-07",
        "unit": admin[0] if admin else "XH",
        "party_unit": party[0] if party else "",
        "political_status": choices["political_status"].label(PoliticalStatus.MEMBER, chinese),
        "employment_status": choices["employment_status"].label(EmploymentStatus.ACTIVE, chinese),
        "phone": "13800000000",
        "tags": "青年" if chinese else "youth",
    }
    return template_file(
        [
            TemplateSheet(
                UNITS,
                {"kind": labels("kind"), "parent": admin},
                unit_example,
                (16, 36, 16, 14),
            ),
            TemplateSheet(
                PEOPLE,
                {
                    "gender": labels("gender"),
                    "unit": admin,
                    "party_unit": party,
                    "political_status": labels("political_status"),
                    "employment_status": labels("employment_status"),
                },
                person_example,
                (12, 10, 6, 12, 14, 14, 12, 10, 14, 21, 24),
            ),
        ],
        chinese=chinese,
        name="roster-template.xlsx",
    )


# ---------------------------------------------------------------- registration

IMPORTER = Importer(
    key="roster",
    order=10,
    specs=(UNITS, PEOPLE),
    require=require,
    plan=roster_plan,
    apply=roster_apply,
    summary=summary,
    reset=access.forget,
    export=roster_export,
    template=roster_template,
)
