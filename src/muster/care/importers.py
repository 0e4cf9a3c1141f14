"""Care subjects and survey answers as a part of a whole-organization workbook (``muster.tabular.workbook``).

It comes after the staff register (subjects name people and units the same file may add)."""

from __future__ import annotations

from typing import Any

from muster.care import io
from muster.tabular.workbook import Importer, register


def _export(
    *, actor: Any, fmt: str = "xlsx", unit: Any = None, sheet: str | None = None
) -> tuple[bytes, str, str]:
    from django.http import Http404

    from muster.orgs import access

    if unit is None:
        unit = next((u for u in access.visible_roots(actor) if not u.is_party), None)
        if unit is None:
            raise Http404
    return io.care_export(actor=actor, unit=unit)


register(
    Importer(
        key="care",
        order=60,
        specs=io.SPECS,
        require=io.require,
        run=io.care_import,
        plan=io.care_plan,
        apply=io.care_apply,
        result=lambda plan: plan.result,
        summary=io.summary,
        export=_export,
    )
)
