"""The Message Center pages: who sees what, what each button and form changes, what a
refused request leaves behind (nothing), and what the hot pages cost in queries."""

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from messagecenter.accounts.models import User
from messagecenter.conversations import actions, queries
from messagecenter.conversations.models import (
    MUTED_INDEFINITELY,
    Attachment,
    Conversation,
    Kind,
    Message,
    Participant,
    ParticipantRole,
)
from messagecenter.conversations.presentation import message_url
from messagecenter.hub import queries as hub_queries
from messagecenter.hub.boxes import Box
from messagecenter.marketplace.models import Product
from tests import factories
from tests.conversations.helpers import snapshot
from tests.databases import PLANNER_SETTINGS
from tests.web.helpers import PNG_BYTES, pdf_bytes, png, sign_in_url, text_named_png

pytestmark = pytest.mark.django_db

MESSAGE_CENTER = "/message-center/"
ACTIONS = "/message-center/actions/"
HEADER_BADGE = 'data-testid="header-unread">'
ALL_TAB = '<span class="mc-folders__label">All</span>\n          '


@pytest.fixture
def question(buyer: User, product: Product) -> Message:
    """Alice asked Acme Kitchen about the espresso machine, with a photo; unread by the seller."""
    return actions.ask_seller_about_product(
        buyer, product.pk, "Does it come with a tamper?", attachments=[png("machine.png")]
    )


def conversation_url(conversation_id: int) -> str:
    return f"/message-center/conversations/{conversation_id}/"


def participant(user: User, conversation_id: int) -> Participant:
    return Participant.objects.get(user=user, conversation_id=conversation_id)


def signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def page_text(response: Any) -> str:
    return str(response.content.decode())


# --- who can reach what --------------------------------------------------------------------


def _photo_url(message: Message) -> str:
    return f"/message-center/attachments/{Attachment.objects.get(message=message).pk}/"


PAGES: dict[str, Callable[[Message], str]] = {
    "message center": lambda message: MESSAGE_CENTER,
    "conversation": lambda message: conversation_url(message.conversation_id),
    "attachment": _photo_url,
    "customer service": lambda message: "/message-center/customer-service/",
}


@pytest.mark.parametrize("page", PAGES.values(), ids=PAGES.keys())
def test_a_signed_out_visitor_is_sent_to_sign_in(
    client: Client, question: Message, page: Callable[[Message], str]
) -> None:
    url = page(question)

    response = client.get(url)

    assert response.status_code == 302
    assert response.url == sign_in_url(url)  # type: ignore[attr-defined]


POSTS_TO_A_CONVERSATION: dict[str, Callable[[Message], tuple[str, dict[str, Any]]]] = {
    "reply": lambda message: (
        conversation_url(message.conversation_id),
        {"body": "Let me in", "idempotency_key": "k-1"},
    ),
    **{
        action: lambda message, action=action: (
            ACTIONS,
            {"action": action, "conversation_ids": [message.conversation_id]},
        )
        for action in ("read", "unread", "archive", "trash", "mute-day", "mute", "unmute")
    },
}
POSTS = {
    **POSTS_TO_A_CONVERSATION,
    "customer service": lambda message: (
        "/message-center/customer-service/",
        {"subject": "Help", "body": "Let me in"},
    ),
}


@pytest.mark.parametrize("post", POSTS.values(), ids=POSTS.keys())
def test_a_signed_out_visitor_posting_changes_nothing(
    client: Client, question: Message, post: Callable[[Message], tuple[str, dict[str, Any]]]
) -> None:
    url, data = post(question)
    before = snapshot()

    response = client.post(url, data)

    assert response.status_code == 302
    assert response.url == sign_in_url(url)  # type: ignore[attr-defined]
    assert snapshot() == before


@pytest.mark.parametrize("member", ["buyer", "seller"])
def test_both_sides_of_a_conversation_can_open_it(
    client: Client, question: Message, member: str, request: pytest.FixtureRequest
) -> None:
    user = request.getfixturevalue(member)

    response = signed_in(client, user).get(conversation_url(question.conversation_id))

    assert response.status_code == 200
    assert "Does it come with a tamper?" in page_text(response)
    assert "Question about Espresso machine" in page_text(response)


@pytest.mark.parametrize("outsider", ["other_buyer", "other_seller", "agent"])
def test_someone_outside_a_conversation_gets_not_found_for_it_and_its_files(
    client: Client, question: Message, outsider: str, request: pytest.FixtureRequest
) -> None:
    signed_in(client, request.getfixturevalue(outsider))
    before = snapshot()

    page = client.get(conversation_url(question.conversation_id))
    photo = client.get(_photo_url(question))

    assert (page.status_code, photo.status_code) == (404, 404)
    assert "Does it come with a tamper?" not in page_text(page)
    assert snapshot() == before


def test_a_conversation_that_does_not_exist_looks_the_same_as_someone_elses(
    client: Client, buyer: User
) -> None:
    response = signed_in(client, buyer).get(conversation_url(987_654))

    assert response.status_code == 404
    assert "We can’t find that page" in page_text(response)


@pytest.mark.parametrize("outsider", ["other_buyer", "other_seller", "agent"])
@pytest.mark.parametrize(
    "post", POSTS_TO_A_CONVERSATION.values(), ids=POSTS_TO_A_CONVERSATION.keys()
)
def test_someone_outside_a_conversation_changes_nothing_by_posting_to_it(
    client: Client,
    question: Message,
    outsider: str,
    post: Callable[[Message], tuple[str, dict[str, Any]]],
    request: pytest.FixtureRequest,
) -> None:
    url, data = post(question)
    signed_in(client, request.getfixturevalue(outsider))
    before = snapshot()

    response = client.post(url, data)

    assert response.status_code == 404
    assert snapshot() == before


