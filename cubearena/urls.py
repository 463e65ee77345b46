from django.contrib import admin
from django.urls import include, path

from game.health import healthz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("", include("lobby.urls")),
]
