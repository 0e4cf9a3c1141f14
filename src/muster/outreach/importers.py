"""Enterprises and liaisons as a registration of the import pipeline (``muster.tabular.pipeline``) and a
part of a whole-organization workbook (``muster.tabular.workbook``): checked after the same file's units
and people are written (they may name them)."""

from __future__ import annotations

from muster.outreach import tabular_io
from muster.tabular.pipeline import register

register(tabular_io.IMPORTER)
