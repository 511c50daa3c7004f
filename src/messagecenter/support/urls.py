from django.urls import path

from messagecenter.support import appeal_views, claim_views, escalation_views, report_views, views

urlpatterns = [
    path(
        "message-center/customer-service/",
        views.contact_customer_service,
        name="contact-customer-service",
    ),
    path("message-center/customer-service/chat/", views.chat, name="customer-service-chat"),
    path(
        "message-center/conversations/<int:conversation_id>/ask-for-help/",
        escalation_views.ask_for_help,
        name="ask-for-help",
    ),
    # Guarantee claims: the buyer files from an order; buyer, seller and the claims team's
    # agents follow it (docs/support.md#guarantee-claims).
    path("orders/<str:number>/claim/", claim_views.file_claim, name="claim-file"),
    path("claims/<int:claim_id>/", claim_views.claim, name="claim"),
    path("claims/<int:claim_id>/respond/", claim_views.respond, name="claim-respond"),
    path("claims/<int:claim_id>/appeal/", claim_views.appeal, name="claim-appeal"),
    path(
        "console/claims/<int:claim_id>/decision/", claim_views.decide, name="console-claim-decide"
    ),
    # Reports (docs/safety.md#reports): a buyer or seller reports a message or the other
    # side of a conversation; the trust-and-safety team decides in the console.
    path(
        "message-center/messages/<int:message_id>/report/",
        report_views.report_message,
        name="report-message",
    ),
    path(
        "message-center/conversations/<int:conversation_id>/report/",
        report_views.report_conversation,
        name="report-conversation",
    ),
    path("account/reports/", report_views.own_reports, name="own-reports"),
    path(
        "console/reports/<int:report_id>/decision/",
        report_views.decide,
        name="console-report-decide",
    ),
    # A suspended person's appeal (docs/safety.md#appeals): the trust-and-safety team
    # lifts or keeps the suspension.
    path(
        "console/appeals/<int:appeal_id>/decision/",
        appeal_views.decide,
        name="console-appeal-decide",
    ),
    # The first transcript's address, in e-mails and bookmarks: now the privacy app's
    # (PDF, text, e-mail file), as text as it was.
    path("cases/<int:case_id>/transcript.txt", views.transcript, name="case-transcript"),
    # The agent console (404 for everyone but agents and admins).
    path("console/", views.console, name="console"),
    path("console/chat-availability/", views.chat_availability, name="console-chat-availability"),
    path("console/cases/<int:case_id>/", views.case, name="console-case"),
    path("console/cases/<int:case_id>/actions/", views.case_action, name="console-case-action"),
    path("console/cases/<int:case_id>/reply/", views.reply, name="console-case-reply"),
    path("console/cases/<int:case_id>/notes/", views.note, name="console-case-note"),
    # What the customer attached, for whoever may open the case (docs/support.md).
    path(
        "console/cases/<int:case_id>/attachments/<int:attachment_id>/",
        views.case_attachment,
        name="console-case-attachment",
    ),
    path(
        "console/cases/<int:case_id>/conversations/<int:conversation_id>/",
        views.context_conversation,
        name="console-context-conversation",
    ),
    # A request for help about it: its agents write to the buyer and the seller there
    # (docs/escalation.md).
    path(
        "console/cases/<int:case_id>/conversations/<int:conversation_id>/messages/",
        views.write_in_context_conversation,
        name="console-context-conversation-write",
    ),
    # Its files, for whoever may read it beside the case (docs/support.md).
    path(
        "console/cases/<int:case_id>/conversations/<int:conversation_id>/attachments/"
        "<int:attachment_id>/",
        views.context_attachment,
        name="console-context-attachment",
    ),
    path("console/canned-responses/", views.canned_responses, name="console-canned-responses"),
    path(
        "console/canned-responses/<int:canned_response_id>/delete/",
        views.delete_canned_response,
        name="console-delete-canned-response",
    ),
]
