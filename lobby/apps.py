from django.apps import AppConfig


class LobbyConfig(AppConfig):
    name = "lobby"
    verbose_name = "Lobby and match records"

    def ready(self):
        from . import signals  # noqa: F401  (connects the login receiver)