def test_one_foreign_id_in_a_bulk_action_fails_the_whole_request(
    client: Client, buyer: User, other_buyer: User, question: Message, product: Product
) -> None:
    others = actions.ask_seller_about_product(other_buyer, product.pk, "Mine, not Alice's")
    before = snapshot()

    response = signed_in(client, buyer).post(
        ACTIONS,
        {"action": "trash", "conversation_ids": [question.conversation_id, others.conversation_id]},
    )

    assert response.status_code == 404
    assert snapshot() == before


def test_forms_without_the_csrf_token_are_refused(buyer: User, question: Message) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(buyer)
    before = snapshot()

    reply = client.post(conversation_url(question.conversation_id), {"body": "Forged"})
    trash = client.post(
        ACTIONS, {"action": "trash", "conversation_ids": [question.conversation_id]}
    )

    assert (reply.status_code, trash.status_code) == (403, 403)
    assert snapshot() == before


def test_the_actions_endpoint_only_takes_posts(client: Client, buyer: User) -> None:
    response = signed_in(client, buyer).get(ACTIONS)

    assert response.status_code == 405


# --- the Message Center list ---------------------------------------------------------------


def test_a_buyer_sees_the_seller_and_the_marketplace_as_who_they_talk_to(
    client: Client, buyer: User, question: Message, seller: User
) -> None:
    actions.send_message(seller, question.conversation_id, "Yes, a steel tamper is included.")
    actions.send_marketplace_message(
        buyer, kind=Kind.ORDER_UPDATES, subject="Your order has shipped", body="On its way."
    )

    text = page_text(signed_in(client, buyer).get(MESSAGE_CENTER))

    assert '<span class="conversation__from">Acme Kitchen</span>' in text
    assert '<span class="conversation__from">Marketplace</span>' in text
    assert "<bdi>Acme Kitchen</bdi>: <bdi>Yes, a steel tamper is included.</bdi>" in text
    assert "<bdi>Marketplace</bdi>: <bdi>On its way.</bdi>" in text
    # The footer explains the badge once; the marketplace's own message carries it.
    assert text.count('<span class="badge badge--official">Official</span>') == 2


def test_an_agent_sees_the_customer_without_the_official_badge_after_answering(
    client: Client, buyer: User, agent: User
) -> None:
    """The badge goes with the name shown: the agent's own official reply is not the
    customer's."""
    message = actions.contact_customer_service(buyer, "Late parcel", "Where is it?", agent=agent)
    actions.send_message(agent, message.conversation_id, "It arrives tomorrow.")

    agent_list = page_text(signed_in(client, agent).get(MESSAGE_CENTER))
    buyer_list = page_text(signed_in(client, buyer).get(MESSAGE_CENTER))

    assert '<span class="conversation__from">Alice Buyer</span>' in agent_list
    assert agent_list.count('<span class="badge badge--official">Official</span>') == 1
    assert '<span class="conversation__from">Customer service</span>' in buyer_list
    assert buyer_list.count('<span class="badge badge--official">Official</span>') == 2


OFFICIAL_BADGE = '<span class="badge badge--official">Official</span>'
# The shop's name, and next to it anything but the badge.
SHOP_WITHOUT_BADGE = (
    r'<span class="conversation__from">Acme Kitchen</span>\s*<(?!span class="badge)'
)


def test_a_marketplace_notice_to_a_buyer_and_seller_lends_the_seller_no_badge(
    client: Client, buyer: User, question: Message, seller: User
) -> None:
    """The row's name is the shop's, so the badge of the marketplace's notice (the last
    message) goes with the preview's "Marketplace", as on the conversation's page: a shop
    named like the marketplace must never be shown as official (docs/safety.md)."""
    actions.post_marketplace_message(question.conversation_id, "No answer yet from Acme Kitchen.")

    text = page_text(signed_in(client, buyer).get(MESSAGE_CENTER))

    assert re.search(SHOP_WITHOUT_BADGE, text)
    assert (
        f"<bdi>Marketplace</bdi> {OFFICIAL_BADGE}: <bdi>No answer yet from Acme Kitchen.</bdi>"
        in text
    )
    # The footer's explanation, and the preview's.
    assert text.count(OFFICIAL_BADGE) == 2


def test_customer_service_in_a_claim_lends_the_seller_no_badge(
    client: Client, buyer: User, seller: User, agent: User
) -> None:
    order = factories.OrderFactory(buyer=buyer)
    claim = actions.start_claim_conversation(
        buyer, order, seller.storefront, "Claim: never arrived", "The parcel never came."
    )
    with transaction.atomic():
        actions.add_participants(claim.conversation_id, [(agent, ParticipantRole.AGENT)])
    actions.send_message(agent, claim.conversation_id, "We are looking into it.")

    text = page_text(signed_in(client, buyer).get(MESSAGE_CENTER))

    assert re.search(SHOP_WITHOUT_BADGE, text)
    assert (
        f"<bdi>Customer Service</bdi> {OFFICIAL_BADGE}: <bdi>We are looking into it.</bdi>" in text
    )
    assert text.count(OFFICIAL_BADGE) == 2


def test_a_reply_to_a_trashed_conversation_says_it_moved_it_back(
    client: Client, question: Message
) -> None:
    """From a tab that still showed it in the inbox: the reply goes through and says where
    the conversation went."""
    buyer = question.sender
    actions.trash_conversations(buyer, [question.conversation_id])
    signed_in(client, buyer)

    response = client.post(
        conversation_url(question.conversation_id),
        {"body": "One more thing.", "idempotency_key": "stale-tab"},
        follow=True,
    )

    assert "This conversation was in Trash: your reply moved it back to your inbox." in (
        page_text(response)
    )
    assert Participant.objects.get(user=buyer, conversation_id=question.conversation_id).box == (
        Box.INBOX
    )


