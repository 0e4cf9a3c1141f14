"""``muster import FILE``: import a staff roster (人员名册) from an .xlsx or .csv file.

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
from muster.orgs.roster import RosterImportResult, cli_actor, roster_import
from muster.tabular.errors import TabularError
from muster.tabular.reader import check_size


class Command(BaseCommand):
    help = _("Import a staff roster (units and people) from an .xlsx or .csv file.")
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help=_("The roster file (.xlsx or .csv)."))
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
                from muster.mobilize import ledger_io  # ledger sheets (派出批次 / 服务记录): their importer

                if ledger_io.is_ledger(path.name, data):
                    ledger = ledger_io.ledger_import(
                        actor=actor, filename=path.name, data=data, dry_run=options["dry_run"]
                    )
                    self.stdout.write(ledger_io.summary(ledger))
                    return
                result = roster_import(actor=actor, filename=path.name, data=data, dry_run=options["dry_run"])
            except TabularError as exc:
                for error in exc.errors:
                    self.stderr.write(str(error))
                raise CommandError(exc.summary()) from None
            except NotAllowed:
                raise CommandError(_("This user may not import the roster.")) from None
        self.stdout.write(summary(result))


def summary(result: RosterImportResult) -> str:
    lines = [
        _("Units: %(created)d created, %(updated)d updated, %(moved)d moved, %(unchanged)d unchanged.")
        % {
            "created": result.units_created,
            "updated": result.units_updated,
            "moved": result.units_moved,
            "unchanged": result.units_unchanged,
        },
        _("People: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.")
        % {
            "created": result.people_created,
            "updated": result.people_updated,
            "unchanged": result.people_unchanged,
        },
    ]
    if result.dry_run:
        lines.append(_("Dry run: nothing was written."))
    return "\n".join(lines)
