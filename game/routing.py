from django.urls import path

websocket_urlpatterns: list = []
channel_routes: dict = {}
