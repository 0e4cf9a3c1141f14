from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgsConfig(AppConfig):
    name = "muster.orgs"
    label = "orgs"
    verbose_name = _("Organization")

    def ready(self) -> None:
        from muster.orgs import checks  # noqa: F401  (registers the field-key check)
