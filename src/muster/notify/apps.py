from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "muster.notify"
    label = "notify"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        # Notices for other apps' domain signals (a cancelled batch tells its members).
        from muster.notify import listeners

        listeners.connect()
        # The audit log's labels for this app's action codes (the audit app keeps the registry).
        from muster.audit.actions import ACTIONS

        ACTIONS.update(
            {
                "notify.preference.changed": _("Notification channels changed"),
                "notify.bot.created": _("Group bot added"),
                "notify.bot.updated": _("Group bot changed"),
                "notify.bot.deleted": _("Group bot removed"),
                "notify.test.sent": _("Test message sent"),
                "notify.delivery.retried": _("Delivery retried"),
            }
        )
