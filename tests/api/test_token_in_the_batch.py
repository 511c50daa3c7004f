"""A reply's token read in the send's batch (accounts.queries.trusted_token): a token this
process read lately is taken on trust by the express lane, and the send's transaction reads
it again — with its batch-mates' in one statement — and goes on only if it is unchanged.
Whatever ended or changed it since, in any process, is seen there: the reply is refused
as on a first request, or sent with the person as they are now; never sent on a stale
token.

Each test warms the token through the lane, then changes it as another process would (the
action, or a plain UPDATE: nothing tells this process), and replies again."""

import json
import threading
from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pytest_django.fixtures import Settings

from messagecenter.accounts import actions as account_actions
from messagecenter.accounts import queries as account_queries
from messagecenter.accounts.models import ApiToken, User
from messagecenter.accounts.queries import TokenChanged, trusted_token
from messagecenter.conversations import actions
from messagecenter.conversations.actions import sending
from messagecenter.conversations.models import Message
from messagecenter.db import group_commit
from messagecenter.marketplace.models import Product
from messagecenter.privacy.erasure import erase_person
from tests import factories
from tests.api.test_token_cache import _deactivate, _new_password, _revoke, _signed_out_everywhere
from tests.conversations.test_concurrency import in_threads
from tests.server.test_express import Reply

# The lane's threads answer with their own connections, and batches commit.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def batching(settings: Settings) -> None:
    settings.GROUP_COMMIT = True
    settings.EXPRESS_LANE = True


@pytest.fixture(scope="module", autouse=True)
def _application_loaded() -> None:
    import messagecenter.asgi  # noqa: F401


def _reply_as(user: User, conversation_id: int) -> Reply:
    _, secret = account_actions.create_api_token(user, "phone")
    return Reply(secret, conversation_id)


def _send(reply: Reply, body: str) -> tuple[int, dict[str, Any]]:
    status, _, content = reply.send(json.dumps({"body": body}).encode())
    return status, json.loads(content)


def _warmed(reply: Reply) -> Reply:
    """Its use noted (the first request writes it), then read and kept (the second): the
    next reply takes it on trust."""
    for n in range(2):
        assert _send(reply, f"Warming {n}")[0] == 201
    assert trusted_token(reply.token) is not None
    return reply


@pytest.fixture
def seller_reply(buyer: User, seller: User, product: Product) -> Reply:
    message = actions.ask_seller_about_product(buyer, product.pk, "Is it still for sale?")
    return _warmed(_reply_as(seller, message.conversation_id))


def test_a_token_in_use_is_read_once_in_the_sends_transaction_and_not_before(
    seller_reply: Reply,
) -> None:
    # The lane answers on its own thread and connection: the reads are seen where they run.
    reads: list[bool] = []
    read = account_queries._TOKEN_BY_HASH.with_rows

    def spied(*values: Any, **options: Any) -> Any:
        reads.append(connection.in_atomic_block)
        return read(*values, **options)

    with (
        mock.patch(
            "messagecenter.accounts.authentication.api_token_for_secret",
            side_effect=AssertionError("read before the send"),
        ),
        mock.patch.object(account_queries._TOKEN_BY_HASH, "with_rows", spied),
    ):
        status, sent = _send(seller_reply, "Yes, it ships tomorrow.")

    assert (status, sent["body"]) == (201, "Yes, it ships tomorrow.")
    # Once, in the send's transaction (a lone send: a batch of one reads its own).
    assert reads == [True]


# The ways of ending a token tests/api/test_token_cache.py ends a warmed one with — but a
# person who wrote messages is erased (privacy.erasure), never deleted.
def _erased(user: User) -> None:
    erase_person(factories.UserFactory(role="admin", is_staff=True, is_superuser=True), user)


@pytest.mark.parametrize(
    "end", [_revoke, _deactivate, _erased, _new_password, _signed_out_everywhere]
)
def test_whatever_ends_a_token_in_use_refuses_the_next_reply_and_sends_nothing(
    seller: User, seller_reply: Reply, end: Callable[[User], None]
) -> None:
    stored = Message.objects.count()

    end(seller)
    status, answer = _send(seller_reply, "Sent after the token ended")

    assert (status, answer["error"]["code"]) == (401, "not_authenticated")
    assert Message.objects.count() == stored
    assert not Message.objects.filter(body="Sent after the token ended").exists()
    assert trusted_token(seller_reply.token) is None


