"""``muster import FILE``: import the staff register (人员名册), the ledgers (派出批次 / 服务记录), or a whole
organization in one workbook (units, people, batches, service records) from an .xlsx or .csv file.

A workbook holding both the register's and the ledgers' sheets is imported in one transaction, the units
and people first (``muster.tabular.workbook``).

Without ``--as`` the command acts as the system operator (every unit); with ``--as USERNAME`` it has
that user's rights. Every problem is printed to stderr, one per line, and the exit status is non-zero;
nothing is written unless the whole file is good.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from muster.audit.context import origin
from muster.orgs.access import NotAllowed
from muster.orgs.cli import cli_actor
from muster.tabular.errors import TabularError
from muster.tabular.reader import check_size
from muster.tabular.workbook import workbook_import


class Command(BaseCommand):
    help = _(
        "Import a staff roster, service ledgers, or a whole organization (units, people, batches and "
        "service records in one workbook, all or nothing) from an .xlsx or .csv file."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help=_("The file to import (.xlsx or .csv)."))
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=_("Check the file and report what would change; write nothing."),
        )
        parser.add_argument(
            "--as", dest="as_user", metavar="USERNAME", help=_("Act as this user, with their rights.")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        with origin(None, "cli"):
            try:
                actor = cli_actor(options.get("as_user"))
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from None
            if not path.is_file():
                raise CommandError(_("No such file: %(path)s") % {"path": path})
            try:
                check_size(path.name, path.stat().st_size)  # before reading it into memory
                data = path.read_bytes()
                result = workbook_import(
                    actor=actor, filename=path.name, data=data, dry_run=options["dry_run"]
                )
            except TabularError as exc:
                for error in exc.errors:
                    self.stderr.write(str(error))
                raise CommandError(exc.summary()) from None
            except NotAllowed:
                raise CommandError(_("This user may not import the roster.")) from None
        self.stdout.write(result.summary())
