from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "svidok.apps.evidence"
    label = "evidence"
    verbose_name = "Evidence"
