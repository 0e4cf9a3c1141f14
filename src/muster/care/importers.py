"""Care subjects and survey answers as a registration of the import pipeline (``muster.tabular.pipeline``)
and a part of a whole-organization workbook (``muster.tabular.workbook``).

It comes after the staff register (subjects name people and units the same file may add)."""

from __future__ import annotations

from muster.care import io
from muster.tabular.pipeline import register

register(io.IMPORTER)