def test_a_change_to_the_person_is_sent_with_the_person_as_they_are_now(
    seller: User, seller_reply: Reply
) -> None:
    seller.storefront.name = "A new name"
    seller.storefront.save(update_fields=["name"])

    status, sent = _send(seller_reply, "Sent as the new name")

    assert (status, sent["sender_name"]) == (201, "A new name")
    # Once: the send on the token as read was rolled back before it wrote anything.
    assert Message.objects.filter(body="Sent as the new name").count() == 1
    # And the token as it is now is taken on trust from then on.
    with mock.patch(
        "messagecenter.accounts.authentication.api_token_for_secret",
        side_effect=AssertionError("read before the send"),
    ):
        assert _send(seller_reply, "And again")[1]["sender_name"] == "A new name"


def test_a_token_whose_use_is_due_to_be_noted_is_read_before_and_noted(
    seller_reply: Reply,
) -> None:
    ApiToken.objects.update(last_used_at=None)
    account_queries._IN_USE.forget(account_actions.hash_api_token_secret(seller_reply.token))
    assert _send(seller_reply, "Read first")[0] == 201
    assert ApiToken.objects.get().last_used_at is not None
    # Noted: that read kept nothing, the next one keeps the row as noted.
    assert trusted_token(seller_reply.token) is None
    assert _send(seller_reply, "Read again")[0] == 201
    assert trusted_token(seller_reply.token) is not None


def test_a_batch_reads_its_sends_tokens_in_one_statement_and_refuses_only_the_ended_one(
    buyer: User, other_buyer: User, seller: User, product: Product
) -> None:
    first = actions.ask_seller_about_product(buyer, product.pk, "Hi").conversation_id
    second = actions.ask_seller_about_product(other_buyer, product.pk, "Hello").conversation_id
    trusted = {}
    for name, user in [("buyer", buyer), ("other", other_buyer), ("seller", seller)]:
        token, secret = account_actions.create_api_token(user, "phone")
        account_actions.record_api_token_use(token)
        assert account_queries.api_token_for_secret(secret) is not None
        found = trusted_token(secret)
        assert found is not None
        trusted[name] = found
    ApiToken.objects.filter(user=other_buyer).update(revoked_at=timezone.now())
    batches: list[list[str]] = []
    committer = sending.SENDS
    original = committer._apply
    held = threading.Event()

    def apply(batch: list[group_commit._Unit]) -> None:
        # The first send, "One", leads and waits for the four others: they go as one batch.
        if not held.is_set():
            held.set()
            while len(committer._waiting) < 4:
                threading.Event().wait(0.005)
        with CaptureQueriesContext(connection) as queries:
            original(batch)
        if len(batch) > 1:
            batches.append([query["sql"] for query in queries])

    committer._apply = apply  # type: ignore[method-assign]

    def send(name: str, conversation_id: int, body: str) -> str:
        token, as_read = trusted[name]
        try:
            return actions.send_message(token.user, conversation_id, body, token=as_read).body
        except TokenChanged:
            return "token changed"

    def lead() -> None:
        try:
            outcomes.append(send("seller", first, "One"))
        finally:
            connection.close()

    # "One" leads before the others start: whichever of them led instead would write alone,
    # and the batch would hold the ended token or not by the threads' order.
    outcomes: list[str] = []
    leader = threading.Thread(target=lead)
    try:
        leader.start()
        assert held.wait(timeout=30)
        outcomes += in_threads(
            [
                lambda: send("buyer", first, "Two"),
                lambda: send("other", second, "Three"),
                lambda: send("seller", second, "Four"),
                lambda: send("buyer", first, "Five"),
            ],
            threads=4,
        )
        leader.join(timeout=30)
    finally:
        committer._apply = original  # type: ignore[method-assign]

    assert sorted(outcomes) == sorted(["One", "Two", "token changed", "Four", "Five"])
    assert not Message.objects.filter(body="Three").exists()
    assert Message.objects.filter(body__in=["One", "Two", "Four", "Five"]).count() == 4
    # The batch of four (the send that led went alone) read its tokens in one statement;
    # the ended one found, the batch ran again in a new transaction, its `prepare` first
    # (its locks: one statement more), its sends each in a savepoint of its own.
    assert len(batches) == 1
    assert sum('"accounts_apitoken"."secret_hash" IN' in sql for sql in batches[0]) == 2
