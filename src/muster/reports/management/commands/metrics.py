"""``muster metrics --as-of "YYYY-MM-DD HH:MM" [--unit CODE] [--json]``: every registered metric of a unit's
subtree as of a cutoff (dispatch, party life, points, care, …), from the metric registry.

``--json`` prints the stable contract (the same as ``GET /api/v1/reports/metrics``):
``{"as_of": ISO 8601 with offset, "unit": {"code", "name"}, "metrics": {"<metric id>": number, …}}``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import Http404
from django.utils.translation import gettext as _

from muster.clock import TimeParseError
from muster.orgs.cli import cli_actor
from muster.reports import registry, services
from muster.reports.metrics_contract import metrics_contract
from muster.reports.rollup import dumps, parse_cutoff


class Command(BaseCommand):
    help = _("Print every registered metric of a unit as of a cutoff.")
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", required=True, help=_('The cutoff, e.g. "2022-04-19 00:00".'))
        parser.add_argument("--unit", metavar="CODE", help=_("The unit (default: the top unit)."))
        parser.add_argument("--json", action="store_true", help=_("Print the JSON contract."))
        parser.add_argument("--as", dest="as_user", metavar="USERNAME", help=_("Act as this user."))

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
        data = metrics_contract(unit, as_of)
        if options["json"]:
            self.stdout.write(dumps(data))
            return
        self.stdout.write(f"{unit.name} · {as_of:%Y-%m-%d %H:%M %z}")
        if data.get("basis"):
            self.stdout.write(_("Dispatch and service figures: those of its party members."))
        for mid, value in data["metrics"].items():
            m = registry.get(mid)
            self.stdout.write(f"{mid}\t{value}\t{m.label}")
