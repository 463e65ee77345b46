from django.apps import AppConfig


class LoadbotsConfig(AppConfig):
    name = "loadbots"
    verbose_name = "Load bots (manage.py loadbots)"
