"""The API's Message Center: folders and their unread counts, conversation lists, one
conversation and its messages, replies with attachments, and actions on conversations
(docs/api.md). Like the pages in views.py: parse, check access, call one action."""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal, cast

import pydantic
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse, HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status

from messagecenter.accounts.authentication import ApiTokenAuth
from messagecenter.accounts.models import User
from messagecenter.accounts.queries import TokenAsRead, TokenChanged
from messagecenter.accounts.roles import require_seller
from messagecenter.api_support import (
    ApiRequest,
    BodyId,
    Id,
    IdempotencyKey,
    Moment,
    PageLimit,
    QueryNumber,
    StorefrontOut,
    Text,
    message_input_openapi,
    parse_json,
    parse_message_input,
)
from messagecenter.conversations import actions, hooks, queries
from messagecenter.conversations.bulk import BULK_ACTIONS, MUTE_PERIODS
from messagecenter.conversations.downloads import attachment_response, download_openapi
from messagecenter.conversations.models import (
    MUTED_INDEFINITELY,
    Kind,
    Participant,
    ParticipantRole,
    SavedReply,
)
from messagecenter.conversations.presentation import counterpart, last_message_preview
from messagecenter.conversations.schemas import MessageIn, MessageOut, message_out, sent
from messagecenter.errors import InvalidInput
from messagecenter.hub import actions as hub_actions
from messagecenter.hub import queries as hub_queries
from messagecenter.hub.boxes import UNSEEN, Box, Folder
from messagecenter.rows import MAX_ID

router = Router(tags=["message center"])
# The operations' token check, for the express lane's views (server/express.py).
_AUTHENTICATE = ApiTokenAuth()

ListBox = Literal["inbox", "archive", "trash"]
# A message id in the query string (after=, before=): digits only, as any number there.
MessageCursor = Annotated[QueryNumber, pydantic.Field(ge=0, le=MAX_ID)]

# --- folders ---------------------------------------------------------------------------------


class FolderOut(Schema):
    # "all", a topical folder, "archive" or "trash".
    key: str
    label: str
    # The list's query: GET /conversations?box=…&folder=…
    box: ListBox
    folder: Folder | None
    unread_count: int


class FoldersOut(Schema):
    folders: list[FolderOut]
    # The header badge: conversations with news since the Message Center was last opened
    # (POST /seen clears it).
    unseen_count: int


# Archive and Trash after the topical folders, as on the Message Center page.
OTHER_LISTS: tuple[tuple[ListBox, str], ...] = (("archive", "Archive"), ("trash", "Trash"))


@router.get("/folders", response=FoldersOut, summary="Folders with their unread counts")
def folders(request: ApiRequest) -> FoldersOut:
    counts = hub_queries.unread_counts(request.auth)
    lists = [
        FolderOut.model_construct(
            key="all", label="All", box="inbox", folder=None, unread_count=counts["all"]
        )
    ]
    lists += [
        FolderOut.model_construct(
            key=folder.value,
            label=folder.label,
            box="inbox",
            folder=folder,
            unread_count=counts[folder.value],
        )
        for folder in Folder
    ]
    lists += [
        FolderOut.model_construct(
            key=box, label=label, box=box, folder=None, unread_count=counts[box]
        )
        for box, label in OTHER_LISTS
    ]
    # Built without validation, as message_out.
    return FoldersOut.model_construct(folders=lists, unseen_count=counts[UNSEEN])


def folders_express(request: HttpRequest) -> Callable[[HttpRequest], Status[FoldersOut]]:
    """`folders` on the express lane (server/express.py, decision 0016), for a bearer
    token: the same authentication and answer, without Django's handler and ninja's
    operation — in process 0.37 ms of CPU a call against 0.67–0.72 ms through Django's
    test client (docs/benchmarks.md, "Reads: the badges on the express lane, measured in
    alternating windows")."""

    def answer(request: HttpRequest) -> Status[FoldersOut]:
        # The lane takes `Bearer <secret>` only: the secret as ApiTokenAuth reads it, then
        # its check, as on the main road (its row read, so a token revoked a moment ago is
        # refused).
        secret = request.META["HTTP_AUTHORIZATION"].partition(" ")[2].strip()
        signed_in = cast("ApiRequest", request)
        signed_in.auth = _AUTHENTICATE.authenticate(request, secret)
        return Status(200, folders(signed_in))

    return answer


