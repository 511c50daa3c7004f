"""The index follows the messages: written in the transaction that sends, gone with a purged
conversation, rebuilt from scratch by the command, identical in effect on both databases."""

from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from messagecenter.conversations import actions
from messagecenter.conversations.models import Conversation, Kind, Message
from messagecenter.search.actions import index_messages
from messagecenter.search.models import MailboxMessage, SearchDocument
from messagecenter.search.queries import SearchFilters, search_messages
from messagecenter.search.tokens import MAX_OCCURRENCES
from tests.search.conftest import ORDER_NUMBER, Mailbox

pytestmark = pytest.mark.django_db


def indexed(word: str) -> list[int]:
    """Message ids the full-text index itself (not the documents table) finds for a word."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT rowid FROM search_index WHERE search_index MATCH %s ORDER BY rowid",
                [f'"{word}"'],
            )
        else:
            cursor.execute(
                "SELECT message_id FROM search_searchdocument WHERE vector @@ %s::tsquery "
                "ORDER BY message_id",
                [f"'{word}'"],
            )
        return [row[0] for row in cursor.fetchall()]


def assert_index_matches_documents() -> None:
    """FTS5 compares its index with the documents table; PostgreSQL's column is generated
    from the row, so it cannot differ."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO search_index (search_index, rank) VALUES ('integrity-check', 1)"
            )


def test_a_message_is_indexed_with_its_subject_order_number_and_sender(
    mailbox: Mailbox,
) -> None:
    update = SearchDocument.objects.get(message_id=mailbox.ids["c1"])
    answer = SearchDocument.objects.get(message_id=mailbox.ids["d2"])

    assert (update.tokens, update.subject_tokens, update.sender_names) == (
        "your order has shipped 112 4839201 5521937 marketplace "
        "order 112 4839201 5521937 is on its way expected delivery friday",
        "your order has shipped 112 4839201 5521937",
        "marketplace",
    )
    assert (answer.tokens, answer.sender_names) == (
        # The name customers see for agents, not the agent's own (docs/support.md).
        "refund question customer service your refund was issued today",
        "customer service",
    )
    assert indexed("friday") == [mailbox.ids["c1"]]
    assert_index_matches_documents()


def test_a_message_and_its_document_are_written_together_or_not_at_all(
    mailbox: Mailbox,
) -> None:
    conversation_id = Message.objects.get(pk=mailbox.ids["a1"]).conversation_id

    def send_then_fail() -> None:
        with transaction.atomic():
            actions.send_message(mailbox.seller, conversation_id, "A descaling tablet is included.")
            assert len(indexed("descaling")) == 1
            raise RuntimeError("the request failed after the send")

    with pytest.raises(RuntimeError):
        send_then_fail()

    assert indexed("descaling") == []
    assert not SearchDocument.objects.exclude(message__in=Message.objects.all()).exists()
    assert SearchDocument.objects.count() == Message.objects.count()
    assert_index_matches_documents()


def test_a_purged_conversation_leaves_nothing_in_the_index(mailbox: Mailbox) -> None:
    promotion = Message.objects.get(pk=mailbox.ids["e1"])
    assert indexed("toasters") == [promotion.pk]

    # Alice was the promotion's only reader: 30 days in Trash, and it is gone.
    assert actions.purge_expired_trash(now=timezone.now() + timedelta(days=31)) == 1

    assert not Conversation.objects.filter(pk=promotion.conversation_id).exists()
    assert not SearchDocument.objects.filter(message_id=promotion.pk).exists()
    assert not MailboxMessage.objects.filter(message_id=promotion.pk).exists()
    assert indexed("toasters") == []
    assert SearchDocument.objects.count() == Message.objects.count()
    assert_index_matches_documents()


def test_a_conversation_deleted_for_ever_leaves_nothing_in_the_index(mailbox: Mailbox) -> None:
    promotion = Message.objects.get(pk=mailbox.ids["e1"])

    actions.delete_conversations(mailbox.buyer, [promotion.conversation_id])

    assert indexed("toasters") == []
    assert SearchDocument.objects.count() == Message.objects.count()
    assert_index_matches_documents()


