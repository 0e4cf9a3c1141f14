from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# Audit action codes of this app, rendered as translated text in the audit log.
ACTIONS = {
    "honors.tier.changed": _("Star tier threshold changed"),
    "honors.star.reached": _("Star tier reached"),
    "honors.certificate.requested": _("Volunteer certificate requested"),
    "honors.certificate.issued": _("Volunteer certificate issued"),
    "honors.certificate.rejected": _("Volunteer certificate request rejected"),
    "honors.certificate.revoked": _("Volunteer certificate revoked"),
    "honors.certificate.verified": _("Volunteer certificate verification viewed"),
    "honors.certificate.verify_unknown": _("Unknown volunteer certificate looked up"),
    # Awards and commendations keep the codes they had in party life: the log is append-only, and one code
    # per action keeps its history in one place (events before and after the move read the same).
    "partylife.honor.proposed": _("Honor proposed"),
    "partylife.honor.evidence_attached": _("Honor evidence attached"),
    "partylife.honor.decided": _("Honor approval decided"),
}


class HonorsConfig(AppConfig):
    name = "muster.honors"
    label = "honors"
    verbose_name = _("Volunteer records and star tiers")

    def ready(self) -> None:
        from muster.audit import actions
        from muster.honors import listeners
        from muster.notify.services import register_kind
        from muster.orgs import access
        from muster.seeding import keep_defaults

        for code, label in ACTIONS.items():
            actions.ACTIONS.setdefault(code, label)
        # The scoping table: an award or commendation is seen from the proposing organization, the unit
        # honored or the person's unit (as when it was party life's).
        access.SCOPE_FIELDS.update({"honors.honor": ("branch__path", "unit__path", "person__unit__path")})
        listeners.connect()
        register_kind("honors.star_reached", _("Star tier reached"))
        keep_defaults(self, "0002_seed_tiers")
