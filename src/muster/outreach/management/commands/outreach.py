"""``muster outreach``: the outreach ledger from the command line.

    muster outreach import FILE [--dry-run] [--as USER]    enterprises and liaisons, all or nothing
    muster outreach export FILE [--unit CODE] [--as USER]  .xlsx: both sheets; .csv: enterprises
    muster outreach figures --unit CODE [--as-of "2018-10-12 00:00"] [--json] [--as USER]
    muster outreach overdue [--unit CODE] [--on 2018-10-11] [--as USER]

Without ``--as`` the command acts as the system operator; with ``--as`` it has that user's rights (a unit
out of their scope is unknown). Refusals are printed and the exit status is non-zero.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from muster import dates
from muster.audit.context import origin
from muster.orgs import access
from muster.orgs.access import NotAllowed, Perm
from muster.orgs.cli import actor_for, service_errors
from muster.orgs.models import Unit
from muster.outreach import queries, tabular_io
from muster.tabular.errors import TabularError
from muster.tabular.reader import check_size


def _moment(text: str) -> datetime:
    """A cutoff: "2018-10-12", "2018-10-12 00:00", "2018-10-11 24:00" (Shanghai time)."""
    tz = ZoneInfo(settings.TIME_ZONE)
    s = text.strip().replace("T", " ")
    extra_day = False
    if s.endswith("24:00"):
        s, extra_day = s[:-5].strip() + " 00:00", True
    try:
        value = datetime.fromisoformat(s) if " " in s else datetime.fromisoformat(s + " 00:00")
    except ValueError:
        raise CommandError(_("Not a date and time: %(value)s") % {"value": text}) from None
    if not dates.day_in_range(value.date()):
        raise CommandError(dates.date_range_message())
    value = value.replace(tzinfo=tz) if value.tzinfo is None else value
    return value + (timedelta(days=1) if extra_day else timedelta(0))


def _day(text: str) -> date:
    try:
        value = date.fromisoformat(text)
    except ValueError:
        raise CommandError(_("Not a date: %(value)s") % {"value": text}) from None
    if not dates.day_in_range(value):
        raise CommandError(dates.date_range_message())
    return value


class Command(BaseCommand):
    help = _("Import or export enterprises and liaisons, or print outreach figures and overdue problems.")
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help=_("Import enterprises and liaisons (all or nothing)."))
        imp.add_argument("file")
        imp.add_argument("--dry-run", action="store_true", help=_("Check the file; write nothing."))
        exp = sub.add_parser("export", help=_("Export enterprises and liaisons (.xlsx or .csv)."))
        exp.add_argument("file")
        exp.add_argument("--unit", metavar="CODE")
        fig = sub.add_parser("figures", help=_("Visits, problems and the resolution rate as of a cutoff."))
        fig.add_argument("--unit", required=True, metavar="CODE")
        fig.add_argument("--as-of", dest="as_of", metavar="DATETIME")
        fig.add_argument("--json", action="store_true")
        over = sub.add_parser("overdue", help=_("Problems past their deadline and not closed."))
        over.add_argument("--unit", metavar="CODE")
        over.add_argument("--on", metavar="DATE")
        for p in (imp, exp, fig, over):
            p.add_argument(
                "--as", dest="as_user", metavar="USERNAME", help=_("Act as this user, with their rights.")
            )

    def handle(self, *args: Any, **options: Any) -> None:
        with origin(None, "cli"), service_errors():
            actor = actor_for(options.get("as_user"))
            getattr(self, f"_{options['action']}")(actor, options)

    def _unit(self, actor: Any, code: str | None) -> Unit | None:
        if not code:
            return None
        unit = access.scoped(Unit.objects.all(), actor, Perm.VIEW).filter(code=code).first()
        if unit is None:
            raise CommandError(_("Unknown unit %(code)s.") % {"code": code})
        return unit

    def _import(self, actor: Any, options: dict[str, Any]) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        try:
            check_size(path.name, path.stat().st_size)
            result = tabular_io.enterprise_import(
                actor=actor, filename=path.name, data=path.read_bytes(), dry_run=options["dry_run"]
            )
        except TabularError as exc:
            for error in exc.errors:
                self.stderr.write(str(error))
            raise CommandError(exc.summary()) from None
        except NotAllowed:
            raise CommandError(_("This user may not import enterprises.")) from None
        self.stdout.write(tabular_io.summary(result))

    def _export(self, actor: Any, options: dict[str, Any]) -> None:
        path = Path(options["file"])
        fmt = "csv" if path.suffix.lower() == ".csv" else "xlsx"
        data, _ctype, _name = tabular_io.enterprise_export(
            actor=actor, fmt=fmt, unit=self._unit(actor, options.get("unit"))
        )
        path.write_bytes(data)
        self.stdout.write(_("Written %(path)s.") % {"path": path})

    def _figures(self, actor: Any, options: dict[str, Any]) -> None:
        unit = self._unit(actor, options["unit"])
        assert unit is not None
        as_of = _moment(options["as_of"]) if options.get("as_of") else timezone.now()
        f = queries.figures(unit, as_of)
        local = timezone.localtime(as_of, ZoneInfo(settings.TIME_ZONE))
        data = {
            "unit": unit.code,
            "as_of": local.isoformat(),
            "outreach.visits": f.visits,
            "outreach.enterprises_visited": f.enterprises_visited,
            "outreach.problems": f.problems,
            "outreach.problems_resolved": f.resolved,
            "outreach.problems_overdue": f.overdue,
            "outreach.resolution_rate": f.rate_text,
        }
        if options["json"]:
            self.stdout.write(json.dumps(data, ensure_ascii=False))
            return
        self.stdout.write(
            _(
                "%(unit)s as of %(as_of)s: %(visits)d visits, %(problems)d problems raised, %(resolved)d "
                "resolved, %(overdue)d overdue; resolution rate %(rate)s."
            )
            % {
                "unit": unit.name,
                "as_of": local.strftime("%Y-%m-%d %H:%M"),
                "visits": f.visits,
                "problems": f.problems,
                "resolved": f.resolved,
                "overdue": f.overdue,
                "rate": f.rate_text,
            }
        )

    def _overdue(self, actor: Any, options: dict[str, Any]) -> None:
        on = _day(options["on"]) if options.get("on") else timezone.localdate()
        qs = queries.overdue(actor, on)
        unit = self._unit(actor, options.get("unit"))
        if unit is not None:
            qs = qs.filter(queries.subtree_q(unit))
        for pr in qs[:1000]:
            days = (on - pr.deadline).days if pr.deadline else 0
            self.stdout.write(f"{pr.pk:>8}  {pr.deadline}  +{days:<4} {pr.unit.code:<10} {pr.title}")
