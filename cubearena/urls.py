from django.contrib import admin
from django.urls import include, path

from game.health import healthz
from game.metrics import metrics_view

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("", include("lobby.urls")),
]
