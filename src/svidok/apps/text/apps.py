from django.apps import AppConfig


class TextConfig(AppConfig):
    name = "svidok.apps.text"
    label = "text"
    verbose_name = "Text in media"