class ChangedOut(Schema):
    # How many conversations changed (those already in the asked state do not count).
    changed: int


@router.post("/seen", response=ChangedOut, summary="Mark everything new as seen")
def mark_seen(request: ApiRequest) -> ChangedOut:
    """What opening the Message Center does: the badge clears, each conversation stays
    unread until it is read. Notices and promotions count too (one each)."""
    return ChangedOut(changed=hub_actions.mark_seen(request.auth))


# --- conversation lists ------------------------------------------------------------------


class LastMessageOut(Schema):
    id: int
    sender_name: str
    # From the marketplace or its agents: the badge no buyer or seller can fake.
    is_official: bool
    # The safety check's verdict: "warn" deserves a warning in the list (docs/safety.md).
    safety_verdict: str
    preview: str
    created_at: datetime


class ConversationOut(Schema):
    id: int
    kind: Kind
    folder: Folder
    box: ListBox
    subject: str
    # Who it is with, as this person sees it: the buyer for a seller, the storefront for
    # a buyer, else "Customer service" or "Marketplace".
    counterpart: str
    last_message: LastMessageOut | None
    last_activity_at: datetime
    unread_count: int
    is_seen: bool
    is_muted: bool
    # Muted until then; null with is_muted = true means until unmuted.
    muted_until: datetime | None
    order_number: str | None
    product_sku: str | None
    # For a seller: when their answer to the buyer waiting here is due (their business-day
    # calendar, docs/escalation.md); null when nobody waits, and always for others.
    response_due_at: datetime | None = None


class ConversationPageOut(Schema):
    items: list[ConversationOut]
    # Pass as `cursor` for the next (older) page; null on the last page.
    next_cursor: str | None


def conversation_out(participant: Participant, now: datetime) -> ConversationOut:
    conversation = participant.conversation
    last = conversation.last_message
    is_muted = participant.is_muted(now)
    muted_until = participant.muted_until
    return ConversationOut(
        id=conversation.pk,
        kind=Kind(conversation.kind),
        folder=Folder(participant.folder),
        box=_list_box(participant.box),
        subject=conversation.subject,
        counterpart=counterpart(participant),
        last_message=None
        if last is None
        else LastMessageOut(
            id=last.pk,
            sender_name=last.sender_name,
            is_official=last.is_official,
            safety_verdict=last.safety_verdict,
            preview=last_message_preview(participant)[: actions.PREVIEW_CHARS],
            created_at=last.created_at,
        ),
        last_activity_at=participant.last_activity_at,
        unread_count=participant.unread_count,
        is_seen=participant.is_seen,
        is_muted=is_muted,
        muted_until=muted_until
        if is_muted and muted_until is not None and muted_until < MUTED_INDEFINITELY
        else None,
        order_number=conversation.order.number if conversation.order is not None else None,
        product_sku=conversation.product.sku if conversation.product is not None else None,
        response_due_at=participant.response_due_at
        if participant.role == ParticipantRole.SELLER
        else None,
    )


def _list_box(box: str) -> ListBox:
    if box == Box.ARCHIVE:
        return "archive"
    if box == Box.TRASH:
        return "trash"
    return "inbox"


@router.get("/conversations", response=ConversationPageOut, summary="A page of conversations")
def list_conversations(
    request: ApiRequest,
    box: ListBox = "inbox",
    folder: Folder | None = None,
    cursor: Text | None = None,
    limit: PageLimit = settings.INBOX_PAGE_SIZE,
) -> ConversationPageOut:
    """Newest activity first. `box=inbox` without a folder is "All"; Archive and Trash
    take no folder."""
    page = queries.inbox_page(request.auth, box=box, folder=folder, cursor=cursor, limit=limit)
    now = timezone.now()
    return ConversationPageOut(
        items=[conversation_out(participant, now) for participant in page.participants],
        next_cursor=page.next_cursor,
    )


