"""The access matrix (docs/testing.md): every page Django routes and every operation of the
JSON API, as each kind of person — anonymous, the buyer who owns the data, another buyer,
the seller that buyer deals with, another seller, a customer-service agent of the team
that has the buyer's case, an agent of another team, and an admin.

For every cell the expected answer is written down in PAGES or API_OPERATIONS below. Besides
its status, every response is checked for the owner's private text (a message body, an
attachment's bytes, a tracking number, a saved reply, a token's name): only the people who
may know it ever receive it. A refused request (302 to sign-in, 401, 403, 404) must change
nothing — every row of every table is compared before and after — and send nothing: no
mail, no callback waiting for the commit.

Each request runs in a savepoint that is rolled back, so every cell starts from the same
data; each person's browser and API callers are made once, with the data, and each test
starts them from the cookies they had then. The routes are found by walking Django's URL
resolver and the OpenAPI document: a route or an operation added later without an entry
here fails its own test, so nobody forgets to decide who may use it.
"""

import copy
import email
import email.policy
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache, partial
from http.cookies import SimpleCookie
from typing import Any, Self, get_args
from urllib.parse import quote

import pytest
from axes.models import AccessAttempt
from django.apps import apps
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.http import HttpResponse
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from pypdf import PdfReader
from pytest_django import DjangoDbBlocker
from pytest_django.fixtures import Settings

from messagecenter.accounts import actions as account_actions
from messagecenter.accounts import recent_sign_in, two_factor
from messagecenter.accounts.models import ApiToken, BrowserSession, Passkey, Role, User
from messagecenter.api import api
from messagecenter.conversations import actions
from messagecenter.conversations.api import ConversationAction
from messagecenter.conversations.bulk import BULK_ACTIONS
from messagecenter.conversations.models import Message, Participant
from messagecenter.delivery import links
from messagecenter.delivery.inbound.mailboxes import Delivery
from messagecenter.delivery.models import MailboxEmail
from messagecenter.marketplace import return_actions
from messagecenter.marketplace.models import Order, OrderItem, Shipment
from messagecenter.notifications import actions as broadcast_actions
from messagecenter.privacy import actions as privacy_actions
from messagecenter.privacy import export_actions
from messagecenter.safety import actions as safety_actions
from messagecenter.support import actions as support_actions
from messagecenter.support import appeal_actions, claim_actions, report_actions
from messagecenter.support.models import Case, TeamMember
from tests import factories
from tests.api.helpers import API, Caller, with_session, with_token
from tests.conftest import built_once
from tests.web.helpers import pdf_bytes

# --- who asks ----------------------------------------------------------------------------

ANONYMOUS = "anonymous"
BUYER = "buyer"  # owns the order, the conversation, the attachment and the API token
OTHER_BUYER = "other_buyer"
SELLER = "seller"  # sold the order; the buyer's counterpart; owns the saved reply
OTHER_SELLER = "other_seller"
AGENT = "agent"  # of the customer-service team; has the buyer's case, wrote its note
OTHER_AGENT = "other_agent"  # of another team (trust and safety)
ADMIN = "admin"
ROLES = (ANONYMOUS, BUYER, OTHER_BUYER, SELLER, OTHER_SELLER, AGENT, OTHER_AGENT, ADMIN)
# The two ways of signing in to the API: a device's API token, a browser's session.
AUTHS = ("token", "session")
SIGNED_IN = frozenset(ROLES) - {ANONYMOUS}
PARTICIPANTS = frozenset({BUYER, SELLER})
BUYERS = frozenset({BUYER, OTHER_BUYER})
SELLERS = frozenset({SELLER, OTHER_SELLER})
CUSTOMERS = BUYERS | SELLERS
STAFF = frozenset({AGENT, OTHER_AGENT, ADMIN})
# Who works the buyer's case: its team's agent, and an admin (who supervises every team).
# The agent is in the claims team too, so works the buyer's claim.
CASE_WORKERS = frozenset({AGENT, ADMIN})
# Who follows the buyer's claim: the buyer, the seller it is against, its agents.
CLAIM_PARTIES = PARTICIPANTS | CASE_WORKERS
# Who reviews the report of the other seller (filed by the other buyer): the
# trust-and-safety team's agent, and an admin.
REPORT_WORKERS = frozenset({OTHER_AGENT, ADMIN})

# --- the owner's private things: words that appear nowhere else ---------------------------

MESSAGE = "quokkalantern"  # in the buyer's message to the seller
# Another word of that message: a search echoes what it was asked, so the searches ask for
# this one and must find the secret only for those who may read the message.
MESSAGE_WORD = "parcel"
ATTACHMENT = "marmosetreceipt"  # in the text of the PDF attached to it
TRACKING = "1ZPANGOLIN4417"  # the order's tracking number: only the buyer's order page
ORDER_NUMBER = "112-9988776-5544332"
SAVED_REPLY = "wombatcanyon"  # in the seller's saved reply
TOKEN_NAME = "Okapi tablet"  # the buyer's API token for a device
# In a notice broadcast to a list of two people: the buyer and the seller.
BROADCAST = "narwhalbulletin"
# In the subject and body of the buyer's customer-service request (about the order).
CASE_TEXT = "capybaraticket"
# In the agent's internal note on that case: never for the customer (docs/support.md).
NOTE = "axolotlmemo"
# In the customer-service team's canned response.
CANNED = "ibexphrase"
# In the buyer's note on a return of the order, and inside the photo given with it: for
# the buyer and the seller whose items they are.
RETURN_NOTE = "tapirparcelnote"
# In the buyer's guarantee claim on the order (its description, the claim conversation's
# first message): the buyer, the seller it is against, and the claims team's agents.
CLAIM = "gerenukdispute"
# In the text of the PDF the buyer attached to their customer-service request: for the
# buyer and the agents working the case, who need not be in its conversation to open it.
CASE_ATTACHMENT = "dugongreceipt"
SECRETS = (
    MESSAGE,
    ATTACHMENT,
    TRACKING,
    ORDER_NUMBER,
    SAVED_REPLY,
    TOKEN_NAME,
    BROADCAST,
    CASE_TEXT,
    NOTE,
    CANNED,
    RETURN_NOTE,
    CLAIM,
    CASE_ATTACHMENT,
)
# What the agents working the case learn: the case and its notes, the team's canned
# responses, and the customer's context — orders with their shipments, and (read only,
# audited) the buyer↔seller conversation about the order, with its files.
CASE_CONTEXT = frozenset(
    {CASE_TEXT, CASE_ATTACHMENT, NOTE, CANNED, ORDER_NUMBER, TRACKING, MESSAGE, ATTACHMENT}
)
# What each person may ever be shown; any other secret in a response is a leak.
KNOWS: dict[str, frozenset[str]] = {
    ANONYMOUS: frozenset(),
    BUYER: frozenset(
        {
            MESSAGE,
            ATTACHMENT,
            TRACKING,
            ORDER_NUMBER,
            TOKEN_NAME,
            BROADCAST,
            CASE_TEXT,
            RETURN_NOTE,
            CLAIM,
            CASE_ATTACHMENT,
        }
    ),
    OTHER_BUYER: frozenset(),
    SELLER: frozenset(
        {MESSAGE, ATTACHMENT, ORDER_NUMBER, SAVED_REPLY, BROADCAST, RETURN_NOTE, CLAIM}
    ),
    OTHER_SELLER: frozenset(),
    AGENT: CASE_CONTEXT | {CLAIM},
    OTHER_AGENT: frozenset(),
    ADMIN: CASE_CONTEXT | {CLAIM},
}
# In a PDF's text, not an image's bytes: images are encoded again when they are uploaded
# (docs/safety.md#attachments), which leaves behind anything but their pixels.
RECEIPT_PDF = pdf_bytes(ATTACHMENT)
RETURN_PDF = pdf_bytes(RETURN_NOTE)
CASE_PDF = pdf_bytes(CASE_ATTACHMENT)

# --- what each person gets -----------------------------------------------------------------

# A 302 to the sign-in page, to come back after (any other 302 is written as 302).
LOGIN = "login"
Outcome = int | str
REFUSALS: frozenset[Outcome] = frozenset({LOGIN, 401, 403, 404})


# A seller's away message's return: within its 60 days (the page's field is in the
# seller's zone, near enough either way).
AWAY_UNTIL = timezone.now() + timedelta(days=5)
AWAY_UNTIL_LOCAL = AWAY_UNTIL.strftime("%Y-%m-%dT%H:%M")


def outcomes(
    ok: int,
    allowed: Iterable[str] = SIGNED_IN,
    *,
    denied: Outcome = 404,
    anonymous: Outcome = LOGIN,
) -> dict[str, Outcome]:
    """`ok` for the allowed, `denied` for every other signed-in person."""
    allowed = frozenset(allowed)
    answers: dict[str, Outcome] = {role: ok if role in allowed else denied for role in SIGNED_IN}
    answers[ANONYMOUS] = anonymous
    return answers


@dataclass(frozen=True)
class Param:
    """A request body's value taken from the owner's data: Param("conversation_id")."""

    name: str


@dataclass(frozen=True)
class Operation:
    method: str
    expected: Mapping[str, Outcome]
    query: str = ""
    # A form for pages, JSON for the API; Param values are filled in.
    data: Mapping[str, Any] | None = None
    # (secret, who): these people must find the secret in the response — proof that the
    # checks for everyone else look at a response that would contain it.
    shows: tuple[str, frozenset[str]] | None = None
    # Changes nothing for anyone, allowed or not.
    is_read_only: bool = False
    # API only: the answers to a device's API token, when they differ from a session's.
    by_token: Mapping[str, Outcome] | None = None
    # Nothing of anyone's in it (the site's icon): cached as public even for someone signed
    # in, where every other answer to them carries no-store.
    is_the_same_for_everyone: bool = False
    # Pages only: for a route without a name, the path to request.
    path: str = ""
    # A path's parameter filled with another of the owner's values than its own name's:
    # {"attachment_id": "case_attachment_id"}.
    params: Mapping[str, str] = field(default_factory=dict)