def test_signed_in_pages_are_never_kept_by_the_browser(client: Client, question: Message) -> None:
    signed_in(client, question.sender)

    for url in (MESSAGE_CENTER, conversation_url(question.conversation_id)):
        cache_control = client.get(url)["Cache-Control"]
        assert set(cache_control.split(", ")) >= {"no-store", "private"}


def test_a_seller_sees_the_buyer_as_who_they_talk_to(
    client: Client, seller: User, question: Message
) -> None:
    text = page_text(signed_in(client, seller).get(MESSAGE_CENTER))

    assert '<span class="conversation__from">Alice Buyer</span>' in text
    assert "<bdi>Alice Buyer</bdi>: <bdi>Does it come with a tamper?</bdi>" in text
    assert text.count('<span class="badge badge--official">Official</span>') == 1


def test_the_folders_show_their_unread_counts_and_filter_the_list(
    client: Client, buyer: User, question: Message, seller: User
) -> None:
    actions.send_message(seller, question.conversation_id, "Yes.")
    actions.send_marketplace_message(
        buyer, kind=Kind.ORDER_UPDATES, subject="Your order has shipped", body="On its way."
    )
    signed_in(client, buyer)

    everything = page_text(client.get(MESSAGE_CENTER))
    orders = page_text(client.get(MESSAGE_CENTER, {"folder": "orders"}))

    assert everything.count('name="conversation_ids"') == 2
    assert orders.count('name="conversation_ids"') == 1
    assert "Your order has shipped" in orders
    assert "Question about Espresso machine" not in orders
    assert '<h1 id="list-title">Orders &amp; shipping</h1>' in orders
    assert '<a href="/message-center/?folder=orders" aria-current="page">' in orders
    assert hub_queries.unread_counts(buyer) == {
        "buyer_seller": 1,
        "orders": 1,
        "returns": 0,
        "customer_service": 0,
        "claims": 0,
        "promotions": 0,
        "notices": 0,
        "archive": 0,
        "trash": 0,
        # Opening the Message Center saw them; reading them is still to do.
        "unseen": 0,
        "all": 2,
    }
    assert ALL_TAB + '<span class="badge badge--unread">2<' in everything
    assert HEADER_BADGE not in everything


def test_an_unknown_folder_is_a_clear_400(client: Client, buyer: User) -> None:
    response = signed_in(client, buyer).get(MESSAGE_CENTER, {"folder": "bogus"})

    assert response.status_code == 400
    assert "Unknown folder &#x27;bogus&#x27;." in page_text(response)


def test_a_muted_conversation_is_marked_in_the_list(
    client: Client, buyer: User, question: Message
) -> None:
    actions.mute_conversations(buyer, [question.conversation_id])

    text = page_text(signed_in(client, buyer).get(MESSAGE_CENTER))

    assert '<span class="tag" title="Muted">Muted</span>' in text


def busy_seller(seller: User, conversations: int) -> None:
    for number in range(conversations):
        product = factories.ProductFactory(storefront=seller.storefront)
        actions.ask_seller_about_product(factories.BuyerFactory(), product.pk, f"Question {number}")


def test_a_big_inbox_pages_with_older_links(client: Client, seller: User) -> None:
    busy_seller(seller, 60)
    signed_in(client, seller)

    second_cursor = queries.inbox_page(seller).next_cursor
    third_cursor = queries.inbox_page(seller, cursor=second_cursor).next_cursor
    assert second_cursor is not None
    assert third_cursor is not None

    first = page_text(client.get(MESSAGE_CENTER))
    second = page_text(client.get(MESSAGE_CENTER, {"cursor": second_cursor}))
    third = page_text(client.get(MESSAGE_CENTER, {"cursor": third_cursor}))

    assert first.count('name="conversation_ids"') == 25
    assert f'href="/message-center/?{urlencode({"cursor": second_cursor})}" rel="next">' in first
    assert ("Question 59<" in first, "Question 35<" in first) == (True, True)
    assert second.count('name="conversation_ids"') == 25
    assert ("Question 34<" in second, "Question 10<" in second) == (True, True)
    assert '<a class="button button--small" href="/message-center/">← Newest</a>' in second
    assert f'href="/message-center/?{urlencode({"cursor": third_cursor})}" rel="next">' in second
    assert third.count('name="conversation_ids"') == 10
    assert ("Question 9<" in third, "Question 0<" in third) == (True, True)
    assert 'rel="next"' not in third


# --- actions on selected conversations -----------------------------------------------------


@pytest.fixture
def two_questions(buyer: User, question: Message) -> list[int]:
    second_product = factories.ProductFactory(title="Milk jug")
    second = actions.ask_seller_about_product(buyer, second_product.pk, "Is it 350 ml?")
    return [question.conversation_id, second.conversation_id]


def test_moving_to_trash_confirms_and_can_be_undone(
    client: Client, buyer: User, two_questions: list[int]
) -> None:
    signed_in(client, buyer)

    trashed = client.post(
        ACTIONS, {"action": "trash", "conversation_ids": two_questions, "next": MESSAGE_CENTER}
    )
    after_trash = page_text(client.get(MESSAGE_CENTER))
    boxes_after_trash = [participant(buyer, cid).box for cid in two_questions]
    undone = client.post(
        ACTIONS,
        {"action": "restore", "conversation_ids": two_questions, "next": MESSAGE_CENTER},
    )
    after_undo = page_text(client.get(MESSAGE_CENTER))

    assert (trashed.status_code, trashed.url) == (302, MESSAGE_CENTER)  # type: ignore[attr-defined]
    assert boxes_after_trash == [Box.TRASH, Box.TRASH]
    assert "<p>2 conversations moved to Trash.</p>" in after_trash
    assert '<input type="hidden" name="action" value="restore">' in after_trash
    for conversation_id in two_questions:
        assert (
            f'<input type="hidden" name="conversation_ids" value="{conversation_id}">'
            in after_trash
        )
    assert (undone.status_code, undone.url) == (302, MESSAGE_CENTER)  # type: ignore[attr-defined]
    assert [participant(buyer, cid).box for cid in two_questions] == [Box.INBOX, Box.INBOX]
    assert "<p>2 conversations restored.</p>" in after_undo
    assert 'value="restore">' not in after_undo


