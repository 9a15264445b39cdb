from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "svidok.apps.accounts"
    label = "accounts"
    verbose_name = "Accounts and access"

    def ready(self) -> None:
        from svidok.apps.accounts import signals

        signals.connect()
