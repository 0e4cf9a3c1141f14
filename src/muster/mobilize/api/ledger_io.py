"""Ledger import and export over the API: the views are the import pipeline's
(``muster.tabular.api``), mounted here with the ledger's paths and words."""

from __future__ import annotations

from typing import Any

from muster.mobilize import ledger_io
from muster.orgs import access
from muster.orgs.models import Unit
from muster.tabular.api import (
    CONFIRM_RESPONSES,
    EXPORT_RESPONSES,
    IMPORT_RESPONSES,
    confirm_endpoint,
    export_endpoint,
    import_endpoint,
)

from .common import router


def _unit(user: Any, code: str | None) -> Unit | None:
    return access.get_scoped_or_404(Unit.objects.all(), user, code=code) if code else None


router.post(
    "/import",
    response=IMPORT_RESPONSES,
    summary="Import historical ledgers (派出批次 / 服务记录; .xlsx or .csv)",
    description="Every row is checked before anything is written: one bad row refuses the whole file "
    "(422, each error with its sheet, row, column, value and reason). Re-importing a file changes nothing. "
    "With dry_run=true nothing is written either way; a passing dry run answers confirm_token, which "
    "/mobilize/import/confirm takes to import the same file (kept 30 minutes, for the caller only).",
)(import_endpoint(name="import_ledger", key="ledger", run=ledger_io.ledger_import, require=ledger_io.require))

router.post(
    "/import/confirm",
    response=CONFIRM_RESPONSES,
    summary="Import the ledger file a passing dry run checked (by its confirm_token)",
    description="404: no such token of the caller; 410: it expired or was imported already.",
)(
    confirm_endpoint(
        name="confirm_ledger", key="ledger", run=ledger_io.ledger_import, require=ledger_io.require
    )
)

router.get(
    "/export",
    response=EXPORT_RESPONSES,
    summary="Export the ledgers (.xlsx with both sheets, or .csv with one)",
    description="The same layout the import reads. Without unit, everything the caller may see.",
)(
    export_endpoint(
        name="export_ledger",
        export=ledger_io.ledger_export,
        resolve_unit=_unit,
        sheets=("deployments", "service"),
        default_sheet="service",
    )
)
