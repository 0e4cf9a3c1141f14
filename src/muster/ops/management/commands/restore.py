"""``muster restore ARCHIVE [--force]``: put a backup made by ``muster backup`` back in place.

See ``muster.ops.backup``: everything is checked before anything changes; then the database, the uploaded
files, and ``migrate``. Stop the web server and the workers first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from muster.audit.context import origin
from muster.ops.backup import BackupError, backup_restore
from muster.orgs.access import SYSTEM


class Command(BaseCommand):
    help = _(
        "Restore a backup made by `muster backup` into an empty database (or, with --force, over the current "
        "one), then migrate it to this version. Needs the field key the backup was made with."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", help=_("The backup archive (.tar.gz)."))
        parser.add_argument(
            "--force",
            action="store_true",
            help=_(
                "Replace a database and uploaded files that are not empty. SQLite: the current database file "
                "and the uploaded files are kept beside, renamed *.before-restore-*; PostgreSQL: the current "
                "tables are dropped."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with origin(None, "cli"):
            try:
                report = backup_restore(
                    actor=SYSTEM,
                    archive=Path(options["archive"]),
                    force=options["force"],
                    say=self.stdout.write,
                    verbosity=options["verbosity"],
                    out=self.stdout,
                )
            except BackupError as exc:
                raise CommandError(str(exc)) from None
        m = report.manifest
        self.stdout.write(
            self.style.SUCCESS(
                _("Restored the backup of %(created)s (Muster %(version)s, %(engine)s).")
                % {
                    "created": m.get("created_at"),
                    "version": m.get("muster_version"),
                    "engine": m.get("engine"),
                }
            )
        )
        for path in report.kept:
            self.stdout.write(_("Kept the replaced data as %(path)s.") % {"path": path})