# --- actions on conversations ---------------------------------------------------------------

ConversationAction = Literal[
    "read",
    "unread",
    "archive",
    "inbox",
    "trash",
    "restore",
    "delete",
    "mute",
    "unmute",
    "no_response_needed",
]


class ConversationActionIn(Schema):
    action: ConversationAction
    conversation_ids: list[BodyId]
    # For "mute" only, one or neither (neither: until unmuted).
    mute_until: Moment | None = None
    mute_for: Literal["1d", "7d", "forever"] | None = None


@router.post("/conversations/actions", response=ChangedOut, summary="Act on selected conversations")
def act_on_conversations(request: ApiRequest, payload: ConversationActionIn) -> ChangedOut:
    """All or nothing: one id that is not yours (or does not exist) fails the request with
    404 and changes nothing. At most 500 conversations at once; `delete` (for ever) only
    from Trash."""
    user = request.auth
    has_mute_option = payload.mute_until is not None or payload.mute_for is not None
    if payload.action != "mute":
        if has_mute_option:
            raise InvalidInput(
                "mute_until and mute_for go with the mute action only.",
                code="invalid_mute_options",
            )
        return ChangedOut(changed=BULK_ACTIONS[payload.action].run(user, payload.conversation_ids))
    if payload.mute_until is not None and payload.mute_for is not None:
        raise InvalidInput("Give mute_until or mute_for, not both.", code="invalid_mute_options")
    until = payload.mute_until or MUTE_PERIODS[payload.mute_for or "forever"].until()
    return ChangedOut(
        changed=actions.mute_conversations(user, payload.conversation_ids, until=until)
    )


# --- one conversation ---------------------------------------------------------------------------


class OrderCardOut(Schema):
    number: str
    status: str
    status_label: str
    # Only the order's buyer has its order page (GET /orders/{number}).
    is_yours: bool


class ProductCardOut(Schema):
    sku: str
    title: str


class ResponseWindowOut(Schema):
    """A buyer waiting for the seller's answer (docs/escalation.md), as both see it."""

    # Since when the buyer waits (their oldest unanswered message).
    asked_at: datetime
    # The answer is due by then: SELLER_RESPONSE_BUSINESS_DAYS business days of the
    # seller's calendar, ending at midnight in the seller's time zone.
    due_at: datetime
    has_passed: bool
    # "The seller usually answers within …" (their average over 30 days, else 90); null
    # for the seller themself or when there is nothing to measure.
    usually_answers_within_seconds: float | None
    # For the buyer once it has passed and while no request about it is open: POST here
    # to ask customer service to help. While one is open, null, and `status_line` names
    # it ("CS-12 · Customer service is helping"), as the page shows it instead of the
    # button: the URL stayed, and a POST to it only answered 409 already_asked_for_help.
    ask_for_help_url: str | None


class StatusLineOut(Schema):
    """The line the conversation's page shows under its title: a customer-service case's
    status, a guarantee claim's stage, or on a buyer–seller conversation the buyer's open
    request for help about it (docs/escalation.md)."""

    label: str
    # The case's number ("CS-12"), for GET /cases/{id}; empty where it is not the
    # reader's (the seller of an escalated conversation).
    reference: str
    detail: str
    # A stable word: a case's status ("open", "pending", "solved"), "escalated" for a
    # buyer–seller conversation customer service was asked to step in.
    state: str
    # The reader's own case, for GET /cases/{id}; null otherwise.
    case_id: int | None


class ClaimNoticeOut(Schema):
    """What the conversation's page says above its Reply box to the seller a guarantee
    claim waits for (docs/support.md#guarantee-claims): a reply here is not the claim's
    response, which is due by `due_at` and given at `respond_url`."""

    # The claim (GET /claims/{id}) and its number ("CS-12").
    claim_id: int
    reference: str
    due_at: datetime
    # The page's words, to show above the reply box.
    text: str
    # POST the response here (the claim's formal response, with evidence).
    respond_url: str
    # The claim's Respond form on the web.
    page_url: str


