"""``muster export FILE``: write the staff register (人员名册) to .xlsx (both sheets) or .csv (one sheet).

Without ``--as`` the command acts as the system operator (everything, unmasked); with ``--as USERNAME``
the file holds only what that user may see, with personal data masked where they may not see it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from muster.audit.context import origin
from muster.orgs import access
from muster.orgs.access import NotAllowed, Perm
from muster.orgs.cli import cli_actor
from muster.orgs.models import Unit
from muster.orgs.people_io import people_export
from muster.tabular.workbook import importer


class Command(BaseCommand):
    help = _("Export the staff roster (units and people) to an .xlsx or .csv file.")
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help=_("The file to write; .xlsx (both sheets) or .csv (one sheet)."))
        parser.add_argument("--unit", metavar="CODE", help=_("Only this unit and its sub-units."))
        parser.add_argument(
            "--sheet",
            choices=["people", "units", "deployments", "service"],
            default="people",
            help=_(
                "For .csv: which sheet to write (default: people; with --ledger: deployments or service, "
                "default service)."
            ),
        )
        parser.add_argument(
            "--as", dest="as_user", metavar="USERNAME", help=_("Act as this user, with their rights.")
        )
        parser.add_argument(
            "--ledger",
            action="store_true",
            help=_("Export the service ledgers (派出批次 / 服务记录) instead of the roster."),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        fmt = path.suffix.lower().lstrip(".")
        if fmt not in ("xlsx", "csv"):
            raise CommandError(_("Name the file .xlsx or .csv; the format follows the extension."))
        with origin(None, "cli"):
            try:
                actor = cli_actor(options.get("as_user"))
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from None
            unit = None
            if options.get("unit"):
                unit = (
                    access.scoped(Unit.objects.all(), actor, Perm.VIEW).filter(code=options["unit"]).first()
                )
                if unit is None:
                    raise CommandError(_("Unknown unit code %(code)s.") % {"code": options["unit"]})
            try:
                if options.get("ledger"):
                    ledger = importer("ledger")
                    if ledger is None or ledger.export is None:
                        raise CommandError(_("The service ledgers are not installed."))
                    sheet = options["sheet"] if options["sheet"] in ("deployments", "service") else "service"
                    content, _type, _name = ledger.export(actor=actor, fmt=fmt, unit=unit, sheet=sheet)
                else:
                    content, _type, _name = people_export(
                        actor=actor, fmt=fmt, unit=unit, sheet=options["sheet"]
                    )
            except NotAllowed:
                raise CommandError(_("This user may not export the roster.")) from None
        path.write_bytes(content)
        self.stdout.write(_("Wrote %(path)s (%(size)d bytes).") % {"path": path, "size": len(content)})
