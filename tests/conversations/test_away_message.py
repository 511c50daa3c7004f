"""A seller's away message (conversations/actions/away.py): setting it and its refusals, the
automatic reply once per conversation per away period, only where a buyer writes to the
shop, never the seller's response, its safety check, the API and the page."""

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from messagecenter.accounts.models import User
from messagecenter.conversations import actions, queries
from messagecenter.conversations.models import (
    AwayMessage,
    Kind,
    Message,
    Participant,
    ResponseTime,
)
from messagecenter.delivery.models import Email
from messagecenter.errors import InvalidInput, NotAllowed
from messagecenter.marketplace.models import Product
from messagecenter.realtime.models import EventKind, UserEvent
from messagecenter.support import escalation_actions
from messagecenter.support.models import Case
from tests import factories
from tests.api.helpers import error_of, with_token
from tests.conversations.helpers import maintained_unread, recounted_unread, unread_in_sight

pytestmark = pytest.mark.django_db

AWAY_TEXT = "Thanks for your message! The shop is closed for the holidays."
PAGE = "/message-center/away-message/"
API = "/seller/away-message"


def away(seller: User, *, days: int = 7, text: str = AWAY_TEXT) -> actions.AwayStatus:
    return actions.set_away_message(seller, text, until=timezone.now() + timedelta(days=days))


def automatic_replies(conversation_id: int) -> list[Message]:
    return list(
        Message.objects.filter(conversation_id=conversation_id, is_automatic_reply=True).order_by(
            "pk"
        )
    )


def view(user: User, conversation_id: int) -> Participant:
    return Participant.objects.get(user=user, conversation_id=conversation_id)


def counts_are_exact(*people: User) -> None:
    for person in people:
        assert maintained_unread(person) == recounted_unread(person)


# --- setting it ------------------------------------------------------------------------------


def test_a_seller_switches_the_away_message_on_and_off(seller: User) -> None:
    until = timezone.now() + timedelta(days=10)

    status = actions.set_away_message(seller, f"  {AWAY_TEXT}  ", until=until)

    assert (status.state, status.body, status.away_until) == ("on", AWAY_TEXT, until)
    seller.refresh_from_db()
    assert seller.away_until == until
    assert seller.is_away(timezone.now())

    actions.switch_off_away_message(seller)

    seller.refresh_from_db()
    assert (seller.away_from, seller.away_until) == (None, None)
    status = actions.away_status(seller)
    # The text is kept for the next time.
    assert (status.state, status.body) == ("off", AWAY_TEXT)


def test_an_away_message_from_a_later_day_is_scheduled(seller: User) -> None:
    starts = timezone.now() + timedelta(days=2)

    status = actions.set_away_message(
        seller, AWAY_TEXT, starts=starts, until=starts + timedelta(days=3)
    )

    assert (status.state, status.away_from) == ("scheduled", starts)


@pytest.mark.parametrize(
    ("body", "until_days", "starts_days", "code", "field"),
    [
        ("", 3, None, "empty_message", None),
        ("x" * 10_001, 3, None, "message_too_long", None),
        (AWAY_TEXT, None, None, "away_until_required", "away_until"),
        (AWAY_TEXT, -1, None, "invalid_away_dates", "away_until"),
        (AWAY_TEXT, 61, None, "away_too_long", "away_until"),
        (AWAY_TEXT, 3, 4, "invalid_away_dates", "away_from"),
        (AWAY_TEXT, 3, -100 * 365, "invalid_away_dates", "away_from"),
        (AWAY_TEXT, 300 * 365, None, "invalid_away_dates", "away_until"),
    ],
)
def test_a_bad_away_message_is_refused_and_changes_nothing(
    seller: User,
    body: str,
    until_days: int | None,
    starts_days: int | None,
    code: str,
    field: str | None,
) -> None:
    """The date errors share a code: each names the field it is about."""
    now = timezone.now()
    with pytest.raises(InvalidInput) as refused:
        actions.set_away_message(
            seller,
            body,
            until=None if until_days is None else now + timedelta(days=until_days),
            starts=None if starts_days is None else now + timedelta(days=starts_days),
        )

    assert (refused.value.code, refused.value.field) == (code, field)
    seller.refresh_from_db()
    assert seller.away_until is None
    assert not AwayMessage.objects.exists()


def test_only_sellers_have_an_away_message(buyer: User) -> None:
    with pytest.raises(NotAllowed) as refused:
        away(buyer)

    assert refused.value.code == "sellers_only"


