"""The express lane (messagecenter/server/express.py): a reply with a JSON body and a token
is answered outside Django's handler and ninja's operation — and answered exactly as the
main road answers it. Each request here goes both ways (EXPRESS_LANE on and off, through
the ASGI application `messagecenter serve` runs) and the answers are compared."""

import asyncio
import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.core import signals
from pytest_django.fixtures import Settings

from messagecenter.accounts import actions as account_actions
from messagecenter.accounts.authentication import ApiTokenAuth
from messagecenter.accounts.models import ApiToken, User
from messagecenter.conversations import actions
from messagecenter.conversations import api as conversations_api
from messagecenter.conversations.models import Message
from messagecenter.marketplace.models import Product
from messagecenter.notifications.models import BroadcastKind
from messagecenter.server import express
from tests.asgi import exchange, run_in_own_loop
from tests.notifications import helpers as notifications

# Different from one answer to the next, whichever way it went.
VARYING = {b"date", b"expires", b"server-timing"}

Answer = tuple[int, dict[bytes, bytes], bytes]


class Reply:
    """Replies in one conversation as one person, through the ASGI application."""

    def __init__(self, token: str, conversation_id: int) -> None:
        self.token, self.conversation_id = token, conversation_id

    def send(
        self,
        body: bytes,
        *,
        key: str | None = None,
        token: str | None = None,
        path: str | None = None,
        content_type: bytes = b"application/json",
        extra_headers: list[tuple[bytes, bytes]] = (),  # type: ignore[assignment]
        headers_first: bool = False,
        **options: Any,
    ) -> Answer:
        from messagecenter.asgi import application

        headers = [
            (b"authorization", f"Bearer {token or self.token}".encode()),
            (b"content-type", content_type),
            (b"content-length", str(len(body)).encode()),
        ]
        headers = [*extra_headers, *headers] if headers_first else [*headers, *extra_headers]
        if key is not None:
            headers.append((b"idempotency-key", key.encode()))
        path = path or f"/api/v1/conversations/{self.conversation_id}/messages"
        sent = run_in_own_loop(
            lambda: exchange(application, "POST", path, headers=headers, chunks=[body], **options)
        )
        content = b"".join(message.get("body", b"") for message in sent[1:])
        return sent[0]["status"], dict(sent[0]["headers"]), content


@pytest.fixture(scope="module", autouse=True)
def _application_loaded() -> None:
    """Loaded before any test's caplog: loading it sets Django up, whose logging
    configuration replaces the root logger's handlers — caplog's among them."""
    import messagecenter.asgi  # noqa: F401


