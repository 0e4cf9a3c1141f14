"""``muster createadmin``: create a superuser (audited) through the accounts service."""

from __future__ import annotations

import getpass
import os
import sys
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from muster.accounts.services import user_create
from muster.audit.context import origin
from muster.orgs.access import SYSTEM


def _messages(exc: ValidationError) -> str:
    return " ".join(str(m) for m in exc.messages)


class Command(BaseCommand):
    help = _("Create an administrator (a superuser who may do everything).")
    # Loading data needs no URL or template checks (runserver runs its own before serving).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", help=_("User name (default: admin)."))
        parser.add_argument(
            "--password", help=_("Password (or set MUSTER_ADMIN_PASSWORD; prompted for when interactive).")
        )
        parser.add_argument("--email", default="", help=_("E-mail address (optional)."))
        parser.add_argument(
            "--noinput", "--no-input", action="store_false", dest="interactive", help=_("Never prompt.")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        interactive = options["interactive"] and sys.stdin.isatty()
        username = (options["username"] or "").strip()
        if not username:
            username = (input(_("User name [admin]: ")).strip() or "admin") if interactive else "admin"
        if get_user_model().objects.filter(username=username).exists():
            raise CommandError(
                _("The user name %(name)s is taken; choose another with --username.") % {"name": username}
            )

        password = options["password"] or os.environ.get("MUSTER_ADMIN_PASSWORD", "")
        if not password:
            if not interactive:
                raise CommandError(_("No password: give --password or set MUSTER_ADMIN_PASSWORD."))
            password = self._prompt_password(username)
        else:
            try:
                validate_password(password, get_user_model()(username=username))
            except ValidationError as exc:
                raise CommandError(_("The password is too weak: %(why)s") % {"why": _messages(exc)}) from exc

        try:
            with origin(None, "cli"):
                user_create(
                    actor=SYSTEM,
                    username=username,
                    password=password,
                    is_superuser=True,
                    email=options["email"],
                )
        except ValidationError as exc:
            raise CommandError(_messages(exc)) from exc
        self.stdout.write(self.style.SUCCESS(_("Administrator %(name)s created.") % {"name": username}))

    def _prompt_password(self, username: str) -> str:
        for _attempt in range(3):
            first = getpass.getpass(_("Password: "))
            second = getpass.getpass(_("Password (again): "))
            if first != second:
                self.stderr.write(_("The passwords do not match."))
                continue
            try:
                validate_password(first, get_user_model()(username=username))
            except ValidationError as exc:
                self.stderr.write(_messages(exc))
                continue
            return first
        raise CommandError(_("No valid password given."))