def test_a_payment_link_is_refused_as_a_held_message_would_be(seller: User) -> None:
    """An automatic reply is the seller's words to every buyer who writes: what would hold
    a message is refused (nothing can wait for review here), the same code as a claim's."""
    with pytest.raises(InvalidInput) as refused:
        away(seller, text="Away! Pay here meanwhile: paypal.me/johnny")

    assert refused.value.code == "text_refused"
    seller.refresh_from_db()
    assert seller.away_until is None


def test_contact_details_are_masked_and_the_warning_goes_with_the_reply(
    buyer: User, seller: User, product: Product
) -> None:
    away(seller, text="Away until Monday. Urgent? Call me at 415-867-5309.")
    stored = AwayMessage.objects.get(seller=seller)
    assert "415-867-5309" not in stored.body
    assert stored.is_masked

    question = actions.ask_seller_about_product(buyer, product.pk, "In stock?")

    [reply] = automatic_replies(question.conversation_id)
    assert "415-867-5309" not in reply.body
    assert (reply.is_masked, reply.safety_verdict, reply.safety_reasons) == (
        True,
        stored.safety_verdict,
        stored.safety_reasons,
    )


def test_changing_the_message_while_away_keeps_the_period(
    buyer: User, seller: User, product: Product
) -> None:
    away(seller)
    question = actions.ask_seller_about_product(buyer, product.pk, "In stock?")

    away(seller, days=9, text="Back a little later than planned.")
    actions.send_message(buyer, question.conversation_id, "Hello?")

    assert len(automatic_replies(question.conversation_id)) == 1


# --- the automatic reply -----------------------------------------------------------------------


def test_a_buyers_first_message_gets_one_automatic_reply_per_conversation(
    buyer: User, other_buyer: User, seller: User, product: Product
) -> None:
    seller.time_zone = "Europe/Paris"
    seller.save(update_fields=["time_zone"])
    buyer.time_zone = "America/New_York"
    buyer.save(update_fields=["time_zone"])
    back = datetime(2026, 12, 24, 9, 0, tzinfo=ZoneInfo("America/New_York"))
    actions.set_away_message(seller, AWAY_TEXT, until=back)

    question = actions.ask_seller_about_product(buyer, product.pk, "In stock?")
    # The buyer has it unread; the seller still has the buyer's question unread.
    assert view(buyer, question.conversation_id).unread_count == 1
    assert view(seller, question.conversation_id).unread_count == 1
    counts_are_exact(buyer, seller)
    actions.send_message(buyer, question.conversation_id, "And in red?")
    other = actions.ask_seller_about_product(other_buyer, product.pk, "Hello")

    [reply] = automatic_replies(question.conversation_id)
    assert reply.sender_id == seller.pk
    assert reply.pk > question.pk
    # The day the seller is back, in the buyer's time zone, then the seller's text.
    assert reply.body == (
        f"Acme Kitchen is away until Thu 24 Dec 2026, 9:00 AM EST.\n\n{AWAY_TEXT}"
    )
    assert len(automatic_replies(other.conversation_id)) == 1
    conversation = reply.conversation
    conversation.refresh_from_db()
    assert conversation.message_count == 3
    messages = Message.objects.filter(conversation_id=question.conversation_id).order_by("pk")
    assert conversation.last_message_id == messages.last().pk  # type: ignore[union-attr]
    # The buyer read it by writing after it; the seller has both of the buyer's unread.
    assert view(buyer, question.conversation_id).unread_count == 0
    assert view(seller, question.conversation_id).unread_count == 2
    for person in (buyer, seller):
        assert view(person, question.conversation_id).unread_count == unread_in_sight(
            person, question.conversation_id
        )
    counts_are_exact(buyer, other_buyer, seller)


def test_the_reply_is_live_on_both_sides_and_not_emailed(
    buyer: User, seller: User, product: Product
) -> None:
    away(seller)
    question = actions.ask_seller_about_product(buyer, product.pk, "In stock?")
    [reply] = automatic_replies(question.conversation_id)

    for person in (buyer, seller):
        [event] = [
            event
            for event in UserEvent.objects.filter(user=person, kind=EventKind.MESSAGE_CREATED)
            if event.payload["message_id"] == reply.pk
        ]
        assert event.payload["unread_count"] == view(person, question.conversation_id).unread_count
    # The seller's digest of the buyer's question; nothing for the automatic reply.
    assert not Email.objects.filter(user=buyer).exists()


