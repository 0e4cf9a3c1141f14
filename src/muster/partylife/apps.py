from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartylifeConfig(AppConfig):
    name = "muster.partylife"
    label = "partylife"
    verbose_name = _("Party life")

    def ready(self) -> None:
        from muster.seeding import keep_defaults

        keep_defaults(self, "0002_seed_requirements")
