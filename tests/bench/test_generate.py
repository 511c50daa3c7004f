"""The benchmark dataset is what the actions would have left (bench/generate.py): a small
one, loaded the fast way (indexes dropped and created again, foreign-key checks off), then
checked with the project's own recounts and search."""

from typing import Any

import pytest
from bench.generate import Options, check_dataset, generate
from django.core.management import call_command

from messagecenter.accounts.models import User
from messagecenter.conversations.models import Conversation, Message, Participant
from messagecenter.search.queries import SearchFilters, search_messages

pytestmark = pytest.mark.django_db(transaction=True)

# Half the 6,000 messages these tests once generated (each test loads it, one twice), in
# as many conversations per person: every kind of conversation is still there (5
# promotions, 11 notices, 29 returns, 44 with customer service), archives, unseen people,
# answered waits, a small buyer and the two 200-message conversations, and generating and
# checking it costs about half as much. What is checked is that the rows are what the
# actions would leave, not how many there are.
SMALL = Options(
    users=300,
    sellers=15,
    agents=3,
    messages=3_000,
    long_conversations=2,
    senders=8,
    stream_buyers=5,
)


def quiet(line: str) -> None:
    pass


def test_a_small_dataset_keeps_every_invariant_of_the_actions() -> None:
    dataset = generate(SMALL, log=quiet)

    assert check_dataset(dataset.tokens) == []
    assert Message.objects.count() == 3_000
    assert Conversation.objects.filter(message_count=200).count() == 2
    biggest = dataset.tokens["biggest_seller"]
    assert (
        biggest["conversations"] == Participant.objects.filter(user_id=biggest["user_id"]).count()
    )
    assert 2 <= dataset.tokens["small_buyer"]["conversations"] <= 5
    assert len(dataset.tokens["senders"]) == 8


def test_a_dataset_that_breaks_an_invariant_is_reported() -> None:
    dataset = generate(SMALL, log=quiet)
    participant = Participant.objects.filter(unread_count__gt=0).first()
    assert participant is not None
    Participant.objects.filter(pk=participant.pk).update(unread_count=participant.unread_count + 1)

    # The whole-table recounts are what must catch the row, and report nothing else. The
    # per-person and per-message comparisons, with the default sample (everyone, here) two
    # thirds of the check's ≈ 1,700 queries, each a round trip to the server on PostgreSQL
    # (this test took 23 s there in the suite, 7.6 s on SQLite), are the test above's, on
    # the same rows: a sample of 50 still runs each of them.
    assert check_dataset(dataset.tokens, sample=50) == [
        "1 participants whose unread_count is not a recount",
    ]


def snapshot() -> dict[str, Any]:
    return {
        "participants": list(
            Participant.objects.order_by("pk").values_list(
                "user_id", "conversation_id", "box", "unread_count", "is_seen", "last_read_message"
            )
        ),
        "bodies": list(Message.objects.order_by("pk").values_list("sender_id", "body")),
    }


def test_the_same_seed_gives_the_same_rows() -> None:
    generate(SMALL, log=quiet)
    first = snapshot()
    call_command("flush", interactive=False, verbosity=0)

    generate(SMALL, log=quiet)

    assert snapshot() == first


def test_the_search_workload_finds_the_order_it_searches_for() -> None:
    dataset = generate(SMALL, log=quiet)
    seller = User.objects.get(pk=dataset.tokens["biggest_seller"]["user_id"])
    number = dataset.tokens["biggest_seller"]["search"]["order_number"]

    found = search_messages(seller, SearchFilters(text=number)).results

    assert {result.subject for result in found} == {f"Order {number}"}
