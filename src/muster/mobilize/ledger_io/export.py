"""The ledger export: every batch the actor may see and the current version of each entry."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from muster.clock import local_tz
from muster.mobilize.models import EntryKind, ServiceEntry
from muster.mobilize.queries import chain_states, visible_entries
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Unit
from muster.tabular.pipeline import ExportSheet, check_export, export_file
from muster.tabular.schema import use_chinese

from .plan import require
from .schema import APPROVED, DEPLOYMENTS, KIND_EN, KIND_ZH, PENDING, SERVICE, STATUS_ZH

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
