"""``muster brief --as-of "2022-03-18 24:00" [--unit CODE] [--lang zh|en] [--headline]``: the briefing.

The first line is the headline sentence; the notable units follow, then the party-life sentence when
the unit's party organization has figures (unless ``--headline``).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import Http404
from django.utils.translation import gettext as _

from muster.clock import TimeParseError
from muster.orgs.cli import cli_actor
from muster.reports import briefing as bw
from muster.reports import services
from muster.reports.rollup import parse_cutoff


class Command(BaseCommand):
    help = _("Write the briefing (简报) of a unit as of a cutoff, in Chinese or English.")
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", required=True, help=_('The cutoff, e.g. "2022-03-18 24:00".'))
        parser.add_argument("--unit", metavar="CODE", help=_("The unit (default: the top unit)."))
        parser.add_argument("--lang", choices=["zh", "en"], default="zh", help=_("Language (default zh)."))
        parser.add_argument("--headline", action="store_true", help=_("Only the headline sentence."))
        parser.add_argument("--as", dest="as_user", metavar="USERNAME", help=_("Act as this user."))

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            as_of = parse_cutoff(options["as_of"])
            unit = services.report_unit(cli_actor(options["as_user"]), options["unit"])
        except TimeParseError as exc:
            raise CommandError(_("--as-of: %(error)s") % {"error": exc}) from exc
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        except Http404 as exc:
            raise CommandError(
                _("There is no unit with the code %(code)s.") % {"code": options["unit"]}
            ) from exc
        b = services.briefing_for(unit, as_of, user=cli_actor(options["as_user"]))
        lang = options["lang"]
        head = bw.headline_zh(b.headline) if lang == "zh" else bw.headline_en(b.headline)
        self.stdout.write(head)
        if options["headline"]:
            return
        notes = [bw.note_zh(n) if lang == "zh" else bw.note_en(n) for n in b.notes]
        if notes:
            self.stdout.write(("" if lang == "zh" else " ").join(notes))
        if b.party is not None:
            self.stdout.write(bw.party_zh(b.party) if lang == "zh" else bw.party_en(b.party))