def get(expected: Mapping[str, Outcome], **options: Any) -> Operation:
    return Operation("GET", expected, **options)


def post(expected: Mapping[str, Outcome], **options: Any) -> Operation:
    return Operation("POST", expected, **options)


# --- the pages -----------------------------------------------------------------------------

# What the owner and the seller get for each action of the bulk bar on their conversation
# (it is in the inbox, unread for the seller, and the buyer waits for the seller's answer).
PAGE_ACTIONS: dict[str, Mapping[str, Outcome]] = {
    **{
        action: outcomes(302, PARTICIPANTS)
        for action in (
            "read",
            "unread",
            "archive",
            "inbox",
            "trash",
            "restore",
            "mute-day",
            "mute-week",
            "mute",
            "unmute",
        )
    },
    # Deleting for ever is only from Trash: refused for the two who may, with the list.
    "delete": outcomes(400, PARTICIPANTS),
    # A seller's action: for anyone else it does not exist.
    "no_response_needed": outcomes(302, {SELLER}),
}


def page_action(action: str) -> Operation:
    return post(
        PAGE_ACTIONS[action],
        data={
            "action": action,
            "conversation_ids": Param("conversation_id"),
            "next": "/message-center/",
        },
        is_read_only=action == "delete",
    )


PAGES: dict[str, tuple[Operation, ...]] = {
    # The event stream (an API route outside the OpenAPI document) never ends for someone
    # signed in, so the matrix asks from a position that is no number: refused with 400
    # before streaming, 401 without credentials. Streaming itself, and that it carries only
    # the person's own events: tests/realtime/test_stream.py.
    "sync-stream": (get(outcomes(400, anonymous=401), query="after=x", is_read_only=True),),
    "home": (get(outcomes(302, anonymous=302), is_read_only=True),),
    # The site's icon where browsers look without being told (the admin's pages): public.
    "favicon": (
        get(outcomes(302, anonymous=302), is_read_only=True, is_the_same_for_everyone=True),
    ),
    "login": (
        get(outcomes(302, anonymous=200), is_read_only=True),
        post(
            outcomes(302, anonymous=200),
            data={"username": "owner", "password": "not the password"},
            is_read_only=True,
        ),
    ),
    "logout": (post(outcomes(302, anonymous=302)),),
    "account": (get(outcomes(200), is_read_only=True),),
    "account-security": (get(outcomes(200), shows=(TOKEN_NAME, {BUYER}), is_read_only=True),),
    # The owner's other browser (not the one asking).
    "end-browser-session": (post(outcomes(302, {BUYER})),),
    "sign-out-everywhere": (post(outcomes(302)),),
    "create-api-token": (post(outcomes(302), data={"name": "New phone"}),),
    "revoke-api-token": (post(outcomes(302, {BUYER})),),
    # The second step of signing in: for a session not waiting for it, back to the Message
    # Center (the pending case: tests/accounts/test_two_factor.py).
    "two-factor-verify": (
        get(outcomes(302), is_read_only=True),
        post(outcomes(302), data={"code": "123456"}, is_read_only=True),
    ),
    "two-factor": (get(outcomes(200), is_read_only=True),),
    "two-factor-start": (post(outcomes(200)),),
    # Nothing being set up: refused, nothing changes.
    "two-factor-confirm": (post(outcomes(400), data={"code": "123456"}, is_read_only=True),),
    "two-factor-off": (post(outcomes(400), data={"password": "not it"}, is_read_only=True),),
    # Passkeys (tests/accounts/test_passkeys.py has the ceremonies). Starting one keeps a
    # challenge in the asker's own session; an answer that is no JSON is refused.
    "passkey-registration-options": (post(outcomes(200)),),
    "passkey-register": (post(outcomes(400), is_read_only=True),),
    "passkey-remove": (post(outcomes(302, {BUYER})),),
    # The second step, for a session not waiting for it: refused.
    "two-factor-passkey-options": (post(outcomes(400), is_read_only=True),),
    "two-factor-passkey": (post(outcomes(400), is_read_only=True),),
    # Signing in with a passkey alone: for someone signed out (already signed in: 400).
    "passkey-sign-in-options": (post(outcomes(400, anonymous=200)),),
    "passkey-sign-in": (post(outcomes(400, anonymous=400), is_read_only=True),),
    # "Confirm it is you" with one's own passkeys: only the owner has one.
    "confirm-sign-in-passkey-options": (post({**outcomes(400), BUYER: 200}),),
    "confirm-sign-in-passkey": (post(outcomes(400), is_read_only=True),),
    # The same answer for everyone, whether or not the account exists.
    "password-reset": (
        get(outcomes(200, anonymous=200), is_read_only=True),
        post(outcomes(200, anonymous=200), data={"identifier": "nobody"}, is_read_only=True),
    ),
    # A link that is not one: refused for everyone, nothing changes.
    "password-reset-confirm": (get(outcomes(400, anonymous=400), is_read_only=True),),
    # One's own address, with one's password: a wrong one changes nothing, sends nothing.
    "email-change": (
        get(outcomes(200), is_read_only=True),
        post(
            outcomes(400),
            data={"email": "new.address@example.test", "password": "not it"},
            is_read_only=True,
        ),
    ),
    # The recent sign-in rule's page: one's own password again; a wrong one changes nothing.
    "confirm-sign-in": (
        get(outcomes(200), is_read_only=True),
        post(outcomes(400), data={"password": "not it"}, is_read_only=True),
    ),
    # A link that is not one: refused for everyone, nothing changes.
    "email-change-confirm": (
        get(outcomes(400, anonymous=400), is_read_only=True),
        post(outcomes(400, anonymous=400), is_read_only=True),
    ),
    # The same for the link that puts an old address back (tests/accounts/
    # test_email_change_undo.py has the real ones).
    "email-change-undo": (
        get(outcomes(400, anonymous=400), is_read_only=True),
        post(outcomes(400, anonymous=400), is_read_only=True),
    ),
    # One's own time zone: the page, and a choice that is not a zone (nothing changes).
    "account-time-zone": (
        get(outcomes(200), is_read_only=True),
        post(outcomes(400), data={"time_zone": "Mars/Olympus_Mons"}, is_read_only=True),
        post(outcomes(302), data={"time_zone": "Europe/Paris"}),
    ),
    "password-change": (
        get(outcomes(200), is_read_only=True),
        # A wrong current password changes nothing.
        post(
            outcomes(400),
            data={"old_password": "not it", "new_password1": "x", "new_password2": "x"},
            is_read_only=True,
        ),
    ),
    "message-center": (
        get(outcomes(200), shows=(MESSAGE, PARTICIPANTS)),
        get(outcomes(200), query="folder=buyer_seller", shows=(MESSAGE, PARTICIPANTS)),
        get(outcomes(200), query="box=trash"),
        get(outcomes(200, SELLERS), query="view=response-needed", shows=(MESSAGE, {SELLER})),
    ),
    "conversation-actions": tuple(page_action(action) for action in PAGE_ACTIONS),
    "conversation": (
        get(outcomes(200, PARTICIPANTS), shows=(MESSAGE, PARTICIPANTS)),
        post(outcomes(302, PARTICIPANTS), data={"body": "A reply."}),
    ),
    "attachment": (
        get(outcomes(200, PARTICIPANTS), shows=(ATTACHMENT, PARTICIPANTS), is_read_only=True),
    ),
    # The form, and the person's own requests with their status.
    "contact-customer-service": (
        get(outcomes(200), shows=(CASE_TEXT, {BUYER}), is_read_only=True),
        get(outcomes(200), query=f"order={ORDER_NUMBER}", is_read_only=True),
        # Buyers and sellers ask; agents and admins are refused (customers_only).
        post(outcomes(302, CUSTOMERS, denied=403), data={"subject": "Help", "body": "A question."}),
        # About an order: its buyer's, or a seller's who sold on it.
        post(
            {**outcomes(302, {BUYER, SELLER}), **dict.fromkeys(STAFF, 403)},
            data={"subject": "Help", "body": "A question.", "order": ORDER_NUMBER},
        ),
    ),
    # "Chat with us": buyers and sellers chat (or, with nobody available, ask); agents and
    # admins are refused (customers_only).
    "customer-service-chat": (
        get(outcomes(200), is_read_only=True),
        post(outcomes(302, CUSTOMERS, denied=403), data={"body": "A question."}),
    ),
    # The console's "available for chat" switch: agents and admins (an admin is told that
    # only agents take chats).
    "console-chat-availability": (post(outcomes(302, STAFF), data={"available": "true"}),),
    # The first transcript's address leads its customer and the agents working the case
    # to today's transcript (as text); everyone else gets the 404 they always got.
    "case-transcript": (get(outcomes(301, {BUYER} | CASE_WORKERS), is_read_only=True),),
    # Transcripts (docs/privacy.md#transcripts): a person's own copy of a conversation, as
    # PDF (read back as text below), plain text or an e-mail file; the formats' page; an
    # unknown format refused (400) for those who may, nothing changes.
    "conversation-transcript": (
        get(
            outcomes(200, PARTICIPANTS),
            query="format=pdf",
            shows=(MESSAGE, PARTICIPANTS),
            is_read_only=True,
        ),
        get(
            outcomes(200, PARTICIPANTS),
            query="format=txt",
            shows=(MESSAGE, PARTICIPANTS),
            is_read_only=True,
        ),
        get(
            outcomes(200, PARTICIPANTS),
            query="format=eml",
            shows=(ATTACHMENT, PARTICIPANTS),
            is_read_only=True,
        ),
        get(outcomes(200, PARTICIPANTS), is_read_only=True),
        get(outcomes(400, PARTICIPANTS), query="format=docx", is_read_only=True),
    ),
    # A case's conversation for the agents working it, never its notes.
    "console-case-transcript": (
        get(
            outcomes(200, CASE_WORKERS),
            query="format=pdf",
            shows=(CASE_TEXT, CASE_WORKERS),
            is_read_only=True,
        ),
        get(
            outcomes(200, CASE_WORKERS),
            query="format=txt",
            shows=(CASE_TEXT, CASE_WORKERS),
            is_read_only=True,
        ),
    ),
    # Your data (docs/privacy.md#your-data): everyone's own page; asking for an export; the
    # buyer's ready export, for the buyer alone (read back from the zip).
    "data-export": (
        get(outcomes(200), is_read_only=True),
        post(outcomes(302)),
    ),
    "data-export-download": (
        get(outcomes(200, {BUYER}), shows=(MESSAGE, {BUYER}), is_read_only=True),
    ),
    # How long messages are kept (docs/privacy.md#how-long-we-keep-messages): the
    # operator's rules, public.
    "retention": (get(outcomes(200, anonymous=200), is_read_only=True),),
    # The agent console (docs/support.md): agents and admins; a case only for its team's.
    "console": (
        get(outcomes(200, STAFF), query="view=team", shows=(CASE_TEXT, CASE_WORKERS)),
        get(outcomes(200, STAFF), query="view=mine&priority=2", is_read_only=True),
    ),
    "console-case": (
        get(outcomes(200, CASE_WORKERS), shows=(NOTE, CASE_WORKERS), is_read_only=True),
    ),
    "console-case-action": (
        post(outcomes(302, CASE_WORKERS), data={"action": "priority", "priority": "3"}),
        post(outcomes(302, CASE_WORKERS), data={"action": "status", "status": "solved"}),
        post(outcomes(302, CASE_WORKERS), data={"action": "unassign"}),
        # A case is no duplicate of itself: the agents get as far as the refusal.
        post(outcomes(400, CASE_WORKERS), data={"action": "merge", "into": Param("case_id")}),
        post(
            outcomes(302, CASE_WORKERS),
            data={"action": "split", "message_id": Param("case_message_id")},
        ),
        # To trust and safety, with a note for them (docs/support.md).
        post(
            outcomes(302, CASE_WORKERS),
            data={"action": "transfer", "team_id": Param("other_team_id"), "note": "Phishing."},
        ),
    ),
    "console-case-reply": (
        post(outcomes(302, CASE_WORKERS), data={"body": "We are on it.", "status": "pending"}),
    ),
    "console-case-note": (post(outcomes(302, CASE_WORKERS), data={"body": "Call back."}),),
    # What the customer attached, for the agents working the case (the agent has taken it;
    # the admin is in no conversation); any other attachment, even one of the buyer's own
    # conversations, is not the case's: 404 for everyone (docs/support.md).
    "console-case-attachment": (
        get(
            outcomes(200, CASE_WORKERS),
            params={"attachment_id": "case_attachment_id"},
            shows=(CASE_ATTACHMENT, CASE_WORKERS),
            is_read_only=True,
        ),
        get(outcomes(404), is_read_only=True),
    ),
    # Read only for the case's agents, who leave an audit line by opening it; its files
    # listed by name, served at its own address below.
    "console-context-conversation": (
        get(outcomes(200, CASE_WORKERS), shows=("receipt.pdf", CASE_WORKERS)),
        get(outcomes(200, CASE_WORKERS), shows=(MESSAGE, CASE_WORKERS)),
    ),
    # Writing there is for a request for help about that conversation only
    # (docs/escalation.md; tests/support/test_escalation.py): the owner's case is about their
    # order, so the case's agents are refused too, and nothing changes for anyone.
    "console-context-conversation-write": (
        post(outcomes(404), data={"body": "Hello both."}, is_read_only=True),
    ),
    # A file of that conversation, for whoever may read it beside the case (the case's
    # agent, an admin), each download an audit line; the case's own file is not one of
    # its: 404 for everyone, as the buyer's case attachment at this address.
    "console-context-attachment": (
        get(outcomes(200, CASE_WORKERS), shows=(ATTACHMENT, CASE_WORKERS)),
        get(outcomes(404), params={"attachment_id": "case_attachment_id"}, is_read_only=True),
    ),
    "console-canned-responses": (
        get(outcomes(200, STAFF), shows=(CANNED, CASE_WORKERS), is_read_only=True),
        # The customer-service team's: another team's agent does not find it.
        post(
            outcomes(302, CASE_WORKERS),
            data={"team_id": Param("team_id"), "title": "New one", "body": "Hello."},
        ),
    ),
    "console-delete-canned-response": (post(outcomes(302, CASE_WORKERS)),),
    # Guarantee claims (docs/support.md#guarantee-claims). The buyer's order has an open
    # claim, waiting for the seller: a second filing is refused (409, nothing changes).
    "claim-file": (
        get(outcomes(200, {BUYER}), is_read_only=True),
        post(
            outcomes(409, {BUYER}),
            data={"reason": "not_received", "description": "Still nothing."},
            is_read_only=True,
        ),
    ),
    "claim": (get(outcomes(200, CLAIM_PARTIES), is_read_only=True),),
    # The seller's response; the buyer and the agents may see the claim but not do this.
    "claim-respond": (
        post(
            {**outcomes(302, {SELLER}), **dict.fromkeys({BUYER} | CASE_WORKERS, 403)},
            data={"body": "Delivered on Monday."},
        ),
    ),
    # Not in its appeal window yet: refused for the buyer too.
    "claim-appeal": (
        post(
            {**outcomes(409, {BUYER}), **dict.fromkeys({SELLER} | CASE_WORKERS, 403)},
            data={"body": "Please look again."},
            is_read_only=True,
        ),
    ),
    # Not waiting for a decision yet: refused for its agents too.
    "console-claim-decide": (
        post(
            outcomes(409, CASE_WORKERS),
            data={"outcome": "denied", "reasons": "No proof."},
            is_read_only=True,
        ),
    ),
    "response-times": (get(outcomes(200, SELLERS), is_read_only=True),),
    # The buyer's, once the seller's deadline has passed (docs/escalation.md); here it has
    # not: the buyer is sent back with the date, nothing changes. The seller: 403.
    "ask-for-help": (post({**outcomes(302, {BUYER}), SELLER: 403}, is_read_only=True),),
    "saved-replies": (
        get(outcomes(200, SELLERS), shows=(SAVED_REPLY, {SELLER}), is_read_only=True),
        post(outcomes(302, SELLERS), data={"title": "Returns", "body": "Returns are free."}),
    ),
    "saved-reply": (
        get(outcomes(200, {SELLER}), shows=(SAVED_REPLY, {SELLER}), is_read_only=True),
        post(outcomes(302, {SELLER}), data={"title": "Shipping", "body": "Changed."}),
    ),
    "delete-saved-reply": (post(outcomes(302, {SELLER})),),
    "away-message": (
        get(outcomes(200, SELLERS), is_read_only=True),
        post(outcomes(302, SELLERS), data={"body": "Away.", "away_until": AWAY_UNTIL_LOCAL}),
    ),
    "away-message-off": (post(outcomes(302, SELLERS)),),
    "product": (get(outcomes(200), is_read_only=True),),
    # Sellers, agents and admins see the product page again with "buyers_only".
    "ask-seller": (post(outcomes(302, BUYERS, denied=403), data={"body": "Is it loud?"}),),
    "orders": (get(outcomes(200, BUYERS), shows=(ORDER_NUMBER, {BUYER}), is_read_only=True),),
    # Its seller sees their part of it (not the shipments' tracking numbers).
    "order": (get(outcomes(200, PARTICIPANTS), shows=(TRACKING, {BUYER}), is_read_only=True),),
    "contact-seller": (post(outcomes(302, {BUYER}), data={"body": "It arrived broken."}),),
    # Returns (docs/returns.md): the buyer starts one; the seller of the items decides and
    # marks it received (the world's return is still requested: 409, nothing changes).
    "request-return": (
        post(
            outcomes(302, {BUYER}),
            data={
                "item": Param("order_item_id"),
                "quantity": "1",
                "resolution": "refund",
                "reason": "other",
            },
        ),
    ),
    "decide-return": (post(outcomes(302, {SELLER}), data={"decision": "approve"}),),
    "return-received": (post({**outcomes(404), SELLER: 409}, is_read_only=True),),
    "return-photo": (
        get(outcomes(200, PARTICIPANTS), shows=(RETURN_NOTE, PARTICIPANTS), is_read_only=True),
    ),
    "contact-buyer": (post(outcomes(302, {SELLER}), data={"body": "Which colour?"}),),
    # Opening it marks it read: only for the two on its list.
    "broadcast": (get(outcomes(200, PARTICIPANTS), shows=(BROADCAST, PARTICIPANTS)),),
    "message-search": (
        get(
            outcomes(200),
            query=f"q={MESSAGE_WORD}",
            shows=(MESSAGE, PARTICIPANTS),
            is_read_only=True,
        ),
    ),
    # Liveness for load balancers and the benchmarks' floor: public, no data.
    "healthz": (get(outcomes(200, anonymous=200), is_read_only=True),),
    # E-mail preferences (docs/email.md). Signed in: each person's own.
    "email-preferences": (
        get(outcomes(200), is_read_only=True),
        post(outcomes(302), data={"enabled": "promotions:email"}),
    ),
    # From an e-mail's link: the signed link is the credential, whoever holds it.
    "email-preferences-link": (
        get(outcomes(200, anonymous=200), is_read_only=True),
        post(outcomes(200, anonymous=200), data={"enabled": "promotions:email"}),
    ),
    # RFC 8058: a GET only asks (link scanners must not unsubscribe anyone); the POST
    # needs no session and answers 200.
    "unsubscribe": (
        get(outcomes(200, anonymous=200), is_read_only=True),
        post(outcomes(200, anonymous=200)),
    ),
    "check-email": (get(outcomes(200), query="reference=MC-M1-0000", is_read_only=True),),
    # Blocking the other side of a buyer–seller conversation: its two people only.
    "block-in-conversation": (post(outcomes(302, PARTICIPANTS)),),
    # Lifts the person's own block of the other side, if any; back to the page either way.
    "unblock-in-conversation": (post(outcomes(302, PARTICIPANTS)),),
    # Reports (docs/safety.md#reports): the seller reports the buyer's message (the buyer
    # may not report their own: back to the page with the reason, nothing changes); each
    # side reports the other; the report of the other seller is decided by its reviewers.
    "report-message": (
        post(outcomes(302, PARTICIPANTS), data={"category": "spam"}),
        post(outcomes(302, PARTICIPANTS), data={"category": "nonsense"}, is_read_only=True),
    ),
    "report-conversation": (post(outcomes(302, PARTICIPANTS), data={"category": "scam"}),),
    "console-report-decide": (
        post(outcomes(302, REPORT_WORKERS), data={"outcome": "dismissed"}),
        post(outcomes(400, REPORT_WORKERS), data={"outcome": "confirmed"}, is_read_only=True),
    ),
    # A suspended seller's appeal (docs/safety.md#appeals): decided by the trust-and-safety
    # team's agent and an admin; a decision that is neither lift nor keep changes nothing.
    "console-appeal-decide": (
        post(outcomes(302, REPORT_WORKERS), data={"decision": "keep"}),
        post(outcomes(400, REPORT_WORKERS), data={"decision": "maybe"}, is_read_only=True),
    ),
    # Each person's own blocks; the owner blocked another shop (world()).
    "blocked-list": (get(outcomes(200), is_read_only=True),),
    # Each person's own reports (none in world(): an empty list for everyone).
    "own-reports": (get(outcomes(200), is_read_only=True),),
    "unblock": (post(outcomes(302, {BUYER})),),
    # Replies by e-mail: each person's own, whoever they are.
    "email-replies": (get(outcomes(200), is_read_only=True),),
    # The development mailbox: to staff, or to a loopback browser asking for a loopback
    # host (the test client asks for "testserver"; tests/delivery/test_views.py).
    "mailbox": (get(outcomes(200, {ADMIN}, anonymous=404), is_read_only=True),),
    "mailbox-email": (get(outcomes(200, {ADMIN}, anonymous=404), is_read_only=True),),
    "mailbox-email-html": (get(outcomes(200, {ADMIN}, anonymous=404), is_read_only=True),),
    # The API's own pages: public, and nothing private on them.
    "api-index": (get(outcomes(200, anonymous=200), is_read_only=True),),
    # django-ninja's index, shadowed by api-index on the same path.
    "api:api-root": (get(outcomes(200, anonymous=200), is_read_only=True),),
    "api:openapi-json": (get(outcomes(200, anonymous=200), is_read_only=True),),
    "api:openapi-view": (get(outcomes(200, anonymous=200), is_read_only=True),),
    r"^api/v1/(?P<path>.*)$": (
        get(outcomes(404, anonymous=404), path="/api/v1/no/such/endpoint", is_read_only=True),
        post(outcomes(404, anonymous=404), path="/api/v1/no/such/endpoint", is_read_only=True),
    ),
}

