"""Cases: one model for everything an agent works on — customer-service requests, safety
reports and guarantee claims — with the teams, notes, canned responses and history around
them (docs/support.md).

A case is the agents' side of a conversation: the customer reads and writes in the
case's conversation in their Message Center like any other; the case carries what the
agents need (queue, assignee, status, priority, deadlines, what it is about) and what the
customer must never see (internal notes live here, never as messages).
"""

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q


class CaseKind(models.TextChoices):
    REQUEST = "request", "Customer-service request"
    REPORT = "report", "Report"
    CLAIM = "claim", "Guarantee claim"
    # A suspended person asking for their account back (docs/safety.md#appeals).
    APPEAL = "appeal", "Appeal of a suspension"


class CaseStatus(models.TextChoices):
    """The queue's view of a case. A kind with a longer lifecycle (a claim's seller window,
    decision and appeal) keeps its own stage in its own table and moves the case between
    these as who-must-act changes."""

    # An agent must act: the customer waits for us.
    OPEN = "open", "Open"
    # We wait for someone else (the customer, or a seller for a claim).
    PENDING = "pending", "Waiting on customer"
    # Answered; a reply from the customer opens it again.
    SOLVED = "solved", "Solved"
    # Finished for good: a reply no longer reopens it (a claim past its appeal window).
    CLOSED = "closed", "Closed"


# Statuses a customer's reply takes back to OPEN.
REOPENABLE = (CaseStatus.PENDING, CaseStatus.SOLVED)
# Statuses of cases someone still has to work on.
ACTIVE = (CaseStatus.OPEN, CaseStatus.PENDING)


class CasePriority(models.IntegerChoices):
    LOW = 1, "Low"
    NORMAL = 2, "Normal"
    HIGH = 3, "High"
    URGENT = 4, "Urgent"


class Team(models.Model):
    """A group of agents with its own queue: customer service, trust and safety, claims.
    New cases are routed to a team by kind (settings.SUPPORT_TEAMS)."""

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)

    def __str__(self) -> str:
        return self.name


class TeamMember(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="members")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_memberships"
    )

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["team", "agent"], name="team_member_once")
        ]

    def __str__(self) -> str:
        return f"{self.agent_id} in {self.team_id}"