def test_a_new_away_period_replies_again(buyer: User, seller: User, product: Product) -> None:
    away(seller)
    question = actions.ask_seller_about_product(buyer, product.pk, "In stock?")
    actions.switch_off_away_message(seller)
    actions.send_message(buyer, question.conversation_id, "Back yet?")
    assert len(automatic_replies(question.conversation_id)) == 1

    away(seller)
    actions.send_message(buyer, question.conversation_id, "Hello again")

    assert len(automatic_replies(question.conversation_id)) == 2


def test_no_reply_before_a_scheduled_period_or_after_it_ended(
    buyer: User, seller: User, product: Product
) -> None:
    starts = timezone.now() + timedelta(days=1)
    actions.set_away_message(seller, AWAY_TEXT, starts=starts, until=starts + timedelta(days=2))
    question = actions.ask_seller_about_product(buyer, product.pk, "In stock?")
    User.objects.filter(pk=seller.pk).update(
        away_from=timezone.now() - timedelta(days=3), away_until=timezone.now() - timedelta(days=1)
    )
    actions.send_message(buyer, question.conversation_id, "Hello?")

    assert automatic_replies(question.conversation_id) == []


def test_the_sellers_own_messages_get_no_reply(buyer: User, seller: User, product: Product) -> None:
    question = actions.ask_seller_about_product(buyer, product.pk, "In stock?")
    away(seller)

    actions.send_message(seller, question.conversation_id, "Yes, before I leave: it is.")

    assert automatic_replies(question.conversation_id) == []


def test_the_reply_is_not_the_sellers_response(buyer: User, seller: User, product: Product) -> None:
    away(seller)
    order = factories.order_with_item(buyer, product)
    question = actions.contact_seller_about_order(
        buyer, order.pk, product.storefront_id, "Where is my parcel?"
    )
    assert len(automatic_replies(question.conversation_id)) == 1

    waiting = view(seller, question.conversation_id)
    assert waiting.awaiting_response_since == question.created_at
    assert waiting.response_due_at is not None
    assert [p.pk for p in queries.response_needed_page(seller).participants] == [waiting.pk]
    assert not ResponseTime.objects.exists()
    assert not view(seller, question.conversation_id).has_written

    # The deadline passes: the buyer can still ask customer service to step in.
    Participant.objects.filter(pk=waiting.pk).update(
        response_due_at=timezone.now() - timedelta(minutes=1)
    )
    case = escalation_actions.ask_for_help(buyer, question.conversation_id)

    assert Case.objects.filter(pk=case.pk).exists()


def test_no_reply_in_order_updates_customer_service_or_claims(
    buyer: User, seller: User, product: Product
) -> None:
    away(seller)
    order = factories.order_with_item(buyer, product, status="delivered")
    update = actions.send_marketplace_message(
        buyer, kind=Kind.ORDER_UPDATES, subject="Shipped", body="Your order shipped.", order=order
    )
    service = actions.contact_customer_service(seller, "Payouts", "When is my payout?")
    claim = actions.start_claim_conversation(
        buyer, order, product.storefront, "Item not received", "Nothing came."
    )

    for conversation_id in (
        update.conversation_id,
        service.conversation_id,
        claim.conversation_id,
    ):
        assert automatic_replies(conversation_id) == []
    assert not Message.objects.filter(is_automatic_reply=True).exists()


def test_no_reply_to_a_buyer_who_blocked_the_shop(
    buyer: User, seller: User, product: Product
) -> None:
    """The reply is the seller's message, which the buyer's block refuses: a buyer who
    blocked the shop and writes to it again gets none. (A buyer the seller blocked cannot
    write to the shop at all.)"""
    from messagecenter.safety import actions as safety_actions

    question = actions.ask_seller_about_product(buyer, product.pk, "In stock?")
    safety_actions.block(buyer, seller)
    away(seller)

    actions.send_message(buyer, question.conversation_id, "Still there?")

    assert automatic_replies(question.conversation_id) == []
    counts_are_exact(buyer, seller)


