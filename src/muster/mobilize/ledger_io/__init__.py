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

Modules
-------
All re-exported here (``from muster.mobilize import ledger_io`` is the way in): ``schema`` (the two sheets,
kinds and states, time-cell messages, the result and its summary), ``rows`` (the planner's records),
``plan`` (the planner; ``may_import``, ``require``), ``apply`` (the bulk writes), ``export``, ``template``
and ``importer`` (``IMPORTER`` and the one-call import).
"""

from __future__ import annotations

from .apply import ledger_apply
from .export import ledger_export
from .importer import IMPORTER, ledger_import
from .plan import ledger_plan, may_import, require
from .schema import (
    APPROVED,
    DEPLOYMENTS,
    KIND_EN,
    KIND_ZH,
    LEDGER_SPECS,
    PENDING,
    SERVICE,
    STATUS_ZH,
    LedgerImportResult,
    describe_time_error,
    kind_choices,
    summary,
)
from .template import ledger_template

__all__ = [
    "APPROVED",
    "DEPLOYMENTS",
    "IMPORTER",
    "KIND_EN",
    "KIND_ZH",
    "LEDGER_SPECS",
    "PENDING",
    "SERVICE",
    "STATUS_ZH",
    "LedgerImportResult",
    "describe_time_error",
    "kind_choices",
    "ledger_apply",
    "ledger_export",
    "ledger_import",
    "ledger_plan",
    "ledger_template",
    "may_import",
    "require",
    "summary",
]