@pytest.fixture
def lane_taken(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """One entry per request the lane's view read: True where the lane answered it, False
    where it handed it to the main road."""
    taken: list[bool] = []
    view = conversations_api.send_message_express

    def spied(request: Any, conversation_id: int) -> Any:
        answer = view(request, conversation_id)
        taken.append(answer is not None)
        return answer

    monkeypatch.setattr(express, "send_message_express", spied)
    return taken


@pytest.fixture
def seller_reply(buyer: User, seller: User, product: Product) -> Reply:
    message = actions.ask_seller_about_product(buyer, product.pk, "Is it still for sale?")
    _, secret = account_actions.create_api_token(seller, "phone")
    return Reply(secret, message.conversation_id)


def both_ways(settings: Settings, send: Any) -> Iterator[Answer]:
    for lane in (True, False):
        settings.EXPRESS_LANE = lane
        yield send()


def same_answer(lane: Answer, road: Answer) -> None:
    assert lane[0] == road[0]
    assert {k: v for k, v in lane[1].items() if k not in VARYING} == {
        k: v for k, v in road[1].items() if k not in VARYING
    }
    assert lane[1].keys() - VARYING == road[1].keys() - VARYING
    assert lane[2] == road[2]


# The pool's threads answer with their own connections: committed data, real commits.
pytestmark = pytest.mark.django_db(transaction=True)


def test_a_reply_is_answered_on_the_lane_as_on_the_main_road(
    settings: Settings, seller_reply: Reply, lane_taken: list[bool]
) -> None:
    body = json.dumps({"body": "Yes, it ships tomorrow."}).encode()

    lane, road = both_ways(
        settings, lambda: seller_reply.send(body, key=f"k-{settings.EXPRESS_LANE}")
    )

    assert lane_taken == [True]
    assert (lane[0], road[0]) == (201, 201)
    sent_lane, sent_road = json.loads(lane[2]), json.loads(road[2])
    assert sent_lane["id"] != sent_road["id"]
    for sent in (sent_lane, sent_road):
        del sent["id"], sent["created_at"]
    assert sent_lane == sent_road
    assert sent_lane["body"] == "Yes, it ships tomorrow."
    assert sent_lane["is_mine"]
    same_answer(
        (lane[0], lane[1], b""), (road[0], road[1], b"")
    )  # headers: security, CSP, no-store, content type and length
    assert lane[1][b"cache-control"] == b"max-age=0, no-cache, no-store, must-revalidate, private"
    assert {b"expires", b"server-timing"} <= lane[1].keys() & road[1].keys()
    # A retry with the lane's key, both ways: the first message, byte for byte.
    retried = list(both_ways(settings, lambda: seller_reply.send(body, key="k-True")))
    assert retried[0][0] == 200
    same_answer(*retried)
    assert json.loads(retried[0][2])["id"] == json.loads(lane[2])["id"]
    assert Message.objects.filter(body="Yes, it ships tomorrow.").count() == 2


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("wrong token", 401),
        ("not a participant", 404),
        ("no such conversation", 404),
        ("blank body", 400),
        ("too long", 400),
        ("bad key", 400),
    ],
)
def test_a_refusal_is_the_same_both_ways(
    case: str,
    status: int,
    settings: Settings,
    seller_reply: Reply,
    other_seller: User,
    lane_taken: list[bool],
    caplog: pytest.LogCaptureFixture,
) -> None:
    text = {"blank body": "  \n ", "too long": "x" * (settings.MESSAGE_BODY_MAX_CHARS + 1)}
    body = json.dumps({"body": text.get(case, "Hello")}).encode()
    options: dict[str, Any] = {}
    if case == "wrong token":
        options["token"] = "mc_not-a-token"
    elif case == "not a participant":
        options["token"] = account_actions.create_api_token(other_seller, "phone")[1]
    elif case == "no such conversation":
        options["path"] = "/api/v1/conversations/987654321/messages"
    elif case == "bad key":
        options["key"] = "x" * 101

    lane, road = both_ways(settings, lambda: seller_reply.send(body, **options))

    assert lane_taken == [True]
    assert lane[0] == status, lane[2]
    same_answer(lane, road)
    assert not Message.objects.filter(body__startswith="Hello").exists()
    # Logged as Django's handler logs a refusal, once each way.
    logged = [r.getMessage() for r in caplog.records if r.name == "django.request"]
    assert len(logged) == 2
    assert logged[0] == logged[1]


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("not JSON", 400),
        ("body not text", 422),
        ("no body", 422),
        ("a query string", 201),
        ("a form", 201),
        ("another host", 400),
        ("two content types", 415),
        ("two tokens", 401),
        # The lane's route takes ASCII digits only; the main road's id too (docs/api.md).
        ("an id with a sign", 422),
        ("an id with a decimal point", 422),
        ("an id with an underscore", 422),
    ],
)
def test_what_the_lane_does_not_take_goes_the_main_road(
    case: str, status: int, settings: Settings, seller_reply: Reply, lane_taken: list[bool]
) -> None:
    body = {"not JSON": b"{body: 'hi'", "body not text": b'{"body": 5}', "no body": b"{}"}.get(
        case, b'{"body": "Hello"}'
    )
    options: dict[str, Any] = {}
    if case == "a query string":
        options["query_string"] = b"source=app"
    elif case == "a form":
        body, options["content_type"] = b"body=Hello", b"application/x-www-form-urlencoded"
    elif case == "another host":
        options["host"] = b"evil.example"
    elif case == "two content types":
        # Django joins them: "text/plain,application/json" is not JSON.
        options["extra_headers"] = [(b"content-type", b"text/plain")]
        options["headers_first"] = True
    elif case == "two tokens":
        options["extra_headers"] = [(b"authorization", b"Bearer mc_another")]
    written = {
        "an id with a sign": f"+{seller_reply.conversation_id}",
        "an id with a decimal point": f"{seller_reply.conversation_id}.0",
        "an id with an underscore": f"0_{seller_reply.conversation_id}",
    }
    if case in written:
        options["path"] = f"/api/v1/conversations/{written[case]}/messages"

    lane, road = both_ways(settings, lambda: seller_reply.send(body, **options))

    # Read and handed on (its form refused), or never looked at (by its request line,
    # headers or host).
    assert lane_taken in ([False], [])
    assert lane[0] == status, lane[2]
    if status == 201:
        assert json.loads(lane[2])["body"] == json.loads(road[2])["body"] == "Hello"
    else:
        same_answer(lane, road)