class ConversationDetailOut(ConversationOut):
    created_at: datetime
    # False for messages from the marketplace's systems, and where the other side's account
    # is closed (erased or suspended): replies to them are not read; and for an agent in a
    # buyer–seller conversation, who writes from the request about it; and where the other
    # side blocked the person (a reply is refused, `blocked`), but for a seller's reply
    # about the buyer's order, which still arrives.
    can_reply: bool
    # Why not, in words to show instead of the reply box; null when can_reply is true.
    cannot_reply_reason: str | None
    order: OrderCardOut | None
    product: ProductCardOut | None
    storefront: StorefrontOut | None
    # A buyer–seller conversation where the buyer waits for the seller's answer.
    response_window: ResponseWindowOut | None
    status_line: StatusLineOut | None
    # For the seller a guarantee claim waits for, while its response is due: the notice
    # the page shows above the Reply box; null for anyone else and at any other time.
    claim_notice: ClaimNoticeOut | None


CANNOT_REPLY_TO_SYSTEMS = (
    "This message comes from the marketplace's systems; replies to it are not read. "
    "Contact customer service instead."
)


@router.get(
    "/conversations/{conversation_id}",
    response=ConversationDetailOut,
    summary="One conversation, with the order or product it is about",
)
def get_conversation(request: ApiRequest, conversation_id: Id) -> ConversationDetailOut:
    """Reading does not mark it read (unlike opening the web page): send the `read`
    action when the person has seen the messages."""
    user = request.auth
    participant = queries.access_conversation(user, conversation_id)
    conversation = participant.conversation
    order, product, storefront = conversation.order, conversation.product, conversation.storefront
    reason = (
        CANNOT_REPLY_TO_SYSTEMS
        if participant.role == ParticipantRole.RECIPIENT
        else queries.closed_counterpart(participant)
        or queries.written_from_the_request(participant)
        or queries.blocked_by_counterpart(participant)
    )
    # The page's own line (apps above, by hook): asked once, for both fields.
    line = hooks.status_line(user, conversation.kind, conversation.pk)
    return ConversationDetailOut(
        **conversation_out(participant, timezone.now()).model_dump(),
        created_at=conversation.created_at,
        can_reply=reason is None,
        cannot_reply_reason=reason,
        order=None
        if order is None
        else OrderCardOut(
            number=order.number,
            status=order.status,
            status_label=order.get_status_display(),
            is_yours=order.buyer_id == user.pk,
        ),
        product=None if product is None else ProductCardOut(sku=product.sku, title=product.title),
        storefront=None
        if storefront is None
        else StorefrontOut(id=storefront.pk, name=storefront.name),
        response_window=_response_window_out(participant, can_ask=line is None),
        status_line=None
        if line is None
        else StatusLineOut(
            label=line.label,
            reference=line.reference,
            detail=line.detail,
            state=line.state,
            case_id=line.case_id,
        ),
        claim_notice=_claim_notice_out(line),
    )


def _claim_notice_out(line: hooks.StatusLine | None) -> ClaimNoticeOut | None:
    if (
        line is None
        or not line.notice
        or line.notice_claim_id is None
        or line.notice_due_at is None
    ):
        return None
    return ClaimNoticeOut(
        claim_id=line.notice_claim_id,
        reference=line.reference,
        due_at=line.notice_due_at,
        text=line.notice,
        respond_url=line.notice_api_url,
        page_url=line.link_url,
    )


def _response_window_out(participant: Participant, *, can_ask: bool) -> ResponseWindowOut | None:
    """`can_ask`: no request about the conversation is open (no status line), the page's
    own condition for its button."""
    window = queries.response_window(participant)
    if window is None:
        return None
    has_passed = window.has_passed(timezone.now())
    return ResponseWindowOut(
        asked_at=window.asked_at,
        due_at=window.due_at,
        has_passed=has_passed,
        usually_answers_within_seconds=window.usually.total_seconds()
        if window.usually is not None
        else None,
        ask_for_help_url=f"/api/v1/conversations/{window.conversation_id}/ask-for-help"
        if has_passed and can_ask and participant.role == ParticipantRole.BUYER
        else None,
    )


class MessagePageOut(Schema):
    # Oldest first.
    items: list[MessageOut]
    # More beyond this page: older ones (latest page, `before`) or newer ones (`after`).
    has_more: bool


