"""``muster uploads``: the checked files kept for "confirm import".

    muster uploads purge        blank the bytes of taken or expired uploads, remove rows a day past expiry

The worker purges at each kept upload's expiry (``tabular.uploads.purge_uploads``); run ``purge`` from
cron (every few minutes) where no worker runs, or the task backend cannot defer.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from muster.tabular import uploads


class Command(BaseCommand):
    help = _("Purge the checked files kept for confirming an import once they are taken or expired.")
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser(
            "purge", help=_("Blank taken or expired uploads; remove those a day past their expiry.")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        blanked, removed = uploads.upload_purge()
        self.stdout.write(
            _("%(blanked)s kept uploads emptied, %(removed)s removed.")
            % {"blanked": blanked, "removed": removed}
        )