def test_over_https_the_answer_is_the_main_roads(
    settings: Settings, seller_reply: Reply, lane_taken: list[bool]
) -> None:
    """The headers the lane learns are learned for each scheme (HSTS, where configured,
    goes with https only)."""
    body = b'{"body": "Hello"}'

    lane, road = both_ways(
        settings,
        lambda: seller_reply.send(body, key=f"https-{settings.EXPRESS_LANE}", scheme="https"),
    )

    assert lane_taken == [True]
    assert lane[0] == 201
    same_answer((lane[0], lane[1], b""), (road[0], road[1], b""))


def test_http_where_https_is_required_goes_the_main_road(seller_reply: Reply) -> None:
    """SecurityMiddleware's redirect, read with the other settings when a process starts:
    the lane hands the request on before reading it."""
    from messagecenter.asgi import express_lane

    lane = express.ExpressLane(
        express_lane.main_road, express_lane.threads, express_lane.read_threads
    )
    lane.https_only = True
    scope: dict[str, Any] = {
        "type": "http",
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": f"/api/v1/conversations/{seller_reply.conversation_id}/messages",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }

    def must_not_read(request: Any) -> None:
        raise AssertionError("the lane read a request it must hand on")

    assert lane._answer(scope, b'{"body": "Hello"}', must_not_read) is None


def test_an_unexpected_error_is_djangos_500_both_ways(
    settings: Settings,
    seller_reply: Reply,
    lane_taken: list[bool],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def fails(*args: Any, **kwargs: Any) -> Message:
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(actions, "send_message", fails)
    caplog.set_level(logging.ERROR, logger="django.request")

    lane, road = both_ways(settings, lambda: seller_reply.send(b'{"body": "Hello"}'))

    assert lane_taken == [True]
    assert lane[0] == 500
    same_answer(lane, road)
    failures = [r for r in caplog.records if r.name == "django.request" and r.exc_info]
    assert len(failures) == 2
    assert all("the disk is on fire" in str(r.exc_info[1]) for r in failures if r.exc_info)


def test_a_lane_request_starts_and_finishes_as_a_request(
    settings: Settings, seller_reply: Reply, lane_taken: list[bool]
) -> None:
    """Django's request_started and request_finished: among their receivers, the one that
    gives the thread's database connection back when the request ends."""
    seen: list[str] = []

    def started(**kwargs: Any) -> None:
        seen.append("started")

    def finished(**kwargs: Any) -> None:
        seen.append("finished")

    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    try:
        settings.EXPRESS_LANE = True
        status, _, _ = seller_reply.send(b'{"body": "Hello"}')
    finally:
        signals.request_started.disconnect(started)
        signals.request_finished.disconnect(finished)

    assert (status, lane_taken, seen) == (201, [True], ["started", "finished"])


def test_the_lane_knows_the_middleware_whose_headers_it_gives() -> None:
    """The lane gives every answer the headers the token calls' middleware gave its first
    one, learned in each process: right for middleware whose headers are the same for
    every token call. A middleware added to TOKEN_CALL_MIDDLEWARE must be checked for that
    (headers that depend on the request, such as CORS's, would need the lane to run it)
    before it joins this list."""
    assert settings.TOKEN_CALL_MIDDLEWARE == [
        "django.middleware.security.SecurityMiddleware",
        "messagecenter.server.csp.ContentSecurityPolicyMiddleware",
        "django.middleware.common.CommonMiddleware",
        "messagecenter.accounts.middleware.PrivatePagesMiddleware",
        "messagecenter.accounts.middleware.TimeZoneMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ]


def test_a_send_is_answered_while_every_thread_of_the_main_road_is_busy(
    seller_reply: Reply, lane_taken: list[bool]
) -> None:
    """Sends have their own pool of threads (SEND_THREADS): a send waiting for its batch
    takes no thread of pages and reads, and a send does not wait for one of theirs."""
    from messagecenter.asgi import django_application

    release = threading.Event()
    taken = threading.Semaphore(0)

    def hold_a_thread() -> None:
        taken.release()
        release.wait(30)

    async def take_every_thread() -> None:
        pool = django_application.threads
        await asyncio.gather(*(pool.run(hold_a_thread) for _ in range(settings.WEB_THREADS)))

    busy = threading.Thread(target=lambda: asyncio.run(take_every_thread()))
    answered: list[Answer] = []
    sender = threading.Thread(
        target=lambda: answered.append(seller_reply.send(b'{"body": "On its way."}'))
    )
    try:
        busy.start()
        for _ in range(settings.WEB_THREADS):
            assert taken.acquire(timeout=15)
        sender.start()
        sender.join(timeout=15)
        assert [status for status, _, _ in answered] == [201]
        assert lane_taken == [True]
    finally:
        release.set()
        busy.join()
        sender.join()


# --- reads on the lane: the badges ------------------------------------------------------------


def badges(token: str, **options: Any) -> Answer:
    """GET /api/v1/folders with a bearer token, through the ASGI application."""
    from messagecenter.asgi import application

    headers = [(b"authorization", f"Bearer {token}".encode())] if token else []
    headers += options.pop("extra_headers", [])
    sent = run_in_own_loop(
        lambda: exchange(application, "GET", "/api/v1/folders", headers=headers, **options)
    )
    content = b"".join(message.get("body", b"") for message in sent[1:])
    return sent[0]["status"], dict(sent[0]["headers"]), content


@pytest.fixture
def badges_taken(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """One entry per badges call the lane answered (its token checked there)."""
    taken: list[bool] = []
    lane_auth = conversations_api._AUTHENTICATE
    authenticate = ApiTokenAuth.authenticate

    def spied(self: ApiTokenAuth, request: Any, secret: str) -> Any:
        taken.append(True)
        return authenticate(self, request, secret)

    monkeypatch.setattr(lane_auth, "authenticate", spied.__get__(lane_auth))
    return taken


@pytest.fixture
def seller_token(seller: User, seller_reply: Reply) -> str:
    """A token whose first use is noted already: a token used for the first time is
    checked and its use written (record_api_token_use), which changes its row, so a
    process keeps it only from its next check on. seller_reply: the buyer's question
    waits in the seller's inbox, unread."""
    assert badges(seller_reply.token)[0] == 200
    return seller_reply.token


def test_the_badges_are_answered_on_the_lane_as_on_the_main_road(
    settings: Settings, seller_token: str, badges_taken: list[bool]
) -> None:
    lane, road = both_ways(settings, lambda: badges(seller_token))

    assert badges_taken == [True]
    same_answer(lane, road)
    assert lane[0] == 200
    counts = json.loads(lane[2])
    assert counts["folders"][0] == {
        "key": "all",
        "label": "All",
        "box": "inbox",
        "folder": None,
        "unread_count": 1,
    }
    assert lane[1][b"cache-control"] == b"max-age=0, no-cache, no-store, must-revalidate, private"


def test_a_token_revoked_since_its_last_use_is_refused_on_the_lane_at_once(
    settings: Settings, seller: User, seller_token: str, badges_taken: list[bool]
) -> None:
    assert badges(seller_token)[0] == 200
    token = ApiToken.objects.get(user=seller, revoked_at__isnull=True)
    account_actions.revoke_api_token(seller, token.pk)

    lane, road = both_ways(settings, lambda: badges(seller_token))

    assert badges_taken == [True, True]
    assert lane[0] == 401
    assert json.loads(lane[2])["error"]["code"] == "not_authenticated"
    same_answer(lane, road)


def test_a_change_to_the_person_since_is_read_on_the_lane(seller_token: str, seller: User) -> None:
    """The counts follow the person as they are now: promotions switched off take an
    unread promotion out of the badges from the next call on."""
    notifications.broadcast(kind=BroadcastKind.PROMOTION, subject="Half price")
    before = json.loads(badges(seller_token)[2])
    notifications.switch_off_promotions(seller)

    after = json.loads(badges(seller_token)[2])

    assert before["folders"][0]["unread_count"] == after["folders"][0]["unread_count"] + 1


def test_the_lane_reads_the_token_then_the_counts(
    seller_token: str, django_assert_num_queries: Any
) -> None:
    from django.test import RequestFactory

    def call() -> Any:
        request = RequestFactory().get(
            "/api/v1/folders", HTTP_AUTHORIZATION=f"Bearer {seller_token}"
        )
        return conversations_api.folders_express(request)(request)

    call()
    # The token (its first use noted by seller_token: no write), then the counts.
    with django_assert_num_queries(2):
        answered = call()
    assert answered.status_code == 200


@pytest.mark.parametrize(
    "case", ["a query string", "two tokens", "a session instead of a token", "a body"]
)
def test_a_read_the_lane_does_not_take_goes_the_main_road(
    case: str, settings: Settings, seller_token: str, badges_taken: list[bool]
) -> None:
    options: dict[str, Any] = {}
    token = seller_token
    if case == "a query string":
        options["query_string"] = b"box=inbox"
    elif case == "two tokens":
        options["extra_headers"] = [(b"authorization", b"Bearer mc_another")]
    elif case == "a session instead of a token":
        token = ""
        options["extra_headers"] = [(b"cookie", b"sessionid=nothing")]
    elif case == "a body":
        options["extra_headers"] = [(b"content-length", b"2")]
        options["chunks"] = [b"{}"]

    lane, road = both_ways(settings, lambda: badges(token, **options))

    assert badges_taken == []
    same_answer(lane, road)
