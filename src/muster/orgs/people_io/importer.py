"""The staff register's registration with the import pipeline, and its one-call import."""

from __future__ import annotations

from typing import Any

from muster.orgs import access
from muster.tabular.pipeline import Importer

from .apply import people_apply
from .export import people_export
from .plan import people_plan, require
from .schema import PEOPLE, UNITS, PeopleImportResult, summary
from .template import people_template


def people_import(*, actor: Any, filename: str, data: bytes, dry_run: bool = False) -> PeopleImportResult:
    """Check a staff-register file and, unless ``dry_run``, apply it; raise ``TabularError`` listing every
    problem (the steps are the pipeline's: ``muster.tabular.pipeline.import_file``)."""
    result: PeopleImportResult = IMPORTER.run(actor=actor, filename=filename, data=data, dry_run=dry_run)
    return result


IMPORTER = Importer(
    key="roster",
    order=10,
    specs=(UNITS, PEOPLE),
    require=require,
    plan=people_plan,
    apply=people_apply,
    summary=summary,
    reset=access.forget,
    export=people_export,
    template=people_template,
)