@router.get(
    "/conversations/{conversation_id}/messages",
    response=MessagePageOut,
    summary="Messages of a conversation, by message id",
)
def list_messages(
    request: ApiRequest,
    conversation_id: Id,
    after: MessageCursor | None = None,
    before: MessageCursor | None = None,
    limit: PageLimit = 50,
) -> MessagePageOut:
    """Without `after` or `before`: the latest `limit` messages. `before=<id>`: the ones
    just before that message (scrolling back). `after=<id>`: the ones just after it
    (catching up). Always oldest first."""
    user = request.auth
    participant = queries.access_conversation(user, conversation_id)
    page = queries.message_page(participant, after=after, before=before, limit=limit)
    return MessagePageOut.model_construct(
        items=[message_out(message, user) for message in page.messages], has_more=page.has_more
    )


@router.post(
    "/conversations/{conversation_id}/messages",
    response={200: MessageOut, 201: MessageOut},
    summary="Reply in a conversation",
    openapi_extra=message_input_openapi(MessageIn, with_attachments=True),
)
def send_message(
    request: ApiRequest, conversation_id: Id, idempotency_key: IdempotencyKey = None
) -> Status[MessageOut]:
    """JSON `{"body": …}`, or a multipart form with `body` and up to 5 files named
    `attachments`. 201 with the new message; 200 with the first message for a retry with
    the same Idempotency-Key."""
    user = request.auth
    payload, files = parse_message_input(request, MessageIn)
    if files:
        # Files are stored before the action's transaction: only for someone who may reply.
        queries.access_conversation(user, conversation_id)
    return _reply(user, conversation_id, payload.body, idempotency_key, files)


def _reply(
    user: User,
    conversation_id: int,
    body: str,
    idempotency_key: str | None,
    files: list[UploadedFile[Any]],
    token: TokenAsRead | None = None,
) -> Status[MessageOut]:
    # The action finds the person among the conversation's participants (404 when they are
    # not one, or deleted it) and refuses replies to the marketplace's own messages (403
    # cannot_reply).
    return sent(
        user,
        idempotency_key,
        lambda key: actions.send_message(
            user, conversation_id, body, idempotency_key=key, attachments=files, token=token
        ),
    )


# Read once: what the operation above reads through ninja's parameters.
_IDEMPOTENCY_KEY = pydantic.TypeAdapter(Text)


def send_message_express(
    request: HttpRequest, conversation_id: int
) -> Callable[[HttpRequest], Status[MessageOut]] | None:
    """`send_message` for a JSON reply with a token, on the express lane
    (server/express.py): the request's form read here, and the rest of the operation — the
    same authentication, action and answer, without ninja's parameter parsing — in the
    function returned, which the lane runs inside the token calls' middleware and answers
    as the API does. None, having read nothing from the database, for a request whose
    answer would be a refusal of its form (a body that is not `{"body": <text>}`, a key
    that is not text): the lane hands those to the API, which words each such refusal."""
    try:
        payload = MessageIn.model_validate(parse_json(request.body))
        # request.META, not request.headers: the lane never builds the mapping of them all.
        key = request.META.get("HTTP_IDEMPOTENCY_KEY")
        if key is not None:
            key = _IDEMPOTENCY_KEY.validate_python(key)
    except (InvalidInput, pydantic.ValidationError):
        return None

    def answer(request: HttpRequest) -> Status[MessageOut]:
        # The lane takes `Bearer <secret>` only (server/express.py): the secret as
        # ApiTokenAuth reads it, then its own check.
        secret = request.META["HTTP_AUTHORIZATION"].partition(" ")[2].strip()
        # A token this process read lately is taken on trust and read again in the send's
        # batch, with its batch-mates' in one statement, where each request read its own
        # before, on a connection taken from the pool for that one read: PostgreSQL's sends
        # 1.16–1.39× (decision 0015; docs/benchmarks.md, "Sends: the token read in the
        # batch"). Changed since — revoked, the person changed —, nothing was sent: it is
        # checked afresh, as on a first request, and the reply sent again.
        trusted = _AUTHENTICATE.trusted(request, secret)
        if trusted is not None:
            user, as_read = trusted
            try:
                return _reply(user, conversation_id, payload.body, key, [], as_read)
            except TokenChanged:
                pass
        user = _AUTHENTICATE.authenticate(request, secret)
        return _reply(user, conversation_id, payload.body, key, [])

    return answer


