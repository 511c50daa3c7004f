from django.urls import path

from messagecenter.safety import views

urlpatterns = [
    path(
        "message-center/conversations/<int:conversation_id>/block/",
        views.block_in_conversation,
        name="block-in-conversation",
    ),
    path(
        "message-center/conversations/<int:conversation_id>/unblock/",
        views.unblock_in_conversation,
        name="unblock-in-conversation",
    ),
    path("account/blocked/", views.blocked_list, name="blocked-list"),
    path("account/blocked/<int:block_id>/unblock/", views.unblock, name="unblock"),
]