def mailbox_rows() -> list[tuple[int, int, datetime]]:
    return list(
        MailboxMessage.objects.order_by("message_id", "user_id").values_list(
            "message_id", "user_id", "created_at"
        )
    )


def test_the_rebuild_command_writes_every_document_again(mailbox: Mailbox) -> None:
    before = list(SearchDocument.objects.order_by("message_id").values_list())
    in_mailboxes = mailbox_rows()
    SearchDocument.objects.all().delete()
    MailboxMessage.objects.all().delete()
    assert search_messages(mailbox.buyer, SearchFilters(text="kettle")).results == []
    output = StringIO()

    call_command("rebuild_search_index", "--batch-size", "5", stdout=output)

    assert output.getvalue() == f"Indexed {len(before)} messages and broadcasts.\n"
    assert list(SearchDocument.objects.order_by("message_id").values_list()) == before
    assert mailbox_rows() == in_mailboxes
    assert len(search_messages(mailbox.buyer, SearchFilters(text="kettle")).results) == 4
    assert indexed("toasters") == [mailbox.ids["e1"]]
    assert_index_matches_documents()


def test_rebuilding_again_changes_nothing(mailbox: Mailbox) -> None:
    before = list(SearchDocument.objects.order_by("message_id").values_list())
    in_mailboxes = mailbox_rows()
    output = StringIO()

    call_command("rebuild_search_index", "-v", "2", stdout=output)
    call_command("rebuild_search_index", stdout=StringIO())

    assert output.getvalue() == (
        f"{len(before)} messages and broadcasts indexed…\n"
        f"Indexed {len(before)} messages and broadcasts.\n"
    )
    assert list(SearchDocument.objects.order_by("message_id").values_list()) == before
    assert mailbox_rows() == in_mailboxes
    assert indexed(ORDER_NUMBER.split("-")[1]) == [
        mailbox.ids["b1"],
        mailbox.ids["b2"],
        mailbox.ids["c1"],
    ]
    assert_index_matches_documents()


def test_the_rebuild_command_refuses_an_empty_batch() -> None:
    with pytest.raises(CommandError, match="--batch-size must be at least 1"):
        call_command("rebuild_search_index", "--batch-size", "0")


def test_indexing_costs_two_inserts_and_a_read_of_what_it_is_not_given(
    mailbox: Mailbox, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    def unindexed() -> None:
        SearchDocument.objects.filter(message_id=mailbox.ids["a2"]).delete()
        MailboxMessage.objects.filter(message_id=mailbox.ids["a2"]).delete()

    message = Message.objects.select_related("sender__storefront").get(pk=mailbox.ids["a2"])
    unindexed()
    # The subjects, the document, the members, their mailboxes.
    with django_assert_num_queries(4):
        index_messages([message])

    unindexed()
    with_conversation = Message.objects.select_related(
        "conversation__order", "sender__storefront"
    ).get(pk=message.pk)
    with django_assert_num_queries(2):
        index_messages(
            [with_conversation],
            members={message.conversation_id: [mailbox.buyer.pk, mailbox.seller.pk]},
        )

    assert set(
        MailboxMessage.objects.filter(message_id=message.pk).values_list("user_id", flat=True)
    ) == {mailbox.buyer.pk, mailbox.seller.pk}


def test_a_word_repeated_past_the_limit_finds_the_same_on_both_databases(
    mailbox: Mailbox,
) -> None:
    # PostgreSQL keeps 256 positions of a word; past that both databases see a filler, so
    # "word word" near the end matches neither, and the message is still found by words.
    actions.send_marketplace_message(
        mailbox.buyer,
        kind=Kind.NOTICE,
        subject="Repeats",
        body="spam " * (MAX_OCCURRENCES + 10) + "eggs",
    )

    assert [
        r.subject for r in search_messages(mailbox.buyer, SearchFilters(text="eggs")).results
    ] == ["Repeats"]
    assert search_messages(mailbox.buyer, SearchFilters(text='"spam eggs"')).results == []
    assert [
        r.subject for r in search_messages(mailbox.buyer, SearchFilters(text='"spam spam"')).results
    ] == ["Repeats"]