# --- the API -------------------------------------------------------------------------------


def api_outcomes(
    ok: int, allowed: Iterable[str] = SIGNED_IN, *, denied: int = 404
) -> dict[str, Outcome]:
    return outcomes(ok, allowed, denied=denied, anonymous=401)


def agent_api(ok: int, allowed: Iterable[str] = CASE_WORKERS) -> dict[str, Outcome]:
    """An agents' operation: 403 agents_only for customers, 404 for an agent the thing
    is not for (another team's)."""
    return {**api_outcomes(ok, allowed, denied=404), **dict.fromkeys(CUSTOMERS, 403)}


API_ACTIONS: dict[str, Mapping[str, Outcome]] = {
    **{
        action: api_outcomes(200, PARTICIPANTS)
        for action in ("read", "unread", "archive", "inbox", "trash", "restore", "mute", "unmute")
    },
    "delete": api_outcomes(400, PARTICIPANTS),
    # Not a seller: 403 sellers_only, before any conversation is looked at.
    "no_response_needed": {
        **api_outcomes(403),
        SELLER: 200,
        OTHER_SELLER: 404,
    },
}


def api_action(action: str) -> Operation:
    return Operation(
        "POST",
        API_ACTIONS[action],
        data={"action": action, "conversation_ids": [Param("conversation_id")]},
        is_read_only=action == "delete",
    )


