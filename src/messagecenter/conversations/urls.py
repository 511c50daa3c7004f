from django.urls import path

from messagecenter.conversations import seller_views, views

urlpatterns = [
    path("message-center/", views.message_center, name="message-center"),
    path("message-center/actions/", views.conversation_actions, name="conversation-actions"),
    path(
        "message-center/conversations/<int:conversation_id>/",
        views.conversation,
        name="conversation",
    ),
    path("message-center/attachments/<int:attachment_id>/", views.attachment, name="attachment"),
    # A seller's tools (404 for everyone else).
    path("message-center/response-times/", seller_views.response_times, name="response-times"),
    path("message-center/saved-replies/", seller_views.saved_replies, name="saved-replies"),
    path("message-center/away-message/", seller_views.away_message, name="away-message"),
    path(
        "message-center/away-message/off/",
        seller_views.switch_off_away_message,
        name="away-message-off",
    ),
    path(
        "message-center/saved-replies/<int:saved_reply_id>/",
        seller_views.saved_reply,
        name="saved-reply",
    ),
    path(
        "message-center/saved-replies/<int:saved_reply_id>/delete/",
        seller_views.delete_saved_reply,
        name="delete-saved-reply",
    ),
]
