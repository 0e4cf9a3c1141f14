from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PointsConfig(AppConfig):
    name = "muster.points"
    label = "points"
    verbose_name = _("Party-building points")
