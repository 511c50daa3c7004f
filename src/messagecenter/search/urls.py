from django.urls import path

from messagecenter.search import views

urlpatterns = [
    path("message-center/search/", views.search, name="message-search"),
]