def test_archive_and_move_back_to_the_inbox(
    client: Client, buyer: User, two_questions: list[int]
) -> None:
    signed_in(client, buyer)

    client.post(ACTIONS, {"action": "archive", "conversation_ids": two_questions[:1]})
    archived = participant(buyer, two_questions[0]).box
    archive_page = page_text(client.get(MESSAGE_CENTER, {"box": "archive"}))
    client.post(ACTIONS, {"action": "inbox", "conversation_ids": two_questions[:1]})

    assert archived == Box.ARCHIVE
    assert archive_page.count('name="conversation_ids"') == 1
    assert "<p>1 conversation archived.</p>" in archive_page
    assert participant(buyer, two_questions[0]).box == Box.INBOX


def test_mark_unread_then_read(client: Client, buyer: User, two_questions: list[int]) -> None:
    signed_in(client, buyer)

    client.post(ACTIONS, {"action": "unread", "conversation_ids": two_questions})
    unread = [participant(buyer, cid).unread_count for cid in two_questions]
    badge = hub_queries.unread_counts(buyer)["all"]
    client.post(ACTIONS, {"action": "read", "conversation_ids": two_questions})

    assert unread == [1, 1]
    assert badge == 2
    assert [participant(buyer, cid).unread_count for cid in two_questions] == [0, 0]
    assert hub_queries.unread_counts(buyer)["all"] == 0


def test_an_action_that_changes_nothing_says_so(
    client: Client, buyer: User, question: Message
) -> None:
    signed_in(client, buyer)

    client.post(ACTIONS, {"action": "read", "conversation_ids": [question.conversation_id]})
    text = page_text(client.get(MESSAGE_CENTER))

    assert "<p>No conversations needed to be marked as read.</p>" in text


@pytest.mark.parametrize(("action", "days"), [("mute-day", 1), ("mute-week", 7)])
def test_mute_for_a_while(
    client: Client, buyer: User, question: Message, action: str, days: int
) -> None:
    before = timezone.now()

    signed_in(client, buyer).post(
        ACTIONS, {"action": action, "conversation_ids": [question.conversation_id]}
    )

    muted_until = participant(buyer, question.conversation_id).muted_until
    assert muted_until is not None
    assert before + timedelta(days=days) <= muted_until <= timezone.now() + timedelta(days=days)


def test_mute_until_unmuted_and_unmute(client: Client, buyer: User, question: Message) -> None:
    signed_in(client, buyer)

    client.post(ACTIONS, {"action": "mute", "conversation_ids": [question.conversation_id]})
    muted_until = participant(buyer, question.conversation_id).muted_until
    client.post(ACTIONS, {"action": "unmute", "conversation_ids": [question.conversation_id]})

    assert muted_until == MUTED_INDEFINITELY
    assert participant(buyer, question.conversation_id).muted_until is None


def test_delete_for_ever_from_trash(client: Client, buyer: User, question: Message) -> None:
    actions.trash_conversations(buyer, [question.conversation_id])

    response = signed_in(client, buyer).post(
        ACTIONS,
        {
            "action": "delete",
            "conversation_ids": [question.conversation_id],
            "next": "/message-center/?box=trash",
        },
    )

    assert (response.status_code, response.url) == (302, "/message-center/?box=trash")  # type: ignore[attr-defined]
    assert participant(buyer, question.conversation_id).box == Box.DELETED
    assert client.get(conversation_url(question.conversation_id)).status_code == 404


def test_delete_for_ever_outside_trash_is_refused_on_the_page(
    client: Client, buyer: User, question: Message
) -> None:
    before = snapshot()

    response = signed_in(client, buyer).post(
        ACTIONS,
        {"action": "delete", "conversation_ids": [question.conversation_id], "box": "inbox"},
    )

    assert response.status_code == 400
    text = page_text(response)
    assert (
        '<p class="alert alert--error" role="alert">'
        "Only conversations in Trash can be deleted for ever.</p>"
    ) in text
    # The selection is kept, so the person can choose another action.
    assert (
        f'value="{question.conversation_id}" id="select-{question.conversation_id}" checked>'
        in (text)
    )
    assert snapshot() == before


def test_an_action_with_nothing_selected_asks_to_choose(client: Client, buyer: User) -> None:
    response = signed_in(client, buyer).post(ACTIONS, {"action": "trash"})

    assert response.status_code == 400
    assert "Choose at least one conversation." in page_text(response)


def test_an_unknown_action_is_refused(client: Client, buyer: User, question: Message) -> None:
    before = snapshot()

    response = signed_in(client, buyer).post(
        ACTIONS, {"action": "explode", "conversation_ids": [question.conversation_id]}
    )

    assert response.status_code == 400
    assert "Choose what to do with the conversations." in page_text(response)
    assert snapshot() == before


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/phish", "//evil.example/", "javascript:alert(1)"]
)
def test_next_never_leaves_the_site(
    client: Client, buyer: User, question: Message, next_url: str
) -> None:
    response = signed_in(client, buyer).post(
        ACTIONS,
        {"action": "archive", "conversation_ids": [question.conversation_id], "next": next_url},
    )

    assert (response.status_code, response.url) == (302, MESSAGE_CENTER)  # type: ignore[attr-defined]


# --- one conversation ---------------------------------------------------------------------


