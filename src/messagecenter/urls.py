from django.contrib import admin
from django.urls import include, path, re_path

from messagecenter import api

urlpatterns = [
    path("admin/", admin.site.urls),
    # The JSON API (docs/api.md); anything else under it answers in the API's error shape.
    path("api/v1/", api.index, name="api-index"),
    path("api/v1/", api.api.urls),
    re_path(r"^api/v1/(?P<path>.*)$", api.unknown_endpoint),
    path("", include("messagecenter.web.urls")),
]
