"""Volunteer profiles as a registration of the import pipeline (``muster.tabular.pipeline``) and a part of
a whole-organization workbook (``muster.tabular.workbook``): checked after the staff register (the rows
name people the same file may add)."""

from __future__ import annotations

from muster.tabular.pipeline import register
from muster.volunteers import profile_export

register(profile_export.IMPORTER)
