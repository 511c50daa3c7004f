"""The two text indexes' answers (backends.py), the same on SQLite and PostgreSQL."""

import pytest
from django.db import connection

from messagecenter.conversations.models import Conversation
from messagecenter.search import backends
from messagecenter.search.backends import known_words
from tests.search.conftest import Mailbox

pytestmark = pytest.mark.django_db

WHOLE_WORDS = ["kettle", "ketle", "refund", "available", "red", "grinder", "delivery", "zzzz"]
BEGINNINGS = ["kett", "avai", "toas", "ketle", "deliv", "zz"]


def analyze() -> list[str]:
    """Let the database gather statistics on the documents (the most common words, which
    PostgreSQL's known_words reads); returns those it now has."""
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute("ANALYZE")
            return []
        cursor.execute("ANALYZE search_searchdocument")
        cursor.execute(
            "SELECT unnest(most_common_elems::text::text[]) FROM pg_stats"
            " WHERE tablename = 'search_searchdocument' AND attname = 'vector'"
        )
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.parametrize("sample", [backends.NEWEST_SAMPLE, 1])
def test_known_words_are_the_index_answer_whatever_the_statistics_say(
    mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch, sample: int
) -> None:
    """Words the statistics count as common are looked for among the newest documents
    first (all of them, or only the newest one), the rest in the index: the answer is the
    same. Statistics gathered before Bob's question went still list its words: the index,
    not the statistics, says they are gone."""
    monkeypatch.setattr(backends, "NEWEST_SAMPLE", sample)
    before = (known_words(WHOLE_WORDS), known_words(BEGINNINGS, prefix=True))

    common = analyze()

    if connection.vendor == "postgresql":
        assert {"kettle", "available", "delivery"} <= set(common)
    assert (known_words(WHOLE_WORDS), known_words(BEGINNINGS, prefix=True)) == before
    assert before == (
        {"kettle", "refund", "available", "red", "grinder", "delivery"},
        {"kett", "avai", "toas", "deliv"},
    )

    Conversation.objects.filter(messages__pk=mailbox.ids["g1"]).delete()

    assert known_words(["available", "red", "kettle"]) == {"kettle"}
    assert known_words(["avai"], prefix=True) == set()