class Case(models.Model):
    kind = models.CharField(max_length=12, choices=CaseKind.choices)
    status = models.CharField(max_length=12, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    priority = models.PositiveSmallIntegerField(
        choices=CasePriority.choices, default=CasePriority.NORMAL
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="cases")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_cases",
    )
    # Who the case is for: the buyer (or seller) who asked, reported or claimed.
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cases"
    )
    subject = models.CharField(max_length=200)
    # The conversation with the customer: their Customer service (or Claims) folder shows
    # it; agents join it as participants. None for a kind that talks to nobody yet.
    conversation = models.OneToOneField(
        "conversations.Conversation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="case",
    )
    # What it is about, any of them.
    order = models.ForeignKey(
        "marketplace.Order", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    product = models.ForeignKey(
        "marketplace.Product", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # A buyer↔seller conversation it is about ("the seller has not answered").
    about_conversation = models.ForeignKey(
        "conversations.Conversation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # One message it is about (a reported message).
    about_message = models.ForeignKey(
        "conversations.Message",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField()
    # Where the case stands in its queue, so every queue is one ordered index scan:
    # OPEN — since when the customer waits for us (oldest first); PENDING — since when
    # we wait for them; SOLVED/CLOSED — when it was solved.
    queued_at = models.DateTimeField()
    # What we told the customer: "we expect to answer by …" (set when it opens).
    respond_by = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    # The next deadline of the kind's own lifecycle (a claim's seller window, a report's
    # review), swept by a periodic job; None when nothing is due.
    due_at = models.DateTimeField(null=True, blank=True)
    # A case merged into another: its links lead there, it is in no queue.
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes: ClassVar = [
            # Unassigned (assignee IS NULL) of one team, oldest waiting first.
            models.Index(
                fields=["team", "status", "assignee", "queued_at", "id"], name="case_team_assignee"
            ),
            # A team's whole queue by status: team, waiting on customer, solved.
            models.Index(fields=["team", "status", "queued_at", "id"], name="case_team_status"),
            # A team's queue filtered by kind or by priority, oldest first: the matching
            # range itself. Without them a filter that matches few of the team's cases (a
            # kind another team works, urgent only) walked the whole queue to keep them:
            # 74 ms on PostgreSQL for a kind none of 100,000 open cases had.
            models.Index(
                fields=["team", "status", "kind", "queued_at", "id"], name="case_team_kind"
            ),
            models.Index(
                fields=["team", "status", "priority", "queued_at", "id"], name="case_team_priority"
            ),
            # One agent's cases.
            models.Index(fields=["assignee", "status", "queued_at", "id"], name="case_assignee"),
            # A customer's cases, newest first.
            models.Index(fields=["customer", "-created_at", "-id"], name="case_customer_recent"),
            # A queue filtered by order number: the order's few cases, oldest first (SQLite
            # otherwise walked the team's queue for them, the order found first).
            models.Index(
                fields=["order", "team", "status", "queued_at", "id"], name="case_order_queue"
            ),
            # The expected response time: a team's latest first answers.
            models.Index(
                fields=["team", "-first_response_at"],
                condition=Q(first_response_at__isnull=False),
                name="case_team_answered",
            ),
            models.Index(fields=["due_at"], condition=Q(due_at__isnull=False), name="case_due"),
        ]

    # Not a column: set on the case open_request returns for a retry with an idempotency
    # key an earlier request used (the API answers 200 instead of 201).
    found_by_idempotency_key = False

    def __str__(self) -> str:
        return f"Case {self.pk}: {self.subject}"

    @property
    def number(self) -> str:
        """How agents and customers quote it."""
        return f"CS-{self.pk}"


# The assignee part of a counter's key for unassigned cases (0 is no user id).
UNASSIGNED = 0


class CaseCounter(models.Model):
    """Cases per team, status and assignee (UNASSIGNED for none): every queue count of the
    console is a sum of a few of these rows. Maintained by the actions in the same
    transaction as the change, never counted on read."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=12, choices=CaseStatus.choices)
    assignee_key = models.BigIntegerField()
    cases = models.IntegerField(default=0)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["team", "status", "assignee_key"], name="case_counter_one_per_key"
            ),
            models.CheckConstraint(condition=Q(cases__gte=0), name="case_counter_not_negative"),
        ]
        indexes: ClassVar = [
            models.Index(fields=["assignee_key", "status"], name="case_counter_assignee")
        ]

    def __str__(self) -> str:
        return f"{self.team_id}/{self.status}/{self.assignee_key}: {self.cases}"


class CaseNote(models.Model):
    """An agent's internal note. Never a Message: no customer-facing read (pages, API,
    e-mail, search, events, transcripts) reads this table, so a note cannot leak by a
    forgotten filter."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        indexes: ClassVar = [models.Index(fields=["case", "id"], name="case_note_order")]

    def __str__(self) -> str:
        return f"Note {self.pk} on case {self.case_id}"


class CaseEventKind(models.TextChoices):
    OPENED = "opened", "Opened"
    ASSIGNED = "assigned", "Assigned"
    UNASSIGNED = "unassigned", "Back to the queue"
    STATUS = "status", "Status changed"
    PRIORITY = "priority", "Priority changed"
    NOTE = "note", "Note added"
    ANSWERED = "answered", "Answered"
    CUSTOMER_REPLIED = "customer_replied", "Customer replied"
    CONTEXT_OPENED = "context_opened", "Opened a conversation of the customer"
    MERGED = "merged", "Merged"
    SPLIT = "split", "Split"
    # A request moved to another team's queue (detail: the teams, an assignee who is not in
    # the new team and so no longer has it, the internal note that says why).
    TRANSFERRED = "transferred", "Transferred"
    # A claim's lifecycle (detail: stage, and what moved it).
    CLAIM_STAGE = "claim_stage", "Claim moved on"
    # A report (docs/safety.md#reports): another person reported the same thing; the review.
    REPORTED_AGAIN = "reported_again", "Reported again"
    REPORT_DECIDED = "report_decided", "Report decided"
    # An appeal of a suspension decided (detail: decision, lifted or kept).
    APPEAL_DECIDED = "appeal_decided", "Appeal decided"


class CaseEvent(models.Model):
    """The case's history for agents, and the audit line of what an agent looked at."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    # None: the marketplace's own systems.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=CaseEventKind.choices)
    detail = models.JSONField(default=dict)
    created_at = models.DateTimeField()

    class Meta:
        indexes: ClassVar = [models.Index(fields=["case", "id"], name="case_event_order")]

    def __str__(self) -> str:
        return f"{self.kind} on case {self.case_id}"


class CannedResponse(models.Model):
    """A team's reusable answer, with placeholders filled for the case at hand
    ({customer_name}, {order_number}, {case_number}, {agent_name})."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="canned_responses")
    title = models.CharField(max_length=80)
    body = models.TextField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["team", "title"], name="canned_response_title")
        ]

    def __str__(self) -> str:
        return self.title


class ChatAvailability(models.Model):
    """An agent's "available for chat" switch and when the console last saw them: an
    agent takes chats while the switch is on and a console page of theirs has been open
    within SUPPORT_CHAT_PRESENCE_MINUTES (docs/support.md, "Live chat")."""

    agent = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="chat_availability",
    )
    is_available = models.BooleanField(default=False)
    seen_at = models.DateTimeField()

    class Meta:
        indexes: ClassVar = [
            models.Index(
                fields=["seen_at"], condition=Q(is_available=True), name="chat_available_agents"
            )
        ]

    def __str__(self) -> str:
        return f"{self.agent_id}: {'available' if self.is_available else 'away'}"


