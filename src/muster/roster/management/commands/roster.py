"""``muster roster benchmark INSTANCE.txt --seconds N [--seed S] --out FILE``.

Solves one Curtois & Qu instance with the rostering engine and writes the roster: one line per
employee in the file's staff order, the employee ID then one tab-separated field per day (the shift ID
or nothing for a day off). The ``solve`` subcommand (rostering a batch or post of the app) comes later.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from muster.roster import benchmark_io as bio
from muster.roster.engine import Options, RosterError, solve


class Command(BaseCommand):
    help = _("Rostering tools: 'benchmark' solves a public benchmark instance.")
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        bench = sub.add_parser(
            "benchmark", help=_("Solve a Curtois & Qu instance file and write the roster.")
        )
        bench.add_argument("instance", help=_("The instance file (InstanceN.txt)."))
        bench.add_argument("--seconds", type=float, default=60.0, help=_("Time limit in seconds."))
        bench.add_argument("--seed", type=int, default=0, help=_("Random seed."))
        bench.add_argument("--out", required=True, help=_("The roster file to write."))

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "benchmark":
            self._benchmark(options)

    def _benchmark(self, options: dict[str, Any]) -> None:
        if options["seconds"] <= 0:
            raise CommandError(_("--seconds must be positive."))
        try:
            inst = bio.read_instance(options["instance"])
        except (OSError, bio.BenchmarkFormatError) as exc:
            raise CommandError(_("Cannot read the instance: %(error)s") % {"error": exc}) from exc
        try:
            result = solve(bio.to_problem(inst), Options(seconds=options["seconds"], seed=options["seed"]))
        except RosterError as exc:
            raise CommandError(exc.message) from exc
        roster = bio.roster_from_assignments(inst, result.assignments)
        bio.write_roster(inst, roster, options["out"])
        check = bio.evaluate(inst, roster)
        self.stdout.write(
            _("objective %(obj)s, hard violations %(hard)s, status %(status)s, %(secs).1f s")
            % {
                "obj": check.objective,
                "hard": len(check.violations),
                "status": result.status,
                "secs": result.elapsed,
            }
        )
