"""The API's e-mail preferences (docs/email.md, docs/api.md): what reaches the person by
e-mail and in the Message Center, for the settings screen of a mobile app."""

from datetime import datetime
from typing import Annotated

import pydantic
from ninja import Query, Router, Schema
from pydantic import field_validator

from messagecenter.api_support import STORABLE, ApiRequest, BodyBool
from messagecenter.delivery import actions, queries
from messagecenter.delivery.models import Category, Channel, InboundEmail
from messagecenter.delivery.preferences import choices_for

router = Router(tags=["preferences"])


class PreferenceOut(Schema):
    category: Category
    channel: Channel
    label: str
    is_enabled: bool
    # False for transactional messages and important notices: always on.
    can_change: bool
    # Why it cannot be changed (empty when it can).
    why_fixed: str


class PreferenceIn(Schema):
    category: Category
    channel: Channel
    is_enabled: BodyBool


class PreferencesIn(Schema):
    choices: list[PreferenceIn]

    @field_validator("choices")
    @classmethod
    def one_answer_per_choice(cls, choices: list[PreferenceIn]) -> list[PreferenceIn]:
        """The same category and channel given twice, once on and once off, is refused
        (422, naming it): the last one silently won, and which one the app meant is
        anyone's guess. The same answer twice says one thing and is taken."""
        given: dict[tuple[str, str], bool] = {}
        for choice in choices:
            key = (choice.category, choice.channel)
            if given.setdefault(key, choice.is_enabled) != choice.is_enabled:
                raise ValueError(
                    f"{choice.category.value} by {choice.channel.value} is given twice, as "
                    "true and as false: give each category and channel once"
                )
        return choices


def _table(request: ApiRequest) -> list[PreferenceOut]:
    return [
        PreferenceOut(
            category=Category(choice.category),
            channel=Channel(choice.channel),
            label=choice.label,
            is_enabled=choice.is_enabled,
            can_change=choice.can_change,
            why_fixed=choice.why_fixed,
        )
        for row in choices_for(request.auth)
        for choice in row
    ]


@router.get(
    "/preferences", response=list[PreferenceOut], summary="E-mail and Message Center preferences"
)
def get_preferences(request: ApiRequest) -> list[PreferenceOut]:
    return _table(request)


@router.put(
    "/preferences",
    response=list[PreferenceOut],
    summary="Change preferences",
    description=(
        "Only the choices given change. Switching off one that cannot be switched off "
        "(transactional messages, important notices) is refused with 400 "
        "`preference_fixed`, and nothing changes; the same category and channel given "
        "twice with different answers is refused with 422, naming it."
    ),
)
def put_preferences(request: ApiRequest, payload: PreferencesIn) -> list[PreferenceOut]:
    actions.set_preferences(
        request.auth,
        {(choice.category, choice.channel): choice.is_enabled for choice in payload.choices},
    )
    return _table(request)


class EmailReplyOut(Schema):
    id: int
    received_at: datetime
    # Empty for an e-mail not from the account's address (from_your_address false).
    subject: str
    from_your_address: bool
    # posted, refused or quarantined (held: the sender could not be confirmed).
    status: str
    # Stable code of the reason (sender_mismatch, not_confirmed, auto_reply, bounce, loop,
    # digest_address, rate_limited, empty, …); empty when posted.
    reason_code: str
    reason: str
    # Attachments left out under the attachment policy, one per line.
    notes: str
    # The conversation and the posted message; null when there is none, or when the person
    # may no longer open the conversation (deleted for ever, or no longer theirs): the page
    # names it without a link, and the API's id would only lead to a 404.
    conversation_id: int | None
    message_id: int | None


@router.get(
    "/email-replies",
    response=list[EmailReplyOut],
    summary="Your replies by e-mail and what became of them",
    tags=["e-mail"],
    description=(
        "The last 50 e-mails that reached your relay addresses (newest first): posted in "
        "the conversation, or refused or held with the reason. See docs/email.md."
    ),
)
def get_email_replies(request: ApiRequest) -> list[EmailReplyOut]:
    return [_email_reply_out(reply) for reply in queries.email_replies(request.auth)]


def _email_reply_out(reply: InboundEmail) -> EmailReplyOut:
    # Read with the replies (queries.email_replies): no query per row.
    opens: bool = reply.conversation_opens  # type: ignore[attr-defined]
    return EmailReplyOut(
        id=reply.pk,
        received_at=reply.received_at,
        # Another sender's subject and notes may name them: the page leaves them out too.
        subject=reply.subject if reply.from_account_holder else "",
        from_your_address=reply.from_account_holder,
        status=reply.status,
        reason_code=reply.reason_code,
        reason=reply.reason,
        notes=reply.notes if reply.from_account_holder else "",
        conversation_id=reply.conversation_id if opens else None,
        message_id=reply.message_id if opens else None,
    )


class ReferenceCheckIn(Schema):
    # As typed: any case, spaces or dashes, "Reference" copied with it (references.parse).
    reference: Annotated[str, pydantic.Field(min_length=1, max_length=100), STORABLE]

    @field_validator("reference")
    @classmethod
    def not_blank(cls, reference: str) -> str:
        """Spaces alone are no reference (422, as an empty one), not one "we did not send"."""
        if not reference.strip():
            raise ValueError("Type the reference from the bottom of the e-mail.")
        return reference


class ReferenceCheckOut(Schema):
    # As the e-mail printed it, whatever the spelling sent; as sent (cut to 40) if unknown.
    reference: str
    # marketplace (from us: vouched for), person (a buyer's or seller's message we
    # delivered: not from us), own (the person's own message), shared (an older reference
    # other people were sent too), told (theirs, but they wrote it to a buyer or a
    # seller), unknown (not a reference we sent them).
    origin: str
    subject: str
    # The person's copy in the Message Center (a path on the site), empty when none.
    url: str
    # A promotion not shown because promotions are off in the Message Center.
    is_hidden_promotion: bool
    # person: who wrote it, and the safety check's reasons to be careful.
    sender_name: str
    sender_role: str
    warnings: list[str]
    # told: to whom and when the person wrote the reference, and that message's path.
    told_to: str
    told_at: datetime | None
    told_url: str
    # An e-mail about the account (password_reset, data_export, email_change,
    # email_in_use, email_changed): kept in no Message Center; what it was and when.
    account_email: str
    about: str
    sent_at: datetime | None


@router.get(
    "/email-check",
    response=ReferenceCheckOut,
    summary="Is this e-mail from us?",
    tags=["e-mail"],
    description=(
        "What the reference at the bottom of an e-mail says about who sent it, checked for "
        "you (a reference copied from someone else's e-mail is not one we sent you): the "
        "page *Is this e-mail from us?* as data. See docs/email.md#the-reference."
    ),
)
def check_reference(request: ApiRequest, params: Query[ReferenceCheckIn]) -> ReferenceCheckOut:
    checked = queries.find_reference(request.auth, params.reference)
    return ReferenceCheckOut(
        reference=checked.reference,
        origin=checked.origin,
        subject=checked.subject,
        url=checked.url,
        is_hidden_promotion=checked.is_hidden_promotion,
        sender_name=checked.sender_name,
        sender_role=checked.sender_role,
        warnings=list(checked.warnings),
        told_to=checked.told_to,
        told_at=checked.told_at,
        told_url=checked.told_url,
        account_email=checked.account_email,
        about=checked.about,
        sent_at=checked.sent_at,
    )