# --- guarantee claims ---------------------------------------------------------------------------


class ClaimReason(models.TextChoices):
    NOT_RECEIVED = "not_received", "Item not received"
    NOT_AS_DESCRIBED = "not_as_described", "Not as described"
    RETURNED_NOT_REFUNDED = "returned_not_refunded", "Returned but not refunded"


class ClaimStage(models.TextChoices):
    """Where a claim is in its lifecycle (docs/support.md#guarantee-claims). Filing puts it
    straight into the seller's window (into an agent's decision when the seller's account
    is suspended or closed: they cannot respond); each stage but the last has one deadline
    in Case.due_at or waits for an agent."""

    SELLER_RESPONSE = "seller_response", "Waiting for the seller's response"
    DECISION = "decision", "An agent is deciding"
    APPEAL_WINDOW = "appeal_window", "Decided — can be appealed"
    CLOSED = "closed", "Closed"


# The case's queue status that follows from each stage: the seller's window is someone
# else's turn (pending), a decision is the agents' (open), a decision that may be
# appealed is solved, and a closed claim is closed for good.
CASE_STATUS_OF_STAGE: dict[str, str] = {
    ClaimStage.SELLER_RESPONSE: CaseStatus.PENDING,
    ClaimStage.DECISION: CaseStatus.OPEN,
    ClaimStage.APPEAL_WINDOW: CaseStatus.SOLVED,
    ClaimStage.CLOSED: CaseStatus.CLOSED,
}


class ClaimOutcome(models.TextChoices):
    GRANTED = "granted", "Granted"
    DENIED = "denied", "Denied"


