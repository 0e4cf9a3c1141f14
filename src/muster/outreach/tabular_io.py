"""Enterprises and liaisons in and out of spreadsheets, through the tabular framework.

Import (``enterprise_import``): the sheet 企业 / Enterprises (and optionally 联络人 / Liaisons) is read,
every row checked, every problem reported with its sheet, row, column and value, and only a file without
problems is written, in one transaction, through the services (all or nothing). A row whose credit code is
registered already updates that enterprise; a new code creates one. Headers in Chinese or English.

Export (``enterprise_export``): the same layout, so an exported file imports back with no changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _

from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Person, Unit
from muster.orgs.rules import cell_problem
from muster.outreach import creditcode, services
from muster.outreach.models import Enterprise, EnterpriseSize, Liaison, LiaisonRole
from muster.tabular.cells import CellError, choice_table, is_blank, parse_choice, parse_date, text
from muster.tabular.errors import ErrorCollector
from muster.tabular.pipeline import Importer, TextCells, person_not_in_scope, unit_not_in_scope
from muster.tabular.schema import Column, SheetSpec, Table, use_chinese
from muster.tabular.template import TemplateSheet, template_file
from muster.tabular.writer import CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE, SheetData, csv_bytes, xlsx_bytes

ENTERPRISES = SheetSpec(
    "enterprises",
    "企业",
    "Enterprises",
    (
        Column(
            "credit_code", "统一社会信用代码", "Credit code", ("unified social credit code", "信用代码"), True
        ),
        Column("name", "纳税人名称", "Name", ("企业名称", "名称"), True),
        Column("industry", "行业", "Industry"),
        Column("park", "园区", "Park"),
        Column("building", "楼宇", "Building"),
        Column("size", "规模", "Size", ("企业规模",)),
        Column("unit", "主管税务机关代码", "Tax office code", ("主管税务机关", "unit", "单位代码"), True),
    ),
    aliases=("纳税人", "taxpayers"),
)
LIAISONS = SheetSpec(
    "liaisons",
    "联络人",
    "Liaisons",
    (
        Column(
            "credit_code", "统一社会信用代码", "Credit code", ("unified social credit code", "信用代码"), True
        ),
        Column("person", "工号", "Staff number", ("person",), True),
        Column("role", "角色", "Role"),
        Column("start", "起始日期", "From", ("开始日期", "start"), True),
        Column("end", "终止日期", "Until", ("结束日期", "end")),
    ),
    aliases=("党建指导人", "liaison"),
)
SPECS = (ENTERPRISES, LIAISONS)

_SIZE_ZH = {"large": "大型", "medium": "中型", "small": "小型", "micro": "微型"}
_ROLE_ZH = {"liaison": "联络人", "party_guide": "党建指导人"}
SIZES = choice_table((c, (_SIZE_ZH[c], str(label))) for c, label in EnterpriseSize.choices)
ROLES = choice_table((c, (_ROLE_ZH[c], str(label))) for c, label in LiaisonRole.choices)


@dataclass
class EnterpriseImportResult:
    enterprises_created: int = 0
    enterprises_updated: int = 0
    enterprises_unchanged: int = 0
    liaisons_created: int = 0
    liaisons_unchanged: int = 0
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def summary(result: EnterpriseImportResult) -> str:
    lines = [
        _("Enterprises: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.")
        % {
            "created": result.enterprises_created,
            "updated": result.enterprises_updated,
            "unchanged": result.enterprises_unchanged,
        },
        _("Liaisons: %(created)d created, %(unchanged)d unchanged.")
        % {"created": result.liaisons_created, "unchanged": result.liaisons_unchanged},
    ]
    if result.dry_run:
        lines.append(_("Dry run: nothing was written."))
    return "\n".join(lines)


def may_import(actor: Any) -> bool:
    return access.can_anywhere(actor, Perm.CHANGE)


def require(actor: Any) -> None:
    if not may_import(actor):
        raise access.NotAllowed(Perm.CHANGE)


@dataclass
class _Row:
    sheet: str
    row: int
    values: dict[str, Any]


@dataclass
class Plan:
    actor: Any
    errors: ErrorCollector
    enterprises: list[tuple[Enterprise | None, dict[str, Any]]] = field(default_factory=list)
    liaisons: list[dict[str, Any]] = field(default_factory=list)
    result: EnterpriseImportResult = field(default_factory=EnterpriseImportResult)


def _cell(
    t: Table, cells: list[Any], key: str, rownum: int, errors: ErrorCollector, *, code: bool = False
) -> str:
    raw = t.get(cells, key)
    problem = cell_problem(raw, key, code=code) if raw is not None else None
    if problem:
        errors.add(t.sheet, rownum, t.column(key), raw, problem)
        return ""
    return text(raw)


def _at_most(n: int) -> str:
    return _("at most %(n)d characters") % {"n": n}


def enterprise_plan(*, actor: Any, tables: dict[str, Table], errors: ErrorCollector) -> Plan:
    """Check the sheets against the database; add every problem to ``errors``."""
    plan = Plan(actor, errors)
    units = {u.code: u for u in access.scoped(Unit.objects.all(), actor, Perm.VIEW)}
    codes_in_file: dict[str, int] = {}
    t = tables.get("enterprises")
    if t is not None:
        wanted = {creditcode.normalize(text(t.get(c, "credit_code"))) for _, c in t.rows}
        existing = {
            e.credit_code: e for e in Enterprise.objects.filter(credit_code__in=wanted).select_related("unit")
        }
        name_cells = TextCells(
            errors,
            t,
            key="name",
            max_len=120,
            required=_("a name is required"),
            long=lambda _n: _("at most 120 characters"),
        )
        text_cells = {
            key: TextCells(errors, t, key=key, max_len=n, long=_at_most)
            for key, n in (("industry", 60), ("park", 120), ("building", 120))
            if t.has(key)
        }
        for rownum, cells in t.rows:
            n_before = errors.total
            code = creditcode.normalize(_cell(t, cells, "credit_code", rownum, errors))
            raw_code = t.get(cells, "credit_code")
            if not code:
                if errors.total == n_before:
                    errors.add(
                        t.sheet, rownum, t.column("credit_code"), raw_code, _("a credit code is required")
                    )
            elif (msg := services.credit_code_message(code)) is not None:
                errors.add(t.sheet, rownum, t.column("credit_code"), raw_code, msg)
            elif code in codes_in_file:
                errors.add(
                    t.sheet,
                    rownum,
                    t.column("credit_code"),
                    raw_code,
                    _("this credit code is on row %(row)d already") % {"row": codes_in_file[code]},
                )
            codes_in_file.setdefault(code, rownum)
            raw_name = t.get(cells, "name")
            name = text(raw_name)
            name_cells.check(rownum, raw_name, name)
            fields: dict[str, Any] = {"name": name}
            for key, words in text_cells.items():
                raw = t.get(cells, key)
                fields[key] = text(raw)
                words.check(rownum, raw, fields[key])
            if t.has("size"):
                try:
                    fields["size"] = parse_choice(t.get(cells, "size"), SIZES, "大型/中型/小型/微型") or ""
                except CellError as exc:
                    errors.add(t.sheet, rownum, t.column("size"), t.get(cells, "size"), str(exc))
            unit_code = _cell(t, cells, "unit", rownum, errors, code=True)
            unit = units.get(unit_code)
            if unit is None:
                errors.add(
                    t.sheet,
                    rownum,
                    t.column("unit"),
                    t.get(cells, "unit"),
                    unit_not_in_scope() if unit_code else _("a unit code is required"),
                )
            elif not services.may_write(actor, unit):
                errors.add(
                    t.sheet,
                    rownum,
                    t.column("unit"),
                    unit_code,
                    _("you may not change enterprises of this unit"),
                )
            fields["unit"] = unit
            current = existing.get(code)
            if current is not None and not access.can(actor, Perm.VIEW, current.unit):
                # registered where the actor may not see: not confirmed to exist (the service's answer)
                errors.add(
                    t.sheet,
                    rownum,
                    t.column("credit_code"),
                    code,
                    _("this credit code cannot be registered here; check it or ask an administrator"),
                )
            elif current is not None and not services.may_write(actor, current.unit):
                errors.add(
                    t.sheet, rownum, t.column("credit_code"), code, _("you may not change this enterprise")
                )
            if errors.total == n_before:
                plan.enterprises.append((current, {"credit_code": code, **fields}))
    t = tables.get("liaisons")
    if t is not None:
        file_codes = set(codes_in_file)
        people = {p.code: p for p in access.scoped(Person.objects.all(), actor, Perm.VIEW)}
        visible = {e.credit_code: e for e in access.scoped(Enterprise.objects.all(), actor, Perm.VIEW)}
        seen: set[tuple[str, str, str, date]] = set()
        for rownum, cells in t.rows:
            n_before = errors.total
            code = creditcode.normalize(_cell(t, cells, "credit_code", rownum, errors))
            if code not in file_codes and code not in visible:
                errors.add(
                    t.sheet,
                    rownum,
                    t.column("credit_code"),
                    code,
                    _("there is no enterprise with this credit code"),
                )
            pcode = _cell(t, cells, "person", rownum, errors, code=True)
            person = people.get(pcode)
            if person is None:
                errors.add(t.sheet, rownum, t.column("person"), pcode, person_not_in_scope())
            role: str = LiaisonRole.LIAISON
            try:
                role = parse_choice(t.get(cells, "role"), ROLES, "联络人/党建指导人") or LiaisonRole.LIAISON
            except CellError as exc:
                errors.add(t.sheet, rownum, t.column("role"), t.get(cells, "role"), str(exc))
            start: date | None = None
            end: date | None = None
            for key in ("start", "end"):
                try:
                    day = parse_date(t.get(cells, key))
                except CellError as exc:
                    errors.add(t.sheet, rownum, t.column(key), t.get(cells, key), str(exc))
                    continue
                if key == "start":
                    start = day
                else:
                    end = day
            if start is None and is_blank(t.get(cells, "start")):
                errors.add(t.sheet, rownum, t.column("start"), "", _("a start date is required"))
            if start is not None and end is not None and end < start:
                errors.add(
                    t.sheet,
                    rownum,
                    t.column("end"),
                    t.get(cells, "end"),
                    _("the period ends before it starts"),
                )
            if errors.total == n_before and start is not None and person is not None:
                key4 = (code, person.code, role, start)
                if key4 in seen:
                    continue
                seen.add(key4)
                plan.liaisons.append(
                    {
                        "credit_code": code,
                        "person": person,
                        "role": role,
                        "start": start,
                        "end": end,
                        "row": rownum,
                        "sheet": t.sheet,
                    }
                )
    return plan


def enterprise_apply(plan: Plan, *, actor: Any, filename: str, tables: dict[str, Table]) -> None:
    """Write a checked plan through the services (call inside the caller's transaction)."""
    r = plan.result
    for current, fields in plan.enterprises:
        if current is None:
            services.enterprise_create(actor=actor, **fields)
            r.enterprises_created += 1
            continue
        changes = {k: v for k, v in fields.items() if k != "credit_code" and getattr(current, k) != v}
        if changes:
            services.enterprise_update(actor=actor, enterprise=current, **changes)
            r.enterprises_updated += 1
        else:
            r.enterprises_unchanged += 1
    by_code = {
        e.credit_code: e
        for e in Enterprise.objects.filter(credit_code__in={li["credit_code"] for li in plan.liaisons})
    }
    for li in plan.liaisons:
        enterprise = by_code[li["credit_code"]]
        if Liaison.objects.filter(
            enterprise=enterprise, person=li["person"], role=li["role"], start=li["start"], end=li["end"]
        ).exists():
            r.liaisons_unchanged += 1
            continue
        try:
            services.liaison_assign(
                actor=actor,
                enterprise=enterprise,
                person=li["person"],
                role=li["role"],
                start=li["start"],
                end=li["end"],
            )
        except ValidationError as exc:
            for msgs in exc.message_dict.values():
                for m in msgs:
                    plan.errors.add(li["sheet"], li["row"], "", "", m)
            continue
        except (Http404, access.NotAllowed):
            plan.errors.add(
                li["sheet"], li["row"], "", li["credit_code"], _("you may not change this enterprise")
            )
            continue
        r.liaisons_created += 1


def enterprise_import(
    *, actor: Any, filename: str, data: bytes, dry_run: bool = False
) -> EnterpriseImportResult:
    """Check an enterprises file and, unless ``dry_run``, apply it (all or nothing); raise ``TabularError``
    listing every problem (the steps are the pipeline's: ``muster.tabular.pipeline.import_file``; a dry run
    goes through the services too, and is rolled back)."""
    result: EnterpriseImportResult = IMPORTER.run(actor=actor, filename=filename, data=data, dry_run=dry_run)
    return result


# ---------------------------------------------------------------- export


def enterprise_export(*, actor: Any, fmt: str, unit: Unit | None = None) -> tuple[bytes, str, str]:
    """The enterprises (and liaisons) ``actor`` may see, under ``unit`` if given: (content, type, name).
    ``xlsx`` holds both sheets; ``csv`` the enterprises."""
    if fmt not in ("xlsx", "csv"):
        raise ValidationError({"fmt": _("Unknown format %(fmt)s; use xlsx or csv.") % {"fmt": fmt}})
    if unit is not None and not access.can(actor, Perm.VIEW, unit):
        raise Http404
    chinese = use_chinese()
    qs = access.scoped(Enterprise.objects.select_related("unit"), actor, Perm.VIEW).order_by("credit_code")
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)

    def size(code: str) -> str:
        return (_SIZE_ZH.get(code, "") if chinese else code) if code else ""

    def ent_rows() -> Iterator[list[Any]]:
        for e in qs.iterator():
            yield [e.credit_code, e.name, e.industry, e.park, e.building, size(e.size), e.unit.code]

    def liaison_rows() -> Iterator[list[Any]]:
        rows = Liaison.objects.filter(enterprise__in=qs).select_related("enterprise", "person")
        for li in rows.order_by("enterprise__credit_code", "start", "id"):
            role = _ROLE_ZH[li.role] if chinese else li.role
            yield [li.enterprise.credit_code, li.person.code, role, li.start, li.end]

    stamp = "enterprises"
    if fmt == "csv":
        return csv_bytes(ENTERPRISES.headers(chinese), ent_rows()), CSV_CONTENT_TYPE, f"{stamp}.csv"
    sheets = [
        SheetData(
            ENTERPRISES.title(chinese), ENTERPRISES.headers(chinese), ent_rows(), (22, 30, 20, 20, 16, 8, 16)
        ),
        SheetData(LIAISONS.title(chinese), LIAISONS.headers(chinese), liaison_rows(), (22, 12, 12, 12, 12)),
    ]
    return xlsx_bytes(sheets), XLSX_CONTENT_TYPE, f"{stamp}.xlsx"


