"""``muster demo``: load the demo organization (idempotently) into the configured database, then serve it
with a background worker (``muster worker``, a child process stopped with the server)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils.translation import gettext as _

from muster.audit.context import origin
from muster.orgs.demo import CREATED_LABELS, demo_totals, load_demo


def migrations_pending(database: str = DEFAULT_DB_ALIAS) -> bool:
    executor = MigrationExecutor(connections[database])
    return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))


class Command(BaseCommand):
    help = _("Load the demo organization (the Shanghai tax system) and serve the web app.")
    # Loading data needs no URL or template checks (runserver runs its own before serving).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-serve", action="store_true", help=_("Only load the demo data; do not serve.")
        )
        parser.add_argument(
            "--no-seed",
            action="store_true",
            help=_("Skip the Shanghai March 2022 ledger (the seed scenario of the reports)."),
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help=_("Serve without starting a background worker (run `muster worker` yourself)."),
        )
        parser.add_argument(
            "--addrport",
            default="127.0.0.1:8000",
            help=_("Address and port to serve on (default 127.0.0.1:8000)."),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if migrations_pending():
            self.stdout.write(_("Creating the database tables…"))
            call_command("migrate", interactive=False, verbosity=0)
        started = time.monotonic()
        with origin(None, "cli"):
            summary = load_demo(stdout=self.stdout if options["verbosity"] > 1 else None)
        seconds = time.monotonic() - started
        if summary.changed:
            parts = ", ".join(f"{CREATED_LABELS[k]} {v}" for k, v in summary.created.items() if v)
            self.stdout.write(
                _("Demo data loaded in %(s).1f s (created: %(parts)s).") % {"s": seconds, "parts": parts}
            )
        else:
            self.stdout.write(_("The demo data is already loaded; nothing changed."))
        if not options["no_seed"]:
            from muster.reports.seed import load_seed_scenario

            with origin(None, "cli"):
                if load_seed_scenario(stdout=self.stdout if options["verbosity"] > 1 else None):
                    self.stdout.write(_("The Shanghai March 2022 ledger (seed scenario) is loaded."))
            from muster.care.demo import load_care_demo

            with origin(None, "cli"):
                if load_care_demo(stdout=self.stdout if options["verbosity"] > 1 else None):
                    self.stdout.write(_("The care ledger of 金山's 243 retirees (April 2022) is loaded."))
        from muster.outreach.demo import load_outreach_demo

        with origin(None, "cli"):
            if load_outreach_demo(stdout=self.stdout if options["verbosity"] > 1 else None):
                self.stdout.write(
                    _("The outreach ledger (visits, problems, enterprises and liaisons) is loaded.")
                )
        from muster.volunteers.demo import load_volunteers_demo

        with origin(None, "cli"):
            if load_volunteers_demo(stdout=self.stdout if options["verbosity"] > 1 else None):
                self.stdout.write(
                    _("The volunteer side (profiles, open shifts, sign-ups and a call-up in 黄浦) is loaded.")
                )
        totals = demo_totals()
        self.stdout.write(
            _("In the database: %(units)d units, %(people)d people, %(teams)d teams, %(partners)d partners.")
            % totals
        )
        self.stdout.write("")
        self.stdout.write(_("Demo logins (password for all: %(password)s):") % {"password": summary.password})
        for login in summary.logins:
            self.stdout.write(f"  {login.username:<16} {login.note}")
        self.stdout.write("")
        if options["no_serve"]:
            return
        addrport = options["addrport"]
        # Static files are served from the apps' static folders (whitenoise finders); an empty
        # STATIC_ROOT keeps whitenoise from warning that it is missing.
        Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
        worker = None
        if not options["no_worker"]:
            # the same interpreter and settings, in a session of its own (a Ctrl-C stops the server,
            # which then stops the worker with one SIGTERM: the task it runs finishes first); a SIGTERM
            # to this process is turned into a clean exit so that the worker is stopped too
            worker = subprocess.Popen(
                [sys.executable, "-m", "muster.cli", "worker", "--verbosity", "0"], start_new_session=True
            )
            signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
            self.stdout.write(_("Background worker started (process %(pid)s).") % {"pid": worker.pid})
        self.stdout.write(_("Serving on http://%(addr)s/ — stop with Ctrl-C.") % {"addr": addrport})
        try:
            call_command("runserver", addrport, use_reloader=False, use_threading=True)
        finally:
            if worker is not None:
                _stop(worker)


def _stop(worker: subprocess.Popen[bytes]) -> None:
    """Stop the worker: SIGTERM lets its task finish; after a minute it is killed (its task is then
    recovered by the next worker, see muster.worker.recovery)."""
    if worker.poll() is None:
        worker.terminate()
    try:
        worker.wait(timeout=60)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
