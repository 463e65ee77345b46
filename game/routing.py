from django.urls import path

from game.arbiter.routes import channel_routes
from game.edge.consumer import MatchConsumer
from game.edge.replay import ReplayConsumer

websocket_urlpatterns = [
    path("ws/match/<str:match_id>/", MatchConsumer.as_asgi()),
    path("ws/replay/<str:match_id>/", ReplayConsumer.as_asgi()),
]

__all__ = ["channel_routes", "websocket_urlpatterns"]
