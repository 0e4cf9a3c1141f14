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

Modules, all re-exported here (``from muster.orgs import people_io`` is the way in): ``schema`` (the two
sheets, choice spellings, the result and its summary), ``rows`` (the planner's records and cell helpers),
``plan_units`` and ``plan`` (the planner: units sheet, then people sheet; ``require``), ``apply`` (the
writes), ``export``, ``template`` and ``importer`` (``IMPORTER`` and the one-call import).
"""

from __future__ import annotations

from .apply import people_apply
from .export import people_export
from .importer import IMPORTER, people_import
from .plan import people_plan, require
from .schema import (
    EMPLOYMENT_ZH,
    GENDER_ZH,
    KIND_ZH,
    PEOPLE,
    POLITICAL_ZH,
    UNITS,
    PeopleImportResult,
    summary,
)
from .template import people_template, scope_unit_codes

__all__ = [
    "EMPLOYMENT_ZH",
    "GENDER_ZH",
    "IMPORTER",
    "KIND_ZH",
    "PEOPLE",
    "POLITICAL_ZH",
    "UNITS",
    "PeopleImportResult",
    "people_apply",
    "people_export",
    "people_import",
    "people_plan",
    "people_template",
    "require",
    "scope_unit_codes",
    "summary",
]