# Keys as in the OpenAPI document, without its /api/v1 prefix.
API_OPERATIONS: dict[str, tuple[Operation, ...]] = {
    "GET /me": (get(api_outcomes(200), is_read_only=True),),
    # One's own address, with one's password; a link that is not one.
    "POST /me/email": (
        post(
            api_outcomes(400),
            data={"email": "new.address@example.test", "password": "not it"},
            is_read_only=True,
        ),
    ),
    "POST /me/email/confirm": (
        post(api_outcomes(400), data={"token": "not-a-token"}, is_read_only=True),
    ),
    # One's own time zone; a name that is no zone changes nothing.
    "PATCH /me": (
        Operation("PATCH", api_outcomes(400), data={"time_zone": "Paris"}, is_read_only=True),
        Operation("PATCH", api_outcomes(200), data={"time_zone": "Europe/Paris"}),
    ),
    # Each person's own e-mail preferences.
    "GET /preferences": (get(api_outcomes(200), is_read_only=True),),
    # Each person's own replies by e-mail.
    "GET /email-replies": (get(api_outcomes(200), is_read_only=True),),
    # "Is this e-mail from us?", for the person signed in: anyone with an account.
    "GET /email-check": (
        get(api_outcomes(200), query="reference=MC-O1-AAAAAAAA", is_read_only=True),
    ),
    "PUT /preferences": (
        Operation(
            "PUT",
            api_outcomes(200),
            data={"choices": [{"category": "promotions", "channel": "email", "is_enabled": False}]},
        ),
    ),
    # From a signed-in browser only: a token cannot make tokens.
    "POST /tokens": (
        post(
            api_outcomes(201),
            data={"name": "New phone"},
            by_token=dict.fromkeys(ROLES, 401),
        ),
    ),
    "GET /tokens": (get(api_outcomes(200), shows=(TOKEN_NAME, {BUYER}), is_read_only=True),),
    "POST /conversations/{conversation_id}/block": (
        Operation("POST", api_outcomes(201, PARTICIPANTS)),
    ),
    "GET /blocks": (get(api_outcomes(200), is_read_only=True),),
    "POST /messages/{message_id}/report": (
        post({**api_outcomes(201, {SELLER}), BUYER: 400}, data={"category": "spam"}),
    ),
    "POST /conversations/{conversation_id}/report": (
        post(api_outcomes(201, PARTICIPANTS), data={"category": "scam"}),
    ),
    "GET /reports": (get(api_outcomes(200), is_read_only=True),),
    # The path's id is the report's case (the report shares its number).
    "GET /agent/reports/{case_id}": (
        get(agent_api(200, REPORT_WORKERS), is_read_only=True, params={"case_id": "report_id"}),
    ),
    "POST /agent/reports/{case_id}/decision": (
        post(
            agent_api(200, REPORT_WORKERS),
            data={"outcome": "warned"},
            params={"case_id": "report_id"},
        ),
        post(
            agent_api(400, REPORT_WORKERS),
            data={"outcome": "dismissed", "sender_action": "suspended"},
            is_read_only=True,
            params={"case_id": "report_id"},
        ),
    ),
    "DELETE /blocks/{block_id}": (Operation("DELETE", api_outcomes(204, {BUYER})),),
    "DELETE /tokens/{token_id}": (Operation("DELETE", api_outcomes(204, {BUYER})),),
    "GET /passkeys": (get(api_outcomes(200), is_read_only=True),),
    # Registered from a signed-in browser only (its origin, its session's challenge).
    "POST /passkeys/registration-options": (
        post(api_outcomes(200), by_token=dict.fromkeys(ROLES, 401)),
    ),
    # No challenge waiting in the session: refused, nothing changes.
    "POST /passkeys": (
        post(
            api_outcomes(400),
            data={"name": "Laptop", "credential": {}},
            is_read_only=True,
            by_token=dict.fromkeys(ROLES, 401),
        ),
    ),
    "PATCH /passkeys/{passkey_id}": (
        Operation("PATCH", api_outcomes(200, {BUYER}), data={"name": "Work laptop"}),
    ),
    "DELETE /passkeys/{passkey_id}": (
        Operation("DELETE", api_outcomes(204, {BUYER}), by_token=dict.fromkeys(ROLES, 401)),
    ),
    "GET /browser-sessions": (get(api_outcomes(200), is_read_only=True),),
    "DELETE /browser-sessions/{browser_session_id}": (
        Operation("DELETE", api_outcomes(204, {BUYER})),
    ),
    "POST /sign-out-everywhere": (post(api_outcomes(200)),),
    "GET /folders": (get(api_outcomes(200), is_read_only=True),),
    "POST /seen": (post(api_outcomes(200)),),
    "GET /conversations": (
        get(api_outcomes(200), shows=(MESSAGE, PARTICIPANTS), is_read_only=True),
        get(api_outcomes(200), query="box=trash", is_read_only=True),
    ),
    "POST /conversations/actions": tuple(api_action(action) for action in API_ACTIONS),
    "GET /conversations/{conversation_id}": (
        get(api_outcomes(200, PARTICIPANTS), shows=(MESSAGE, PARTICIPANTS), is_read_only=True),
    ),
    "GET /conversations/{conversation_id}/messages": (
        get(api_outcomes(200, PARTICIPANTS), shows=(MESSAGE, PARTICIPANTS), is_read_only=True),
    ),
    "POST /conversations/{conversation_id}/messages": (
        post(api_outcomes(201, PARTICIPANTS), data={"body": "A reply."}),
    ),
    # "… is typing": a nudge to the others' open streams, nothing stored.
    "POST /conversations/{conversation_id}/typing": (
        post(api_outcomes(204, PARTICIPANTS), is_read_only=True),
    ),
    "POST /customer-service": (
        post(
            api_outcomes(201, CUSTOMERS, denied=403),
            data={"subject": "Help", "body": "A question."},
        ),
        post(
            {**api_outcomes(201, {BUYER, SELLER}), **dict.fromkeys(STAFF, 403)},
            data={"subject": "Help", "body": "A question.", "order_number": ORDER_NUMBER},
        ),
    ),
    # Live chat: buyers and sellers ask whether an agent is available and start a chat
    # (or, with nobody available, a request); agents and admins: 403 customers_only.
    "GET /customer-service/chat": (
        get(api_outcomes(200, CUSTOMERS, denied=403), is_read_only=True),
    ),
    "POST /customer-service/chat": (
        post(api_outcomes(201, CUSTOMERS, denied=403), data={"body": "A question."}),
    ),
    # An agent's own switch: customers 403 agents_only; an admin reads it, but only agents
    # take chats (403 agents_only).
    "GET /agent/chat-availability": (get(agent_api(200, STAFF), is_read_only=True),),
    "POST /agent/chat-availability": (
        post({**agent_api(200, {AGENT, OTHER_AGENT}), ADMIN: 403}, data={"available": True}),
    ),
    "GET /cases": (get(api_outcomes(200), shows=(CASE_TEXT, {BUYER}), is_read_only=True),),
    "GET /cases/{case_id}": (
        get(
            api_outcomes(200, {BUYER} | CASE_WORKERS),
            shows=(CASE_TEXT, {BUYER} | CASE_WORKERS),
            is_read_only=True,
        ),
    ),
    "GET /conversations/{conversation_id}/transcript": (
        get(api_outcomes(200, PARTICIPANTS), shows=(MESSAGE, PARTICIPANTS), is_read_only=True),
        get(
            api_outcomes(200, PARTICIPANTS),
            query="format=eml",
            shows=(ATTACHMENT, PARTICIPANTS),
            is_read_only=True,
        ),
        get(api_outcomes(422, PARTICIPANTS, denied=422), query="format=docx", is_read_only=True),
    ),
    "GET /agent/cases/{case_id}/transcript": (
        get(agent_api(200), shows=(CASE_TEXT, CASE_WORKERS), is_read_only=True),
        get(agent_api(200), query="format=txt", shows=(CASE_TEXT, CASE_WORKERS), is_read_only=True),
    ),
    "POST /data-exports": (post(api_outcomes(201)),),
    "GET /data-exports": (get(api_outcomes(200), is_read_only=True),),
    "GET /data-exports/{export_id}": (get(api_outcomes(200, {BUYER}), is_read_only=True),),
    "GET /data-exports/{export_id}/download": (
        get(api_outcomes(200, {BUYER}), shows=(ATTACHMENT, {BUYER}), is_read_only=True),
    ),
    "GET /retention-rules": (get(api_outcomes(200), is_read_only=True),),
    "GET /agent/queues": (get(agent_api(200, STAFF), is_read_only=True),),
    "GET /agent/cases": (
        get(
            agent_api(200, STAFF),
            query="view=team",
            shows=(CASE_TEXT, CASE_WORKERS),
            is_read_only=True,
        ),
    ),
    "GET /agent/cases/{case_id}": (
        get(agent_api(200), shows=(NOTE, CASE_WORKERS), is_read_only=True),
    ),
    # The agent has it already (200, nothing changes); for the admin a colleague was first.
    "POST /agent/cases/{case_id}/take": (post({**agent_api(200), ADMIN: 409}),),
    "POST /agent/cases/{case_id}/assign": (
        post(agent_api(200), data={"assignee_id": Param("agent_id")}),
        post(agent_api(200), data={"assignee_id": None}),
    ),
    "POST /agent/cases/{case_id}/status": (post(agent_api(200), data={"status": "solved"}),),
    # Every team, for the agents and admins who transfer cases (docs/support.md).
    "GET /agent/teams": (get(agent_api(200, STAFF), is_read_only=True),),
    "POST /agent/cases/{case_id}/transfer": (
        post(agent_api(200), data={"team_id": Param("other_team_id"), "note": "Phishing."}),
    ),
    "POST /agent/cases/{case_id}/priority": (post(agent_api(200), data={"priority": 4}),),
    "POST /agent/cases/{case_id}/notes": (post(agent_api(201), data={"body": "Call back."}),),
    # A case is no duplicate of itself: the agents get as far as the refusal.
    "POST /agent/cases/{case_id}/merge": (
        post(agent_api(400), data={"into_case_id": Param("case_id")}),
    ),
    "POST /agent/cases/{case_id}/split": (
        post(agent_api(201), data={"message_id": Param("case_message_id")}),
    ),
    "POST /agent/cases/{case_id}/messages": (
        post(agent_api(201), data={"body": "We are on it.", "status": "pending"}),
    ),
    # As its console page above: the owner's case is no request for help about it.
    "POST /agent/cases/{case_id}/conversations/{conversation_id}/messages": (
        post(agent_api(404, ()), data={"body": "Hello both."}, is_read_only=True),
    ),
    "GET /agent/canned-responses": (
        get(agent_api(200, STAFF), shows=(CANNED, CASE_WORKERS), is_read_only=True),
        get(
            agent_api(200),
            query="case_id={case_id}",
            shows=(CANNED, CASE_WORKERS),
            is_read_only=True,
        ),
    ),
    "POST /agent/canned-responses": (
        post(agent_api(201), data={"team_id": Param("team_id"), "title": "New", "body": "Hi."}),
    ),
    "DELETE /agent/canned-responses/{canned_response_id}": (Operation("DELETE", agent_api(204)),),
    # Guarantee claims: as the pages above.
    "POST /claims": (
        post(
            {
                **api_outcomes(409, {BUYER}, denied=403),
                OTHER_BUYER: 404,
            },
            data={
                "order_number": ORDER_NUMBER,
                "reason": "not_received",
                "description": "Still nothing.",
            },
            is_read_only=True,
        ),
    ),
    "GET /orders/{number}/claim-eligibility": (get(api_outcomes(200, {BUYER}), is_read_only=True),),
    "GET /claims": (
        get(api_outcomes(200), is_read_only=True),
        get(api_outcomes(200), query="view=seller", is_read_only=True),
    ),
    "GET /claims/{claim_id}": (get(api_outcomes(200, CLAIM_PARTIES), is_read_only=True),),
    "POST /claims/{claim_id}/response": (
        post(
            {**api_outcomes(200, {SELLER}), **dict.fromkeys({BUYER} | CASE_WORKERS, 403)},
            data={"body": "Delivered on Monday."},
        ),
    ),
    "POST /claims/{claim_id}/appeal": (
        post(
            {**api_outcomes(409, {BUYER}), **dict.fromkeys({SELLER} | CASE_WORKERS, 403)},
            data={"body": "Please look again."},
            is_read_only=True,
        ),
    ),
    "POST /agent/claims/{claim_id}/decision": (
        post(agent_api(409), data={"outcome": "denied", "reasons": "No proof."}, is_read_only=True),
    ),
    "GET /agent/cases/{case_id}/attachments/{attachment_id}": (
        get(
            agent_api(200),
            params={"attachment_id": "case_attachment_id"},
            shows=(CASE_ATTACHMENT, CASE_WORKERS),
            is_read_only=True,
        ),
        get(agent_api(404, ()), is_read_only=True),
    ),
    "GET /attachments/{attachment_id}": (
        get(api_outcomes(200, PARTICIPANTS), shows=(ATTACHMENT, PARTICIPANTS), is_read_only=True),
    ),
    "GET /seller/response-needed": (
        get(api_outcomes(200, SELLERS, denied=403), shows=(MESSAGE, {SELLER}), is_read_only=True),
    ),
    "GET /seller/response-times": (get(api_outcomes(200, SELLERS, denied=403), is_read_only=True),),
    "GET /seller/late-responses": (get(api_outcomes(200, SELLERS, denied=403), is_read_only=True),),
    # Before the seller's deadline: 400 seller_still_has_time for the buyer, 403 for the
    # seller, nothing changes (docs/escalation.md).
    "POST /conversations/{conversation_id}/ask-for-help": (
        post({**api_outcomes(400, {BUYER}), SELLER: 403}, is_read_only=True),
    ),
    "GET /seller/saved-replies": (
        get(
            api_outcomes(200, SELLERS, denied=403),
            shows=(SAVED_REPLY, {SELLER}),
            is_read_only=True,
        ),
    ),
    "POST /seller/saved-replies": (
        post(api_outcomes(201, SELLERS, denied=403), data={"title": "Returns", "body": "Free."}),
    ),
    "PUT /seller/saved-replies/{saved_reply_id}": (
        Operation(
            "PUT",
            {**api_outcomes(200, {SELLER}, denied=403), OTHER_SELLER: 404},
            data={"title": "Shipping", "body": "Changed."},
        ),
    ),
    "DELETE /seller/saved-replies/{saved_reply_id}": (
        Operation("DELETE", {**api_outcomes(204, {SELLER}, denied=403), OTHER_SELLER: 404}),
    ),
    "GET /seller/away-message": (get(api_outcomes(200, SELLERS, denied=403), is_read_only=True),),
    "PUT /seller/away-message": (
        Operation(
            "PUT",
            api_outcomes(200, SELLERS, denied=403),
            data={"body": "Away.", "away_until": AWAY_UNTIL.isoformat()},
        ),
    ),
    "DELETE /seller/away-message": (Operation("DELETE", api_outcomes(204, SELLERS, denied=403)),),
    "GET /products/{sku}": (get(api_outcomes(200), is_read_only=True),),
    "POST /products/{sku}/questions": (
        post(api_outcomes(201, BUYERS, denied=403), data={"body": "Is it loud?"}),
    ),
    # Sellers, agents and admins have no orders: an empty list.
    "GET /orders": (get(api_outcomes(200), shows=(ORDER_NUMBER, {BUYER}), is_read_only=True),),
    "GET /orders/{number}": (
        get(api_outcomes(200, {BUYER}), shows=(TRACKING, {BUYER}), is_read_only=True),
    ),
    "POST /orders/{number}/messages": (
        post(
            api_outcomes(201, {BUYER}),
            data={"storefront_id": Param("storefront_id"), "body": "It arrived broken."},
        ),
    ),
    "GET /orders/{number}/returnable": (get(api_outcomes(200, {BUYER}), is_read_only=True),),
    "POST /orders/{number}/returns": (
        post(
            api_outcomes(201, {BUYER}),
            data={
                "items": [{"order_item_id": Param("order_item_id"), "quantity": 1}],
                "resolution": "replacement",
                "reason": "defective",
            },
        ),
    ),
    # A buyer's returns, or a seller's of their items: everyone else an empty list.
    "GET /returns": (get(api_outcomes(200), shows=(RETURN_NOTE, PARTICIPANTS), is_read_only=True),),
    "GET /returns/{return_id}": (
        get(api_outcomes(200, PARTICIPANTS), shows=(RETURN_NOTE, PARTICIPANTS), is_read_only=True),
    ),
    "POST /returns/{return_id}/decision": (
        post(api_outcomes(200, {SELLER}), data={"decision": "decline", "reason": "Used."}),
    ),
    "POST /returns/{return_id}/received": (
        post({**api_outcomes(404), SELLER: 409}, is_read_only=True),
    ),
    "GET /returns/{return_id}/photos/{photo_id}": (
        get(api_outcomes(200, PARTICIPANTS), shows=(RETURN_NOTE, PARTICIPANTS), is_read_only=True),
    ),
    "POST /orders/{number}/buyer-messages": (
        post(api_outcomes(201, {SELLER}), data={"body": "It ships tomorrow."}),
    ),
    # The marketplace's systems only: a signature is the one way in, no session or token
    # (tests/marketplace/test_events.py covers signed requests).
    "POST /marketplace-events": (
        post(
            outcomes(401, denied=401, anonymous=401),
            data={
                "id": "evt-matrix",
                "type": "order.problem",
                "occurred_at": "2026-11-20T14:05:00Z",
                "data": {"order_number": ORDER_NUMBER, "description": "Lost."},
            },
        ),
    ),
    "GET /search": (
        get(
            api_outcomes(200),
            query=f"q={MESSAGE_WORD}",
            shows=(MESSAGE, PARTICIPANTS),
            is_read_only=True,
        ),
    ),
    # Each person's own event log: the owner's message is in the two participants' events.
    "GET /broadcasts": (
        get(api_outcomes(200), shows=(BROADCAST, PARTICIPANTS), is_read_only=True),
    ),
    "GET /broadcasts/{broadcast_id}": (
        get(api_outcomes(200, PARTICIPANTS), shows=(BROADCAST, PARTICIPANTS), is_read_only=True),
    ),
    "POST /broadcasts/actions": (
        post(
            api_outcomes(200, PARTICIPANTS),
            data={"action": "archive", "broadcast_ids": [Param("broadcast_id")]},
        ),
    ),
    "GET /sync/events": (get(api_outcomes(200), shows=(MESSAGE, PARTICIPANTS), is_read_only=True),),
}

