"""``muster genkey``: print a new field key (for ``MUSTER_FIELD_KEY``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from muster.orgs import crypto


class Command(BaseCommand):
    help = _(
        "Print a new random key for MUSTER_FIELD_KEY (32 random bytes, URL-safe base64). Set it before "
        "personal data is stored and keep it apart from the database backups."
    )
    # It must run when the configured key is the problem the checks report.
    requires_system_checks: list[str] = []

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(crypto.new_key())