def test_opening_a_conversation_marks_it_read_and_the_badge_drops(
    client: Client, seller: User, question: Message
) -> None:
    signed_in(client, seller)

    before = page_text(client.get("/account/"))
    opened = client.get(conversation_url(question.conversation_id))
    after = page_text(client.get(MESSAGE_CENTER))

    assert f"{HEADER_BADGE}1<" in before
    assert opened.status_code == 200
    assert HEADER_BADGE not in page_text(opened)
    assert participant(seller, question.conversation_id).unread_count == 0
    assert hub_queries.unread_counts(seller)["all"] == 0
    assert HEADER_BADGE not in after
    assert 'class="conversation conversation--unread"' not in after


# --- seen vs read ---------------------------------------------------------------------------


def test_opening_the_message_center_clears_the_badge_but_the_conversation_stays_unread(
    client: Client, seller: User, buyer: User, question: Message
) -> None:
    signed_in(client, seller)

    elsewhere_before = page_text(client.get("/account/"))
    message_center = page_text(client.get(MESSAGE_CENTER))
    elsewhere_after = page_text(client.get("/account/"))
    waiting = participant(seller, question.conversation_id)

    assert f'{HEADER_BADGE}1<span class="visually-hidden"> new</span></span>' in elsewhere_before
    # The badge is cleared on the very page that clears it.
    assert HEADER_BADGE not in message_center
    assert HEADER_BADGE not in elsewhere_after
    # The folder tabs still count unread conversations, and the row is still bold.
    assert ALL_TAB + '<span class="badge badge--unread">1<' in message_center
    assert message_center.count('class="conversation conversation--unread"') == 1
    assert (waiting.is_seen, waiting.unread_count) == (True, 1)
    assert (
        hub_queries.unread_counts(seller)["unseen"],
        hub_queries.unread_counts(seller)["all"],
    ) == (0, 1)

    opened = client.get(conversation_url(question.conversation_id))
    after_opening = page_text(client.get(MESSAGE_CENTER))

    assert opened.status_code == 200
    assert participant(seller, question.conversation_id).unread_count == 0
    assert 'class="conversation conversation--unread"' not in after_opening
    assert ALL_TAB + "<span" not in after_opening


def test_a_new_message_after_opening_the_message_center_lights_the_badge_again(
    client: Client, seller: User, buyer: User, question: Message
) -> None:
    signed_in(client, seller).get(MESSAGE_CENTER)

    actions.send_message(buyer, question.conversation_id, "Also: is it dishwasher safe?")
    text = page_text(client.get("/account/"))

    assert f"{HEADER_BADGE}1<" in text
    assert hub_queries.unread_counts(seller)["unseen"] == 1


def test_only_opening_the_message_center_sees_what_is_new(
    client: Client, seller: User, question: Message
) -> None:
    """Another page, a HEAD request, or a refused bulk action leave the badge alone."""
    signed_in(client, seller)

    client.get("/account/")
    client.head(MESSAGE_CENTER)
    refused = client.post(ACTIONS, {"action": "explode", "conversation_ids": ["1"]})

    assert refused.status_code == 400
    assert participant(seller, question.conversation_id).is_seen is False
    assert hub_queries.unread_counts(seller)["unseen"] == 1


def test_the_conversation_page_shows_messages_attachments_and_the_product(
    client: Client, seller: User, buyer: User, question: Message
) -> None:
    photo = Attachment.objects.get(message=question)

    text = page_text(signed_in(client, seller).get(conversation_url(question.conversation_id)))

    assert '<span class="message__sender">Alice Buyer</span>' in text
    assert f'href="/message-center/attachments/{photo.pk}/" download>' in text
    assert "machine.png</a>" in text
    assert '<a href="/products/' in text
    assert "Sold by Acme Kitchen" in text
    assert 'name="idempotency_key"' in text
    assert 'enctype="multipart/form-data"' in text


def test_a_marketplace_message_is_official_and_has_no_reply_box(
    client: Client, buyer: User
) -> None:
    order = factories.OrderFactory(buyer=buyer)
    update = actions.send_marketplace_message(
        buyer, kind=Kind.ORDER_UPDATES, subject="Shipped", body="On its way.", order=order
    )

    text = page_text(signed_in(client, buyer).get(conversation_url(update.conversation_id)))

    assert '<span class="message__sender">Marketplace</span>' in text
    assert text.count('<span class="badge badge--official">Official</span>') == 2
    assert f'<a href="/orders/{order.number}/">{order.number}</a>' in text
    assert 'name="body"' not in text
    assert f'href="/message-center/customer-service/?order={order.number}"' in text


def test_a_reply_is_sent_and_brings_you_back_to_the_conversation(
    client: Client, seller: User, buyer: User, question: Message
) -> None:
    url = conversation_url(question.conversation_id)

    response = signed_in(client, seller).post(
        url,
        {
            "body": "Yes, a steel tamper.",
            "idempotency_key": "reply-1",
            "attachments": [png("tamper.png")],
        },
    )

    reply = Message.objects.get(conversation_id=question.conversation_id, sender=seller)
    assert (response.status_code, response.url) == (302, f"{url}#message-{reply.pk}")  # type: ignore[attr-defined]
    assert reply.body == "Yes, a steel tamper."
    assert list(reply.attachments.values_list("filename", "content_type")) == [
        ("tamper.png", "image/png")
    ]
    assert participant(buyer, question.conversation_id).unread_count == 1


def test_submitting_the_same_reply_form_twice_sends_once(
    client: Client, seller: User, question: Message
) -> None:
    url = conversation_url(question.conversation_id)
    form = {"body": "Yes, a steel tamper.", "idempotency_key": "0b7c7a52-double-click"}
    signed_in(client, seller)

    first = client.post(url, form)
    second = client.post(url, form)

    replies = Message.objects.filter(conversation_id=question.conversation_id, sender=seller)
    assert replies.count() == 1
    assert first.url == second.url == f"{url}#message-{replies.get().pk}"  # type: ignore[attr-defined]


