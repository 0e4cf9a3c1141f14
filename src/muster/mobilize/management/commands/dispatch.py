"""``muster dispatch``: send a batch (派出批次) from teams and/or hand-picked people.

    muster dispatch --unit XH --team XH-T1,XH-T2 --person XH0007 --title "核酸检测" \\
        --start "2022-03-18 8:00" --end "2022-03-18 24:00" --site 宛平社区 --leader XH0001

Without ``--as`` the command acts as the system operator; with ``--as USERNAME`` it has that user's
rights. Conflicts (a person already on an overlapping batch or shift) refuse the whole batch; short rests
are printed as warnings.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from muster.audit.context import origin
from muster.mobilize import services
from muster.mobilize.management.commands._common import actor_for, codes, lookup, service_errors, when
from muster.mobilize.models import Request
from muster.orgs.models import Partner, Person, Team, Unit


class Command(BaseCommand):
    help = _("Dispatch a batch (派出批次) from teams and/or people.")
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--unit", required=True, metavar="CODE", help=_("The dispatching unit."))
        parser.add_argument("--team", metavar="CODE[,CODE]", help=_("Teams whose members all go."))
        parser.add_argument("--person", metavar="CODE[,CODE]", help=_("Hand-picked staff numbers."))
        parser.add_argument("--title", required=True, help=_("The task."))
        parser.add_argument("--start", required=True, help=_('The start, e.g. "2022-03-18 8:00".'))
        parser.add_argument("--end", required=True, help=_('The end, e.g. "2022-03-18 24:00".'))
        parser.add_argument("--site", default="", help=_("The place of service."))
        parser.add_argument("--leader", metavar="CODE", help=_("Staff number of the batch leader."))
        parser.add_argument("--partner", metavar="CODE", help=_("The partner served (code)."))
        parser.add_argument("--request", metavar="CODE", help=_("The request answered (code)."))
        parser.add_argument(
            "--supported-unit", metavar="CODE", help=_("The unit this batch supports (宝山 → 松江).")
        )
        parser.add_argument("--code", default="", help=_("The batch code (default: <unit>-<NNN>)."))
        parser.add_argument("--note", default="")
        parser.add_argument(
            "--as", dest="as_user", metavar="USERNAME", help=_("Act as this user, with their rights.")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with origin(None, "cli"):
            actor = actor_for(options.get("as_user"))
            unit = lookup(
                Unit, actor, options["unit"], lambda c: _("Unknown unit code %(code)s.") % {"code": c}
            )
            teams = [
                lookup(Team, actor, c, lambda c: _("Unknown team code %(code)s.") % {"code": c})
                for c in codes(options.get("team"))
            ]
            unknown_person = lambda c: _("Unknown staff number %(code)s.") % {"code": c}  # noqa: E731
            people = [lookup(Person, actor, c, unknown_person) for c in codes(options.get("person"))]
            if not teams and not people:
                raise CommandError(_("Name at least one team (--team) or person (--person)."))
            leader = (
                lookup(Person, actor, options["leader"], unknown_person) if options.get("leader") else None
            )
            partner = (
                lookup(
                    Partner, actor, options["partner"], lambda c: _("Unknown partner %(code)s.") % {"code": c}
                )
                if options.get("partner")
                else None
            )
            request = (
                lookup(
                    Request, actor, options["request"], lambda c: _("Unknown request %(code)s.") % {"code": c}
                )
                if options.get("request")
                else None
            )
            supported = None
            if options.get("supported_unit"):
                supported = Unit.objects.filter(code=options["supported_unit"], is_active=True).first()
                if supported is None:
                    raise CommandError(_("Unknown unit code %(code)s.") % {"code": options["supported_unit"]})
            start, end = when(options["start"], "--start"), when(options["end"], "--end")
            assert start is not None and end is not None
            with service_errors():
                result = services.deployment_dispatch(
                    actor=actor,
                    unit=unit,
                    title=options["title"],
                    start=start,
                    end=end,
                    teams=teams,
                    people=people,
                    leader=leader,
                    request=request,
                    partner=partner,
                    site=options["site"],
                    supported_unit=supported,
                    code=options["code"],
                    note=options["note"],
                )
        d = result.deployment
        for w in result.warnings:
            self.stderr.write(_("Warning: %(message)s") % {"message": w.message})
        self.stdout.write(
            _("Batch %(code)s (no. %(seq)d of %(unit)s) dispatched with %(count)d people.")
            % {"code": d.code, "seq": d.seq, "unit": d.unit.code, "count": d.memberships.count()}
        )