class Claim(models.Model):
    """A guarantee claim: the claim's own stage beside its case (kind `claim`), one row per
    case, sharing its number (CS-12). The case carries the queue (status, assignee, team,
    `due_at`); this row what only claims have. Changed only by support.claim_actions."""

    case = models.OneToOneField(
        Case, on_delete=models.CASCADE, primary_key=True, related_name="claim"
    )
    order = models.ForeignKey("marketplace.Order", on_delete=models.PROTECT, related_name="+")
    # The seller the claim is against (an order may have several).
    storefront = models.ForeignKey(
        "marketplace.Storefront", on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=24, choices=ClaimReason.choices)
    stage = models.CharField(max_length=16, choices=ClaimStage.choices)
    filed_at = models.DateTimeField()
    seller_responded_at = models.DateTimeField(null=True, blank=True)
    # The latest decision (an appeal is decided again).
    outcome = models.CharField(max_length=8, choices=ClaimOutcome.choices, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reasons = models.TextField(blank=True)
    # What the claim has refunded so far, in the order's currency (a Refund row each time).
    refunded_cents = models.PositiveIntegerField(default=0)
    appealed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar = [
            # At most one open claim per order, however many filings race: the database
            # refuses the second row (a partial unique index on SQLite and PostgreSQL).
            models.UniqueConstraint(
                fields=["order"],
                condition=~Q(stage="closed"),
                name="claim_one_open_per_order",
            ),
            models.CheckConstraint(
                condition=Q(stage__in=["seller_response", "decision", "appeal_window", "closed"]),
                name="claim_stage_known",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["storefront", "-filed_at"], name="claim_storefront_recent"),
            models.Index(fields=["order", "storefront"], name="claim_order_storefront"),
        ]

    # Not a column: set on the claim file_claim returns for a retry with an idempotency
    # key an earlier filing used (the API answers 200 instead of 201), and on the one a
    # retried response or appeal returns.
    found_by_idempotency_key = False

    def __str__(self) -> str:
        return f"Claim {self.case_id} on order {self.order_id}: {self.stage}"

    @property
    def number(self) -> str:
        return f"CS-{self.case_id}"


# --- reports of messages and conversations ------------------------------------------------------


class ReportCategory(models.TextChoices):
    SCAM = "scam", "Phishing or scam"
    PAY_OUTSIDE = "pay_outside", "Asks to pay outside the marketplace"
    OFFENSIVE = "offensive", "Offensive"
    SPAM = "spam", "Spam"


class ReportOutcome(models.TextChoices):
    PENDING = "pending", "Waiting for review"
    CONFIRMED = "confirmed", "Confirmed: removed"
    DISMISSED = "dismissed", "Dismissed"
    WARNED = "warned", "The sender was warned"


class SenderAction(models.TextChoices):
    """What a confirmed report does to its sender's account."""

    RESTRICTED = "restricted", "Restricted: may answer, may not write first"
    SUSPENDED = "suspended", "Suspended: signed out, cannot sign in"


class Report(models.Model):
    """A reported person under review: the report's own row beside its case (kind
    `report`), one per case, sharing its number (CS-12). Every report of the same sender
    while one waits joins it — of one message, of several, or of a whole conversation, by
    one person or many (a ReportFiling each) — so the agents see everything at once. The
    decision is here. Changed only by support.report_actions."""

    case = models.OneToOneField(
        Case, on_delete=models.CASCADE, primary_key=True, related_name="report"
    )
    # Who is reported (the messages' sender, or the other side of a conversation).
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The safety check's verdict stored with the reported messages (the strictest), and
    # their reasons (each once), with the rules' version.
    verdict = models.CharField(max_length=8, default="ok")
    reasons = models.JSONField(default=list, blank=True)
    safety_version = models.CharField(max_length=24, blank=True)
    # The sender's history when the report was opened (support.report_queries.sender_history).
    sender_history = models.JSONField(default=dict)
    outcome = models.CharField(
        max_length=10, choices=ReportOutcome.choices, default=ReportOutcome.PENDING
    )
    sender_action = models.CharField(max_length=10, choices=SenderAction.choices, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar = [
            # Reports of one sender join one case while it waits for review: the database
            # refuses a second waiting row however many reporters race.
            models.UniqueConstraint(
                fields=["sender"],
                condition=Q(outcome="pending"),
                name="report_one_pending_per_sender",
            ),
        ]
        indexes: ClassVar = [models.Index(fields=["sender"], name="report_sender")]

    def __str__(self) -> str:
        return f"Report {self.case_id} of {self.sender_id}: {self.outcome}"

    @property
    def number(self) -> str:
        return f"CS-{self.case_id}"


class ReportFiling(models.Model):
    """One person's report of one message (or of the other side of a conversation), joined
    to the Report of its sender under review. Only agents see who else reported the same
    person: a reporter reads their own filings, never the others'."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="filings")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    category = models.CharField(max_length=12, choices=ReportCategory.choices)
    conversation = models.ForeignKey(
        "conversations.Conversation", on_delete=models.CASCADE, related_name="+"
    )
    # The message reported; None: the conversation, i.e. everything the sender wrote in it.
    message = models.ForeignKey(
        "conversations.Message", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        indexes: ClassVar = [
            models.Index(fields=["reporter", "-created_at"], name="report_filing_reporter"),
            models.Index(fields=["report", "created_at"], name="report_filing_report"),
        ]

    def __str__(self) -> str:
        return f"{self.reporter_id} reported {self.report_id}"


# --- suspicious e-mails forwarded to the report address --------------------------------------


class ForwardedEmail(models.Model):
    """A suspicious e-mail a customer forwarded to PHISHING_REPORT_ADDRESS from their
    account's confirmed address (docs/safety.md#forwarded-e-mails): the evidence trust and
    safety reads beside its case (kind `report`, no Report row: nobody of ours is
    reported), and the answer the customer got. One per person and e-mail: the same
    e-mail forwarded again opens nothing new. Written only by
    support.forwarded_email_actions.

    Every text here is the suspicious e-mail's sender's (a phisher's): shown as text,
    escaped, never as HTML or a link (the console's forwarded-e-mail panel)."""

    case = models.OneToOneField(
        Case, on_delete=models.CASCADE, primary_key=True, related_name="forwarded_email"
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    # forwards.Forwarded.fingerprint: its Message-ID, or its sender, subject, date and text.
    fingerprint = models.CharField(max_length=64)
    # How it was forwarded: "attached" (message/rfc822) or "inline".
    how = models.CharField(max_length=8)
    from_header = models.CharField(max_length=300, blank=True)
    reply_to = models.CharField(max_length=300, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    date = models.CharField(max_length=300, blank=True)
    message_id = models.CharField(max_length=300, blank=True)
    text = models.TextField(blank=True)
    # [{"href": …, "text": …}], as the e-mail had them.
    links = models.JSONField(default=list, blank=True)
    attachment_names = models.JSONField(default=list, blank=True)
    # What the customer wrote above it.
    note = models.TextField(blank=True)
    # The reference it carried (as its e-mail printed it, when it verified for the
    # customer), and what "Is this e-mail from us?" says of it for them: marketplace,
    # person, own, unknown — "" when it carried none; "copied" when it verified but the
    # e-mail's From is not our address; "altered" when it verified but a link leads
    # elsewhere or the subject is not ours (forwarded_email_actions._altered).
    reference = models.CharField(max_length=40, blank=True)
    reference_origin = models.CharField(max_length=12, blank=True)
    # The marketplace's answer in the customer's Message Center.
    answer = models.ForeignKey(
        "conversations.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints: ClassVar = [
            # The same e-mail forwarded twice (or delivered twice at once) by one person:
            # one case.
            models.UniqueConstraint(
                fields=["reporter", "fingerprint"], name="forwarded_email_once_per_reporter"
            ),
        ]

    def __str__(self) -> str:
        return f"Forwarded e-mail {self.case_id} from {self.reporter_id}"
