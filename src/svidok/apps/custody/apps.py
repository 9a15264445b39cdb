from django.apps import AppConfig


class CustodyConfig(AppConfig):
    name = "svidok.apps.custody"
    label = "custody"
    verbose_name = "Custody log"
