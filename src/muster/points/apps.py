from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PointsConfig(AppConfig):
    name = "muster.points"
    label = "points"
    verbose_name = _("Party-building points")

    def ready(self) -> None:
        # Points listen to the apps whose records earn them (mobilization's service hours, party life's
        # meetings, talks and posts, honors' awards and commendations) and register those sources for
        # recomputation.
        from muster.points import awards, party_life, service_hours

        service_hours.register()
        party_life.register()
        awards.register()
        from muster.seeding import keep_defaults

        keep_defaults(self, "0002_seed_rules")