@router.post(
    "/conversations/{conversation_id}/typing",
    response={204: None},
    summary="Say that you are typing a reply",
)
def typing(request: ApiRequest, conversation_id: Id) -> Status[None]:
    """While the person types a reply: the conversation's other people with an open page
    or stream get `event: conversation.typing` `{"conversation_id", "name"}` (no id: it is
    stored nowhere). At most one every few seconds per person and conversation goes out;
    more often is answered 204 all the same and sends nothing (docs/conversations.md#typing).
    Refused, as a reply would be, where the person cannot reply: `403 cannot_reply`,
    `403 write_from_the_request`, `409 recipient_closed`."""
    actions.tell_typing(request.auth, conversation_id)
    return Status(204, None)


# --- attachments --------------------------------------------------------------------------


@router.get(
    "/attachments/{attachment_id}",
    response={200: None},
    summary="Download an attachment",
    openapi_extra=download_openapi(),
)
def download_attachment(request: ApiRequest, attachment_id: Id) -> FileResponse:
    """Only through a conversation the person can see; always a download (never shown
    inline), with the type checked by content at upload."""
    return attachment_response(queries.access_attachment(request.auth, attachment_id))


# --- seller tools ---------------------------------------------------------------------------


@router.get(
    "/seller/response-needed",
    response=ConversationPageOut,
    summary="Conversations where a buyer waits for an answer",
)
def response_needed(
    request: ApiRequest, cursor: Text | None = None, limit: PageLimit = settings.INBOX_PAGE_SIZE
) -> ConversationPageOut:
    """Longest wait first. Answer, or send the `no_response_needed` action."""
    require_seller(request.auth)
    page = queries.response_needed_page(request.auth, cursor=cursor, limit=limit)
    now = timezone.now()
    return ConversationPageOut(
        items=[conversation_out(participant, now) for participant in page.participants],
        next_cursor=page.next_cursor,
    )


class SellerRateOut(Schema):
    # "Claim rate".
    name: str
    count: int
    total: int
    # count / total, 0.0-1.0; null when there is nothing to count.
    rate: float | None
    detail: str


class ResponseFiguresOut(Schema):
    days: int
    answered: int
    answered_within_24_hours: int
    overdue: int
    # 0.0-1.0; null when nothing was counted in the period.
    share_within_24_hours: float | None
    average_response_seconds: float | None
    # Waits whose deadline came in the period (answered, or still open past it), and of
    # those the ones answered after it or not at all (docs/escalation.md).
    with_deadline: int
    late: int
    # late / with_deadline, 0.0-1.0; null when no deadline came.
    late_rate: float | None
    # More figures beside these: the claim rate.
    rates: list[SellerRateOut]


@router.get(
    "/seller/response-times",
    response=list[ResponseFiguresOut],
    summary="Response-time figures for 7, 30 and 90 days",
)
def response_times(request: ApiRequest) -> list[ResponseFiguresOut]:
    """Counted by when the buyer asked; "No response needed" waits are left out, and open
    waits count once they are older than 24 hours (docs/conversations.md)."""
    require_seller(request.auth)
    return [
        ResponseFiguresOut(
            days=figures.days,
            answered=figures.answered,
            answered_within_24_hours=figures.answered_within_target,
            overdue=figures.overdue,
            share_within_24_hours=figures.share_within_target,
            average_response_seconds=(
                figures.average_response.total_seconds()
                if figures.average_response is not None
                else None
            ),
            with_deadline=figures.with_deadline,
            late=figures.late,
            late_rate=figures.late_rate,
            rates=[
                SellerRateOut(
                    name=rate.name,
                    count=rate.count,
                    total=rate.total,
                    rate=rate.rate,
                    detail=rate.detail,
                )
                for rate in figures.extra
            ],
        )
        for figures in queries.response_figures(request.auth)
    ]


