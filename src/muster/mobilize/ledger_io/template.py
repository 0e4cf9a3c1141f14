"""The ledger template: headers, example rows and drop-down lists to fill in."""

from __future__ import annotations

from typing import Any

from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import PARTY_KINDS, Unit
from muster.tabular.schema import use_chinese
from muster.tabular.template import TemplateSheet, template_file

from .schema import APPROVED, DEPLOYMENTS, KIND_EN, KIND_ZH, PENDING, SERVICE, STATUS_ZH

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
