"""``muster entry``: the service-hours ledger from the command line.

    muster entry record --person XH0001 --kind dispatch --deployment XH-001 \\
        --start "2022-03-18 8:00" --end "2022-03-18 16:00" [--note …] [--pending] [--as USER]
    muster entry approve ENTRY_ID [--reason …] [--as USER]
    muster entry list --person XH0001 [--as USER]

Without ``--as`` the command acts as the system operator (who may approve anything); with ``--as`` it
has that user's rights. Refusals are printed and the exit status is non-zero.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from muster import clock
from muster.audit.context import origin
from muster.mobilize import queries, services
from muster.mobilize.ledger_io import kind_choices
from muster.mobilize.management.commands._common import actor_for, lookup, service_errors, when
from muster.mobilize.models import Deployment
from muster.orgs.models import Person
from muster.tabular.cells import CellError, parse_choice


def _unknown_person(code: str) -> str:
    return _("Unknown staff number %(code)s.") % {"code": code}


class Command(BaseCommand):
    help = _("Record, approve or list service entries (the service-hours ledger).")
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        rec = sub.add_parser("record", help=_("Record service."))
        rec.add_argument("--person", required=True, metavar="CODE")
        rec.add_argument(
            "--kind",
            required=True,
            help=_("dispatch, community, hotline or duty (or 派出, 居家社区服务, 热线, 值班)"),
        )
        rec.add_argument("--start", required=True)
        rec.add_argument("--end", required=True)
        rec.add_argument("--deployment", metavar="CODE", help=_("The batch (none for community service)."))
        rec.add_argument("--note", default="")
        rec.add_argument(
            "--pending", action="store_true", help=_("Record it pending, for someone to approve.")
        )
        app = sub.add_parser("approve", help=_("Approve a pending entry or correction."))
        app.add_argument("entry", type=int, help=_("The entry's id (its current row)."))
        app.add_argument("--reason", default="")
        lst = sub.add_parser("list", help=_("A person's entries and balance."))
        lst.add_argument("--person", required=True, metavar="CODE")
        for p in (rec, app, lst):
            p.add_argument(
                "--as", dest="as_user", metavar="USERNAME", help=_("Act as this user, with their rights.")
            )

    def handle(self, *args: Any, **options: Any) -> None:
        with origin(None, "cli"):
            actor = actor_for(options.get("as_user"))
            action = options["action"]
            if action == "record":
                self._record(actor, options)
            elif action == "approve":
                self._approve(actor, options)
            else:
                self._list(actor, options)

    def _record(self, actor: Any, options: dict[str, Any]) -> None:
        person = lookup(Person, actor, options["person"], _unknown_person)
        table, allowed = kind_choices()
        try:
            kind = parse_choice(options["kind"], table, allowed)
        except CellError as exc:
            raise CommandError(f"--kind: {exc}") from None
        assert kind is not None
        deployment = None
        if options.get("deployment"):
            deployment = queries.deployment_list(actor).filter(code=options["deployment"]).first()
            if deployment is None:
                raise CommandError(_("Unknown batch %(code)s.") % {"code": options["deployment"]})
            deployment = Deployment.objects.get(pk=deployment.pk)
        start, end = when(options["start"], "--start"), when(options["end"], "--end")
        assert start is not None and end is not None
        with service_errors():
            row = services.entry_record(
                actor=actor,
                person=person,
                kind=kind,
                start=start,
                end=end,
                deployment=deployment,
                note=options["note"],
                approve=False if options["pending"] else None,
            )
        state = queries.chain_state(row.chain)
        self.stdout.write(
            _("Entry %(id)d recorded for %(person)s: %(hours)s hours, %(status)s.")
            % {
                "id": row.pk,
                "person": person.code,
                "hours": clock.minutes_to_hours(row.minutes),
                "status": state.status,
            }
        )

    def _approve(self, actor: Any, options: dict[str, Any]) -> None:
        with service_errors():
            entry = queries.entry_get_or_404(actor, options["entry"])
            row = services.entry_approve(actor=actor, entry=entry, reason=options["reason"])
        self.stdout.write(
            _("Entry %(id)d approved (%(hours)s hours for %(person)s).")
            % {"id": row.pk, "hours": clock.minutes_to_hours(row.minutes), "person": row.person.code}
        )

    def _list(self, actor: Any, options: dict[str, Any]) -> None:
        person = lookup(Person, actor, options["person"], _unknown_person)
        for v in queries.person_entries(person):
            origin_row = v.state.origin
            self.stdout.write(
                "\t".join(
                    [
                        str(v.id),
                        clock.minutes_to_hours(v.minutes).to_eng_string(),
                        f"{v.start.astimezone(clock.local_tz()):%Y-%m-%d %H:%M}",
                        f"{v.end.astimezone(clock.local_tz()):%Y-%m-%d %H:%M}",
                        origin_row.kind,
                        origin_row.deployment.code if origin_row.deployment else "-",
                        v.status,
                    ]
                )
            )
        minutes = queries.balance(person)
        self.stdout.write(
            _("Balance of %(person)s: %(hours)s hours approved.")
            % {"person": person.code, "hours": clock.minutes_to_hours(minutes)}
        )
