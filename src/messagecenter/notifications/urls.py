from django.urls import path

from messagecenter.notifications import views

urlpatterns = [
    path("message-center/announcements/<int:broadcast_id>/", views.broadcast, name="broadcast"),
]
