"""How PostgreSQL plans a search: the planner settings a search's statements run with, and
that the connection has its own back after them (search/backends.planned_for_its_values,
db/plans.py). Each test builds its own mailbox: one of them runs outside a transaction,
where the module-wide mailbox of test_queries.py (built once, in a transaction) cannot be."""

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from messagecenter.search.queries import SearchFilters, search_messages
from tests.databases import on_postgresql
from tests.search.conftest import Mailbox

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not on_postgresql(), reason="PostgreSQL's planner"),
]


def random_page_cost_seen_by_the_search(mailbox: Mailbox, text: str) -> list[str]:
    """`random_page_cost` where each statement that searches the documents runs: read by a
    statement sent just before it on the same connection (in the same pipeline)."""
    probes = []

    def read_it_first(
        execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
    ) -> Any:
        if '"search_searchdocument"' in sql:
            probe = context["connection"].cursor()
            probe.execute("SELECT current_setting('random_page_cost')")
            probes.append(probe)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(read_it_first):
        search_messages(mailbox.buyer, SearchFilters(text=text))
    seen = [probe.fetchone()[0] for probe in probes]
    for probe in probes:
        probe.close()
    return seen


def random_page_cost_now() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('random_page_cost')")
        return str(cursor.fetchone()[0])


def a_search_prices_index_probes_for_itself(mailbox: Mailbox) -> None:
    """At PostgreSQL's default price of an index probe (4, a spinning disk's), the planner
    joined a rare word's 548 matches to the biggest seller's mailbox by reading all of its
    million rows (150 ms at 10M messages) rather than looking each up in the mailbox's key
    (5 ms): a search is planned with a probe priced as a read from memory, and only a
    search — the connection has its own price back after it (docs/benchmarks.md)."""
    own = random_page_cost_now()
    # A word found, and one found nowhere: its spelling's statements too.
    assert random_page_cost_seen_by_the_search(mailbox, "kettle") == ["1.1"]
    assert set(random_page_cost_seen_by_the_search(mailbox, "kettel")) == {"1.1"}
    assert random_page_cost_now() == own


def test_a_search_is_planned_with_index_probes_priced_as_reads_from_memory(
    mailbox: Mailbox,
) -> None:
    a_search_prices_index_probes_for_itself(mailbox)


@pytest.mark.django_db(transaction=True)
def test_a_search_outside_a_transaction_leaves_the_connection_as_it_was(
    mailbox: Mailbox,
) -> None:
    """As a request runs it, in autocommit: the price lives in the pipeline's implicit
    transaction, and the pooled connection goes back to the next request unchanged."""
    a_search_prices_index_probes_for_itself(mailbox)
