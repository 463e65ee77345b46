from django.apps import AppConfig


class GameConfig(AppConfig):
    name = "game"
    verbose_name = "Game server"

    def ready(self):
        from game.records import retention  # noqa: F401  (answers prunerecords for the input log)