def test_a_file_that_is_not_what_its_name_says_is_refused_and_nothing_is_sent(
    client: Client, seller: User, question: Message
) -> None:
    before = snapshot()
    attachments = Attachment.objects.count()

    response = signed_in(client, seller).post(
        conversation_url(question.conversation_id),
        {"body": "Here is the manual", "idempotency_key": "k", "attachments": [text_named_png()]},
    )

    assert response.status_code == 400
    text = page_text(response)
    # On the file field, which is marked invalid; the message itself is fine.
    assert (
        '<p class="field__error" id="reply-attachments-error" role="alert">'
        "photo.png is not an image (JPEG, PNG, GIF, WebP) or a PDF.</p>"
    ) in text
    assert (
        'aria-describedby="reply-attachments-error reply-attachments-help" aria-invalid="true"'
        in text
    )
    assert 'id="reply-error"' not in text
    assert ">Here is the manual</textarea>" in text
    assert snapshot() == before
    assert Attachment.objects.count() == attachments


@pytest.mark.parametrize("body", ["   ", "\u202e\u202e", "\u200b\u200b"])
def test_an_empty_reply_is_refused(
    client: Client, seller: User, question: Message, body: str
) -> None:
    before = snapshot()

    response = signed_in(client, seller).post(
        conversation_url(question.conversation_id), {"body": body, "idempotency_key": "k"}
    )

    assert response.status_code == 400
    assert "Write a message first." in page_text(response)
    assert snapshot() == before


def test_reusing_a_key_for_a_different_message_is_a_409_on_the_page(
    client: Client, seller: User, question: Message
) -> None:
    url = conversation_url(question.conversation_id)
    signed_in(client, seller)
    client.post(url, {"body": "First answer", "idempotency_key": "same-key"})
    before = snapshot()

    response = client.post(url, {"body": "A different answer", "idempotency_key": "same-key"})

    assert response.status_code == 409
    assert "This idempotency key was already used for a different message." in page_text(response)
    assert snapshot() == before


def test_the_conversation_page_buttons_redirect_back_to_the_folder(
    client: Client, buyer: User, question: Message
) -> None:
    text = page_text(signed_in(client, buyer).get(conversation_url(question.conversation_id)))

    assert '<input type="hidden" name="next" value="/message-center/?folder=buyer_seller">' in text
    assert 'name="action" value="trash"' in text
    assert 'name="action" value="mute-day"' in text


# --- attachments --------------------------------------------------------------------------


@pytest.mark.parametrize("member", ["buyer", "seller"])
def test_an_attachment_downloads_as_a_file_with_its_name(
    client: Client, question: Message, member: str, request: pytest.FixtureRequest
) -> None:
    signed_in(client, request.getfixturevalue(member))

    response = client.get(_photo_url(question))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG_BYTES  # type: ignore[attr-defined]
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'attachment; filename="machine.png"'
    assert response["X-Content-Type-Options"] == "nosniff"


def test_an_image_attachment_opens_in_the_browser_when_asked_for_inline(
    client: Client, question: Message
) -> None:
    signed_in(client, question.sender)

    response = client.get(_photo_url(question), {"view": "inline"})

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'inline; filename="machine.png"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_a_pdf_attachment_is_always_a_download(
    client: Client, buyer: User, product: Product
) -> None:
    pdf = SimpleUploadedFile("invoice.pdf", pdf_bytes(), content_type="application/pdf")
    message = actions.ask_seller_about_product(buyer, product.pk, "Invoice?", attachments=[pdf])
    signed_in(client, buyer)

    response = client.get(_photo_url(message), {"view": "inline"})

    assert response["Content-Disposition"] == 'attachment; filename="invoice.pdf"'


def test_the_conversation_page_shows_image_attachments_as_thumbnails(
    client: Client, question: Message
) -> None:
    signed_in(client, question.sender)
    inline = _photo_url(question) + "?view=inline"

    text = client.get(conversation_url(question.conversation_id)).content.decode()

    assert f'<a class="attachment-thumbnail" href="{inline}" target="_blank"' in text
    assert f'<img src="{inline}" alt="machine.png"' in text


def test_an_attachment_that_does_not_exist_is_not_found(client: Client, buyer: User) -> None:
    response = signed_in(client, buyer).get("/message-center/attachments/987654/")

    assert response.status_code == 404


# --- customer service ---------------------------------------------------------------------


def test_writing_to_customer_service_about_an_order(client: Client, buyer: User) -> None:
    order = factories.OrderFactory(buyer=buyer)
    signed_in(client, buyer)

    form = page_text(client.get("/message-center/customer-service/", {"order": order.number}))
    response = client.post(
        "/message-center/customer-service/",
        {
            "subject": "Parcel never arrived",
            "body": "The tracking stopped a week ago.",
            "order": order.number,
            "idempotency_key": "cs-1",
        },
    )

    conversation = Conversation.objects.get(kind=Kind.CUSTOMER_SERVICE)
    assert f'<option value="{order.number}" selected>' in form
    assert (response.status_code, response.url) == (302, conversation_url(conversation.pk))  # type: ignore[attr-defined]
    assert (conversation.subject, conversation.order_id) == ("Parcel never arrived", order.pk)


def test_customer_service_about_someone_elses_order_is_not_found(
    client: Client, buyer: User, other_buyer: User
) -> None:
    order = factories.OrderFactory(buyer=other_buyer)
    before = snapshot()

    response = signed_in(client, buyer).post(
        "/message-center/customer-service/",
        {"subject": "Help", "body": "About this order", "order": order.number},
    )

    assert response.status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("subject", [" ", "\u200b\ufeff"])
def test_customer_service_needs_a_subject(client: Client, buyer: User, subject: str) -> None:
    before = snapshot()

    response = signed_in(client, buyer).post(
        "/message-center/customer-service/", {"subject": subject, "body": "Hello"}
    )

    assert response.status_code == 400
    assert "A subject is required." in page_text(response)
    assert ">Hello</textarea>" in page_text(response)
    assert snapshot() == before


