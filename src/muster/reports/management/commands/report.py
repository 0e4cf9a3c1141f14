"""``muster report --as-of "2022-03-18 24:00" [--unit CODE] [--json]``: a unit's figures as of a cutoff.

``--json`` prints the stable contract (the same as ``GET /api/v1/reports/rollup``). ``--rebuild``
recomputes the rollup's facts and buckets from the ledger first; ``--straight`` computes the figures
straight from the raw ledger (slow; for checking).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import Http404
from django.utils.translation import gettext as _

from muster.clock import TimeParseError
from muster.orgs.cli import cli_actor
from muster.reports import facts, services
from muster.reports.rollup import FIGURE_LABELS, parse_cutoff, rollup_straight


class Command(BaseCommand):
    help = _("Print a unit's figures (batches, person-times, persons, hours…) as of a cutoff.")
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", required=True, help=_('The cutoff, e.g. "2022-03-18 24:00".'))
        parser.add_argument("--unit", metavar="CODE", help=_("The unit (default: the top unit)."))
        parser.add_argument("--json", action="store_true", help=_("Print the JSON contract."))
        parser.add_argument("--as", dest="as_user", metavar="USERNAME", help=_("Act as this user."))
        parser.add_argument(
            "--rebuild", action="store_true", help=_("Recompute the rollup from the ledger first.")
        )
        parser.add_argument(
            "--straight", action="store_true", help=_("Compute straight from the raw ledger.")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            as_of = parse_cutoff(options["as_of"])
            who = cli_actor(options["as_user"])
            unit = services.report_unit(who, options["unit"])
        except TimeParseError as exc:
            raise CommandError(_("--as-of: %(error)s") % {"error": exc}) from exc
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        except Http404 as exc:
            raise CommandError(
                _("There is no unit with the code %(code)s.") % {"code": options["unit"]}
            ) from exc
        if options["rebuild"]:
            facts.rebuild()
        if unit.is_party:  # a party organization: its members' figures (read straight from the ledger)
            report = services.unit_rollup(unit, as_of)
        else:
            report = (rollup_straight if options["straight"] else services.rollup)(unit, as_of)
        if options["json"]:
            self.stdout.write(report.contract_json())
            return
        keys = [
            "batches",
            "person_times",
            "persons",
            "hours",
            "community_persons",
            "community_hours",
            "pending_entries",
        ]
        self.stdout.write(f"{unit.name} · {as_of:%Y-%m-%d %H:%M %z}")
        if services.is_members_report(report):
            self.stdout.write(str(_("Figures of its party members")))
        header = [str(_("Unit"))] + [str(FIGURE_LABELS[k]) for k in keys]
        lines = [header]
        for r in report.rows:
            name = r.name + (" *" if r.own else "")
            lines.append([name] + [str(getattr(r.figures, k)) for k in keys])
        lines.append([str(_("Total"))] + [str(getattr(report.total, k)) for k in keys])
        for line in lines:
            self.stdout.write("\t".join(line))
