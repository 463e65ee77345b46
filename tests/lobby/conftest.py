"""Lobby test personas: alice and bob play, mallory probes; plus a stand-in for the game's page."""

import pytest
from django.test import Client

from lobby.models import Player

from .lobby_helpers import sign_in


@pytest.fixture
def alice(db):
    return Player.objects.create(nickname="alice", created_from="127.0.0.1")


@pytest.fixture
def bob(db):
    return Player.objects.create(nickname="bob", created_from="127.0.0.1")


@pytest.fixture
def mallory(db):
    return Player.objects.create(nickname="mallory", created_from="10.6.6.6")


@pytest.fixture
def client_as():
    def make(player: Player, **kwargs) -> Client:
        return sign_in(Client(**kwargs), player)

    return make


@pytest.fixture
def stub_play_template(settings):
    """game/play.html belongs to the game app; a stub shows the context the join page hands it."""
    settings.TEMPLATES = [
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "DIRS": settings.TEMPLATES[0]["DIRS"],
            "OPTIONS": {
                "context_processors": settings.TEMPLATES[0]["OPTIONS"]["context_processors"],
                "loaders": [
                    ("django.template.loaders.locmem.Loader", {"game/play.html": "PLAY {{ role }}"}),
                    "django.template.loaders.filesystem.Loader",
                    "django.template.loaders.app_directories.Loader",
                ],
            },
        }
    ]