# --- a long conversation: the newest messages, older ones on asking -----------------------

SHOWN_MESSAGE = re.compile(r'<li class="message[^"]*" id="message-(\d+)"')


def long_conversation(buyer: User, seller: User, question: Message, messages: int) -> list[int]:
    """The question and answers until the conversation holds `messages`, read by the
    buyer; their ids, oldest first."""
    for number in range(messages - 1):
        sender = seller if number % 2 == 0 else buyer
        actions.send_message(sender, question.conversation_id, f"Message {number + 2}")
    actions.mark_read(buyer, [question.conversation_id])
    return list(
        Message.objects.filter(conversation_id=question.conversation_id)
        .order_by("id")
        .values_list("id", flat=True)
    )


def shown_messages(response: Any) -> list[int]:
    return [int(found) for found in SHOWN_MESSAGE.findall(page_text(response))]


def test_a_long_conversation_shows_its_newest_messages_then_older_ones_on_asking(
    client: Client, buyer: User, seller: User, question: Message
) -> None:
    ids = long_conversation(buyer, seller, question, 60)
    url = conversation_url(question.conversation_id)
    signed_in(client, buyer)

    newest = client.get(url)

    assert shown_messages(newest) == ids[10:]
    assert f'href="{url}?before={ids[10]}" data-more-messages="older"' in page_text(newest)
    assert "Show newer messages" not in page_text(newest)
    assert "data-has-newer" not in page_text(newest)
    # Without script, the link is the page before the first message shown.
    older = client.get(f"{url}?before={ids[10]}")
    assert shown_messages(older) == ids[:10]
    assert "Show older messages" not in page_text(older)
    assert f'href="{url}?after={ids[9]}" data-more-messages="newer"' in page_text(older)
    assert "data-has-newer" in page_text(older)
    # …and back: the messages after the last one shown, the newest among them.
    newer = client.get(f"{url}?after={ids[9]}")
    assert shown_messages(newer) == ids[10:]
    assert "Show newer messages" not in page_text(newer)
    assert f"?before={ids[10]}" in page_text(newer)
    # The reply box is on every one of them.
    assert all('name="body"' in page_text(page) for page in (newest, older, newer))


def test_a_link_to_a_message_opens_the_page_that_shows_it(
    client: Client, buyer: User, seller: User, question: Message
) -> None:
    ids = long_conversation(buyer, seller, question, 120)
    signed_in(client, buyer)

    # As search results and e-mails link to one (presentation.message_url).
    old = client.get(message_url(question.conversation_id, ids[30]))
    first = client.get(message_url(question.conversation_id, ids[0]))
    recent = client.get(message_url(question.conversation_id, ids[100]))

    # An old one: the page from that message on, with the way back and forward.
    assert shown_messages(old) == ids[30:80]
    assert f"?before={ids[30]}" in page_text(old)
    assert f"?after={ids[79]}" in page_text(old)
    # The first message: nothing older to offer.
    assert shown_messages(first) == ids[:50]
    assert "Show older messages" not in page_text(first)
    # One among the newest: the page as it opens.
    assert shown_messages(recent) == ids[70:]
    assert "Show newer messages" not in page_text(recent)


def test_a_link_to_a_message_not_seen_here_opens_the_newest_messages(
    client: Client, buyer: User, seller: User, other_buyer: User, question: Message
) -> None:
    ids = long_conversation(buyer, seller, question, 60)
    elsewhere = actions.ask_seller_about_product(
        other_buyer, factories.ProductFactory(title="Milk jug").pk, "Is it 350 ml?"
    )
    url = conversation_url(question.conversation_id)
    signed_in(client, buyer)

    for message_id in (elsewhere.pk, 10**12, "x"):
        response = client.get(f"{url}?message={message_id}")
        assert response.status_code == 200
        assert shown_messages(response) == ids[10:]
    assert shown_messages(client.get(f"{url}?before=nonsense")) == ids[10:]


def test_older_messages_come_alone_for_a_page_to_add_in_place(
    client: Client, buyer: User, seller: User, question: Message
) -> None:
    """site.js asks "Show older messages" with `X-Partial: messages`: the messages alone,
    in a list that says where the next ones are."""
    ids = long_conversation(buyer, seller, question, 60)
    url = conversation_url(question.conversation_id)
    signed_in(client, buyer)

    response = client.get(f"{url}?before={ids[10]}", headers={"X-Partial": "messages"})

    text = page_text(response)
    assert text.startswith(f'<ol data-older-url="" data-newer-url="{url}?after={ids[9]}">')
    assert shown_messages(response) == ids[:10]
    assert "<html" not in text
    assert 'name="body"' not in text
    assert "X-Partial" in response["Vary"]


# --- what the hot pages cost --------------------------------------------------------------

# session, user, where the page's event stream starts (realtime/pages.py), one inbox page
# (participants joined with conversations, buyers and their storefronts, storefronts and
# last messages with senders), the notices and promotions that apply (merged into the page
# by time), the unread counters with the broadcasts' counts in the same statement (which
# also feed the header badge); on PostgreSQL the planner's settings around the inbox page
# (db/plans.py).
MESSAGE_CENTER_QUERIES = 6 + PLANNER_SETTINGS
# ... plus, only when the counters say something is unseen, mark_seen: savepoint, lock the
# unseen rows, mark them seen, move the unseen counter, allocate an event number, insert
# the event, release. As many for 1 unseen conversation as for 60.
MESSAGE_CENTER_SEEING_QUERIES = MESSAGE_CENTER_QUERIES + 7