def test_a_send_to_a_seller_who_is_not_away_reads_nothing_more(
    buyer: User,
    seller: User,
    product: Product,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    """What the check needs is on the seller's user row, which the send reads with the
    participants: the follow-up figure of a buyer's message stays what it is without the
    feature (tests/conversations/test_query_counts.py pins the seller's)."""
    question = actions.ask_seller_about_product(buyer, product.pk, "In stock?")
    actions.send_message(buyer, question.conversation_id, "Also: which colours?")

    # Scheduled for later: not away now.
    starts = timezone.now() + timedelta(days=1)
    actions.set_away_message(seller, AWAY_TEXT, starts=starts, until=starts + timedelta(days=1))
    with django_assert_num_queries(BUYER_FOLLOW_UP_STATEMENTS):
        actions.send_message(buyer, question.conversation_id, "And the price?")


# A buyer's third message: savepoint, lock participants, blocks, sending limits, message,
# conversation, participants, search document, mailboxes, events (2), the seller's digest
# (2), release — the seller is already unread and unseen, and already waiting.
BUYER_FOLLOW_UP_STATEMENTS = 14
# An away seller's automatic reply on top: their away message, their storefront (the name
# the reply gives), the mark of this period's reply, the reply, its search document and
# mailboxes, the conversation, the buyer's row, the buyer's counters, events (2).
AUTOMATIC_REPLY_STATEMENTS = 11


def test_the_automatic_reply_costs_its_own_statements_only_when_away(
    buyer: User,
    seller: User,
    product: Product,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    question = actions.ask_seller_about_product(buyer, product.pk, "In stock?")
    actions.send_message(buyer, question.conversation_id, "Also: which colours?")
    away(seller)

    with django_assert_num_queries(BUYER_FOLLOW_UP_STATEMENTS + AUTOMATIC_REPLY_STATEMENTS):
        actions.send_message(buyer, question.conversation_id, "And the price?")

    assert len(automatic_replies(question.conversation_id)) == 1


def test_the_page_labels_the_automatic_reply(buyer: User, seller: User, product: Product) -> None:
    away(seller)
    question = actions.ask_seller_about_product(buyer, product.pk, "In stock?")

    page = factories.signed_in(buyer).get(
        f"/message-center/conversations/{question.conversation_id}/"
    )

    text = page.content.decode()
    assert 'data-testid="automatic-reply"' in text
    assert "Automatic reply" in text
    assert text.count('data-testid="automatic-reply"') == 1


def test_the_api_says_which_message_is_automatic(
    buyer: User, seller: User, product: Product
) -> None:
    away(seller)
    question = actions.ask_seller_about_product(buyer, product.pk, "In stock?")

    answer = with_token(buyer).get(f"/conversations/{question.conversation_id}/messages")

    assert answer.status_code == 200
    items = answer.json()["items"]
    assert [item["is_automatic_reply"] for item in items] == [False, True]


# --- the API --------------------------------------------------------------------------------


def test_the_api_sets_reads_and_switches_off_the_away_message(seller: User) -> None:
    client = with_token(seller)
    until = (timezone.now() + timedelta(days=5)).replace(microsecond=0)

    assert client.get(API).json() == {
        "body": "",
        "state": "off",
        "away_from": None,
        "away_until": None,
    }
    put = client.call("PUT", API, {"body": AWAY_TEXT, "away_until": until.isoformat()})
    assert put.status_code == 200
    assert (put.json()["state"], put.json()["body"]) == ("on", AWAY_TEXT)
    assert datetime.fromisoformat(put.json()["away_until"]) == until
    assert client.get(API).json()["state"] == "on"

    assert client.delete(API).status_code == 204
    assert client.get(API).json()["state"] == "off"


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"body": AWAY_TEXT}, 400, "away_until_required"),
        ({"body": "Pay here: paypal.me/johnny", "days": 3}, 400, "text_refused"),
        ({"body": AWAY_TEXT, "days": 90}, 400, "away_too_long"),
        ({"body": " ", "days": 3}, 400, "empty_message"),
    ],
)
def test_the_api_refuses_what_the_action_refuses(
    seller: User, payload: dict[str, Any], status: int, code: str
) -> None:
    body = {key: value for key, value in payload.items() if key != "days"}
    if "days" in payload:
        body["away_until"] = (timezone.now() + timedelta(days=payload["days"])).isoformat()

    answer = with_token(seller).call("PUT", API, body)

    assert error_of(answer) == (status, code)


@pytest.mark.parametrize(
    ("starts_days", "until_days", "field"),
    [(4, 3, "away_from"), (None, -1, "away_until"), (None, 90, "away_until")],
)
def test_the_api_names_the_date_an_error_is_about(
    seller: User, starts_days: int | None, until_days: int, field: str
) -> None:
    now = timezone.now()
    body = {"body": AWAY_TEXT, "away_until": (now + timedelta(days=until_days)).isoformat()}
    if starts_days is not None:
        body["away_from"] = (now + timedelta(days=starts_days)).isoformat()

    answer = with_token(seller).call("PUT", API, body)

    assert answer.status_code == 400
    assert answer.json()["error"]["field"] == field
    seller.refresh_from_db()
    assert seller.away_until is None


