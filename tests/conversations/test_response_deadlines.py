"""Sellers' response deadlines: stored with the buyer's message, cleared by the answer,
swept when they pass (docs/escalation.md)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.business_days import calendar
from messagecenter.business_days.models import Closure
from messagecenter.conversations import actions, queries
from messagecenter.conversations.deadlines import describe_due
from messagecenter.conversations.models import Message, Participant, ResponseTime
from messagecenter.delivery.models import Email
from messagecenter.marketplace.models import Product
from messagecenter.realtime.models import UserEvent
from messagecenter.server.scheduler import PERIODIC, enqueue_due
from tests import factories
from tests.support.claims import Clock, clock

__all__ = ["clock"]

pytestmark = pytest.mark.django_db


def seller_row(seller: User, conversation_id: int) -> Participant:
    return Participant.objects.get(user=seller, conversation_id=conversation_id)


def expected_due(seller: User, asked_at: datetime) -> datetime:
    business = calendar.calendar_for(seller.country)
    return calendar.business_days_after(
        asked_at, 2, calendar.time_zone_named(seller.time_zone), business
    )


def test_a_buyer_s_question_starts_the_seller_s_deadline(
    buyer: User, seller: User, product: Product
) -> None:
    question = actions.ask_seller_about_product(buyer, product.pk, "Does it fit a 12 cup pot?")

    row = seller_row(seller, question.conversation_id)
    assert row.awaiting_response_since == question.created_at
    assert row.response_due_at == expected_due(seller, question.created_at)
    assert row.is_response_overdue is False


def test_a_second_question_keeps_the_first_deadline(
    buyer: User, seller: User, product: Product
) -> None:
    question = actions.ask_seller_about_product(buyer, product.pk, "Hello?")
    first_due = seller_row(seller, question.conversation_id).response_due_at
    Participant.objects.filter(user=seller).update(
        response_due_at=first_due - timedelta(hours=1)  # type: ignore[operator]
    )

    actions.send_message(buyer, question.conversation_id, "Anyone there?")

    assert seller_row(seller, question.conversation_id).response_due_at == first_due - timedelta(
        hours=1
    )  # type: ignore[operator]


def test_the_seller_s_answer_clears_the_deadline_and_records_whether_it_was_late(
    buyer: User, seller: User, product: Product
) -> None:
    question = actions.ask_seller_about_product(buyer, product.pk, "Hello?")
    due = timezone.now() - timedelta(minutes=5)
    Participant.objects.filter(user=seller).update(response_due_at=due, is_response_overdue=True)

    actions.send_message(seller, question.conversation_id, "Sorry for the wait!")

    row = seller_row(seller, question.conversation_id)
    assert (row.response_due_at, row.is_response_overdue, row.awaiting_response_since) == (
        None,
        False,
        None,
    )
    answer = ResponseTime.objects.get(seller=seller)
    assert answer.due_at == due
    assert answer.answered_at > due


def test_no_response_needed_clears_the_deadline(
    buyer: User, seller: User, product: Product
) -> None:
    question = actions.ask_seller_about_product(buyer, product.pk, "Thanks!")

    actions.mark_no_response_needed(seller, [question.conversation_id])

    assert seller_row(seller, question.conversation_id).response_due_at is None


def test_no_response_needed_after_the_deadline_is_refused_and_the_wait_stays_late(
    buyer: User, seller: User, product: Product
) -> None:
    """A seller silent past the deadline (escalated, counted late) ticked the question
    "No response needed" in the bulk bar: the wait left Response needed and their late
    responses, as if they had never been late. Past its deadline it is refused for the
    whole selection, nothing changed; an answer, even late, is the way out."""
    on_time = actions.ask_seller_about_product(buyer, product.pk, "Thanks!")
    other = factories.ProductFactory(storefront=seller.storefront, title="Milk frother")
    late = actions.ask_seller_about_product(buyer, other.pk, "Does it froth oat milk?")
    due = timezone.now() - timedelta(hours=1)
    Participant.objects.filter(user=seller, conversation_id=late.conversation_id).update(
        response_due_at=due, is_response_overdue=True
    )
    client = factories.signed_in(seller)

    response = client.post(
        "/message-center/actions/",
        {
            "action": "no_response_needed",
            "conversation_ids": [on_time.conversation_id, late.conversation_id],
        },
    )

    assert response.status_code == 409
    page = response.content.decode()
    assert "was due by" in page
    assert "nothing was changed" in page
    for question in (on_time, late):
        assert seller_row(seller, question.conversation_id).awaiting_response_since is not None
    assert seller_row(seller, late.conversation_id).response_due_at == due
    assert [item.conversation_id for item in queries.late_responses(seller)] == [
        late.conversation_id
    ]
    # The conversation's page offers the button only before the deadline.
    button = 'value="no_response_needed"'
    assert (
        button
        in client.get(f"/message-center/conversations/{on_time.conversation_id}/").content.decode()
    )
    assert (
        button
        not in client.get(f"/message-center/conversations/{late.conversation_id}/").content.decode()
    )
    # Before the deadline it still ends the wait.
    assert actions.mark_no_response_needed(seller, [on_time.conversation_id]) == 1


@override_settings(BUSINESS_CALENDAR_COUNTRY="US", SELLER_RESPONSE_BUSINESS_DAYS=3)
def test_the_seller_s_country_and_the_settings_decide_the_deadline(
    buyer: User, seller: User, product: Product
) -> None:
    User.objects.filter(pk=seller.pk).update(country="DE", time_zone="Europe/Berlin")
    today = timezone.localdate()
    for offset in range(1, 15):
        Closure.objects.create(country="DE", date=today + timedelta(days=offset), name="Closed")
    calendar.forget_closures()

    question = actions.ask_seller_about_product(buyer, product.pk, "Hello?")

    due = seller_row(seller, question.conversation_id).response_due_at
    assert due is not None
    german = calendar.calendar_for("DE")
    assert german.closures >= {today + timedelta(days=offset) for offset in range(1, 15)}
    assert due > timezone.now() + timedelta(days=15)
    assert due == calendar.business_days_after(
        question.created_at, 3, ZoneInfo("Europe/Berlin"), german
    )


def test_the_sweep_marks_a_passed_deadline_once_and_tells_both_sides(
    buyer: User, seller: User, product: Product
) -> None:
    question = actions.ask_seller_about_product(buyer, product.pk, "Hello?")
    Participant.objects.filter(user=seller).update(
        response_due_at=timezone.now() - timedelta(minutes=1)
    )
    before = UserEvent.objects.filter(user=buyer).count()

    assert actions.pass_response_deadlines() == 1
    assert actions.pass_response_deadlines() == 0

    assert seller_row(seller, question.conversation_id).is_response_overdue is True
    notice = Message.objects.filter(conversation_id=question.conversation_id).latest("id")
    assert notice.sender_id is None
    assert notice.body.startswith(f"No answer yet from {seller.public_name}")
    assert "ask for help" in notice.body
    assert UserEvent.objects.filter(user=buyer).count() == before + 1
    buyer_row = Participant.objects.get(user=buyer, conversation_id=question.conversation_id)
    assert buyer_row.unread_count == 1
    # The buyer's e-mail digest of buyer–seller messages carries it (their preference).
    assert Email.objects.filter(user=buyer).count() == 1
    assert mail.outbox == []


def test_the_sweep_leaves_deadlines_still_to_come_and_answered_waits(
    buyer: User, seller: User, product: Product
) -> None:
    waiting = actions.ask_seller_about_product(buyer, product.pk, "Hello?")
    answered_product = Product.objects.create(
        storefront=product.storefront, title="Kettle", sku="B0KETTLE01", price_cents=100
    )
    answered = actions.ask_seller_about_product(buyer, answered_product.pk, "Hi?")
    actions.send_message(seller, answered.conversation_id, "Hello!")

    assert actions.pass_response_deadlines() == 0
    assert seller_row(seller, waiting.conversation_id).is_response_overdue is False
    assert actions.pass_response_deadlines(now=timezone.now() + timedelta(days=30)) == 1


@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_the_sweep_from_the_schedule(
    buyer: User, seller: User, product: Product
) -> None:
    question = actions.ask_seller_about_product(buyer, product.pk, "Hello?")
    Participant.objects.filter(user=seller).update(
        response_due_at=timezone.now() - timedelta(minutes=1)
    )
    sweep = next(p for p in PERIODIC if p.task.name == "pass_response_deadlines")
    assert sweep.every == timedelta(minutes=1)
    assert enqueue_due(sweep) is True

    call_command("db_worker", batch=True, interval=0, no_startup_delay=True, verbosity=0)

    assert seller_row(seller, question.conversation_id).is_response_overdue is True


def test_the_buyer_and_the_seller_see_the_same_window(
    buyer: User, seller: User, product: Product
) -> None:
    question = actions.ask_seller_about_product(buyer, product.pk, "Hello?")
    earlier = actions.ask_seller_about_product(
        buyer,
        Product.objects.create(
            storefront=product.storefront, title="Mug", sku="B0MUG00001", price_cents=100
        ).pk,
        "Earlier question",
    )
    ResponseTime.objects.filter(conversation_id=earlier.conversation_id).delete()
    now = timezone.now()
    ResponseTime.objects.create(
        seller=seller,
        conversation_id=earlier.conversation_id,
        asked_at=now - timedelta(days=2, hours=5),
        answered_at=now - timedelta(days=2),
    )

    as_buyer = queries.response_window(queries.access_conversation(buyer, question.conversation_id))
    as_seller = queries.response_window(
        queries.access_conversation(seller, question.conversation_id)
    )

    assert as_buyer is not None
    assert as_seller is not None
    assert as_buyer.due_at == as_seller.due_at == expected_due(seller, question.created_at)
    assert as_buyer.usually == timedelta(hours=5)
    assert as_buyer.seller_name == seller.public_name
    assert as_buyer.has_passed(timezone.now()) is False


def test_late_figures_and_the_conversations_that_made_them(
    buyer: User, seller: User, product: Product
) -> None:
    now = timezone.now()
    late_open = actions.ask_seller_about_product(buyer, product.pk, "Hello?")
    Participant.objects.filter(user=seller).update(response_due_at=now - timedelta(days=1))
    ResponseTime.objects.create(
        seller=seller,
        conversation_id=late_open.conversation_id,
        asked_at=now - timedelta(days=20),
        answered_at=now - timedelta(days=15),
        due_at=now - timedelta(days=17),
    )
    ResponseTime.objects.create(
        seller=seller,
        conversation_id=late_open.conversation_id,
        asked_at=now - timedelta(days=3),
        answered_at=now - timedelta(days=2, hours=20),
        due_at=now - timedelta(days=1),
    )

    figures = {f.days: f for f in queries.response_figures(seller, now=now)}

    assert (figures[7].late, figures[7].with_deadline) == (1, 2)
    assert (figures[30].late, figures[30].with_deadline) == (2, 3)
    assert figures[30].late_rate == pytest.approx(2 / 3)
    late = queries.late_responses(seller, now=now)
    assert [(item.conversation_id, item.answered_at is None) for item in late] == [
        (late_open.conversation_id, True),
        (late_open.conversation_id, False),
    ]


def test_no_deadline_for_a_seller_writing_first_or_a_customer_service_conversation(
    buyer: User, seller: User, product: Product
) -> None:
    order = factories.order_with_item(buyer, product)
    message = actions.contact_buyer_about_order(seller, order.pk, "Your parcel is late.")
    assert seller_row(seller, message.conversation_id).response_due_at is None
    assert (
        queries.response_window(queries.access_conversation(buyer, message.conversation_id)) is None
    )


def test_a_deadline_reads_as_the_end_of_a_day_where_it_falls_at_midnight() -> None:
    new_york = ZoneInfo("America/New_York")
    midnight = datetime(2026, 12, 9, tzinfo=new_york)
    assert describe_due(midnight, new_york) == "the end of Tue 8 Dec 2026 (EST)"
    assert describe_due(midnight, ZoneInfo("Europe/Berlin")) == "Wed 9 Dec 2026, 6:00 AM CET"


def test_the_sweep_s_notice_gives_each_side_the_deadline_in_their_own_zone(
    buyer: User, seller: User, product: Product
) -> None:
    """The buyer in Tokyo and the seller in New York read the one notice (on the page, in
    the API and by e-mail, the same stored text): the deadline in both their zones, named,
    as the marketplace writes a moment — never the worker's zone (the site's UTC)."""
    User.objects.filter(pk=buyer.pk).update(time_zone="Asia/Tokyo")
    User.objects.filter(pk=seller.pk).update(time_zone="America/New_York")
    question = actions.ask_seller_about_product(buyer, product.pk, "Hello?")
    due = datetime(2026, 12, 9, 5, 0, tzinfo=ZoneInfo("UTC"))  # midnight in New York
    Participant.objects.filter(user=seller).update(response_due_at=due)

    assert actions.pass_response_deadlines(now=due + timedelta(minutes=1)) == 1

    notice = Message.objects.filter(conversation_id=question.conversation_id).latest("id")
    assert (
        "the answer was due within 2 business days, by Wed 9 Dec 2026, 2:00 PM JST "
        "(Wed 9 Dec 2026, 12:00 AM EST)." in notice.body
    )
    assert "UTC" not in notice.body


# --- the seller's day and clock, read again for every question ---------------------------
#
# A deadline is counted from the day the question was asked in the seller's zone, and ends
# at midnight there with that midnight's own offset. Nothing keeps a local time, a date or
# an offset from one question (or from when the process started) for the next: these run
# each question at a moment of its own, on a frozen clock, in one process.

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")


def due_of(seller: User, question: Message) -> datetime | None:
    return seller_row(seller, question.conversation_id).response_due_at


def test_a_deadline_across_the_end_of_summer_time_ends_at_winter_midnight(
    buyer: User, other_buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    """Asked on Friday 23 Oct 2026 in Berlin's summer time (+02:00), due by the end of
    Tuesday 27 Oct, after the clocks went back on Sunday: midnight at +01:00, 23:00 UTC —
    an offset kept from the asking would make it 22:00. A question after the change counts
    from its own day."""
    User.objects.filter(pk=seller.pk).update(country="DE", time_zone="Europe/Berlin")
    clock.now = datetime(2026, 10, 23, 10, 0, tzinfo=BERLIN).astimezone(UTC)
    before_the_change = actions.ask_seller_about_product(buyer, product.pk, "Hello?")
    clock.now = datetime(2026, 10, 26, 9, 0, tzinfo=BERLIN).astimezone(UTC)
    after_the_change = actions.ask_seller_about_product(other_buyer, product.pk, "Hello?")

    due = due_of(seller, before_the_change)
    assert due == datetime(2026, 10, 27, 23, 0, tzinfo=UTC)
    assert due_of(seller, after_the_change) == datetime(2026, 10, 28, 23, 0, tzinfo=UTC)
    assert describe_due(due, BERLIN) == "the end of Tue 27 Oct 2026 (CET)"
    # Midnight in summer time is not the deadline: the sweep waits for winter midnight.
    clock.now = datetime(2026, 10, 27, 22, 30, tzinfo=UTC)
    assert actions.pass_response_deadlines() == 0
    clock.now = datetime(2026, 10, 27, 23, 0, tzinfo=UTC)
    assert actions.pass_response_deadlines() == 1


def test_a_deadline_across_the_start_of_summer_time_ends_at_summer_midnight(
    buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    """New York moves its clocks forward on Sunday 8 Mar 2026: asked on Friday 6 Mar at
    -05:00, due by the end of Tuesday 10 Mar at -04:00 (04:00 UTC, not 05:00)."""
    User.objects.filter(pk=seller.pk).update(country="US", time_zone="America/New_York")
    clock.now = datetime(2026, 3, 6, 17, 0, tzinfo=NEW_YORK).astimezone(UTC)

    question = actions.ask_seller_about_product(buyer, product.pk, "Hello?")

    assert due_of(seller, question) == datetime(2026, 3, 11, 4, 0, tzinfo=UTC)


def test_a_question_a_minute_after_the_seller_s_midnight_counts_from_the_new_day(
    buyer: User, other_buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    """23:59 on Monday 7 Dec in New York: due by the end of Wednesday. A minute later it is
    Tuesday there, and the next question is due by the end of Thursday — while the site's
    zone (UTC) has been on Tuesday for five hours and the zone of the request (the
    buyer's, Tokyo) since the afternoon: neither decides the seller's day."""
    User.objects.filter(pk=seller.pk).update(country="US", time_zone="America/New_York")
    clock.now = datetime(2026, 12, 7, 23, 59, tzinfo=NEW_YORK).astimezone(UTC)
    with timezone.override(TOKYO):
        before_midnight = actions.ask_seller_about_product(buyer, product.pk, "Hello?")
        clock.advance(minutes=1)
        after_midnight = actions.ask_seller_about_product(other_buyer, product.pk, "Hello?")

    assert due_of(seller, before_midnight) == datetime(2026, 12, 10, tzinfo=NEW_YORK)
    assert due_of(seller, after_midnight) == datetime(2026, 12, 11, tzinfo=NEW_YORK)
