from django.urls import path

from game.arbiter import ARBITER_CHANNEL, ArbiterConsumer
from game.auditor import AUDITOR_CHANNEL, AuditorConsumer
from game.consumers import MatchConsumer

websocket_urlpatterns = [
    path("ws/match/<str:match_id>/", MatchConsumer.as_asgi()),
]

# Named channels served by `manage.py runworker arbiter` / `runworker auditor`
# (or both in-process, game.inprocess).
channel_routes = {
    ARBITER_CHANNEL: ArbiterConsumer.as_asgi(),
    AUDITOR_CHANNEL: AuditorConsumer.as_asgi(),
}