class LateResponseOut(Schema):
    conversation_id: int
    subject: str
    buyer_name: str
    asked_at: datetime
    due_at: datetime
    # null: not answered yet.
    answered_at: datetime | None


@router.get(
    "/seller/late-responses",
    response=list[LateResponseOut],
    summary="The conversations that made you late, over 90 days",
)
def late_responses(request: ApiRequest) -> list[LateResponseOut]:
    """Waits answered after their deadline, and waits still open past it, by when the
    buyer asked (the last 90 days); the latest deadline first, at most 50."""
    require_seller(request.auth)
    return [
        LateResponseOut(
            conversation_id=item.conversation_id,
            subject=item.subject,
            buyer_name=item.buyer_name,
            asked_at=item.asked_at,
            due_at=item.due_at,
            answered_at=item.answered_at,
        )
        for item in queries.late_responses(request.auth)
    ]


class SavedReplyIn(Schema):
    title: Text
    body: Text


class SavedReplyOut(Schema):
    id: int
    title: str
    body: str
    updated_at: datetime


def saved_reply_out(reply: SavedReply) -> SavedReplyOut:
    return SavedReplyOut(
        id=reply.pk, title=reply.title, body=reply.body, updated_at=reply.updated_at
    )


@router.get("/seller/saved-replies", response=list[SavedReplyOut], summary="Saved replies")
def list_saved_replies(request: ApiRequest) -> list[SavedReplyOut]:
    require_seller(request.auth)
    return [saved_reply_out(reply) for reply in queries.saved_replies(request.auth)]


@router.post("/seller/saved-replies", response={201: SavedReplyOut}, summary="Save a reply")
def create_saved_reply(request: ApiRequest, payload: SavedReplyIn) -> Status[SavedReplyOut]:
    return Status(
        201, saved_reply_out(actions.save_reply(request.auth, payload.title, payload.body))
    )


@router.put(
    "/seller/saved-replies/{saved_reply_id}", response=SavedReplyOut, summary="Change a saved reply"
)
def update_saved_reply(
    request: ApiRequest, saved_reply_id: Id, payload: SavedReplyIn
) -> SavedReplyOut:
    return saved_reply_out(
        actions.save_reply(request.auth, payload.title, payload.body, saved_reply_id=saved_reply_id)
    )


@router.delete(
    "/seller/saved-replies/{saved_reply_id}", response={204: None}, summary="Delete a saved reply"
)
def delete_saved_reply(request: ApiRequest, saved_reply_id: Id) -> Status[None]:
    actions.delete_saved_reply(request.auth, saved_reply_id)
    return Status(204, None)


class AwayMessageIn(Schema):
    body: Text
    # When the seller leaves (null: now) and is back (required: 400 away_until_required).
    away_from: Moment | None = None
    away_until: Moment | None = None


class AwayMessageOut(Schema):
    # Kept when switched off, for the next time ("" when never set).
    body: str
    # "on", "scheduled" (from a later moment) or "off" (then both moments are null).
    state: Literal["on", "scheduled", "off"]
    away_from: datetime | None
    away_until: datetime | None


def away_message_out(away: actions.AwayStatus) -> AwayMessageOut:
    return AwayMessageOut(
        body=away.body,
        state=away.state,  # type: ignore[arg-type]
        away_from=away.away_from,
        away_until=away.away_until,
    )


@router.get("/seller/away-message", response=AwayMessageOut, summary="The away message")
def get_away_message(request: ApiRequest) -> AwayMessageOut:
    return away_message_out(actions.away_status(request.auth))


@router.put(
    "/seller/away-message", response=AwayMessageOut, summary="Switch on or change the away message"
)
def put_away_message(request: ApiRequest, payload: AwayMessageIn) -> AwayMessageOut:
    return away_message_out(
        actions.set_away_message(
            request.auth, payload.body, until=payload.away_until, starts=payload.away_from
        )
    )


@router.delete("/seller/away-message", response={204: None}, summary="Switch off the away message")
def delete_away_message(request: ApiRequest) -> Status[None]:
    actions.switch_off_away_message(request.auth)
    return Status(204, None)
