"""The ledgers (batches, service records) as a registration of the import pipeline
(``muster.tabular.pipeline``) and a part of a whole-organization workbook (``muster.tabular.workbook``):
checked after the same file's units and people are written."""

from __future__ import annotations

from muster.mobilize import ledger_io
from muster.tabular.pipeline import register

register(ledger_io.IMPORTER)
