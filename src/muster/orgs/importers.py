"""The staff register (units, people) as a registration of the import pipeline (``muster.tabular.pipeline``)
and a part of a whole-organization workbook (``muster.tabular.workbook``).

It comes first: every other part of such a workbook may name the units and people it adds.
"""

from __future__ import annotations

from muster.orgs import people_io
from muster.tabular.pipeline import register

register(people_io.IMPORTER)
