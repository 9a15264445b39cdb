from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "svidok.apps.incidents"
    label = "incidents"
    verbose_name = "Incidents"
