"""``muster backup [--output DIR_OR_FILE]``: the database and the uploaded files in one .tar.gz archive.

See ``muster.ops.backup``. The field key is never in the archive; the command says so every time.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from muster.audit.context import origin
from muster.ops.backup import BackupError, backup_create, key_reminder
from muster.orgs.access import SYSTEM


class Command(BaseCommand):
    help = _(
        "Back up the database and the uploaded files into one .tar.gz archive, with a manifest of "
        "checksums. The field key is not in it: keep it apart."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            metavar="DIR_OR_FILE",
            help=_(
                "Where to write the archive: a directory (a dated file name is chosen) or a new file "
                "(default: var/backups/)."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with origin(None, "cli"):
            try:
                report = backup_create(actor=SYSTEM, output=options.get("output"))
            except BackupError as exc:
                raise CommandError(str(exc)) from None
        m = report.manifest
        self.stdout.write(
            _("Wrote %(path)s (%(size)d bytes): the %(engine)s database and %(files)d uploaded files.")
            % {
                "path": report.path,
                "size": report.size,
                "engine": m["engine"],
                "files": m["counts"]["media_files"],
            }
        )
        self.stdout.write(self.style.WARNING(key_reminder(m["field_key_fingerprint"])))
