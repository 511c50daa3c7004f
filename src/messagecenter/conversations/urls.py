from django.urls import path

from messagecenter.conversations import views

urlpatterns = [
    path("message-center/", views.message_center, name="message-center"),
    path("message-center/actions/", views.conversation_actions, name="conversation-actions"),
    path(
        "message-center/conversations/<int:conversation_id>/",
        views.conversation,
        name="conversation",
    ),
    path("message-center/attachments/<int:attachment_id>/", views.attachment, name="attachment"),
    path(
        "message-center/customer-service/",
        views.contact_customer_service,
        name="contact-customer-service",
    ),
]