def test_an_error_about_no_one_field_names_none(seller: User) -> None:
    answer = with_token(seller).call(
        "PUT", API, {"body": " ", "away_until": (timezone.now() + timedelta(days=3)).isoformat()}
    )

    assert error_of(answer) == (400, "empty_message")
    assert "field" not in answer.json()["error"]


def test_the_api_is_for_sellers_only(buyer: User) -> None:
    assert error_of(with_token(buyer).get(API)) == (403, "sellers_only")
    assert with_token(buyer).delete(API).status_code == 403


# --- the page -------------------------------------------------------------------------------


def signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def test_the_page_switches_the_away_message_on_in_the_sellers_zone_and_off(
    client: Client, seller: User
) -> None:
    seller.time_zone = "Asia/Tokyo"
    seller.save(update_fields=["time_zone"])
    signed_in(client, seller)
    back = (timezone.now() + timedelta(days=5)).astimezone(ZoneInfo("Asia/Tokyo"))
    local = back.strftime("%Y-%m-%dT%H:%M")

    assert "Switch on" in client.get(PAGE).content.decode()
    saved = client.post(PAGE, {"body": AWAY_TEXT, "away_from": "", "away_until": local})

    assert saved.status_code == 302
    seller.refresh_from_db()
    assert seller.away_until == back.replace(second=0, microsecond=0)
    page = client.get(PAGE).content.decode()
    assert "<strong>On</strong>" in page
    assert f'value="{local}"' in page

    client.post("/message-center/away-message/off/")
    seller.refresh_from_db()
    assert seller.away_until is None


def test_the_page_shows_a_refusal_beside_the_form_and_changes_nothing(
    client: Client, seller: User
) -> None:
    signed_in(client, seller)
    local = (timezone.now() + timedelta(days=90)).strftime("%Y-%m-%dT%H:%M")

    refused = client.post(PAGE, {"body": AWAY_TEXT, "away_until": local})

    assert refused.status_code == 400
    assert "at most 60 days" in refused.content.decode()
    seller.refresh_from_db()
    assert seller.away_until is None


def invalid_fields(page: str) -> set[str]:
    """The names of the inputs the page marks aria-invalid."""
    inputs = re.findall(r"<(?:input|textarea)\b[^>]*>", page)
    return {
        re.search(r'name="([^"]+)"', tag).group(1)  # type: ignore[union-attr]
        for tag in inputs
        if 'aria-invalid="true"' in tag
    }


@pytest.mark.parametrize(
    ("form", "marked"),
    [
        # Leaving after coming back: the day you leave is what to change.
        ({"away_from": 4, "away_until": 3}, {"away_from"}),
        ({"away_from": "soon", "away_until": 3}, {"away_from"}),
        ({"away_until": -1}, {"away_until"}),
        ({"away_until": "tomorrow"}, {"away_until"}),
        ({"away_until": 90}, {"away_until"}),
        ({"body": "", "away_until": 3}, {"body"}),
    ],
)
def test_the_page_marks_the_field_an_error_is_about(
    client: Client, seller: User, form: dict[str, Any], marked: set[str]
) -> None:
    signed_in(client, seller)
    now = timezone.now()
    posted = {"body": AWAY_TEXT, "away_from": "", "away_until": ""}
    for name, value in form.items():
        if isinstance(value, int):
            value = timezone.localtime(now + timedelta(days=value)).strftime("%Y-%m-%dT%H:%M")
        posted[name] = value

    refused = client.post(PAGE, posted)

    assert refused.status_code == 400
    page = refused.content.decode()
    assert invalid_fields(page) == marked
    assert 'role="alert" id="away-error"' in page
    seller.refresh_from_db()
    assert seller.away_until is None


def test_the_page_is_a_404_for_everyone_but_sellers(client: Client, buyer: User) -> None:
    signed_in(client, buyer)

    assert client.get(PAGE).status_code == 404
    assert client.post("/message-center/away-message/off/").status_code == 404


def test_the_message_center_links_sellers_to_the_page(client: Client, seller: User) -> None:
    signed_in(client, seller)

    assert f'href="{PAGE}"' in client.get("/message-center/").content.decode()
