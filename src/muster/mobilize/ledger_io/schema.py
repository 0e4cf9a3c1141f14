"""The ledger's layout: its two sheets, kinds and states with their spellings, time-cell messages,
and the import's result."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from muster import clock
from muster.dates import date_range_message
from muster.mobilize.models import EntryKind
from muster.tabular.cells import choice_table
from muster.tabular.schema import Column, SheetSpec, use_chinese

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
