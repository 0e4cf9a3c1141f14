from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

ACTIONS = {
    "care.grant.created": _("Care data permission granted"),
    "care.grant.revoked": _("Care data permission revoked"),
    "care.subject.created": _("Care subject created"),
    "care.subject.updated": _("Care subject updated"),
    "care.subject.status": _("Care subject status changed"),
    "care.subjects.imported": _("Care subjects imported"),
    "care.answers.imported": _("Survey answers imported"),
    "care.ledger.exported": _("Care ledger exported"),
    "care.frequency.changed": _("Contact frequency changed"),
    "care.contact.planned": _("Contact planned"),
    "care.contact.recorded": _("Contact recorded"),
    "care.round.opened": _("Survey round opened"),
    "care.round.closed": _("Survey round closed"),
    "care.dimension.created": _("Survey dimension created"),
    "care.answers.recorded": _("Survey answers recorded"),
    "care.tag.set": _("Risk tag set by hand"),
    "care.health.viewed": _("Health details viewed"),
    "care.help.raised": _("Help request raised"),
    "care.help.assigned": _("Help request assigned"),
    "care.help.in_progress": _("Help request in progress"),
    "care.help.resolved": _("Help request resolved"),
    "care.help.cancelled": _("Help request cancelled"),
    "care.delivery.created": _("Delivery run created"),
    "care.delivery.line": _("Delivery line marked"),
    "care.consolation.recorded": _("Consolation recorded"),
    "care.consolation.approved": _("Consolation payment approved"),
    "care.donation.recorded": _("Donation recorded"),
    "care.drive.opened": _("Charity drive opened"),
    "care.drive.contributed": _("Charity drive contribution recorded"),
    "care.receipt.attached": _("Receipt attached"),
    "care.receipt.viewed": _("Receipt opened"),
}


class CareConfig(AppConfig):
    name = "muster.care"
    label = "care"
    verbose_name = _("Care ledger")

    def ready(self) -> None:
        from muster.audit.actions import ACTIONS as AUDIT_ACTIONS
        from muster.notify.services import register_kind
        from muster.orgs import access
        from muster.seeding import keep_defaults

        AUDIT_ACTIONS.update(ACTIONS)
        # The scoping table: how each care model reaches a unit path (a subject is also visible to its
        # liaison: ``muster.care.policy``).
        access.SCOPE_FIELDS.update(
            {
                "care.caresubject": ("unit__path",),
                "care.surveyround": ("unit__path",),
                "care.helprequest": ("unit__path",),
                "care.deliveryrun": ("unit__path",),
                "care.donation": ("unit__path",),
                "care.charitydrive": ("unit__path",),
            }
        )
        register_kind("care.help.resolved", _("A help request you raised was resolved"))
        from muster.care import facts
        from muster.orgs.signals import unit_moved

        unit_moved.connect(facts.on_unit_moved, dispatch_uid="care.facts.unit_moved")
        from muster.care.partners import donations_with
        from muster.orgs import partner_activity

        partner_activity.register("care.donations", donations_with)
        keep_defaults(self, "0002_defaults")
