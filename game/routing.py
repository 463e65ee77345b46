from django.urls import path

from game.arbiter.routes import channel_routes
from game.edge.consumer import MatchConsumer

websocket_urlpatterns = [
    path("ws/match/<str:match_id>/", MatchConsumer.as_asgi()),
]

__all__ = ["channel_routes", "websocket_urlpatterns"]
