from django.contrib.auth import views as auth_views
from django.urls import path, re_path

from . import api, views

app_name = "lobby"

urlpatterns = [
    path("", views.index, name="index"),
    path("guest/", views.guest, name="guest"),
    path("matches/new/", views.create, name="create"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("match/<uuid:match_id>/", views.play, name="play"),
    path("match/<uuid:match_id>/summary/", views.summary, name="summary"),
    path("match/<uuid:match_id>/replay/", views.replay, name="replay"),
    path("player/<int:player_id>/", views.player_page, name="player"),
    # The JSON API (PROTOCOL.md "HTTP"); paths without a trailing slash, as the protocol spells them.
    path("api/csrf", api.csrf, name="api-csrf"),
    path("api/guest", api.guest, name="api-guest"),
    path("api/matches", api.matches, name="api-matches"),
    path("api/matches/<uuid:match_id>", api.match, name="api-match"),
    re_path(r"^api/", api.not_found, name="api-not-found"),
]
