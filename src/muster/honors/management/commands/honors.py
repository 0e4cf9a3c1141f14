"""``muster honors``: volunteer records, certificates and star tiers from the command line.

    muster honors record --person XH0001 [--as-of 2026-03-31] [--xlsx FILE] [--as USER]
    muster honors certificate --person XH0001 [--as-of DATE] [--unit CODE] [--in-charge NAME]
                              [--handler NAME] [--contact TEXT] --pdf FILE [--as USER]
    muster honors revoke --serial ZYFW-XH-2026-00001 --reason "…" [--as USER]
    muster honors verify TOKEN
    muster honors tiers [--set LEVEL HOURS [--name NAME]] [--as USER]

Without ``--as`` the command acts as the system operator; with ``--as`` it has that user's rights.
Refusals are printed and the exit status is non-zero.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from muster import dates
from muster.audit.context import origin
from muster.honors import exports, queries, services
from muster.honors.models import StarTier
from muster.honors.pdf import certificate_pdf
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.cli import actor_for, service_errors
from muster.orgs.models import Unit


def day_argument(text: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(_("A date looks like 2026-03-31.")) from None
    if not dates.day_in_range(day):
        raise argparse.ArgumentTypeError(dates.date_range_message())
    return day


class Command(BaseCommand):
    help = _("Volunteer records, certificates and star tiers.")
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        rec = sub.add_parser("record", help=_("A person's approved service by batch and kind."))
        rec.add_argument("--person", required=True, metavar="CODE")
        rec.add_argument("--as-of", type=day_argument, default=None, help=_("As of the end of this day."))
        rec.add_argument("--xlsx", metavar="FILE", help=_("Write the record to an Excel file."))
        cert = sub.add_parser("certificate", help=_("Issue a certificate and write its PDF."))
        cert.add_argument("--person", required=True, metavar="CODE")
        cert.add_argument("--as-of", type=day_argument, default=None)
        cert.add_argument("--unit", metavar="CODE", help=_("Issuing unit (default: the person's unit)."))
        cert.add_argument("--in-charge", default="")
        cert.add_argument("--handler", default="")
        cert.add_argument("--contact", default="")
        cert.add_argument("--pdf", required=True, metavar="FILE")
        rev = sub.add_parser("revoke", help=_("Revoke an issued certificate."))
        rev.add_argument("--serial", required=True)
        rev.add_argument("--reason", required=True)
        ver = sub.add_parser("verify", help=_("What the public verification page says about a code."))
        ver.add_argument("token")
        tiers = sub.add_parser("tiers", help=_("List the star tiers, or set one."))
        tiers.add_argument("--set", nargs=2, type=int, metavar=("LEVEL", "HOURS"))
        tiers.add_argument("--name", default="")
        for p in (rec, cert, rev, tiers):
            p.add_argument(
                "--as", dest="as_user", metavar="USERNAME", help=_("Act as this user, with their rights.")
            )

    def handle(self, *args: Any, **options: Any) -> None:
        with origin(None, "cli"), service_errors():
            actor = actor_for(options.get("as_user"))
            getattr(self, "_" + options["action"])(actor, options)

    def _cutoff(self, options: dict[str, Any]) -> Any:
        day = options.get("as_of")
        return queries.cutoff_of_day(day) if day else queries.default_cutoff()

    def _record(self, actor: Any, options: dict[str, Any]) -> None:
        person = queries.person_get_or_404(actor, code=options["person"])
        record = queries.volunteer_record(person, self._cutoff(options))
        if options.get("xlsx"):
            Path(options["xlsx"]).write_bytes(exports.record_xlsx(record))
        tier = record.tier
        self.stdout.write(
            f"{person.code} {person.name} · {record.hours:.2f} h · ★{tier.level if tier else 0}"
        )
        for ln in record.lines:
            batch = ln.deployment.code if ln.deployment else "—"
            self.stdout.write(f"  {batch:<16} {ln.kind_label:<24} {ln.entries:>4}  {ln.hours:>8.2f}")

    def _certificate(self, actor: Any, options: dict[str, Any]) -> None:
        person = queries.person_get_or_404(actor, code=options["person"])
        unit = None
        if options.get("unit"):
            unit = access.scoped(Unit.objects.all(), actor, Perm.VIEW).filter(code=options["unit"]).first()
            if unit is None:
                raise CommandError(_("Unknown unit %(code)s.") % {"code": options["unit"]})
        cert = services.certificate_issue(
            actor=actor,
            person=person,
            as_of=self._cutoff(options),
            issuing_unit=unit,
            person_in_charge=options["in_charge"],
            handler=options["handler"],
            contact=options["contact"],
        )
        full = access.may_see_personal(actor, person, Perm.VIEW_ID)
        Path(options["pdf"]).write_bytes(certificate_pdf(cert, full_id=full))
        self.stdout.write(
            _("Certificate %(serial)s issued: %(hours)s h; verification code %(token)s")
            % {"serial": cert.serial, "hours": f"{cert.hours:.2f}", "token": cert.token}
        )

    def _revoke(self, actor: Any, options: dict[str, Any]) -> None:
        cert = queries.certificate_get_or_404(actor, serial=options["serial"])
        services.certificate_revoke(actor=actor, certificate=cert, reason=options["reason"])
        self.stdout.write(_("Certificate %(serial)s revoked.") % {"serial": cert.serial})

    def _verify(self, actor: Any, options: dict[str, Any]) -> None:
        v = services.certificate_verify(actor=None, token=options["token"])
        if not v.found:
            raise CommandError(_("No such certificate."))
        state = _("revoked") if v.revoked else _("valid")
        self.stdout.write(
            f"{v.serial} · {state} · {v.masked_name} · {v.hours} h · {v.issuer} · {v.issued_on}"
        )

    def _tiers(self, actor: Any, options: dict[str, Any]) -> None:
        if options.get("set"):
            level, hours = options["set"]
            services.star_tier_set(actor=actor, level=level, min_hours=hours, name=options["name"])
        for t in StarTier.objects.order_by("level"):
            self.stdout.write(f"{t.level}  {t.name:<12} {t.min_hours:>6} h")
