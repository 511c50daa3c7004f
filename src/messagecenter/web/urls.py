from django.urls import include, path

from messagecenter.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("", include("messagecenter.accounts.urls")),
    path("", include("messagecenter.conversations.urls")),
    path("", include("messagecenter.notifications.urls")),
    path("", include("messagecenter.marketplace.urls")),
    path("", include("messagecenter.search.urls")),
    path("", include("messagecenter.delivery.urls")),
    path("", include("messagecenter.safety.urls")),
    path("", include("messagecenter.support.urls")),
    path("", include("messagecenter.privacy.urls")),
]