# --- the routes, found rather than listed --------------------------------------------------


@dataclass(frozen=True)
class Route:
    # "namespace:name", or the pattern itself for a route without a name.
    key: str
    # The whole pattern from the site's root, e.g. "orders/<str:number>/".
    pattern: str
    namespace: str


def site_routes(
    resolver: URLResolver | None = None, prefix: str = "", namespace: str = ""
) -> Iterator[Route]:
    """Every URL pattern of the site, depth first, except the Django admin and static files."""
    for entry in (resolver or get_resolver()).url_patterns:
        pattern = prefix + str(entry.pattern)
        if pattern.startswith(("admin/", settings.STATIC_URL.lstrip("/"))):
            continue
        if isinstance(entry, URLResolver):
            inner = ":".join(part for part in (namespace, entry.namespace) if part)
            yield from site_routes(entry, pattern, inner)
        else:
            assert isinstance(entry, URLPattern)
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield Route(name or pattern, pattern, namespace)


def openapi_path(route: Route) -> str:
    """/api/v1/tokens/{token_id} for api/v1/tokens/<token_id>."""
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route.pattern)


def openapi_operations() -> list[str]:
    """ "GET /tokens/{token_id}" for every operation of the OpenAPI document."""
    document = api.get_openapi_schema(path_prefix=API + "/")
    return [
        f"{method.upper()} {path.removeprefix(API)}"
        for path, methods in document["paths"].items()
        for method in methods
    ]


