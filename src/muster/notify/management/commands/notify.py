"""``muster notify``: the delivery log from the command line.

    muster notify due                       send what is due (cron, when the task backend cannot defer)
    muster notify log [--status failed] [--limit 50] [--as USER]
    muster notify retry ID [--as USER]
    muster notify test-email ADDRESS        one e-mail through the configured SMTP server, now

Without ``--as`` the command acts as the system operator; with ``--as`` it has that user's rights.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from muster.audit.context import origin
from muster.notify import delivery, queries, senders, services
from muster.notify.models import DeliveryStatus
from muster.orgs.cli import actor_for, service_errors


class Command(BaseCommand):
    help = _("Send due notifications, show the delivery log, retry a delivery, or test the e-mail settings.")
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("due", help=_("Send what is due and recover attempts a stopped worker left behind."))
        log = sub.add_parser("log", help=_("The delivery log, newest first."))
        log.add_argument("--status", choices=DeliveryStatus.values)
        log.add_argument("--limit", type=int, default=50)
        retry = sub.add_parser("retry", help=_("Send a failed delivery again."))
        retry.add_argument("id", type=int)
        test = sub.add_parser("test-email", help=_("Send one e-mail now with the server's e-mail settings."))
        test.add_argument("address")
        for p in (log, retry):
            p.add_argument(
                "--as", dest="as_user", metavar="USERNAME", help=_("Act as this user, with their rights.")
            )

    def handle(self, *args: Any, **options: Any) -> None:
        with origin(None, "cli"), service_errors():
            action = options["action"]
            if action == "due":
                interrupted, enqueued = delivery.run_due()
                self.stdout.write(
                    _(
                        "%(enqueued)s due deliveries sent to the queue; "
                        "%(interrupted)s interrupted attempts recovered."
                    )
                    % {"enqueued": enqueued, "interrupted": interrupted}
                )
            elif action == "log":
                self._log(actor_for(options.get("as_user")), options)
            elif action == "retry":
                actor = actor_for(options.get("as_user"))
                d = services.delivery_retry(
                    actor=actor, delivery=queries.delivery_or_404(actor, options["id"])
                )
                d.refresh_from_db()
                self.stdout.write(
                    _("Delivery %(id)s: %(status)s.") % {"id": d.pk, "status": d.get_status_display()}
                )
            else:
                self._test_email(options["address"])

    def _log(self, actor: Any, options: dict[str, Any]) -> None:
        qs = queries.deliveries(actor)
        if options.get("status"):
            qs = qs.filter(status=options["status"])
        for d in qs[: max(options["limit"], 0)]:
            line = "\t".join(
                [
                    str(d.pk),
                    f"{d.created_at:%Y-%m-%d %H:%M}",
                    str(d.get_channel_display()),
                    d.target,
                    str(d.get_status_display()),
                    str(d.attempts),
                    d.title,
                    d.last_error.replace("\n", " ")[:200],
                ]
            )
            self.stdout.write(line)

    def _test_email(self, address: str) -> None:
        try:
            validate_email(address)
        except ValidationError:
            raise CommandError(_("Enter a valid e-mail address.")) from None
        if not senders.email_configured():
            raise CommandError(_("E-mail is not configured on this server."))
        content = senders.Content(
            _("Muster test message"),
            _(
                "This is a test message from Muster. "
                "If you can read it, notifications through this channel work."
            ),
        )
        try:
            senders.send_email(address, content)
        except senders.SendError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(_("Sent."))
