"""``muster care import|export|round …``: the care ledger at the command line (same services and rules).

- ``muster care import FILE [--dry-run]``: care subjects and survey answers (all or nothing).
- ``muster care export --unit CODE [-o FILE]``: the care ledger as xlsx (audited, names the exporter).
- ``muster care round open --unit CODE --name NAME [--dimensions a,b]`` · ``round show ID`` ·
  ``round close ID``: survey rounds; ``show`` prints the coverage (243/243, 100 %) and who is not reached.
- ``muster care facts``: rebuild the care figures' day buckets from the ledger (after a bulk load that
  bypassed the services; administrators of the whole organization only).

``--as USERNAME`` acts as that user (their scope: out of scope is "not found"); without it, the operator.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import Http404
from django.utils.translation import gettext as _

from muster.audit.context import origin
from muster.care import io, policy, queries
from muster.care import services as care
from muster.care.models import SurveyRound
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.cli import cli_actor
from muster.tabular.errors import TabularError


class Command(BaseCommand):
    help = _(
        "The care ledger: import subjects and answers, export the ledger, open and follow survey rounds."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as", dest="as_user", metavar="USERNAME", help=_("Act as this user."))
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help=_("Import care subjects and survey answers (xlsx or csv)."))
        imp.add_argument("file")
        imp.add_argument("--dry-run", action="store_true", help=_("Check only; write nothing."))
        exp = sub.add_parser("export", help=_("Export the care ledger of a unit as xlsx."))
        exp.add_argument("--unit", required=True, metavar="CODE")
        exp.add_argument(
            "-o", "--output", help=_("The file to write (default: a name with the unit and time).")
        )
        rnd = sub.add_parser("round", help=_("Survey rounds."))
        rsub = rnd.add_subparsers(dest="round_action", required=True)
        op = rsub.add_parser("open", help=_("Open a survey round."))
        op.add_argument("--unit", required=True, metavar="CODE")
        op.add_argument("--name", required=True)
        op.add_argument(
            "--dimensions", default="", help=_("Dimension codes, comma-separated (default: all).")
        )
        for name, text in (("show", _("Show a round's coverage.")), ("close", _("Close a round."))):
            p = rsub.add_parser(name, help=text)
            p.add_argument("id", type=int)
        sub.add_parser("facts", help=_("Rebuild the care figures' day buckets from the ledger."))

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            who = cli_actor(options["as_user"])
            with origin(None, "cli"):
                getattr(self, f"do_{options['action']}")(who, options)
        except TabularError as exc:
            raise CommandError(str(exc)) from exc
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                text = "; ".join(f"{k}: {', '.join(v)}" for k, v in exc.message_dict.items())
            else:
                text = "; ".join(exc.messages)
            raise CommandError(text) from exc
        except Http404 as exc:
            raise CommandError(_("Not found.")) from exc
        except PermissionDenied as exc:
            raise CommandError(_("You are not allowed to do this.")) from exc

    def do_import(self, who: Any, options: dict[str, Any]) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(_("There is no file %(path)s.") % {"path": path})
        result = io.care_import(
            actor=who, filename=path.name, data=path.read_bytes(), dry_run=options["dry_run"]
        )
        self.stdout.write(io.summary(result))

    def do_export(self, who: Any, options: dict[str, Any]) -> None:
        unit = policy.unit_get_or_404(who, options["unit"])
        content, _type, name = io.care_export(actor=who, unit=unit)
        out = Path(options["output"] or name)
        out.write_bytes(content)
        self.stdout.write(_("Wrote %(path)s.") % {"path": out})

    def do_facts(self, who: Any, options: dict[str, Any]) -> None:
        from muster.care import facts

        if not access.is_all_powerful(who):
            raise PermissionDenied
        n = facts.rebuild()
        self.stdout.write(_("Care figures rebuilt: %(n)d day buckets.") % {"n": n})

    def do_round(self, who: Any, options: dict[str, Any]) -> None:
        action = options["round_action"]
        if action == "open":
            unit = policy.unit_get_or_404(who, options["unit"])
            dims = [d.strip() for d in options["dimensions"].split(",") if d.strip()]
            r = care.round_open(actor=who, unit=unit, name=options["name"], dimensions=dims or None)
            self.stdout.write(_("Round %(id)s opened: %(name)s.") % {"id": r.pk, "name": r.name})
            return
        found = (
            SurveyRound.objects.filter(access.path_q(who, Perm.VIEW, "unit__path"), pk=options["id"])
            .select_related("unit")
            .first()
        )
        if found is None:
            raise Http404
        r = found
        if action == "close":
            care.round_close(actor=who, round=r)
            self.stdout.write(_("Round %(id)s closed.") % {"id": r.pk})
            return
        cov = queries.round_coverage(r)
        self.stdout.write(f"{r.name} · {r.unit.name}")
        self.stdout.write(
            _("Coverage: %(reached)d/%(total)d (%(percent)s %%)")
            % {"reached": cov.reached, "total": cov.total, "percent": cov.percent}
        )
        for name, reached, total in cov.by_liaison:
            self.stdout.write(f"  {name}\t{reached}/{total}")
        missing = list(queries.not_reached(r)[:200])
        if missing:
            self.stdout.write(_("Not reached yet:"))
            for s in missing:
                self.stdout.write(f"  {s.code}\t{s.name}")
