"""The site's URLs with anymail's webhooks mounted, as with EMAIL_URL=anymail:<provider>."""

from django.urls import include, path

from messagecenter.urls import urlpatterns as site_urlpatterns

urlpatterns = [path("anymail/", include("anymail.urls")), *site_urlpatterns]