def test_the_message_center_costs_the_same_for_a_buyer_with_three_conversations(
    client: Client,
    buyer: User,
    question: Message,
    two_questions: list[int],
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    actions.send_marketplace_message(
        buyer, kind=Kind.ORDER_UPDATES, subject="Shipped", body="On its way."
    )
    signed_in(client, buyer)
    assert hub_queries.unread_counts(buyer)["unseen"] == 1

    with django_assert_num_queries(MESSAGE_CENTER_SEEING_QUERIES):
        first = client.get(MESSAGE_CENTER)
    with django_assert_num_queries(MESSAGE_CENTER_QUERIES):
        again = client.get(MESSAGE_CENTER)

    assert page_text(first).count('name="conversation_ids"') == 3
    assert page_text(again).count('name="conversation_ids"') == 3


def test_the_message_center_costs_the_same_for_a_seller_with_sixty_conversations(
    client: Client, seller: User, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    busy_seller(seller, 60)
    signed_in(client, seller)
    assert hub_queries.unread_counts(seller)["unseen"] == 60

    with django_assert_num_queries(MESSAGE_CENTER_SEEING_QUERIES):
        first = client.get(MESSAGE_CENTER)
    with django_assert_num_queries(MESSAGE_CENTER_QUERIES):
        again = client.get(MESSAGE_CENTER)

    assert page_text(first).count('name="conversation_ids"') == 25
    assert page_text(again).count('name="conversation_ids"') == 25
    assert hub_queries.unread_counts(seller)["unseen"] == 0


def test_a_live_page_gets_the_list_alone_for_the_same_queries(
    client: Client,
    buyer: User,
    question: Message,
    two_questions: list[int],
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    """site.js refreshes the Message Center's list in place with `X-Partial: list`: the
    same view and reads but the stream's position (no stream starts from a partial), the
    list's markup alone, and it marks what is new as seen as opening the page does."""
    actions.send_marketplace_message(
        buyer, kind=Kind.ORDER_UPDATES, subject="Shipped", body="On its way."
    )
    signed_in(client, buyer)

    with django_assert_num_queries(MESSAGE_CENTER_SEEING_QUERIES - 1):
        first = client.get(MESSAGE_CENTER, headers={"X-Partial": "list"})
    with django_assert_num_queries(MESSAGE_CENTER_QUERIES - 1):
        again = client.get(f"{MESSAGE_CENTER}?box=archive", headers={"X-Partial": "list"})

    text = page_text(first)
    assert first.status_code == 200
    assert "X-Partial" in first["Vary"]
    assert text.count('name="conversation_ids"') == 3
    assert "Shipped" in text
    assert "<html" not in text
    assert "mc-folders" not in text
    assert hub_queries.unread_counts(buyer)["unseen"] == 0
    assert "Nothing archived." in page_text(again)
    assert "<html" not in page_text(again)


def test_the_full_page_marks_what_a_live_page_needs(client: Client, buyer: User) -> None:
    signed_in(client, buyer)

    text = page_text(client.get(MESSAGE_CENTER))

    assert '<body data-live data-user-id="' in text
    assert "data-live-list" in text
    assert 'data-folder-key="all"' in text
    assert 'data-folder-key="buyer_seller"' in text
    assert 'data-folder-key="archive"' in text
    assert "data-live-header-link" in text
    assert "data-live-announcer" in text
    assert "X-Partial" in client.get(MESSAGE_CENTER)["Vary"]


def test_a_signed_out_page_does_not_go_live(client: Client) -> None:
    text = page_text(client.get("/accounts/login/"))

    assert "data-live" not in text


@pytest.mark.parametrize("messages", [60, 200])
def test_a_long_conversation_page_costs_the_same_whatever_its_length(
    client: Client,
    buyer: User,
    seller: User,
    question: Message,
    messages: int,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    ids = long_conversation(buyer, seller, question, messages)
    url = conversation_url(question.conversation_id)
    signed_in(client, buyer)

    # The nine of a read page, whether it shows the newest messages or older ones — but
    # the attachments, for a page of messages without any: its messages' statement says
    # which have some. The older page of 60 reaches the question, with its photo.
    with django_assert_num_queries(8):
        newest = client.get(url)
    with django_assert_num_queries(9 if messages == 60 else 8):
        older = client.get(f"{url}?before={ids[-50]}")
    # A link to an old message: the newest page is read first (the message is usually
    # there), then the page from that message, then whether there is anything before it
    # (neither page with attachments).
    with django_assert_num_queries(10):
        linked = client.get(message_url(question.conversation_id, ids[5]))

    assert shown_messages(newest) == ids[-50:]
    assert shown_messages(older) == ids[-100:-50]
    assert shown_messages(linked) == ids[5:55]


def test_a_read_conversation_page_costs_nine_queries(
    client: Client,
    buyer: User,
    seller: User,
    question: Message,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    for number in range(10):
        actions.send_message(seller, question.conversation_id, f"Answer {number}")
    actions.mark_read(buyer, [question.conversation_id])
    signed_in(client, buyer)

    # session, user, where the page's event stream starts (realtime/pages.py), the
    # participant with its conversation, the seller's row (is an answer due?
    # docs/escalation.md), the buyer's open request about it (support's status line,
    # whatever the wait), the messages with senders, their attachments, the unread
    # counters for the header.
    with django_assert_num_queries(9):
        response = client.get(conversation_url(question.conversation_id))

    assert page_text(response).count('<li class="message') == 11


def test_opening_an_unread_conversation_adds_the_mark_read_action(
    client: Client,
    buyer: User,
    seller: User,
    question: Message,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    for number in range(10):
        actions.send_message(seller, question.conversation_id, f"Answer {number}")
    signed_in(client, buyer)

    # The nine of a read page, plus mark_read: savepoint, lock the row, update it, move the
    # counter, allocate an event number, insert the event, release.
    with django_assert_num_queries(16):
        client.get(conversation_url(question.conversation_id))

    assert participant(buyer, question.conversation_id).unread_count == 0
