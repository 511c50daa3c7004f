from django.urls import path

from messagecenter.delivery import views

urlpatterns = [
    path("account/email/", views.preferences, name="email-preferences"),
    path("account/email/replies/", views.email_replies, name="email-replies"),
    path(
        "email/preferences/<str:preferences_token>/",
        views.preferences_from_link,
        name="email-preferences-link",
    ),
    path("email/unsubscribe/<str:unsubscribe_token>/", views.unsubscribe, name="unsubscribe"),
    path("message-center/check-email/", views.check_email, name="check-email"),
    path("mailbox/", views.mailbox, name="mailbox"),
    path("mailbox/<int:email_id>/", views.mailbox_email, name="mailbox-email"),
    path("mailbox/<int:email_id>/html/", views.mailbox_email_html, name="mailbox-email-html"),
]
