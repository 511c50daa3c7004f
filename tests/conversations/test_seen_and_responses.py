"""Seen vs read, sellers' response times, "No response needed" and saved replies."""

from datetime import timedelta

import pytest
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from messagecenter.accounts.models import User
from messagecenter.conversations import actions, queries
from messagecenter.conversations.models import Participant, ResponseTime
from messagecenter.errors import Conflict, InvalidInput, NotAllowed, NotFound
from messagecenter.hub import queries as hub_queries
from messagecenter.marketplace.models import Product
from messagecenter.realtime.models import EventKind
from tests import factories
from tests.conversations.helpers import event_kinds, maintained_unread, recounted_unread, snapshot

pytestmark = pytest.mark.django_db


def view(user: User, conversation_id: int) -> Participant:
    return Participant.objects.get(user=user, conversation_id=conversation_id)


# --- seen vs read -------------------------------------------------------------------------


def test_opening_the_message_center_clears_the_badge_but_leaves_conversations_unread(
    buyer: User, seller: User, product: Product
) -> None:
    conversation_id = actions.ask_seller_about_product(buyer, product.pk, "Hi").conversation_id
    assert hub_queries.unread_counts(seller)["unseen"] == 1

    assert actions.mark_seen(seller) == 1

    assert hub_queries.unread_counts(seller)["unseen"] == 0
    assert hub_queries.unread_counts(seller)["buyer_seller"] == 1
    assert view(seller, conversation_id).unread_count == 1
    assert event_kinds(seller)[-1] == EventKind.MESSAGE_CENTER_SEEN


