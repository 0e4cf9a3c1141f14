"""Historical ledgers (台账): import and export of batches and service records in one layout.

Layout: a batches sheet (派出批次 / Deployments: 批次编号, 派出单位编码, 任务, 服务地点, 开始时间,
结束时间) and a service sheet (服务记录 / Service: 工号, 批次编号, 开始时间, 结束时间, 服务类型, 状态,
备注), in an .xlsx workbook (either sheet may be left out) or one of them per .csv file. Headers in
Chinese or English.

Import rules
------------
- Times are read with ``clock.parse_datetime``: "2022-03-18 24:00", "2022/3/18 8:00",
  "2022年3月18日 8时", Excel date-times and serials. Service times are truncated to the minute.
- 服务地点 is a partner's code or name. A name no visible partner has creates a partner (type "other",
  liaison unit = the dispatching unit); the same new name in several rows creates one partner.
- Batches are matched by code: a known code whose task, place or times differ is updated (through
  ``services.deployment_update``); the dispatching unit of a known batch cannot change. New batches get
  their unit's next number (第N批). The actor needs ``Perm.MOBILIZE_DISPATCH`` on the dispatching unit.
- Service rows are matched by (person, batch, start, end) against the record and the current version of
  every entry of the person: a match (whatever its state) is left alone, so re-importing a file changes
  nothing. 批次编号 is empty for community service (居家社区服务); 服务类型 defaults to dispatch with a
  batch and community service without; 状态 is approved (已审核) when empty, or pending (待审核).
- The same rules as ``services.entry_record``: end after start, at most 24 hours, not in the future, no
  overlap with another live entry of the person (in the database or the file); a dispatch entry names
  its batch, community service has none; an approved row needs the right to approve it (never one's
  own), a pending one the right to record it. A person in a service row of a batch becomes a member of
  the batch, refused if that overlaps another batch or shift of theirs (as ``deployment_member_add``).
- A batch row without service rows creates the batch without members (its people may come in another
  file); ``deployment_dispatch``'s "at least one person" is a rule for dispatching, not for records.
- A service row pointing to a batch whose own row fails is reported too, and (like every error) refuses
  the whole file.
- The export writes every batch the actor may see (cancelled ones too, so that their service rows
  import back) and the current version of every approved or pending entry.
- The whole file is checked first and every problem reported (``TabularError``); nothing is written
  unless there are none. Then everything is written in one transaction.

Bulk writes (why the services are bypassed, and what stands in for them)
-----------------------------------------------------------------------
A ledger of a district holds tens of thousands of service rows; ``entry_record`` costs several queries a
row (locks, overlap check, audit). The importer therefore writes new batches, memberships, partners and
ledger rows in bulk (``bulk_create`` / ``tabular.bulk.insert_many``), after checking every row against
the same rules the services apply (listed above), with the people concerned locked
(``select_for_update``) for the whole transaction. It writes the same audit events the services would
(``mobilize.deployment.dispatched``, ``mobilize.deployment.member_added``, ``mobilize.entry.recorded``,
``orgs.partner.created``) with ``log_actions_bulk``, plus one summary event ``mobilize.ledger.imported``.
Ledger rows are appended exactly as ``_record`` appends them: op ``record``, sign +1 when approved (the
importer may approve it) else 0, source ``import``. Changes to existing batches are rare and go through
``services.deployment_update``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Max, Q
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from muster import clock
from muster.audit.services import PendingEvent, diff, log_action, log_actions_bulk
from muster.clock import local_tz
from muster.dates import date_range_message
from muster.mobilize import services, signals
from muster.mobilize.models import (
    Assignment,
    Deployment,
    DeploymentMember,
    DeploymentStatus,
    EntryKind,
    EntryOp,
    EntrySource,
    ServiceEntry,
)
from muster.mobilize.queries import chain_states, visible_entries
from muster.orgs import access, rules
from muster.orgs.access import Perm
from muster.orgs.models import PARTY_KINDS, Partner, PartnerKind, Person, Unit
from muster.tabular.bulk import insert_many
from muster.tabular.cells import CellError, choice_table, is_blank, parse_choice, text
from muster.tabular.errors import ErrorCollector
from muster.tabular.pipeline import (
    ExportSheet,
    Importer,
    check_export,
    chunks,
    common_path,
    export_file,
    person_not_in_scope,
    too_long,
    under,
    unit_not_in_scope,
)
from muster.tabular.schema import Column, SheetSpec, Table, use_chinese
from muster.tabular.template import TemplateSheet, template_file

# ---------------------------------------------------------------- layout

DEPLOYMENTS = SheetSpec(
    key="deployments",
    zh="派出批次",
    en="Deployments",
    aliases=("batches", "batch", "deployment", "批次", "派出"),
    columns=(
        Column("code", "批次编号", "Batch code", ("batch", "批次", "batch no", "deployment"), required=True),
        Column("unit", "派出单位编码", "Unit code", ("dispatching unit", "派出单位", "unit"), required=True),
        Column("title", "任务", "Task", ("title", "任务名称", "task name"), required=True),
        Column("site", "服务地点", "Place", ("site", "地点", "服务点", "partner")),
        Column("start", "开始时间", "Start", ("start time", "开始"), required=True),
        Column("end", "结束时间", "End", ("end time", "结束"), required=True),
    ),
)
SERVICE = SheetSpec(
    key="service",
    zh="服务记录",
    en="Service",
    aliases=("service records", "entries", "ledger", "服务台账", "服务时长"),
    columns=(
        Column("person", "工号", "Staff number", ("staff no", "person", "人员工号"), required=True),
        Column("deployment", "批次编号", "Batch code", ("batch", "批次", "batch no", "deployment")),
        Column("start", "开始时间", "Start", ("start time", "开始"), required=True),
        Column("end", "结束时间", "End", ("end time", "结束"), required=True),
        Column("kind", "服务类型", "Kind", ("type", "类型", "kind of service")),
        Column("status", "状态", "Status", ("审核状态", "state")),
        Column("note", "备注", "Note", ("notes", "说明", "remark")),
    ),
)
LEDGER_SPECS = (DEPLOYMENTS, SERVICE)

KIND_ZH = {
    EntryKind.DISPATCH: "派出",
    EntryKind.COMMUNITY: "居家社区服务",
    EntryKind.HOTLINE: "热线",
    EntryKind.DUTY: "值班",
}
KIND_EN = {
    EntryKind.DISPATCH: "dispatch",
    EntryKind.COMMUNITY: "community service",
    EntryKind.HOTLINE: "hotline",
    EntryKind.DUTY: "duty",
}
_KIND_EXTRA = {
    EntryKind.DISPATCH: ("派出服务", "派遣", "支援"),
    EntryKind.COMMUNITY: ("社区服务", "居家观察", "居家服务", "community"),
    EntryKind.HOTLINE: ("热线服务", "接线", "坐席", "12366"),
    EntryKind.DUTY: ("值班值守", "值守", "24小时值班"),
}
APPROVED, PENDING = "approved", "pending"
STATUS_ZH = {APPROVED: "已审核", PENDING: "待审核"}
_STATUS_EXTRA = {
    APPROVED: ("已批准", "已通过", "通过", "已确认", "审核通过"),
    PENDING: ("待批准", "未审核", "待确认"),
}

_CODE_MAX, _TITLE_MAX, _SITE_MAX, _PARTNER_NAME_MAX, _NOTE_MAX = 40, 200, 200, 120, 2000


def kind_choices() -> tuple[dict[str, str], str]:
    with translation.override("en"):
        en = {str(k): str(v.label) for k, v in ((k, EntryKind(k)) for k in EntryKind.values)}
    table = choice_table(
        (code, (KIND_ZH[EntryKind(code)], KIND_EN[EntryKind(code)], en[code], *_KIND_EXTRA[EntryKind(code)]))
        for code in EntryKind.values
    )
    allowed = "、".join(KIND_ZH.values()) if use_chinese() else ", ".join(KIND_EN.values())
    return table, allowed


def _status_table() -> tuple[dict[str, str], str]:
    table = choice_table((code, (STATUS_ZH[code], *_STATUS_EXTRA[code])) for code in (APPROVED, PENDING))
    allowed = "、".join(STATUS_ZH.values()) if use_chinese() else "approved, pending"
    return table, allowed


def describe_time_error(exc: clock.TimeParseError) -> str:
    """A translated reason for a time that cannot be read."""
    messages = {
        "empty": _("a date and time is required"),
        "no_year": _("the year is missing; write it like 2022-03-18 08:00"),
        "impossible": _("not a real date or time"),
        "bad_time": _("after 24:00 there is no time of day"),
        "bad_serial": _("not an Excel date"),
        "out_of_range": date_range_message(),
    }
    return messages.get(exc.code, _("not a date and time; write it like 2022-03-18 08:00"))


# ---------------------------------------------------------------- result


@dataclass
class LedgerImportResult:
    deployments_created: int = 0
    deployments_updated: int = 0
    deployments_unchanged: int = 0
    partners_created: int = 0
    members_added: int = 0
    entries_created: int = 0
    entries_unchanged: int = 0
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def summary(result: LedgerImportResult) -> str:
    lines = [
        _("Batches: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.")
        % {
            "created": result.deployments_created,
            "updated": result.deployments_updated,
            "unchanged": result.deployments_unchanged,
        },
        _("Service entries: %(created)d created, %(unchanged)d unchanged.")
        % {"created": result.entries_created, "unchanged": result.entries_unchanged},
        _("Batch members added: %(members)d; partners created: %(partners)d.")
        % {"members": result.members_added, "partners": result.partners_created},
    ]
    if result.dry_run:
        lines.append(_("Dry run: nothing was written."))
    return "\n".join(lines)


# ---------------------------------------------------------------- plan


@dataclass
class _NewPartner:
    name: str
    unit: Unit
    row: int
    obj: Partner | None = None


@dataclass
class _DepRow:
    row: int
    code: str
    unit: Unit
    title: str
    site: str
    partner: Partner | _NewPartner | None
    start: datetime
    end: datetime
    existing: Deployment | None
    changes: dict[str, list[Any]] = field(default_factory=dict)
    people: list[str] = field(default_factory=list)
    obj: Deployment | None = None


@dataclass
class _PersonInfo:
    id: int
    code: str
    name: str
    user_id: int | None
    unit_path: str
    party_path: str | None


@dataclass
class _EntryRow:
    row: int
    person: _PersonInfo
    dep: _DepRow | Deployment | None
    kind: str
    approved: bool
    start: datetime
    end: datetime
    minutes: int
    note: str


def _fmt(dt: datetime) -> str:
    return timezone.localtime(dt, local_tz()).strftime("%Y-%m-%d %H:%M")


class _Planner:
    def __init__(self, actor: Any, errors: ErrorCollector) -> None:
        self.actor = actor
        self.errors = errors
        self.tz = local_tz()
        self.now = timezone.now()
        self.actor_pk = getattr(actor, "pk", None)
        self.dispatch_paths = access.scope_paths(actor, Perm.MOBILIZE_DISPATCH)
        self.approve_paths = access.scope_paths(actor, Perm.MOBILIZE_APPROVE)
        self.units = {u.code: u for u in Unit.objects.all()}
        self.deps: dict[str, _DepRow] = {}
        self.bad_dep_codes: dict[str, int] = {}  # code → its (failed) row
        self.new_partners: dict[str, _NewPartner] = {}
        self.entries: list[_EntryRow] = []
        self.claimed: dict[int, list[tuple[datetime, datetime, str]]] = {}  # live entries in the database
        self.new_members: dict[tuple[int, str], tuple[_DepRow | Deployment, _PersonInfo]] = {}
        self.result = LedgerImportResult()

    # ------------------------------------------------ cells

    def time(self, t: Table, rownum: int, cells: Sequence[Any], key: str) -> datetime | None:
        raw = t.get(cells, key)
        try:
            return clock.parse_datetime(raw if not is_blank(raw) else "", self.tz)
        except clock.TimeParseError as exc:
            self.errors.add(t.sheet, rownum, t.column(key), raw, describe_time_error(exc))
            return None

    # ------------------------------------------------ batches

    def plan_deployments(self, t: Table) -> None:
        err = self.errors.add
        codes = [text(t.get(c, "code")) for _n, c in t.rows]
        existing = {
            d.code: d
            for d in Deployment.objects.filter(code__in=[c for c in codes if c]).select_related(
                "unit", "partner", "supported_unit"
            )
        }
        visible = set(
            access.scoped(
                Deployment.objects.filter(code__in=list(existing)), self.actor, Perm.VIEW
            ).values_list("code", flat=True)
        )
        partners = list(access.scoped(Partner.objects.all(), self.actor, Perm.VIEW).select_related("unit"))
        by_code = {p.code: p for p in partners}
        by_name: dict[str, list[Partner]] = {}
        for p in partners:
            by_name.setdefault(p.name, []).append(p)
        seen: dict[str, int] = {}
        for rownum, cells in t.rows:
            ok = True
            raw_code = t.get(cells, "code")
            code = text(raw_code)
            if not code:
                err(t.sheet, rownum, t.column("code"), "", _("a batch code is required"))
                ok = False
            elif problem := rules.cell_problem(raw_code, "code", code=True):
                err(t.sheet, rownum, t.column("code"), raw_code, problem)
                ok = False
            elif len(code) > _CODE_MAX:
                err(t.sheet, rownum, t.column("code"), code, too_long(_CODE_MAX))
                ok = False
            elif code in seen:
                err(
                    t.sheet,
                    rownum,
                    t.column("code"),
                    code,
                    _("the same batch is already in row %(row)d") % {"row": seen[code]},
                )
                ok = False
            else:
                seen[code] = rownum
            unit_code = text(t.get(cells, "unit"))
            unit = self.units.get(unit_code)
            if not unit_code:
                err(t.sheet, rownum, t.column("unit"), "", _("the dispatching unit's code is required"))
                ok = False
            elif unit is None or not access.can(self.actor, Perm.VIEW, unit):
                err(t.sheet, rownum, t.column("unit"), unit_code, unit_not_in_scope())
                ok = False
                unit = None
            elif not access.can(self.actor, Perm.MOBILIZE_DISPATCH, unit):
                err(
                    t.sheet,
                    rownum,
                    t.column("unit"),
                    unit_code,
                    _("you may not dispatch batches from %(code)s") % {"code": unit_code},
                )
                ok = False
            raw_title = t.get(cells, "title")
            title = text(raw_title)
            if problem := rules.cell_problem(raw_title, "title"):
                err(t.sheet, rownum, t.column("title"), raw_title, problem)
                ok = False
            elif not title:
                err(t.sheet, rownum, t.column("title"), "", _("say what the task is"))
                ok = False
            elif len(title) > _TITLE_MAX:
                err(t.sheet, rownum, t.column("title"), title, too_long(_TITLE_MAX))
                ok = False
            raw_site = t.get(cells, "site")
            site = text(raw_site)
            if problem := rules.cell_problem(raw_site, "site"):
                err(t.sheet, rownum, t.column("site"), raw_site, problem)
                ok = False
            elif len(site) > _SITE_MAX:
                err(t.sheet, rownum, t.column("site"), site, too_long(_SITE_MAX))
                ok = False
            start = self.time(t, rownum, cells, "start")
            end = self.time(t, rownum, cells, "end")
            if start is not None and end is not None and end <= start:
                err(
                    t.sheet,
                    rownum,
                    t.column("end"),
                    t.get(cells, "end"),
                    _("the end (%(end)s) must be after the start (%(start)s)")
                    % {"end": _fmt(end), "start": _fmt(start)},
                )
                ok = False
            old = existing.get(code) if code else None
            if old is not None:
                if code not in visible:
                    err(
                        t.sheet,
                        rownum,
                        t.column("code"),
                        code,
                        _("another batch already has the code %(code)s") % {"code": code},
                    )
                    ok = False
                elif unit is not None and old.unit_id != unit.pk:
                    err(
                        t.sheet,
                        rownum,
                        t.column("unit"),
                        unit_code,
                        _("batch %(code)s was dispatched by %(unit)s; its unit cannot change")
                        % {"code": code, "unit": old.unit.code},
                    )
                    ok = False
            if not ok or start is None or end is None or unit is None:
                if code:
                    self.bad_dep_codes.setdefault(code, rownum)
                continue
            partner: Partner | _NewPartner | None = None
            same_site = old is not None and site in {
                old.site,
                old.partner.name if old.partner else old.site,
                old.partner.code if old.partner else old.site,
            }
            if site and not same_site:
                partner = self._partner(t, rownum, site, unit, by_code, by_name)
                if partner is None:
                    self.bad_dep_codes.setdefault(code, rownum)
                    continue
            d = _DepRow(rownum, code, unit, title, site, partner, start, end, old)
            if old is not None:
                before = {"title": old.title, "start": old.start, "end": old.end}
                after = {"title": title, "start": start, "end": end}
                d.changes = diff(before, after)
                if not same_site:
                    d.changes["site"] = [old.site, _site_name(partner, site)]
                if d.changes:
                    self.result.deployments_updated += 1
                else:
                    self.result.deployments_unchanged += 1
            else:
                self.result.deployments_created += 1
            self.deps[code] = d

    def _partner(
        self,
        t: Table,
        rownum: int,
        site: str,
        unit: Unit,
        by_code: dict[str, Partner],
        by_name: dict[str, list[Partner]],
    ) -> Partner | _NewPartner | None:
        if site in by_code:
            return by_code[site]
        named = by_name.get(site, [])
        if len(named) == 1:
            return named[0]
        if named:
            at_unit = [p for p in named if p.unit_id == unit.pk]
            if len(at_unit) == 1:
                return at_unit[0]
            self.errors.add(
                t.sheet,
                rownum,
                t.column("site"),
                site,
                _("several partners are named %(name)s; write the partner's code (%(codes)s)")
                % {"name": site, "codes": ", ".join(p.code for p in named)},
            )
            return None
        if len(site) > _PARTNER_NAME_MAX:
            self.errors.add(t.sheet, rownum, t.column("site"), site, too_long(_PARTNER_NAME_MAX))
            return None
        if site not in self.new_partners:
            self.new_partners[site] = _NewPartner(site, unit, rownum)
            self.result.partners_created += 1
        return self.new_partners[site]

    # ------------------------------------------------ service

    def _load_people(self, codes: list[str]) -> dict[str, _PersonInfo]:
        ids: list[int] = []
        for chunk in chunks(codes):
            ids += list(Person.objects.filter(code__in=chunk).values_list("id", flat=True))
        ids.sort()
        out: dict[str, _PersonInfo] = {}
        view_paths = access.scope_paths(self.actor, Perm.VIEW)
        for chunk in chunks(ids):
            # Locked until the import is written: no other write can slip a conflicting commitment in.
            rows = (
                Person.objects.select_for_update(of=("self",))
                .filter(pk__in=chunk)
                .order_by("pk")
                .values_list("id", "code", "name", "user_id", "unit__path", "party_unit__path")
            )
            for pid, code, name, user_id, upath, ppath in rows:
                own = user_id is not None and user_id == self.actor_pk
                if own or under(upath, view_paths) or under(ppath, view_paths):
                    out[code] = _PersonInfo(pid, code, name, user_id, upath, ppath)
        return out

    def plan_service(self, t: Table) -> None:
        err = self.errors.add
        kinds, kinds_allowed = kind_choices()
        statuses, statuses_allowed = _status_table()
        people = self._load_people(sorted({text(t.get(c, "person")) for _n, c in t.rows} - {""}))
        dep_codes = {text(t.get(c, "deployment")) for _n, c in t.rows} - {""}
        db_deps = {
            d.code: d
            for d in access.scoped(
                Deployment.objects.filter(code__in=[c for c in dep_codes if c not in self.deps]),
                self.actor,
                Perm.VIEW,
            ).select_related("unit", "supported_unit", "leader")
        }
        keys = self._existing_keys([p.id for p in people.values()])
        seen: dict[tuple[int, str, datetime, datetime], int] = {}
        for rownum, cells in t.rows:
            ok = True
            code = text(t.get(cells, "person"))
            person = people.get(code)
            if not code:
                err(t.sheet, rownum, t.column("person"), "", _("a staff number is required"))
                ok = False
            elif person is None:
                err(t.sheet, rownum, t.column("person"), code, person_not_in_scope())
                ok = False
            dep_code = text(t.get(cells, "deployment"))
            dep: _DepRow | Deployment | None = None
            if dep_code:
                if dep_code in self.deps:
                    dep = self.deps[dep_code]
                elif dep_code in self.bad_dep_codes:
                    err(
                        t.sheet,
                        rownum,
                        t.column("deployment"),
                        dep_code,
                        _("batch %(code)s is refused (see its own row %(row)d in sheet %(sheet)s)")
                        % {
                            "code": dep_code,
                            "row": self.bad_dep_codes[dep_code],
                            "sheet": DEPLOYMENTS.title(),
                        },
                    )
                    ok = False
                elif dep_code in db_deps:
                    dep = db_deps[dep_code]
                else:
                    err(
                        t.sheet,
                        rownum,
                        t.column("deployment"),
                        dep_code,
                        _("there is no batch with the code %(code)s") % {"code": dep_code},
                    )
                    ok = False
            raw_kind = t.get(cells, "kind")
            kind: str | None = None
            try:
                kind = parse_choice(raw_kind, kinds, kinds_allowed)
            except CellError as exc:
                err(t.sheet, rownum, t.column("kind"), raw_kind, str(exc))
                ok = False
            if kind is None and ok:
                kind = EntryKind.DISPATCH if dep_code else EntryKind.COMMUNITY
            if kind == EntryKind.COMMUNITY and dep_code:
                err(
                    t.sheet,
                    rownum,
                    t.column("kind"),
                    raw_kind,
                    _("community service during home observation has no batch; leave the batch code empty"),
                )
                ok = False
            if kind == EntryKind.DISPATCH and not dep_code:
                err(t.sheet, rownum, t.column("deployment"), "", _("dispatch service names its batch"))
                ok = False
            raw_status = t.get(cells, "status")
            status: str | None = APPROVED
            try:
                status = parse_choice(raw_status, statuses, statuses_allowed) or APPROVED
            except CellError as exc:
                err(t.sheet, rownum, t.column("status"), raw_status, str(exc))
                ok = False
            raw_note = t.get(cells, "note")
            note = text(raw_note)
            if problem := rules.cell_problem(raw_note, "note"):
                err(t.sheet, rownum, t.column("note"), raw_note, problem)
                ok = False
            elif len(note) > _NOTE_MAX:
                err(t.sheet, rownum, t.column("note"), note, too_long(_NOTE_MAX))
                ok = False
            span = self._span(t, rownum, cells)
            if not ok or span is None or person is None or kind is None:
                continue
            start, end, minutes = span
            if not self._may_record(t, rownum, person, dep, status == APPROVED):
                continue
            dep_key = dep_code or ""
            key = (person.id, dep_key, start, end)
            if key in seen:
                err(
                    t.sheet,
                    rownum,
                    t.column("person"),
                    code,
                    _("the same service is already in row %(row)d") % {"row": seen[key]},
                )
                continue
            seen[key] = rownum
            if key in keys:
                self.result.entries_unchanged += 1
                continue
            target = self._dep_obj(dep)
            if target is not None and target.status == DeploymentStatus.CANCELLED:
                err(
                    t.sheet,
                    rownum,
                    t.column("deployment"),
                    dep_code,
                    _("batch %(code)s is cancelled") % {"code": dep_code},
                )
                continue
            self.entries.append(
                _EntryRow(rownum, person, dep, kind, status == APPROVED, start, end, minutes, note)
            )
        self._check_overlaps(t)
        self._check_memberships(t)
        self.result.entries_created = len(self.entries)

    def _span(self, t: Table, rownum: int, cells: Sequence[Any]) -> tuple[datetime, datetime, int] | None:
        start = self.time(t, rownum, cells, "start")
        end = self.time(t, rownum, cells, "end")
        if start is None or end is None:
            return None
        start, end = clock.floor_minute(start), clock.floor_minute(end)
        raw_end = t.get(cells, "end")
        if end <= start:
            self.errors.add(
                t.sheet,
                rownum,
                t.column("end"),
                raw_end,
                _("the end (%(end)s) must be after the start (%(start)s)")
                % {"end": _fmt(end), "start": _fmt(start)},
            )
            return None
        minutes = clock.minutes_between(start, end)
        if minutes > clock.MAX_ENTRY_MINUTES:
            self.errors.add(
                t.sheet,
                rownum,
                t.column("end"),
                raw_end,
                _("an entry cannot be longer than 24 hours (this one is %(hours)s hours); split it by day")
                % {"hours": clock.minutes_to_hours(minutes)},
            )
            return None
        if end > self.now + services.FUTURE_TOLERANCE:
            self.errors.add(
                t.sheet, rownum, t.column("end"), raw_end, _("the service cannot end in the future")
            )
            return None
        return start, end, minutes

    @staticmethod
    def _dep_obj(dep: _DepRow | Deployment | None) -> Deployment | None:
        """The stored batch (None for a batch this file creates)."""
        return dep.existing if isinstance(dep, _DepRow) else dep

    def _dep_paths(self, dep: _DepRow | Deployment) -> list[str]:
        stored = self._dep_obj(dep)
        if stored is None:
            assert isinstance(dep, _DepRow)
            return [dep.unit.path]
        return [u.path for u in (stored.unit, stored.supported_unit) if u is not None]

    def _may_record(
        self, t: Table, rownum: int, person: _PersonInfo, dep: _DepRow | Deployment | None, approved: bool
    ) -> bool:
        own = person.user_id is not None and person.user_id == self.actor_pk
        if dep is not None:
            approver_paths = self._dep_paths(dep)
        else:
            approver_paths = [p for p in (person.unit_path, person.party_path) if p]
        stored = self._dep_obj(dep)
        leads = (
            stored is not None
            and stored.leader is not None
            and self.actor_pk is not None
            and stored.leader.user_id == self.actor_pk
        )
        may_approve = not own and (leads or any(under(p, self.approve_paths) for p in approver_paths))
        may_dispatch = dep is not None and any(under(p, self.dispatch_paths) for p in self._dep_paths(dep))
        if approved and not may_approve:
            reason = (
                _("nobody approves their own service; mark the row 待审核 (pending)")
                if own
                else _("you may not approve the service of %(code)s; mark the row 待审核 (pending)")
                % {"code": person.code}
            )
            self.errors.add(t.sheet, rownum, t.column("status"), STATUS_ZH[APPROVED], reason)
            return False
        if not (own or may_approve or may_dispatch):
            self.errors.add(
                t.sheet,
                rownum,
                t.column("person"),
                person.code,
                _("you may not record the service of %(code)s") % {"code": person.code},
            )
            return False
        return True

    def _existing_keys(self, person_ids: list[int]) -> set[tuple[int, str, datetime, datetime]]:
        """(person, batch code, start, end) of the record and the current version of every entry."""
        keys: set[tuple[int, str, datetime, datetime]] = set()
        for chunk in chunks(person_ids):
            rows = ServiceEntry.objects.filter(person_id__in=chunk).select_related("deployment")
            for st in chain_states(rows):
                origin, cur = st.origin, st.current
                code = origin.deployment.code if origin.deployment is not None else ""
                keys.add((origin.person_id, code, origin.start, origin.end))
                keys.add((origin.person_id, code, cur.start, cur.end))
                for iv in st.intervals_claimed():
                    self.claimed.setdefault(origin.person_id, []).append((iv.start, iv.end, code))
        return keys

    def _check_overlaps(self, t: Table) -> None:
        """No two live entries of a person overlap: new rows against each other and the database."""
        by_person: dict[int, list[tuple[datetime, datetime, int | None, str]]] = {}
        for pid, claimed in self.claimed.items():
            by_person[pid] = [(s, e, None, code) for s, e, code in claimed]
        bad: set[int] = set()
        for r in self.entries:
            by_person.setdefault(r.person.id, []).append((r.start, r.end, r.row, ""))
        for ivs in by_person.values():
            ivs.sort(key=lambda x: (x[0], x[1]))
            reach: tuple[datetime, datetime, int | None, str] | None = None
            for iv in ivs:
                if reach is not None and iv[0] < reach[1] and (iv[2] is not None or reach[2] is not None):
                    row = iv[2] if iv[2] is not None else reach[2]
                    other = reach if iv[2] is not None else iv
                    assert row is not None
                    if other[2] is not None:
                        why = _("overlaps the service in row %(row)d") % {"row": other[2]}
                    else:
                        why = _("already has service recorded %(start)s–%(end)s%(batch)s") % {
                            "start": _fmt(other[0]),
                            "end": _fmt(other[1]),
                            "batch": f" ({other[3]})" if other[3] else "",
                        }
                    self.errors.add(
                        t.sheet, row, t.column("start"), _fmt(iv[0] if iv[2] is not None else reach[0]), why
                    )
                    bad.add(row)
                if reach is None or iv[1] > reach[1]:
                    reach = iv
        if bad:
            self.entries = [r for r in self.entries if r.row not in bad]

    def _check_memberships(self, t: Table) -> None:
        """People in service rows of a batch join it; refuse overlaps with their other batches and shifts."""
        needed: dict[tuple[int, str], tuple[_DepRow | Deployment, _PersonInfo, int]] = {}
        for r in self.entries:
            if r.dep is None:
                continue
            code = r.dep.code
            needed.setdefault((r.person.id, code), (r.dep, r.person, r.row))
        if not needed:
            return
        pids = sorted({pid for pid, _c in needed})
        member_of: dict[int, dict[str, tuple[datetime, datetime]]] = {}
        shifts: dict[int, list[tuple[datetime, datetime, str]]] = {}
        for chunk in chunks(pids):
            for pid, code, start, end in DeploymentMember.objects.filter(
                person_id__in=chunk, deployment__status=DeploymentStatus.ACTIVE
            ).values_list("person_id", "deployment__code", "deployment__start", "deployment__end"):
                member_of.setdefault(pid, {})[code] = (start, end)
            for pid, start, end, dcode, label in (
                Assignment.objects.filter(person_id__in=chunk)
                .exclude(shift__deployment__status=DeploymentStatus.CANCELLED)
                .values_list(
                    "person_id", "shift__start", "shift__end", "shift__deployment__code", "shift__label"
                )
            ):
                shifts.setdefault(pid, []).append((start, end, dcode or label or ""))
        for (pid, code), (dep, person, row) in needed.items():
            current = member_of.setdefault(pid, {})
            if code in current:
                continue  # already a member
            start, end = dep.start, dep.end
            clash = next(
                (
                    (other, s, e)
                    for other, (s, e) in current.items()
                    if other != code and clock.overlaps(start, end, s, e)
                ),
                None,
            )
            if clash is None:
                clash = next(
                    (
                        (owner, s, e)
                        for s, e, owner in shifts.get(pid, [])
                        if owner != code and clock.overlaps(start, end, s, e)
                    ),
                    None,
                )
            if clash is not None:
                self.errors.add(
                    t.sheet,
                    row,
                    t.column("deployment"),
                    code,
                    _("%(person)s is already on %(other)s (%(start)s–%(end)s), which overlaps batch %(code)s")
                    % {
                        "person": f"{person.code} {person.name}",
                        "other": clash[0],
                        "start": _fmt(clash[1]),
                        "end": _fmt(clash[2]),
                        "code": code,
                    },
                )
                continue
            if code not in current:
                current[code] = (start, end)
                self.new_members[(pid, code)] = (dep, person)
                if isinstance(dep, _DepRow):
                    dep.people.append(person.code)
        self.result.members_added = len(self.new_members)


def _site_name(partner: Partner | _NewPartner | None, site: str) -> str:
    if partner is None:
        return site
    return partner.name


# ---------------------------------------------------------------- import


def may_import(actor: Any) -> bool:
    """Who may import or export ledgers: dispatchers and approvers (anywhere)."""
    return access.can_anywhere(actor, Perm.MOBILIZE_DISPATCH) or access.can_anywhere(
        actor, Perm.MOBILIZE_APPROVE
    )


def ledger_import(*, actor: Any, filename: str, data: bytes, dry_run: bool = False) -> LedgerImportResult:
    """Check a ledger file and, unless ``dry_run``, apply it; raise ``TabularError`` listing every problem
    (the steps are the pipeline's: ``muster.tabular.pipeline.import_file``)."""
    result: LedgerImportResult = IMPORTER.run(actor=actor, filename=filename, data=data, dry_run=dry_run)
    return result


def require(actor: Any) -> None:
    if not may_import(actor):
        raise access.NotAllowed(Perm.MOBILIZE_DISPATCH)


def ledger_plan(*, actor: Any, tables: dict[str, Table], errors: ErrorCollector) -> _Planner:
    """Check the batches and service sheets (``tables`` by sheet key) against the database as it is now,
    adding every problem to ``errors``; call it inside a transaction (the people concerned stay locked) and
    write the plan with ``ledger_apply`` in the same one. A whole-organization workbook
    (``muster.tabular.workbook``) calls it after the same file's units and people are written."""
    planner = _Planner(actor, errors)
    if "deployments" in tables:
        planner.plan_deployments(tables["deployments"])
    if "service" in tables:
        planner.plan_service(tables["service"])
    return planner


def ledger_apply(plan: _Planner, *, actor: Any, filename: str, tables: dict[str, Table]) -> None:
    """Write a checked plan inside the caller's transaction."""
    _apply(plan, actor, filename, tables)


def _apply(plan: _Planner, actor: Any, filename: str, tables: dict[str, Table]) -> None:
    batch = uuid.uuid4().hex
    now = timezone.now()
    events: list[PendingEvent] = []
    who = actor if getattr(actor, "pk", None) is not None else None

    # Partners named for the first time.
    if plan.new_partners:
        taken = set(Partner.objects.values_list("code", flat=True))
        partner_objs = []
        for np in plan.new_partners.values():
            n = 1
            while f"{np.unit.code}-P{n:03d}" in taken:
                n += 1
            code = f"{np.unit.code}-P{n:03d}"
            taken.add(code)
            np.obj = Partner(code=code, name=np.name, kind=PartnerKind.OTHER, unit=np.unit)
            partner_objs.append(np.obj)
        Partner.objects.bulk_create(partner_objs)
        partner_ids = dict(
            Partner.objects.filter(code__in=[o.code for o in partner_objs]).values_list("code", "id")
        )
        for np in plan.new_partners.values():
            assert np.obj is not None
            np.obj.pk = partner_ids[np.obj.code]
            events.append(
                PendingEvent(
                    "orgs.partner.created",
                    np.obj,
                    np.unit.path,
                    {"code": np.obj.code, "name": np.name, "kind": PartnerKind.OTHER, "unit": np.unit.code},
                )
            )

    def partner_of(d: _DepRow) -> Partner | None:
        return d.partner.obj if isinstance(d.partner, _NewPartner) else d.partner

    # New batches, numbered per unit under a lock of the unit's row (as ``deployment_dispatch``).
    new = [d for d in plan.deps.values() if d.existing is None]
    if new:
        unit_ids = sorted({d.unit.pk for d in new})
        list(Unit.objects.select_for_update().filter(pk__in=unit_ids).order_by("pk"))
        seqs = {
            u: m or 0
            for u, m in Deployment.objects.filter(unit_id__in=unit_ids)
            .values("unit_id")
            .annotate(m=Max("seq"))
            .values_list("unit_id", "m")
        }
        objs = []
        for d in sorted(new, key=lambda d: (d.start, d.row)):
            seq = seqs.get(d.unit.pk, 0) + 1
            seqs[d.unit.pk] = seq
            partner = partner_of(d)
            d.obj = Deployment(
                unit=d.unit,
                seq=seq,
                code=d.code,
                title=d.title,
                partner=partner,
                site=_site_name(partner, d.site),
                start=d.start,
                end=d.end,
                created_by=who,
            )
            objs.append(d.obj)
        Deployment.objects.bulk_create(objs, batch_size=500)
        ids: dict[str, int] = {}
        for chunk in chunks([o.code for o in objs]):
            ids.update(Deployment.objects.filter(code__in=chunk).values_list("code", "id"))
        for o in objs:
            o.pk = ids[o.code]

    # Changed batches: through the service (rare; it re-checks the members' conflicts).
    sheet = tables["deployments"].sheet if "deployments" in tables else ""
    for d in plan.deps.values():
        if d.existing is None:
            continue
        if not d.changes:
            d.obj = d.existing
            continue
        partner = partner_of(d) if "site" in d.changes else None
        try:
            services.deployment_update(
                actor=actor,
                deployment=d.existing,
                title=d.title,
                start=d.start,
                end=d.end,
                site=_site_name(partner, d.site) if "site" in d.changes else None,
            )
        except (ValidationError, Http404, access.NotAllowed) as exc:
            reason = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            plan.errors.add(sheet, d.row, "", d.code, reason or _("you may not change this batch"))
            raise plan.errors.exception() from None
        if "site" in d.changes and partner is not None and d.existing.partner_id != partner.pk:
            Deployment.objects.filter(pk=d.existing.pk).update(partner=partner)
        d.obj = Deployment.objects.get(pk=d.existing.pk)

    def deployment_of(dep: _DepRow | Deployment) -> Deployment:
        if isinstance(dep, _DepRow):
            assert dep.obj is not None
            return dep.obj
        return dep

    # Memberships implied by the service rows.
    if plan.new_members:
        DeploymentMember.objects.bulk_create(
            [
                DeploymentMember(deployment=deployment_of(dep), person_id=p.id)
                for dep, p in plan.new_members.values()
            ],
            batch_size=1000,
        )
        for dep, p in plan.new_members.values():
            if isinstance(dep, _DepRow) and dep.existing is None:
                continue  # listed in the batch's dispatch event
            joined = deployment_of(dep)
            events.append(
                PendingEvent(
                    "mobilize.deployment.member_added",
                    joined,
                    joined.unit.path,
                    {"person": p.code, "team": None},
                )
            )
    for d in new:
        assert d.obj is not None
        partner = partner_of(d)
        events.append(
            PendingEvent(
                "mobilize.deployment.dispatched",
                d.obj,
                d.unit.path,
                {
                    "code": d.code,
                    "seq": d.obj.seq,
                    "title": d.title,
                    "start": d.start.isoformat(),
                    "end": d.end.isoformat(),
                    "site": d.obj.site,
                    "partner": partner.code if partner else None,
                    "request": None,
                    "supported_unit": None,
                    "leader": None,
                    "teams": [],
                    "people": sorted(d.people),
                },
            )
        )

    # The ledger rows, appended as ``services._record`` appends them.
    if plan.entries:
        actor_name = actor.get_username() if who is not None else getattr(actor, "display_name", "system")
        chains = [uuid.uuid4() for _r in plan.entries]
        insert_many(
            ServiceEntry,
            [
                "chain", "person", "deployment", "shift", "kind", "source", "start", "end", "minutes", "sign",
                "op", "refers_to", "actor", "actor_name", "reason", "note", "evidence", "created_at",
            ],
            (
                (
                    chain, r.person.id, deployment_of(r.dep).pk if r.dep is not None else None, None, r.kind,
                    EntrySource.IMPORT, r.start, r.end, r.minutes, 1 if r.approved else 0, EntryOp.RECORD,
                    None, who.pk if who is not None else None, actor_name, "", r.note, "", now,
                )
                for chain, r in zip(chains, plan.entries, strict=True)
            ),
        )  # fmt: skip
        entry_ids: dict[uuid.UUID, int] = {}
        for chunk in chunks(chains):
            entry_ids.update(ServiceEntry.objects.filter(chain__in=chunk).values_list("chain", "id"))
        for chain, r in zip(chains, plan.entries, strict=True):
            target = deployment_of(r.dep) if r.dep is not None else None
            row = ServiceEntry(
                pk=entry_ids[chain],
                chain=chain,
                person_id=r.person.id,
                deployment=target,
                kind=r.kind,
                source=EntrySource.IMPORT,
                start=r.start,
                end=r.end,
                minutes=r.minutes,
                sign=1 if r.approved else 0,
                op=EntryOp.RECORD,
            )
            events.append(
                PendingEvent(
                    "mobilize.entry.recorded",
                    row,
                    r.person.unit_path,
                    {
                        "op": EntryOp.RECORD.value,
                        "sign": row.sign,
                        "person": r.person.code,
                        "kind": r.kind,
                        "start": r.start.isoformat(),
                        "end": r.end.isoformat(),
                        "minutes": r.minutes,
                        "refers_to": None,
                        "chain": str(chain),
                        "deployment": target.code if target is not None else None,
                        "source": EntrySource.IMPORT.value,
                    },
                )
            )
    # Tell the listeners (the reports' rollup facts, the points' service hours), set-wise, in this
    # transaction: the same signal as a single row recorded through the services.
    signals.ledger_rows_written.send(
        sender=ServiceEntry,
        actor=actor,
        row_ids=list(entry_ids.values()) if plan.entries else [],
        deployment_ids=[d.obj.pk for d in new if d.obj is not None],
    )
    log_actions_bulk(actor, events, batch=batch)
    summary_changes: dict[str, Any] = plan.result.as_dict()
    summary_changes.pop("dry_run", None)
    summary_changes["file"] = filename[:200]
    log_action(
        actor,
        action="mobilize.ledger.imported",
        unit_path=common_path(e.unit_path for e in events),
        changes=summary_changes,
        batch=batch,
    )


# ---------------------------------------------------------------- export


def _local(dt: datetime) -> datetime:
    """Naive local time for a spreadsheet cell (Excel has no time zones)."""
    return timezone.localtime(dt, local_tz()).replace(tzinfo=None)


def ledger_export(
    *, actor: Any, fmt: str, unit: Unit | None = None, sheet: str = "service"
) -> tuple[bytes, str, str]:
    """The ledgers the actor may see (under ``unit``, if given): (content, content type, file name).

    ``fmt`` "xlsx" writes both sheets; "csv" writes one, ``sheet`` ("deployments" or "service"). Service
    rows are the current version of every approved or pending entry (rejected and reversed ones count for
    nothing and are left out). The file imports back with no changes.
    """
    check_export(fmt, sheet, ("deployments", "service"))
    require(actor)
    if unit is not None and not access.can(actor, Perm.VIEW, unit):
        raise Http404
    chinese = use_chinese()
    counts = {"deployments": 0, "service": 0}

    def deployment_rows() -> Iterator[list[Any]]:
        from muster.mobilize.queries import deployment_list

        qs = deployment_list(actor, unit=unit).order_by("start", "code")
        for d in qs:
            counts["deployments"] += 1
            yield [
                d.code,
                d.unit.code,
                d.title,
                d.partner.name if d.partner else d.site,
                _local(d.start),
                _local(d.end),
            ]

    def service_rows() -> Iterator[list[Any]]:
        rows = visible_entries(actor)
        if unit is not None:
            rows = rows.filter(
                Q(person__unit__path__startswith=unit.path)
                | Q(person__party_unit__path__startswith=unit.path)
                | Q(deployment__unit__path__startswith=unit.path)
            )
        chains = rows.values("chain").distinct()
        states = chain_states(
            ServiceEntry.objects.filter(chain__in=chains).select_related("person", "deployment")
        )
        out = []
        for st in states:
            if st.net != 1 and st.status != "pending":
                continue
            cur, origin = st.current, st.origin
            status = APPROVED if st.net == 1 else PENDING
            kind = EntryKind(origin.kind)
            out.append(
                (
                    cur.start,
                    origin.person.code,
                    [
                        origin.person.code,
                        origin.deployment.code if origin.deployment else "",
                        _local(cur.start),
                        _local(cur.end),
                        KIND_ZH[kind] if chinese else KIND_EN[kind],
                        STATUS_ZH[status] if chinese else status,
                        origin.note,
                    ],
                )
            )
        out.sort(key=lambda x: (x[0], x[1]))
        for _s, _p, row in out:
            counts["service"] += 1
            yield row

    return export_file(
        actor=actor,
        action="mobilize.ledger.exported",
        name="ledger",
        fmt=fmt,
        sheet=sheet,
        unit=unit,
        sheets=[
            ExportSheet("deployments", DEPLOYMENTS, deployment_rows(), (16, 14, 30, 24, 18, 18)),
            ExportSheet("service", SERVICE, service_rows(), (12, 16, 18, 18, 14, 10, 30)),
        ],
        counts=counts,
    )


# ---------------------------------------------------------------- template


def ledger_template(actor: Any = None) -> tuple[bytes, str, str]:
    """A ledger workbook to fill in: both sheets' headers, one example row each (marked 示例 / Example,
    skipped by the import), drop-down lists for the kind and state of a service row and for the units
    ``actor`` may dispatch from: (content, content type, file name)."""
    chinese = use_chinese()
    units: list[str] = []
    if actor is not None:
        units = list(
            access.scoped(Unit.objects.exclude(kind__in=PARTY_KINDS), actor, Perm.MOBILIZE_DISPATCH)
            .order_by("path")
            .values_list("code", flat=True)[:2000]
        )
    unit = units[0] if units else "XH"
    kinds = list(KIND_ZH.values()) if chinese else list(KIND_EN.values())
    states = list(STATUS_ZH.values()) if chinese else [APPROVED, PENDING]
    return template_file(
        [
            TemplateSheet(
                DEPLOYMENTS,
                {"unit": units},
                {
                    "code": f"{unit}-001",
                    "unit": unit,
                    "title": "支援社区服务" if chinese else "Support to the community",
                    "site": "宛平社区" if chinese else "Wanping community",
                    "start": "2022-03-18 08:00",
                    "end": "2022-03-25 18:00",
                },
                (16, 14, 30, 24, 18, 18),
            ),
            TemplateSheet(
                SERVICE,
                {"kind": kinds, "status": states},
                {
                    "person": "A00001",
                    "deployment": f"{unit}-001",
                    "start": "2022-03-18 08:00",
                    "end": "2022-03-18 12:00",
                    "kind": kinds[0],
                    "status": states[0],
                },
                (12, 16, 18, 18, 14, 10, 30),
            ),
        ],
        chinese=chinese,
        name="ledger-template.xlsx",
    )


# ---------------------------------------------------------------- registration

IMPORTER = Importer(
    key="ledger",
    order=20,
    specs=LEDGER_SPECS,
    require=require,
    plan=ledger_plan,
    apply=ledger_apply,
    summary=summary,
    export=ledger_export,
    template=ledger_template,
)