OPENAPI_PATHS = {operation.split(" ", 1)[1] for operation in openapi_operations()}
# API operations are checked through the OpenAPI document; every other route is a page.
PAGE_ROUTES = [
    route
    for route in site_routes()
    if not (route.namespace == "api" and openapi_path(route).removeprefix(API) in OPENAPI_PATHS)
]

# --- the owner's world ---------------------------------------------------------------------


@dataclass(frozen=True)
class AsMade:
    """A browser's cookies, and an API caller's headers, as they were when it was made."""

    client: Client
    cookies: SimpleCookie
    caller: Caller | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, client: Client, caller: Caller | None = None) -> Self:
        headers = dict(caller.headers) if caller is not None else {}
        return cls(client, copy.deepcopy(client.cookies), caller, headers)

    def restore(self) -> None:
        self.client.cookies = copy.deepcopy(self.cookies)
        if self.caller is not None:
            self.caller.headers = dict(self.headers)


@dataclass(frozen=True)
class World:
    # Where the world's attachments and photos were stored.
    media_root: str
    users: dict[str, User]
    # Values for path parameters and Param(), by name.
    params: dict[str, Any]
    # Each person's browser, and API callers by way of signing in ("token", "session"),
    # made with the world: signing eight people in again for each of hundreds of tests
    # took a seventh of the module's time.
    browsers: dict[str, Client]
    callers: dict[tuple[str, str], Caller]
    # Each test starts them from here (within it, cookies carry from one request to the
    # next, as a browser's do): a request's rows are rolled back, but what it did to a
    # client is not (a sign-out, a new session key, a message for the next page), and
    # would reach every later test.
    as_made: tuple[AsMade, ...]
    # When they signed in (just_signed_in).
    signed_in_at: datetime
    # Every row before a request (database_state()), read once the browsers' sessions and
    # the callers' API tokens were made. Each request is rolled back, and so is each test,
    # so the rows are the same before every request of the module: reading them again for
    # each test, and after each new browser or caller, took nearly a quarter of its time.
    rows_before: dict[str, Any]


