from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PointsConfig(AppConfig):
    name = "muster.points"
    label = "points"
    verbose_name = _("Party-building points")

    def ready(self) -> None:
        # Service hours (mobilize ledger) feed points; register the source for recomputation.
        from muster.points import service_hours

        service_hours.register()
        from muster.seeding import keep_defaults

        keep_defaults(self, "0002_seed_rules")
