from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExportsConfig(AppConfig):
    """Background report jobs (snapshot publishing, large Excel 台账 exports): their state and results."""

    name = "muster.exports"
    label = "exports"
    verbose_name = _("Report jobs")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from muster.audit.actions import ACTIONS

        ACTIONS["reports.job.requested"] = _("Report job requested")
