from django.urls import path

from messagecenter.privacy import views

urlpatterns = [
    # A person's own copy of a conversation; a case's conversation for its agents.
    path(
        "message-center/conversations/<int:conversation_id>/transcript/",
        views.conversation_transcript,
        name="conversation-transcript",
    ),
    path(
        "console/cases/<int:case_id>/transcript/",
        views.case_transcript,
        name="console-case-transcript",
    ),
    # A person's own data (Your Account → Your data).
    path("account/data/", views.data_export, name="data-export"),
    path(
        "account/data/<int:export_id>/download/",
        views.data_export_download,
        name="data-export-download",
    ),
    # How long messages are kept: the operator's rules, for everyone.
    path("privacy/retention/", views.retention, name="retention"),
]
