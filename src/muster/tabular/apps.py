from django.apps import AppConfig


class TabularConfig(AppConfig):
    name = "muster.tabular"
    label = "tabular"
