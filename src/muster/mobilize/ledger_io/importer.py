"""The ledger's registration with the import pipeline, and its one-call import."""

from __future__ import annotations

from typing import Any

from muster.tabular.pipeline import Importer

from .apply import ledger_apply
from .export import ledger_export
from .plan import ledger_plan, require
from .schema import LEDGER_SPECS, LedgerImportResult, summary
from .template import ledger_template


def ledger_import(*, actor: Any, filename: str, data: bytes, dry_run: bool = False) -> LedgerImportResult:
    """Check a ledger file and, unless ``dry_run``, apply it; raise ``TabularError`` listing every problem
    (the steps are the pipeline's: ``muster.tabular.pipeline.import_file``)."""
    result: LedgerImportResult = IMPORTER.run(actor=actor, filename=filename, data=data, dry_run=dry_run)
    return result


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
