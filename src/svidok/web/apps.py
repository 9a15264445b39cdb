from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "svidok.web"
    label = "web"
