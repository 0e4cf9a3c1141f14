"""``muster roster benchmark INSTANCE.txt --seconds N [--seed S] --out FILE``.

Solves one Curtois & Qu instance with the rostering engine and writes the roster: one line per
employee in the file's staff order, the employee ID then one tab-separated field per day (the shift ID
or nothing for a day off).

``muster roster solve --deployment CODE | --post CODE --from YYYY-MM-DD --to YYYY-MM-DD [--seconds N]
[--seed S] [--publish] [--as USERNAME]`` rosters a batch or a post of the app over a period (both days
included), printing the progress and the result; ``--publish`` then makes it the real roster and notifies
the people. Without ``--as`` it acts as the system operator. The command line has the engine's general
size limits (not the web's) and a time limit of up to an hour.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from muster.audit.context import origin
from muster.mobilize.models import Deployment, Post
from muster.orgs import access
from muster.orgs.cli import actor_for, service_errors
from muster.roster import benchmark_io as bio
from muster.roster.engine import Limits, Options, Progress, RosterError, solve

CLI_MAX_SECONDS = 3600


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
        bench.add_argument(
            "--deterministic",
            action="store_true",
            help=_(
                "Count --seconds as deterministic work on one thread, not on the clock: "
                "the same roster on any machine."
            ),
        )
        bench.add_argument("--out", required=True, help=_("The roster file to write."))
        sol = sub.add_parser("solve", help=_("Roster a batch or a post over a period."))
        scope = sol.add_mutually_exclusive_group(required=True)
        scope.add_argument("--deployment", metavar="CODE", help=_("The batch code."))
        scope.add_argument("--post", metavar="CODE", help=_("The post code (or its number)."))
        sol.add_argument("--from", dest="start", required=True, help=_("First day (YYYY-MM-DD)."))
        sol.add_argument("--to", dest="end", required=True, help=_("Last day (YYYY-MM-DD)."))
        sol.add_argument("--seconds", type=float, default=10.0, help=_("Time limit in seconds."))
        sol.add_argument("--seed", type=int, default=0, help=_("Random seed."))
        sol.add_argument(
            "--publish", action="store_true", help=_("Publish the roster and notify the people.")
        )
        sol.add_argument(
            "--as", dest="as_user", metavar="USERNAME", help=_("Act as this user, with their rights.")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "benchmark":
            self._benchmark(options)
        elif options["action"] == "solve":
            with origin(None, "cli"):
                self._solve(options)

    def _solve(self, options: dict[str, Any]) -> None:
        from muster.roster import services

        actor = actor_for(options.get("as_user"))
        start, end = _day(options["start"], "--from"), _day(options["end"], "--to")
        deployment = post = None
        if options.get("deployment"):
            deployment = (
                access.scoped(Deployment.objects.all(), actor).filter(code=options["deployment"]).first()
            )
            if deployment is None:
                raise CommandError(_("Unknown batch %(code)s.") % {"code": options["deployment"]})
        else:
            ref = options["post"]
            qs = access.scoped(Post.objects.all(), actor)
            post = qs.filter(code=ref).first() or (qs.filter(pk=int(ref)).first() if ref.isdigit() else None)
            if post is None:
                raise CommandError(_("Unknown post %(code)s.") % {"code": ref})

        def progress(ev: Progress) -> None:
            self.stdout.write(
                _("[%(secs)6.1f s] %(phase)-8s penalty %(obj)s")
                % {"secs": ev.elapsed, "phase": ev.phase, "obj": ev.objective}
            )

        with service_errors():
            plan = services.plan_create(
                actor=actor,
                deployment=deployment,
                post=post,
                start=start,
                end=end,
                seconds=options["seconds"],
                seed=options["seed"],
                limits=Limits(),
                max_seconds=CLI_MAX_SECONDS,
            )
            run = services.solve_start(
                actor=actor, plan=plan, sync=True, on_progress=progress, max_seconds=CLI_MAX_SECONDS
            )
        if run.status == "failed":
            raise CommandError(run.error)
        plan.refresh_from_db()
        result = plan.result
        self.stdout.write(
            _("Plan %(id)s: %(summary)s; status %(status)s, %(secs).1f s")
            % {
                "id": plan.pk,
                "summary": services.summary_line(plan),
                "status": result.get("status"),
                "secs": result.get("elapsed", 0),
            }
        )
        for key, value in sorted(result.get("breakdown", {}).items()):
            self.stdout.write(f"  {key}: {value}")
        for u in result.get("uncovered", []):
            self.stdout.write("  " + _("short: %(summary)s") % {"summary": u["summary"]})
        for note in plan.notes:
            self.stdout.write(
                "  " + _("left out (busy the whole period): %(code)s") % {"code": note.get("person")}
            )
        if options["publish"]:
            with service_errors():
                res = services.plan_publish(actor=actor, plan=plan)
            self.stdout.write(
                _("Published: %(added)s added, %(removed)s removed, %(notified)s people notified.")
                % {"added": res.added, "removed": res.removed, "notified": res.notified}
            )

    def _benchmark(self, options: dict[str, Any]) -> None:
        if options["seconds"] <= 0:
            raise CommandError(_("--seconds must be positive."))
        try:
            inst = bio.read_instance(options["instance"])
        except (OSError, bio.BenchmarkFormatError) as exc:
            raise CommandError(_("Cannot read the instance: %(error)s") % {"error": exc}) from exc
        try:
            opts = Options(
                seconds=options["seconds"], seed=options["seed"], deterministic=options["deterministic"]
            )
            result = solve(bio.to_problem(inst), opts)
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


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(
            _("%(option)s: not a date (YYYY-MM-DD): %(value)s") % {"option": option, "value": value}
        ) from None
