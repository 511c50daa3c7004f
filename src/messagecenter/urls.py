from django.contrib import admin
from django.urls import include, path, re_path

from messagecenter import api
from messagecenter.realtime import views as realtime_views

urlpatterns = [
    path("admin/", admin.site.urls),
    # The JSON API (docs/api.md); anything else under it answers in the API's error shape.
    path("api/v1/", api.index, name="api-index"),
    # Streams, so a plain async view rather than a ninja operation (docs/realtime.md).
    path("api/v1/sync/stream", realtime_views.event_stream, name="sync-stream"),
    path("api/v1/", api.api.urls),
    re_path(r"^api/v1/(?P<path>.*)$", api.unknown_endpoint),
    path("", include("messagecenter.web.urls")),
]
