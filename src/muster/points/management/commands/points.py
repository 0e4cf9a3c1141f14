"""``muster points``: party-building points from the command line.

    muster points recompute --year 2024 --reason "规则调整" [--facts-only] [--as USER]
    muster points leaderboard --unit XH-DW --year 2024 [--by person|branch|unit] [--limit N] [--as USER]
    muster points statement --person XH0001 --year 2024 [--as USER]

Without ``--as`` the command acts as the system operator; with ``--as`` it has that user's rights.
Refusals are printed and the exit status is non-zero.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from muster.audit.context import origin
from muster.dates import year_argument
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.cli import actor_for, service_errors
from muster.orgs.models import Person, Unit
from muster.points import queries, services
from muster.points.api import leaderboard_rows


class Command(BaseCommand):
    help = _("Recompute a year of points, or print a leaderboard or a statement.")
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        rec = sub.add_parser(
            "recompute", help=_("Re-derive a year's facts and re-apply the rules (audited).")
        )
        rec.add_argument("--year", type=year_argument, required=True)
        rec.add_argument("--reason", required=True)
        rec.add_argument(
            "--facts-only", action="store_true", help=_("Only re-apply the rules to the stored facts.")
        )
        board = sub.add_parser("leaderboard", help=_("Totals by person, branch or unit for a year."))
        board.add_argument("--unit", required=True, metavar="CODE")
        board.add_argument("--year", type=year_argument, default=None)
        board.add_argument("--by", choices=["person", "branch", "unit"], default="person")
        board.add_argument("--limit", type=int, default=None)
        st = sub.add_parser("statement", help=_("A member's points statement for a year."))
        st.add_argument("--person", required=True, metavar="CODE")
        st.add_argument("--year", type=year_argument, default=None)
        for p in (rec, board, st):
            p.add_argument(
                "--as", dest="as_user", metavar="USERNAME", help=_("Act as this user, with their rights.")
            )

    def handle(self, *args: Any, **options: Any) -> None:
        with origin(None, "cli"), service_errors():
            actor = actor_for(options.get("as_user"))
            action = options["action"]
            if action == "recompute":
                self._recompute(actor, options)
            elif action == "leaderboard":
                self._leaderboard(actor, options)
            else:
                self._statement(actor, options)

    def _recompute(self, actor: Any, options: dict[str, Any]) -> None:
        res = services.points_recompute(
            actor=actor,
            year=options["year"],
            reason=options["reason"],
            from_sources=not options["facts_only"],
        )
        self.stdout.write(
            _(
                "Recomputed %(year)s (batch %(batch)s): facts added %(added)s, changed %(changed)s, "
                "retracted %(retracted)s, rules re-pinned %(repinned)s; %(credits)s credits, "
                "%(reversals)s reversals."
            )
            % {
                "year": options["year"],
                "batch": res.batch,
                "added": res.facts_added,
                "changed": res.facts_changed,
                "retracted": res.facts_retracted,
                "repinned": res.rules_repinned,
                "credits": res.credits,
                "reversals": res.reversals,
            }
        )

    def _leaderboard(self, actor: Any, options: dict[str, Any]) -> None:
        unit = access.scoped(Unit.objects.all(), actor, Perm.VIEW).filter(code=options["unit"]).first()
        if unit is None:
            raise CommandError(_("Unknown unit %(code)s.") % {"code": options["unit"]})
        year = options["year"] or timezone.localdate().year
        rows = leaderboard_rows(
            actor,
            unit,
            by=options["by"],
            start=date(year, 1, 1),
            end=date(year + 1, 1, 1),
            limit=options["limit"],
        )
        self.stdout.write(f"{unit.code} {unit.name} · {year}")
        for r in rows:
            self.stdout.write(
                f"{r['rank']:>4}  {r['key']:<12} {r['label']:<24} {r['points']:>10}  {r['people']}"
            )

    def _statement(self, actor: Any, options: dict[str, Any]) -> None:
        person = Person.objects.filter(code=options["person"]).first()
        if person is None:
            raise CommandError(_("Unknown staff number %(code)s.") % {"code": options["person"]})
        year = options["year"] or timezone.localdate().year
        st = queries.statement(actor, person, year)
        self.stdout.write(f"{st.person} · {year}")
        for ln in st.lines:
            e = ln.entry
            self.stdout.write(f"{e.occurred_on}  {ln.label:<32} {e.points:>8}  {ln.balance:>8}")
        rank = f"{st.rank}/{st.branch_size}" if st.rank else "—"
        self.stdout.write(_("Total %(total)s · rank in branch %(rank)s") % {"total": st.total, "rank": rank})