@pytest.fixture(scope="module")
def shared_world(
    django_db_setup: None,
    django_db_blocker: DjangoDbBlocker,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[World]:
    """The world, built once per module and process (a third of the module's time went to
    building it again for each of its hundreds of tests), with everyone's browsers and API
    callers; each request runs in a savepoint of the test's (check_cell)."""
    with built_once("shared_world", django_db_blocker, tmp_path_factory.mktemp("world")):
        yield build_world()


@pytest.fixture
def world(shared_world: World, db: None, settings: Settings) -> World:
    """The shared world for one test: its files where it stored them, its browsers and API
    callers as they were made."""
    settings.MEDIA_ROOT = shared_world.media_root
    for made in shared_world.as_made:
        made.restore()
    if timezone.now() - shared_world.signed_in_at > still_signed_in_just_now():
        just_signed_in(shared_world)
    return shared_world


def still_signed_in_just_now() -> timedelta:
    """How long the site takes a sign-in as just made: after BROWSER_USE_RESOLUTION it
    writes the browser's last use again (on SQLite, every table is then read again after
    each request), after RECENT_SIGN_IN_MINUTES the changes that need a recent sign-in ask
    to confirm it. Half of the shorter, so that a test begun within it ends within both."""
    recent = timedelta(minutes=settings.RECENT_SIGN_IN_MINUTES)
    return min(account_actions.BROWSER_USE_RESOLUTION, recent) / 2


def just_signed_in(world: World) -> None:
    """For a test that begins long after the world's browsers signed in (a slow or busy
    machine): their sessions say they signed in, and were last used, just now, so that the
    site answers them as it did at first. Written in the test's savepoint, so each such
    test writes them again; sessions are not among the rows compared."""
    now = timezone.now()
    for made in world.as_made:
        if settings.SESSION_COOKIE_NAME not in made.cookies:
            continue
        session = made.client.session
        session[recent_sign_in.SIGNED_IN_AT_KEY] = int(now.timestamp())
        session[account_actions.BROWSER_SEEN_KEY] = now.isoformat()
        session.save()


def browser_of(user: User | None) -> Client:
    browser = Client()
    if user is not None:
        browser.force_login(user)
        finished_signing_in(browser)
    return browser


def caller_of(user: User | None, auth: str) -> Caller:
    if user is None:
        return Caller(Client(enforce_csrf_checks=True))
    if auth == "token":
        return with_token(user)
    caller = with_session(user)
    finished_signing_in(caller.client)
    return caller


def build_world() -> World:
    """A buyer's order from a seller, a conversation about it with an attachment, the
    seller's saved reply, the buyer's API token; beside them, another buyer and seller with
    their own conversation, and an agent on a customer-service case of the buyer."""
    buyer = factories.BuyerFactory(username="owner")
    other_buyer = factories.BuyerFactory()
    seller = factories.SellerFactory()
    other_seller = factories.SellerFactory()
    agent = factories.agent_in_team("customer-service")
    other_agent = factories.agent_in_team("trust-and-safety")
    admin = factories.UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True)

    product = factories.ProductFactory(storefront=seller.storefront)
    order = factories.order_with_item(buyer, product, number=ORDER_NUMBER)
    Shipment.objects.create(
        order=order,
        carrier="UPS",
        tracking_number=TRACKING,
        shipped_at=timezone.now(),
        delivered_at=timezone.now(),
    )
    # Three of the product, one of them on its way back (with a note and a photo).
    order_item = OrderItem.objects.get(order=order)
    OrderItem.objects.filter(pk=order_item.pk).update(quantity=3)
    return_request = return_actions.request_return(
        buyer,
        order.number,
        [return_actions.ReturnLine(order_item.pk, 1)],
        resolution="refund",
        reason_code="no_longer_needed",
        note=f"Unopened. {RETURN_NOTE}",
        photos=[SimpleUploadedFile("box.pdf", RETURN_PDF, content_type="application/pdf")],
    ).return_request
    message = actions.contact_seller_about_order(
        buyer,
        order.pk,
        seller.storefront.pk,
        f"Where is my {MESSAGE_WORD}? {MESSAGE}",
        attachments=[
            SimpleUploadedFile("receipt.pdf", RECEIPT_PDF, content_type="application/pdf")
        ],
    )
    saved_reply = actions.save_reply(seller, "Shipping", f"We ship tomorrow. {SAVED_REPLY}")
    token, _ = account_actions.create_api_token(buyer, TOKEN_NAME)
    # The owner's passkey (its key made up: no ceremony in the matrix uses it).
    passkey = Passkey.objects.create(
        user=buyer,
        name="Laptop",
        credential_id="b3duZXJzLXBhc3NrZXk",
        public_key=b"\x00",
        user_handle="b3duZXI",
        created_at=timezone.now(),
    )
    # Another browser of the owner's, to be signed out.
    other_browser = Client()
    other_browser.force_login(buyer)
    browser_session = BrowserSession.objects.get(session_key=other_browser.session.session_key)
    notice = broadcast_actions.schedule_broadcast(
        admin,
        kind="notice",
        subject="Your new seller terms",
        body=f"Read them. {BROADCAST}",
        send_at=timezone.now(),
        audience="list",
        user_ids=[buyer.pk, seller.pk],
    )
    # Their own business, which the owner must not see either.
    other_product = factories.ProductFactory(storefront=other_seller.storefront)
    question = actions.ask_seller_about_product(
        other_buyer, other_product.pk, "Does it come in blue?"
    )
    # The other seller answers rudely and the other buyer reports it (trust and safety).
    rude = actions.send_message(other_seller, question.conversation_id, "Stop asking, idiot.")
    report = report_actions.report_message(other_buyer, rude.pk, "offensive").report
    # A third shop scammed the other buyer, was suspended for it and appeals by e-mail.
    scammer = factories.SellerFactory()
    scam_question = actions.ask_seller_about_product(
        other_buyer, factories.ProductFactory(storefront=scammer.storefront).pk, "In stock?"
    )
    scam = actions.send_message(scammer, scam_question.conversation_id, "Pay by gift card.")
    suspending = report_actions.report_message(other_buyer, scam.pk, "scam").report
    report_actions.decide_report(other_agent, suspending.pk, "confirmed", "suspended")
    scammer.refresh_from_db()
    appeal_actions.appeal_by_email(
        Delivery(sender=scammer, subject="", body="A mistake.", attachments=[], idempotency_key="x")
    )
    appeal = Case.objects.get(kind="appeal")
    # The buyer's request about the order, which the agent took and noted.
    case = support_actions.open_request(
        buyer,
        f"Delivery {CASE_TEXT}",
        f"When will it come? {CASE_TEXT}",
        order_number=ORDER_NUMBER,
        attachments=[SimpleUploadedFile("label.pdf", CASE_PDF, content_type="application/pdf")],
    )
    support_actions.take_case(agent, case.pk)
    support_actions.add_note(agent, case.pk, f"Carrier lost it. {NOTE}")
    canned = support_actions.save_canned_response(
        agent, case.team_id, "Lost parcel", f"Hi {{customer_name}}, {CANNED}."
    )
    block = safety_actions.block(buyer, other_seller)
    # The buyer's guarantee claim on the order, waiting for the seller: the order was
    # placed 20 days ago and the buyer wrote to the seller 3 days ago, so it may be filed.
    Order.objects.filter(pk=order.pk).update(placed_at=timezone.now() - timedelta(days=20))
    Message.objects.filter(pk=message.pk).update(created_at=timezone.now() - timedelta(days=3))
    TeamMember.objects.create(team=support_actions.team_for("claim"), agent=agent)
    claim = claim_actions.file_claim(
        buyer, ORDER_NUMBER, "not_received", f"My kettle never came. {CLAIM}"
    )
    # The buyer's data export, ready to download (docs/privacy.md#your-data): everything
    # the buyer may know, and nothing more.
    data_export = privacy_actions.request_data_export(buyer)
    export_actions.build_data_export(data_export.pk)
    # What the development mailbox shows (no one's private text).
    mailbox_email = MailboxEmail.objects.create(
        to_addresses="owner@example.test",
        subject="Your order has shipped",
        message_id="<mc.message.1@localhost>",
        raw=b"Subject: Your order has shipped\r\nContent-Type: text/html\r\n\r\n<p>Shipped</p>",
        received_at=timezone.now(),
    )

    users: dict[str, User] = {
        BUYER: buyer,
        OTHER_BUYER: other_buyer,
        SELLER: seller,
        OTHER_SELLER: other_seller,
        AGENT: agent,
        OTHER_AGENT: other_agent,
        ADMIN: admin,
    }
    params = {
        "conversation_id": message.conversation_id,
        "attachment_id": message.attachments.get().pk,
        "saved_reply_id": saved_reply.pk,
        "sku": product.sku,
        "number": order.number,
        "storefront_id": seller.storefront.pk,
        "token_id": token.pk,
        "passkey_id": passkey.pk,
        "browser_session_id": browser_session.pk,
        "uidb64": "MQ",
        "token": "not-a-reset-token",
        "broadcast_id": notice.pk,
        "preferences_token": links.preferences_token(buyer),
        "unsubscribe_token": links.unsubscribe_token(buyer),
        "email_id": mailbox_email.pk,
        "block_id": block.pk,
        "case_id": case.pk,
        "case_message_id": Message.objects.filter(
            conversation_id=case.conversation_id, sender=buyer
        )
        .get()
        .pk,
        "case_attachment_id": Message.objects.get(
            conversation_id=case.conversation_id, sender=buyer
        )
        .attachments.get()
        .pk,
        "team_id": case.team_id,
        # Where the customer-service agent may transfer the buyer's request.
        "other_team_id": support_actions.team_for("report").pk,
        "agent_id": agent.pk,
        "canned_response_id": canned.pk,
        "order_item_id": order_item.pk,
        "return_id": return_request.pk,
        "photo_id": return_request.photos.get().pk,
        "claim_id": claim.pk,
        "export_id": data_export.pk,
        "message_id": message.pk,
        "report_id": report.pk,
        "appeal_id": appeal.pk,
    }
    # Everyone's browser and API callers, and then the rows: their sessions and API tokens
    # are rows too, which every test finds as the world's.
    signed_in_at = timezone.now()
    browsers = {role: browser_of(users.get(role)) for role in ROLES}
    callers = {(auth, role): caller_of(users.get(role), auth) for auth in AUTHS for role in ROLES}
    return World(
        media_root=settings.MEDIA_ROOT,
        users=users,
        params=params,
        browsers=browsers,
        callers=callers,
        as_made=(
            *(AsMade.of(browser) for browser in browsers.values()),
            *(AsMade.of(caller.client, caller) for caller in callers.values()),
        ),
        signed_in_at=signed_in_at,
        rows_before=database_state(),
    )


# --- the checks ----------------------------------------------------------------------------

# Bookkeeping of the caller's own device, written at most once a minute by any request
# made with its token: not data of anyone else.
IGNORED_COLUMNS = {
    (ApiToken, column)
    for column in (
        "last_used_at",
        "user_agent",
        "first_used_address",
        "first_used_country",
        "last_used_address",
        "last_used_country",
    )
}
# A session, its browser in "Your devices", and the failure counts of the sign-in limits.
SIGN_IN_BOOKKEEPING = {Session, BrowserSession, AccessAttempt}


@cache
def table_reads() -> tuple[tuple[str, str, str, tuple[Any, ...]], ...]:
    """Each table's name and query for database_state(), built once: the ORM takes a couple
    of milliseconds to build one, and database_state() reads tables around hundreds of
    refused requests (the raw rows it then compares are as exact as the models' values)."""
    reads = []
    for model in apps.get_models(include_auto_created=True):
        if model in SIGN_IN_BOOKKEEPING or model._meta.proxy or not model._meta.managed:
            continue
        columns = [
            column.attname
            for column in model._meta.concrete_fields
            if (model, column.attname) not in IGNORED_COLUMNS
        ]
        query = model._default_manager.order_by("pk").values_list(*columns).query
        sql, params = query.sql_with_params()
        reads.append((model._meta.label, model._meta.db_table, sql, tuple(params)))
    return tuple(reads)