# ---------------------------------------------------------------- template


def enterprise_template(actor: Any = None) -> tuple[bytes, str, str]:
    """An enterprises workbook to fill in: headers, one example row per sheet (marked 示例 / Example,
    skipped by the import), drop-down lists for size, role and the units ``actor`` may change."""
    chinese = use_chinese()
    units: list[str] = []
    if actor is not None:
        units = list(
            access.scoped(Unit.objects.all(), actor, Perm.CHANGE)
            .order_by("path")
            .values_list("code", flat=True)[:2000]
        )
    sizes = list(_SIZE_ZH.values()) if chinese else list(_SIZE_ZH)
    roles = list(_ROLE_ZH.values()) if chinese else list(_ROLE_ZH)
    credit = "91310104MA1FL0000X"
    return template_file(
        [
            TemplateSheet(
                ENTERPRISES,
                {"size": sizes, "unit": units},
                {
                    "credit_code": credit,
                    "name": "上海示范科技有限公司" if chinese else "Shanghai Example Tech Co., Ltd.",
                    "industry": "软件和信息技术服务业" if chinese else "Software",
                    "size": sizes[2],
                    "unit": units[0] if units else "XH-S1",
                },
                (22, 30, 20, 20, 16, 8, 16),
            ),
            TemplateSheet(
                LIAISONS,
                {"role": roles},
                {"credit_code": credit, "person": "A00001", "role": roles[0], "start": "2024-01-01"},
                (22, 12, 12, 12, 12),
            ),
        ],
        chinese=chinese,
        name="enterprises-template.xlsx",
    )


# ---------------------------------------------------------------- registration

IMPORTER = Importer(
    key="outreach",
    order=30,
    specs=SPECS,
    require=require,
    plan=enterprise_plan,
    apply=enterprise_apply,
    summary=summary,
    template=enterprise_template,
    check_by_applying=True,
)