def test_seeing_twice_writes_nothing_the_second_time(
    seller: User, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    with django_assert_num_queries(3):  # savepoint, lock (finds nothing), release
        assert actions.mark_seen(seller) == 0


def test_a_new_message_after_seeing_lights_the_badge_again(
    buyer: User, seller: User, product: Product
) -> None:
    conversation_id = actions.ask_seller_about_product(buyer, product.pk, "Hi").conversation_id
    actions.mark_seen(seller)
    actions.send_message(buyer, conversation_id, "Hello again")
    assert maintained_unread(seller) == {"buyer_seller": 1, "unseen": 1}


def test_opening_a_conversation_makes_it_read_and_seen(
    buyer: User, seller: User, product: Product
) -> None:
    conversation_id = actions.ask_seller_about_product(buyer, product.pk, "Hi").conversation_id
    actions.mark_read(seller, [conversation_id])
    assert maintained_unread(seller) == {}
    assert view(seller, conversation_id).is_seen is True


def test_a_muted_conversation_does_not_light_the_badge(
    buyer: User, seller: User, product: Product
) -> None:
    conversation_id = actions.ask_seller_about_product(buyer, product.pk, "Hi").conversation_id
    actions.mark_seen(buyer)
    actions.mute_conversations(buyer, [conversation_id])
    actions.send_message(seller, conversation_id, "Answer")
    assert maintained_unread(buyer) == {"buyer_seller": 1}


def test_trashing_an_unseen_conversation_takes_it_off_the_badge(
    buyer: User, seller: User, product: Product
) -> None:
    conversation_id = actions.ask_seller_about_product(buyer, product.pk, "Hi").conversation_id
    actions.trash_conversations(seller, [conversation_id])
    assert maintained_unread(seller) == {"trash": 1}
    assert maintained_unread(seller) == recounted_unread(seller)


# --- response needed and response times ---------------------------------------------------


def test_a_buyers_question_waits_for_the_seller_until_answered(
    buyer: User, seller: User, product: Product
) -> None:
    question = actions.ask_seller_about_product(buyer, product.pk, "In stock?")
    actions.send_message(buyer, question.conversation_id, "Also: which colours?")
    waiting = view(seller, question.conversation_id)
    assert waiting.awaiting_response_since == question.created_at
    assert [p.pk for p in queries.response_needed_page(seller).participants] == [waiting.pk]

    answer = actions.send_message(seller, question.conversation_id, "Yes, in red and blue.")

    assert view(seller, question.conversation_id).awaiting_response_since is None
    assert queries.response_needed_page(seller).participants == []
    recorded = ResponseTime.objects.get()
    assert (recorded.seller_id, recorded.asked_at, recorded.answered_at) == (
        seller.pk,
        question.created_at,
        answer.created_at,
    )
    assert view(buyer, question.conversation_id).awaiting_response_since is None


def test_no_response_needed_clears_the_wait_without_a_figure(
    buyer: User, seller: User, product: Product
) -> None:
    conversation_id = actions.ask_seller_about_product(buyer, product.pk, "Thanks!").conversation_id

    assert actions.mark_no_response_needed(seller, [conversation_id]) == 1

    assert view(seller, conversation_id).awaiting_response_since is None
    assert ResponseTime.objects.count() == 0
    assert event_kinds(seller)[-1] == EventKind.CONVERSATION_NO_RESPONSE_NEEDED
    assert actions.mark_no_response_needed(seller, [conversation_id]) == 0


def test_no_response_needed_is_only_for_your_own_conversations(
    buyer: User, product: Product, other_seller: User
) -> None:
    conversation_id = actions.ask_seller_about_product(buyer, product.pk, "Hi").conversation_id
    before = snapshot()
    with pytest.raises(NotFound):
        actions.mark_no_response_needed(other_seller, [conversation_id])
    assert snapshot() == before


def test_marketplace_messages_and_agents_never_start_a_wait(
    buyer: User, agent: User, seller: User
) -> None:
    actions.send_marketplace_message(buyer, kind="order_updates", subject="Shipped", body="Ok")
    actions.contact_customer_service(buyer, "Help", "Where is it?", agent=agent)
    assert Participant.objects.filter(awaiting_response_since__isnull=False).count() == 0


def answered_after(
    seller: User, buyer: User, product: Product, asked_days_ago: float, hours: float
) -> None:
    """A wait that started `asked_days_ago` and was answered `hours` later."""
    now = timezone.now()
    conversation_id = actions.ask_seller_about_product(buyer, product.pk, "?").conversation_id
    asked_at = now - timedelta(days=asked_days_ago)
    ResponseTime.objects.create(
        seller=seller,
        conversation_id=conversation_id,
        asked_at=asked_at,
        answered_at=asked_at + timedelta(hours=hours),
    )


def test_response_figures_for_seven_thirty_and_ninety_days(
    seller: User, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    buyers = factories.BuyerFactory.create_batch(3)
    products = factories.ProductFactory.create_batch(6, storefront=seller.storefront)
    answered_after(seller, buyers[0], products[0], asked_days_ago=2, hours=1)
    answered_after(seller, buyers[0], products[1], asked_days_ago=3, hours=30)
    answered_after(seller, buyers[1], products[2], asked_days_ago=20, hours=3)
    answered_after(seller, buyers[1], products[3], asked_days_ago=60, hours=5)
    answered_after(seller, buyers[2], products[4], asked_days_ago=120, hours=1)
    # An open wait of two days (overdue) and one of an hour (not counted yet).
    overdue = actions.ask_seller_about_product(buyers[2], products[5].pk, "??").conversation_id
    Participant.objects.filter(user=seller, conversation_id=overdue).update(
        awaiting_response_since=timezone.now() - timedelta(days=2)
    )
    Participant.objects.filter(user=seller).exclude(conversation_id=overdue).update(
        awaiting_response_since=None
    )
    fresh = actions.ask_seller_about_product(
        buyers[0], factories.ProductFactory(storefront=seller.storefront).pk, "new"
    )
    assert view(seller, fresh.conversation_id).awaiting_response_since is not None

    # The answers, the open waits, and since the response window the late answers and
    # the waits past their deadline.
    with django_assert_num_queries(4):
        week, month, quarter = queries.response_figures(seller)

    assert (week.answered, week.answered_within_target, week.overdue) == (2, 1, 1)
    assert week.share_within_target == pytest.approx(1 / 3)
    assert week.average_response == timedelta(hours=15.5)
    assert (month.answered, month.answered_within_target, month.overdue) == (3, 2, 1)
    assert month.average_response == timedelta(hours=34 / 3)
    assert (quarter.answered, quarter.answered_within_target, quarter.overdue) == (4, 3, 1)
    assert quarter.share_within_target == pytest.approx(3 / 5)


def test_a_seller_with_no_questions_has_no_share(seller: User) -> None:
    week = queries.response_figures(seller)[0]
    assert (week.counted, week.share_within_target, week.average_response) == (0, None, None)


# --- saved replies ------------------------------------------------------------------------


def test_a_seller_saves_edits_and_deletes_a_reply(seller: User) -> None:
    saved = actions.save_reply(seller, "Shipping times", "We ship within 1 business day.")
    actions.save_reply(seller, "Shipping", "Same day before 2 pm.", saved_reply_id=saved.pk)
    assert list(queries.saved_replies(seller).values_list("title", "body")) == [
        ("Shipping", "Same day before 2 pm.")
    ]
    actions.delete_saved_reply(seller, saved.pk)
    assert list(queries.saved_replies(seller)) == []


def test_saved_reply_titles_are_unique_per_seller(seller: User, other_seller: User) -> None:
    actions.save_reply(seller, "Returns", "30 days.")
    actions.save_reply(other_seller, "Returns", "14 days.")
    with pytest.raises(Conflict) as error:
        actions.save_reply(seller, "Returns", "60 days.")
    assert error.value.code == "title_taken"


def test_saved_replies_are_for_sellers_and_private(
    buyer: User, seller: User, other_seller: User
) -> None:
    saved = actions.save_reply(seller, "Returns", "30 days.")
    with pytest.raises(NotAllowed):
        actions.save_reply(buyer, "Mine", "Hello")
    with pytest.raises(NotFound):
        actions.save_reply(other_seller, "Stolen", "x", saved_reply_id=saved.pk)
    with pytest.raises(NotFound):
        actions.delete_saved_reply(other_seller, saved.pk)
    assert list(queries.saved_replies(seller).values_list("body", flat=True)) == ["30 days."]


@pytest.mark.parametrize(("title", "body"), [("", "x"), ("t" * 81, "x"), ("Empty", "  ")])
def test_a_bad_saved_reply_is_refused(seller: User, title: str, body: str) -> None:
    with pytest.raises(InvalidInput):
        actions.save_reply(seller, title, body)
    assert list(queries.saved_replies(seller)) == []
