from django.urls import path, re_path

from game.arbiter.routes import channel_routes
from game.edge.consumer import MatchConsumer
from game.edge.replay import ReplayConsumer

websocket_urlpatterns = [
    path("ws/match/<str:match_id>/", MatchConsumer.as_asgi()),
    # Affinity: the same socket under a server process's prefix (game/placement.py), which
    # the reverse proxy routes to that process; any process serves it if it lands elsewhere.
    re_path(r"^s/[a-z0-9-]+/ws/match/(?P<match_id>[^/]+)/$", MatchConsumer.as_asgi()),
    path("ws/replay/<str:match_id>/", ReplayConsumer.as_asgi()),
]

__all__ = ["channel_routes", "websocket_urlpatterns"]