def database_state(tables: Iterable[str] | None = None) -> dict[str, Any]:
    """Every row of every table (or of the tables named), sessions and sign-in bookkeeping
    aside: signing in, or failing to, is not a change to data."""
    wanted = None if tables is None else set(tables)
    rows = {}
    with connection.cursor() as cursor:
        for label, table, sql, params in table_reads():
            if wanted is None or table in wanted:
                cursor.execute(sql, params)
                rows[label] = cursor.fetchall()
    return rows


def write_marks() -> Any:
    """What tells which tables a request may have written, read before and after it. On
    PostgreSQL, each table's count of rows inserted, updated and deleted so far in this
    transaction (counted even when a savepoint rolls them back, and at once, not at the
    commit); on SQLite, the connection's count of rows changed, all tables together (the
    changes of triggers included). Reading every table after each of the matrix's
    thousands of requests was most of its time."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables"
            )
            return dict(cursor.fetchall())
        cursor.execute("SELECT total_changes()")
        return cursor.fetchone()[0]


def changed_tables(before: Mapping[str, Any], marks: Any) -> list[str]:
    """The tables whose rows differ from `before` after a request that began at `marks`:
    only the tables it wrote to are read again, and compared row by row (writing the same
    values, or only bookkeeping columns, is no change)."""
    now = write_marks()
    if now == marks:
        return []
    written = (
        {table for table, count in now.items() if count != marks.get(table)}
        if isinstance(now, dict)
        else None
    )
    after = database_state(written)
    return sorted(label for label, rows in after.items() if rows != before[label])


def content_of(response: HttpResponse) -> str:
    streamed = response.streaming
    body = b"".join(response.streaming_content) if streamed else response.content  # type: ignore[attr-defined]
    if response.get("Content-Type") == "application/pdf":
        # A PDF's text is compressed: read it back as a person's viewer would.
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)
    if response.get("Content-Type") == "application/zip":
        # A data export: every file in it.
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            return "\n".join(
                archive.read(name).decode(errors="replace") for name in archive.namelist()
            )
    if response.get("Content-Type") == "message/rfc822":
        # An e-mail file's parts are encoded (base64, quoted-printable): decode each.
        parsed = email.message_from_bytes(body, policy=email.policy.default)
        parts = [part.get_payload(decode=True) or b"" for part in parsed.walk()]
        return "\n".join(part.decode(errors="replace") for part in parts)
    return body.decode(errors="replace")


def answer_of(response: HttpResponse) -> Outcome:
    location = response.get("Location", "")
    # A refusal sends the person to sign in and back: signing out lands there without `next`.
    if response.status_code == 302 and location.startswith(
        f"{resolve_url(settings.LOGIN_URL)}?next="
    ):
        return LOGIN
    return response.status_code


def filled(value: Any, params: Mapping[str, Any]) -> Any:
    if isinstance(value, Param):
        return params[value.name]
    if isinstance(value, list):
        return [filled(item, params) for item in value]
    if isinstance(value, dict):
        return {key: filled(item, params) for key, item in value.items()}
    return value


def check_cell(
    world: World,
    role: str,
    operation: Operation,
    expected: Outcome,
    label: str,
    send: Callable[[], HttpResponse],
) -> list[str]:
    """One person, one request: the answer, what it reveals, what it changes."""
    must_change_nothing = operation.is_read_only or expected in REFUSALS
    failures = []
    before = world.rows_before if must_change_nothing else None
    with transaction.atomic():
        marks = write_marks() if before is not None else None
        callbacks_before = len(connection.run_on_commit)
        mails_before = len(mail.outbox)
        try:
            response = send()
            content = content_of(response)
        except BaseException as error:
            error.add_note(f"as {role}: {label}")
            raise
        answer = answer_of(response)
        if answer != expected:
            failures.append(f"{label} as {role}: expected {expected}, got {answer}")
        # Someone's own answers are never kept by a cache; every page carries the policy.
        cache_control = response.get("Cache-Control", "")
        if operation.is_the_same_for_everyone:
            if "no-store" in cache_control or "public" not in cache_control:
                failures.append(f"{label} as {role}: {answer} is not cached ({cache_control})")
        elif role != ANONYMOUS and "no-store" not in cache_control:
            failures.append(f"{label} as {role}: {answer} may be cached (no no-store)")
        is_page = response.get("Content-Type", "").startswith("text/html")
        if is_page and "Content-Security-Policy" not in response:
            failures.append(f"{label} as {role}: {answer} has no Content-Security-Policy")
        leaked = [secret for secret in SECRETS if secret in content and secret not in KNOWS[role]]
        if leaked:
            failures.append(f"{label} as {role}: {answer} shows {leaked}")
        if operation.shows is not None:
            secret, shown_to = operation.shows
            if role in shown_to and answer == expected and secret not in content:
                failures.append(f"{label} as {role}: {secret!r} is not in the response")
        if before is not None:
            changed = changed_tables(before, marks)
            if changed:
                failures.append(f"{label} as {role}: {answer} changed {changed}")
            if len(connection.run_on_commit) != callbacks_before:
                failures.append(f"{label} as {role}: {answer} left work for after the commit")
            if len(mail.outbox) != mails_before:
                failures.append(f"{label} as {role}: {answer} sent mail")
        transaction.set_rollback(True)
    return failures


def finished_signing_in(browser: Client) -> None:
    """The owner's passkey turns two-factor on for them: their browser gave it already."""
    session = browser.session
    session.pop(two_factor.PENDING_KEY, None)
    session.save()


def page_request(client: Client, method: str, path: str, data: dict[str, Any]) -> HttpResponse:
    if method == "GET":
        return client.get(path)  # type: ignore[return-value]
    return client.post(path, data)  # type: ignore[return-value]


def page_path(route: Route, operation: Operation, params: Mapping[str, Any]) -> str:
    if operation.path:
        return operation.path
    names = re.findall(r"<(?:\w+:)?(\w+)>", route.pattern)
    path = reverse(
        route.key, kwargs={name: params[operation.params.get(name, name)] for name in names}
    )
    return f"{path}?{operation.query}" if operation.query else path


@pytest.mark.parametrize("route", PAGE_ROUTES, ids=lambda route: route.key)
def test_every_page_refuses_everyone_it_is_not_for(route: Route, world: World) -> None:
    operations = PAGES.get(route.key)
    assert operations, (
        f"/{route.pattern} ({route.key}) has no entry in PAGES: write down who may use it"
    )
    failures = []
    for operation in operations:
        assert set(operation.expected) == set(ROLES), f"{route.key}: an answer for every role"
        path = page_path(route, operation, world.params)
        data = {name: filled(value, world.params) for name, value in (operation.data or {}).items()}
        label = f"{operation.method} {path} {data or ''}"
        for role in ROLES:
            send = partial(page_request, world.browsers[role], operation.method, path, data)
            failures += check_cell(world, role, operation, operation.expected[role], label, send)

    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("auth", AUTHS)
@pytest.mark.parametrize("operation_key", openapi_operations())
def test_every_api_operation_refuses_everyone_it_is_not_for(
    operation_key: str, auth: str, world: World
) -> None:
    operations = API_OPERATIONS.get(operation_key)
    assert operations, f"{operation_key} has no entry in API_OPERATIONS: write down who may use it"
    method, path_template = operation_key.split(" ", 1)
    failures = []
    for operation in operations:
        assert operation.method == method, operation_key
        values = {
            **world.params,
            **{name: world.params[source] for name, source in operation.params.items()},
        }
        path = path_template.format(**{name: quote(str(value)) for name, value in values.items()})
        expected = operation.by_token if auth == "token" and operation.by_token else None
        answers = expected or operation.expected
        assert set(answers) == set(ROLES), f"{operation_key}: an answer for every role"
        # A query may name the owner's data: "case_id={case_id}".
        query = operation.query.format(**world.params)
        full_path = f"{path}?{query}" if query else path
        data = (
            {name: filled(value, world.params) for name, value in operation.data.items()}
            if operation.data is not None
            else None
        )
        label = f"{method} {full_path} {data or ''} with a {auth}"
        for role in ROLES:
            send = partial(world.callers[auth, role].call, method, full_path, data)
            failures += check_cell(world, role, operation, answers[role], label, send)

    assert not failures, "\n".join(failures)


def test_the_tables_have_no_entry_for_a_route_that_is_gone() -> None:
    assert set(PAGES) == {route.key for route in PAGE_ROUTES}
    assert set(API_OPERATIONS) == set(openapi_operations())


def test_every_conversation_action_is_in_the_matrix() -> None:
    """A new bulk action, on the page or in the API, needs its row too."""
    assert set(PAGE_ACTIONS) == set(BULK_ACTIONS)
    assert set(API_ACTIONS) == set(get_args(ConversationAction))


def test_the_matrix_sees_a_change_to_any_row_and_only_a_change(world: World) -> None:
    """The change check reads again only the tables a request wrote: a changed row is
    caught; the same values written again, or an API token's bookkeeping, are no change.
    The rows it compares with, read once with the world, are those every test begins with
    (whatever tests ran before this one)."""
    before = world.rows_before
    now = database_state()
    assert [label for label, rows in now.items() if rows != before[label]] == []

    def changes_of(write: Callable[[], object]) -> list[str]:
        with transaction.atomic():
            marks = write_marks()
            write()
            changed = changed_tables(before, marks)
            transaction.set_rollback(True)
        return changed

    first = Participant.objects.order_by("pk").first()
    assert first is not None
    participant = Participant.objects.filter(pk=first.pk)
    assert changes_of(lambda: participant.update(unread_count=first.unread_count + 1)) == [
        "conversations.Participant"
    ]
    assert changes_of(lambda: participant.update(unread_count=first.unread_count)) == []
    assert changes_of(lambda: ApiToken.objects.update(last_used_at=timezone.now())) == []
    deleted = changes_of(lambda: Message.objects.filter(pk=world.params["message_id"]).delete())
    assert "conversations.Message" in deleted
