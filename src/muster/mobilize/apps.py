from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MobilizeConfig(AppConfig):
    name = "muster.mobilize"
    label = "mobilize"
    verbose_name = _("Mobilization")

    def ready(self) -> None:
        from muster.seeding import keep_defaults

        keep_defaults(self, "0002_seed_measures")
