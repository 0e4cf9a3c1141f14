from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    """Operations: ``muster backup`` and ``muster restore`` (no models)."""

    name = "muster.ops"
    label = "ops"
    verbose_name = _("Operations")
