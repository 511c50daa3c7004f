"""A seller's pages: the Response needed list, "No response needed", response times and
saved replies — what each shows, what each form changes, that nobody else reaches them
(and a refused request changes nothing), and what the pages cost in queries."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from messagecenter.accounts.models import Role, User
from messagecenter.conversations import actions, queries
from messagecenter.conversations.models import (
    Kind,
    Participant,
    ResponseTime,
    SavedReply,
)
from messagecenter.hub import queries as hub_queries
from messagecenter.marketplace.models import Product
from tests import factories
from tests.conversations.helpers import snapshot
from tests.web.helpers import sign_in_url

pytestmark = pytest.mark.django_db

MESSAGE_CENTER = "/message-center/"
RESPONSE_NEEDED = "/message-center/?view=response-needed"
RESPONSE_TIMES = "/message-center/response-times/"
SAVED_REPLIES = "/message-center/saved-replies/"
ACTIONS = "/message-center/actions/"


def conversation_url(conversation_id: int) -> str:
    return f"/message-center/conversations/{conversation_id}/"


def saved_reply_url(saved_reply: SavedReply) -> str:
    return f"/message-center/saved-replies/{saved_reply.pk}/"


def delete_url(saved_reply: SavedReply) -> str:
    return f"/message-center/saved-replies/{saved_reply.pk}/delete/"


def page_text(response: Any) -> str:
    return str(response.content.decode())


def signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def everything() -> dict[str, Any]:
    """snapshot(), plus what the seller tools and opening the Message Center change."""
    return {
        **snapshot(),
        "seen_and_waits": list(
            Participant.objects.order_by("id").values_list(
                "id", "is_seen", "awaiting_response_since"
            )
        ),
        "response_times": list(ResponseTime.objects.order_by("id").values_list()),
        "saved_replies": list(SavedReply.objects.order_by("id").values_list()),
    }


def waiting_since(seller: User, conversation_id: int, ago: timedelta) -> None:
    Participant.objects.filter(user=seller, conversation_id=conversation_id).update(
        awaiting_response_since=timezone.now() - ago
    )


def asked(buyer: User, seller: User, title: str) -> int:
    """A buyer's question about one of the seller's products: the seller owes an answer."""
    product = factories.ProductFactory(storefront=seller.storefront, title=title)
    message = actions.ask_seller_about_product(buyer, product.pk, f"Is the {title} in stock?")
    return message.conversation_id


def busy_seller(seller: User, conversations: int) -> None:
    for number in range(conversations):
        asked(factories.BuyerFactory(), seller, f"Gadget {number}")


@pytest.fixture
def question(buyer: User, seller: User, product: Product) -> int:
    """Alice asked Acme Kitchen about the espresso machine; Acme owes her an answer."""
    return actions.ask_seller_about_product(
        buyer, product.pk, "Does it come with a tamper?"
    ).conversation_id


@pytest.fixture
def admin(db: None) -> User:
    return factories.UserFactory(username="admin", role=Role.ADMIN, is_staff=True)


@pytest.fixture
def shipping_reply(seller: User) -> SavedReply:
    return actions.save_reply(seller, "Shipping times", "We ship within 1 business day.")


# --- Response needed ------------------------------------------------------------------------


def test_the_response_needed_tab_lists_waits_longest_first_and_highlights_overdue(
    client: Client, seller: User, buyer: User, other_buyer: User
) -> None:
    kettle = asked(buyer, seller, "Kettle")
    grinder = asked(other_buyer, seller, "Grinder")
    tamper = asked(buyer, seller, "Tamper")
    answered = asked(other_buyer, seller, "Scale")
    actions.send_message(seller, answered, "Yes, in stock.")
    waiting_since(seller, kettle, timedelta(hours=5, minutes=10))
    waiting_since(seller, grinder, timedelta(hours=30))
    waiting_since(seller, tamper, timedelta(minutes=20))

    text = page_text(signed_in(client, seller).get(RESPONSE_NEEDED))

    assert '<h1 id="list-title">Response needed</h1>' in text
    assert '<a href="/message-center/?view=response-needed" aria-current="page">' in text
    subjects = ["Question about Grinder", "Question about Kettle", "Question about Tamper"]
    positions = [text.index(f"<bdi>{subject}</bdi>") for subject in subjects]
    assert positions == sorted(positions)
    assert "Question about Scale" not in text
    assert text.count('name="conversation_ids"') == 3
    assert text.count('class="wait wait--overdue"') == 1
    assert (
        '<span class="tag tag--warning">Over 24 hours</span> Buyer waiting 30 hours</span>' in text
    )
    assert ">Buyer waiting 5 hours</span>" in text
    assert ">Buyer waiting 20 minutes</span>" in text
    assert 'name="action" value="no_response_needed"' in text
    assert '<input type="hidden" name="view" value="response-needed">' in text


def test_the_response_needed_tab_says_when_nobody_is_waiting(client: Client, seller: User) -> None:
    text = page_text(signed_in(client, seller).get(RESPONSE_NEEDED))

    assert "No buyer is waiting for an answer." in text


def test_the_response_needed_tab_pages_with_a_cursor(client: Client, seller: User) -> None:
    busy_seller(seller, 60)
    signed_in(client, seller)
    second_cursor = queries.response_needed_page(seller).next_cursor
    third_cursor = queries.response_needed_page(seller, cursor=second_cursor).next_cursor
    assert second_cursor is not None
    assert third_cursor is not None

    first = page_text(client.get(RESPONSE_NEEDED))
    second = page_text(
        client.get(MESSAGE_CENTER, {"view": "response-needed", "cursor": second_cursor})
    )
    third = page_text(
        client.get(MESSAGE_CENTER, {"view": "response-needed", "cursor": third_cursor})
    )

    # As written in the page's HTML: the "&" between parameters is escaped.
    second_url = "/message-center/?" + urlencode(
        {"view": "response-needed", "cursor": second_cursor}
    ).replace("&", "&amp;")
    third_url = "/message-center/?" + urlencode(
        {"view": "response-needed", "cursor": third_cursor}
    ).replace("&", "&amp;")
    # Longest waiting first: the first questions asked.
    assert first.count('name="conversation_ids"') == 25
    assert ("Gadget 0 in" in first, "Gadget 24 in" in first) == (True, True)
    assert f'href="{second_url}" rel="next">Shorter waits →</a>' in first
    assert second.count('name="conversation_ids"') == 25
    assert ("Gadget 25 in" in second, "Gadget 49 in" in second) == (True, True)
    assert f'<a class="button button--small" href="{RESPONSE_NEEDED}">← Longest waiting</a>' in (
        second
    )
    assert f'href="{third_url}" rel="next">' in second
    assert third.count('name="conversation_ids"') == 10
    assert ("Gadget 50 in" in third, "Gadget 59 in" in third) == (True, True)
    assert 'rel="next"' not in third


def test_a_bad_response_needed_cursor_is_a_clear_400(client: Client, seller: User) -> None:
    response = signed_in(client, seller).get(
        MESSAGE_CENTER, {"view": "response-needed", "cursor": "yesterday~x"}
    )

    assert response.status_code == 400
    assert "The page cursor is not valid." in page_text(response)


def test_an_unknown_list_is_a_clear_400(client: Client, seller: User) -> None:
    response = signed_in(client, seller).get(MESSAGE_CENTER, {"view": "bogus"})

    assert response.status_code == 400
    assert "Unknown list &#x27;bogus&#x27;." in page_text(response)


def test_sellers_see_their_tools_in_the_message_center_and_buyers_do_not(
    client: Client, seller: User, buyer: User
) -> None:
    for_seller = page_text(signed_in(client, seller).get(MESSAGE_CENTER))
    for_buyer = page_text(signed_in(client, buyer).get(MESSAGE_CENTER))

    for link in (
        f'<a href="{RESPONSE_NEEDED}">',
        f'<a href="{RESPONSE_TIMES}">Response times</a>',
        f'<a href="{SAVED_REPLIES}">Saved replies</a>',
    ):
        assert (link in for_seller, link in for_buyer) == (True, False)
    assert "No response needed" not in for_buyer


# --- No response needed ---------------------------------------------------------------------


def test_no_response_needed_from_the_conversation_page(
    client: Client, seller: User, question: int
) -> None:
    url = conversation_url(question)
    signed_in(client, seller)

    before = page_text(client.get(url))
    response = client.post(
        ACTIONS,
        {
            "action": "no_response_needed",
            "conversation_ids": [question],
            "next": url,
            "box": "inbox",
        },
    )
    after = page_text(client.get(url))

    assert '<button type="submit" name="action" value="no_response_needed"' in before
    assert '<span class="tag">Buyer waiting less than a minute</span>' in before
    assert (response.status_code, response.url) == (302, url)  # type: ignore[attr-defined]
    assert (
        Participant.objects.get(user=seller, conversation_id=question).awaiting_response_since
        is None
    )
    assert ResponseTime.objects.count() == 0
    assert "<p>1 conversation marked “No response needed”.</p>" in after
    assert 'value="no_response_needed"' not in after
    assert "Buyer waiting" not in after


def test_the_buyer_has_no_no_response_needed_button(
    client: Client, buyer: User, question: int
) -> None:
    text = page_text(signed_in(client, buyer).get(conversation_url(question)))

    assert "No response needed" not in text
    assert "Insert saved reply" not in text


def test_no_response_needed_for_several_from_the_list(
    client: Client, seller: User, buyer: User, other_buyer: User
) -> None:
    waits = [asked(buyer, seller, "Kettle"), asked(other_buyer, seller, "Grinder")]
    signed_in(client, seller)

    response = client.post(
        ACTIONS,
        {
            "action": "no_response_needed",
            "conversation_ids": waits,
            "view": "response-needed",
            "next": RESPONSE_NEEDED,
        },
    )
    after = page_text(client.get(RESPONSE_NEEDED))

    assert (response.status_code, response.url) == (302, RESPONSE_NEEDED)  # type: ignore[attr-defined]
    assert list(
        Participant.objects.filter(user=seller).values_list("awaiting_response_since", flat=True)
    ) == [None, None]
    assert "<p>2 conversations marked “No response needed”.</p>" in after
    assert "No buyer is waiting for an answer." in after
    # Still unread: "No response needed" is about the figures, not about reading.
    assert after.count("conversation--unread") == 0
    assert hub_queries.unread_counts(seller)["buyer_seller"] == 2


def test_no_response_needed_when_nothing_waits_says_so(
    client: Client, seller: User, question: int
) -> None:
    actions.mark_no_response_needed(seller, [question])
    signed_in(client, seller)

    client.post(ACTIONS, {"action": "no_response_needed", "conversation_ids": [question]})
    text = page_text(client.get(MESSAGE_CENTER))

    assert "<p>No conversations needed to be marked “No response needed”.</p>" in text


def test_a_refused_no_response_needed_keeps_the_list_and_selection(
    client: Client, seller: User
) -> None:
    before = everything()

    response = signed_in(client, seller).post(
        ACTIONS, {"action": "no_response_needed", "view": "response-needed"}
    )

    assert response.status_code == 400
    assert "Choose at least one conversation." in page_text(response)
    assert '<h1 id="list-title">Response needed</h1>' in page_text(response)
    assert everything() == before


# --- Response times -------------------------------------------------------------------------


def answered_after(seller: User, asked_days_ago: float, hours: float) -> None:
    """A wait that began `asked_days_ago` and was answered `hours` later."""
    conversation_id = asked(factories.BuyerFactory(), seller, f"Item {asked_days_ago}")
    asked_at = timezone.now() - timedelta(days=asked_days_ago)
    ResponseTime.objects.create(
        seller=seller,
        conversation_id=conversation_id,
        asked_at=asked_at,
        answered_at=asked_at + timedelta(hours=hours),
    )
    Participant.objects.filter(user=seller, conversation_id=conversation_id).update(
        awaiting_response_since=None
    )


@pytest.fixture
def seeded_response_times(seller: User) -> None:
    answered_after(seller, asked_days_ago=2, hours=1)
    answered_after(seller, asked_days_ago=3, hours=30)
    answered_after(seller, asked_days_ago=20, hours=3)
    answered_after(seller, asked_days_ago=60, hours=5)
    answered_after(seller, asked_days_ago=120, hours=1)
    # Overdue for two days (counted in every period), and one hour old (not counted yet).
    waiting_since(seller, asked(factories.BuyerFactory(), seller, "Overdue"), timedelta(days=2))
    waiting_since(seller, asked(factories.BuyerFactory(), seller, "Fresh"), timedelta(hours=1))
    # Marked "No response needed": left out of everything.
    actions.mark_no_response_needed(seller, [asked(factories.BuyerFactory(), seller, "Thanks")])


def test_the_response_times_page_shows_each_period_exactly(
    client: Client, seller: User, seeded_response_times: None
) -> None:
    text = page_text(signed_in(client, seller).get(RESPONSE_TIMES))

    figures = {
        # period: share within 24 h (rounded down), average, answered, overdue
        7: ("33%", "15 hours 30 minutes", 2, 1),
        30: ("50%", "11 hours 20 minutes", 3, 1),
        90: ("60%", "9 hours 45 minutes", 4, 1),
    }
    for days, (share, average, answered, overdue) in figures.items():
        assert f'<h2 id="period-{days}">Last {days} days</h2>' in text
        assert f'data-testid="share-{days}">{share}</strong> answered within 24 hours' in text
        assert f'data-testid="average-{days}">{average}</dd>' in text
        assert f'data-testid="answered-{days}">{answered}</dd>' in text
        assert f'data-testid="overdue-{days}">{overdue}</dd>' in text
    assert "No buyer has waited" not in text


def test_the_response_times_page_explains_how_figures_are_counted(
    client: Client, seller: User
) -> None:
    text = page_text(signed_in(client, seller).get(RESPONSE_TIMES))

    assert '<h2 id="how-counted">How these figures are counted</h2>' in text
    assert "in the period when they asked it" in text
    assert "Messages you marked <strong>No response needed</strong> are left out." in text
    assert "Waits still open for less than 24 hours are not counted yet." in text
    assert f'<a href="{RESPONSE_NEEDED}">See who is waiting for an answer</a>' in text


def test_a_seller_with_nothing_counted_sees_dashes_not_zero_percent(
    client: Client, seller: User, question: int
) -> None:
    text = page_text(signed_in(client, seller).get(RESPONSE_TIMES))

    for days in (7, 30, 90):
        assert f'data-testid="share-{days}">—</strong>' in text
        assert f'data-testid="average-{days}">—</dd>' in text
        assert f'data-testid="answered-{days}">0</dd>' in text
    assert text.count("No buyer has waited for an answer in this period yet.") == 3


# --- Saved replies --------------------------------------------------------------------------


def test_a_seller_creates_a_saved_reply(client: Client, seller: User) -> None:
    signed_in(client, seller)

    form = page_text(client.get(SAVED_REPLIES))
    response = client.post(
        SAVED_REPLIES, {"title": "Returns", "body": "Returns are free for 30 days."}
    )
    listing = page_text(client.get(SAVED_REPLIES))

    assert '<label for="saved-reply-title">Title</label>' in form
    assert '<label for="saved-reply-body">Reply</label>' in form
    assert "No saved replies yet" in form
    assert (response.status_code, response.url) == (302, SAVED_REPLIES)  # type: ignore[attr-defined]
    assert list(queries.saved_replies(seller).values_list("title", "body")) == [
        ("Returns", "Returns are free for 30 days.")
    ]
    assert "<p>Saved reply “Returns” saved.</p>" in listing
    assert '<h3 class="saved-reply__title">Returns</h3>' in listing
    assert "(1 of 100)" in listing


def test_a_seller_edits_a_saved_reply(
    client: Client, seller: User, shipping_reply: SavedReply
) -> None:
    signed_in(client, seller)

    form = page_text(client.get(saved_reply_url(shipping_reply)))
    response = client.post(
        saved_reply_url(shipping_reply), {"title": "Shipping", "body": "Same day before 2 pm."}
    )

    assert f'<form method="post" action="{saved_reply_url(shipping_reply)}"' in form
    assert 'value="Shipping times"' in form
    assert ">We ship within 1 business day.</textarea>" in form
    assert "Change “Shipping times”" in form
    assert (response.status_code, response.url) == (302, SAVED_REPLIES)  # type: ignore[attr-defined]
    assert list(queries.saved_replies(seller).values_list("pk", "title", "body")) == [
        (shipping_reply.pk, "Shipping", "Same day before 2 pm.")
    ]
    assert "<p>Saved reply “Shipping” changed.</p>" in page_text(client.get(SAVED_REPLIES))


def test_a_seller_deletes_a_saved_reply(
    client: Client, seller: User, shipping_reply: SavedReply
) -> None:
    signed_in(client, seller)

    listing = page_text(client.get(SAVED_REPLIES))
    response = client.post(delete_url(shipping_reply))

    assert f'action="{delete_url(shipping_reply)}"' in listing
    assert 'data-confirm="Delete the saved reply “Shipping times”?"' in listing
    assert (response.status_code, response.url) == (302, SAVED_REPLIES)  # type: ignore[attr-defined]
    assert SavedReply.objects.count() == 0
    assert "<p>Saved reply deleted.</p>" in page_text(client.get(SAVED_REPLIES))


def test_a_taken_title_is_a_409_next_to_the_form_and_keeps_what_was_typed(
    client: Client, seller: User, shipping_reply: SavedReply
) -> None:
    before = everything()

    response = signed_in(client, seller).post(
        SAVED_REPLIES, {"title": "Shipping times", "body": "Two days."}
    )

    text = page_text(response)
    assert response.status_code == 409
    assert (
        '<p class="alert alert--error" role="alert" id="saved-reply-error">'
        "You already have a saved reply with that title.</p>"
    ) in text
    assert (
        'aria-describedby="saved-reply-title-help saved-reply-error" aria-invalid="true">' in text
    )
    assert ">Two days.</textarea>" in text
    assert everything() == before


INVALID_TITLE = (
    'maxlength="80" required aria-describedby="saved-reply-title-help saved-reply-error"'
    ' aria-invalid="true">'
)
INVALID_BODY = (
    'maxlength="10000" required aria-invalid="true" aria-describedby="saved-reply-error">'
)


@pytest.mark.parametrize(
    ("title", "body", "message", "invalid_field"),
    [
        ("", "Hello", "A title is 1 to 80 characters.", INVALID_TITLE),
        ("t" * 81, "Hello", "A title is 1 to 80 characters.", INVALID_TITLE),
        ("Empty", "   ", "Write a message first.", INVALID_BODY),
        ("Long", "x" * 10_001, "Messages are limited to 10,000 characters.", INVALID_BODY),
    ],
    ids=["no title", "long title", "empty body", "long body"],
)
def test_a_bad_saved_reply_is_a_400_next_to_the_form(
    client: Client, seller: User, title: str, body: str, message: str, invalid_field: str
) -> None:
    before = everything()

    response = signed_in(client, seller).post(SAVED_REPLIES, {"title": title, "body": body})

    text = page_text(response)
    assert response.status_code == 400
    assert f'role="alert" id="saved-reply-error">{message}</p>' in text
    assert text.count('aria-invalid="true"') == 1
    assert invalid_field in text
    assert everything() == before


def test_a_refused_change_stays_on_the_reply_being_changed(
    client: Client, seller: User, shipping_reply: SavedReply
) -> None:
    actions.save_reply(seller, "Returns", "30 days.")
    before = everything()

    response = signed_in(client, seller).post(
        saved_reply_url(shipping_reply), {"title": "Returns", "body": "Changed"}
    )

    text = page_text(response)
    assert response.status_code == 409
    assert f'<form method="post" action="{saved_reply_url(shipping_reply)}"' in text
    assert 'value="Returns"' in text
    assert ">Changed</textarea>" in text
    assert everything() == before


def test_the_reply_box_offers_saved_replies_to_insert(
    client: Client, seller: User, question: int, shipping_reply: SavedReply
) -> None:
    text = page_text(signed_in(client, seller).get(conversation_url(question)))

    assert '<label for="saved-reply">Insert saved reply</label>' in text
    assert 'data-saved-replies="reply-body"' in text
    assert (
        f'<option value="{shipping_reply.pk}" data-body="We ship within 1 business day.">'
        "Shipping times</option>"
    ) in text
    assert (
        '<textarea name="body" id="reply-body" rows="4" maxlength="10000" required></textarea>'
        in (text)
    )


def test_without_script_a_saved_reply_is_put_in_the_reply_box_by_the_server(
    client: Client, seller: User, question: int, shipping_reply: SavedReply
) -> None:
    response = signed_in(client, seller).get(
        conversation_url(question), {"saved_reply": shipping_reply.pk}
    )

    text = page_text(response)
    assert response.status_code == 200
    assert "required>We ship within 1 business day.</textarea>" in text
    assert f'<option value="{shipping_reply.pk}" data-body' in text
    assert 'data-body="We ship within 1 business day." selected>' in text


def test_someone_elses_saved_reply_is_never_put_in_the_reply_box(
    client: Client, seller: User, other_seller: User, question: int
) -> None:
    theirs = actions.save_reply(other_seller, "Secret", "Other Goods' private wording.")

    text = page_text(
        signed_in(client, seller).get(conversation_url(question), {"saved_reply": theirs.pk})
    )

    assert "private wording" not in text
    assert "required></textarea>" in text


def test_a_seller_without_saved_replies_is_pointed_to_them(
    client: Client, seller: User, question: int
) -> None:
    text = page_text(signed_in(client, seller).get(conversation_url(question)))

    assert "Insert saved reply" not in text
    assert f'<a href="{SAVED_REPLIES}">Save replies you send often</a>' in text


# --- who can reach what ---------------------------------------------------------------------


@pytest.fixture
def sellers_things(
    buyer: User, seller: User, agent: User, admin: User, question: int, shipping_reply: SavedReply
) -> dict[str, Any]:
    """A waiting question and a saved reply of Acme Kitchen's; and something new for every
    outsider, so a request that wrongly opened the Message Center would change it."""
    for user in (buyer, agent, admin):
        actions.send_marketplace_message(
            user, kind=Kind.NOTICE, subject="New terms", body="Our terms change."
        )
    return {"conversation_id": question, "saved_reply": shipping_reply}


SELLER_PAGES: dict[str, Callable[[dict[str, Any]], str]] = {
    "response needed": lambda things: RESPONSE_NEEDED,
    "response times": lambda things: RESPONSE_TIMES,
    "saved replies": lambda things: SAVED_REPLIES,
    "a saved reply": lambda things: saved_reply_url(things["saved_reply"]),
}

SELLER_POSTS: dict[str, Callable[[dict[str, Any]], tuple[str, dict[str, Any]]]] = {
    "no response needed": lambda things: (
        ACTIONS,
        {"action": "no_response_needed", "conversation_ids": [things["conversation_id"]]},
    ),
    "new saved reply": lambda things: (SAVED_REPLIES, {"title": "Mine", "body": "Mine"}),
    "change a saved reply": lambda things: (
        saved_reply_url(things["saved_reply"]),
        {"title": "Taken over", "body": "Taken over"},
    ),
    "delete a saved reply": lambda things: (delete_url(things["saved_reply"]), {}),
}

# Pages and forms about Acme Kitchen's own things; another seller has their own pages.
OTHER_SELLER_PAGES = {"a saved reply": SELLER_PAGES["a saved reply"]}
OTHER_SELLER_POSTS = {
    name: post for name, post in SELLER_POSTS.items() if name != "new saved reply"
}


@pytest.mark.parametrize("page", SELLER_PAGES.values(), ids=SELLER_PAGES.keys())
def test_a_signed_out_visitor_is_sent_to_sign_in(
    client: Client, sellers_things: dict[str, Any], page: Callable[[dict[str, Any]], str]
) -> None:
    url = page(sellers_things)

    response = client.get(url)

    assert response.status_code == 302
    assert response.url == sign_in_url(url)  # type: ignore[attr-defined]


@pytest.mark.parametrize("post", SELLER_POSTS.values(), ids=SELLER_POSTS.keys())
def test_a_signed_out_visitor_posting_changes_nothing(
    client: Client,
    sellers_things: dict[str, Any],
    post: Callable[[dict[str, Any]], tuple[str, dict[str, Any]]],
) -> None:
    url, data = post(sellers_things)
    before = everything()

    response = client.post(url, data)

    assert response.status_code == 302
    assert response.url == sign_in_url(url)  # type: ignore[attr-defined]
    assert everything() == before


@pytest.mark.parametrize("outsider", ["buyer", "agent", "admin"])
@pytest.mark.parametrize("page", SELLER_PAGES.values(), ids=SELLER_PAGES.keys())
def test_only_sellers_have_the_seller_pages(
    client: Client,
    sellers_things: dict[str, Any],
    outsider: str,
    page: Callable[[dict[str, Any]], str],
    request: pytest.FixtureRequest,
) -> None:
    signed_in(client, request.getfixturevalue(outsider))
    before = everything()

    response = client.get(page(sellers_things))

    assert response.status_code == 404
    assert "We ship within" not in page_text(response)
    assert everything() == before


@pytest.mark.parametrize("outsider", ["buyer", "agent", "admin"])
@pytest.mark.parametrize("post", SELLER_POSTS.values(), ids=SELLER_POSTS.keys())
def test_only_sellers_can_use_the_seller_forms(
    client: Client,
    sellers_things: dict[str, Any],
    outsider: str,
    post: Callable[[dict[str, Any]], tuple[str, dict[str, Any]]],
    request: pytest.FixtureRequest,
) -> None:
    url, data = post(sellers_things)
    signed_in(client, request.getfixturevalue(outsider))
    before = everything()

    response = client.post(url, data)

    assert response.status_code == 404
    assert everything() == before


@pytest.mark.parametrize("page", OTHER_SELLER_PAGES.values(), ids=OTHER_SELLER_PAGES.keys())
def test_another_seller_cannot_open_a_sellers_saved_reply(
    client: Client,
    other_seller: User,
    sellers_things: dict[str, Any],
    page: Callable[[dict[str, Any]], str],
) -> None:
    signed_in(client, other_seller)
    before = everything()

    response = client.get(page(sellers_things))

    assert response.status_code == 404
    assert "We ship within" not in page_text(response)
    assert everything() == before


@pytest.mark.parametrize("post", OTHER_SELLER_POSTS.values(), ids=OTHER_SELLER_POSTS.keys())
def test_another_seller_changes_nothing_of_a_sellers(
    client: Client,
    other_seller: User,
    sellers_things: dict[str, Any],
    post: Callable[[dict[str, Any]], tuple[str, dict[str, Any]]],
) -> None:
    url, data = post(sellers_things)
    signed_in(client, other_seller)
    before = everything()

    response = client.post(url, data)

    assert response.status_code == 404
    assert everything() == before


def test_another_sellers_lists_show_nothing_of_a_sellers(
    client: Client, other_seller: User, sellers_things: dict[str, Any]
) -> None:
    signed_in(client, other_seller)

    waiting = page_text(client.get(RESPONSE_NEEDED))
    replies = page_text(client.get(SAVED_REPLIES))

    assert "No buyer is waiting for an answer." in waiting
    assert "Does it come with a tamper?" not in waiting
    assert "No saved replies yet" in replies
    assert "We ship within" not in replies


@pytest.mark.parametrize("post", SELLER_POSTS.values(), ids=SELLER_POSTS.keys())
def test_seller_forms_without_the_csrf_token_are_refused(
    seller: User,
    sellers_things: dict[str, Any],
    post: Callable[[dict[str, Any]], tuple[str, dict[str, Any]]],
) -> None:
    url, data = post(sellers_things)
    client = Client(enforce_csrf_checks=True)
    client.force_login(seller)
    before = everything()

    response = client.post(url, data)

    assert response.status_code == 403
    assert everything() == before


@pytest.mark.parametrize("url", [RESPONSE_TIMES, f"{SAVED_REPLIES}1/delete/"])
def test_seller_pages_take_only_their_methods(client: Client, seller: User, url: str) -> None:
    signed_in(client, seller)

    response = client.post(url) if url == RESPONSE_TIMES else client.get(url)

    assert response.status_code == 405


@pytest.mark.parametrize("saved_reply_id", ["987654", "99999999999999999999"])
def test_a_saved_reply_that_does_not_exist_is_not_found(
    client: Client, seller: User, saved_reply_id: str
) -> None:
    signed_in(client, seller)
    url = f"{SAVED_REPLIES}{saved_reply_id}/"

    page = client.get(url)
    change = client.post(url, {"title": "x", "body": "y"})
    delete = client.post(f"{url}delete/")

    assert (page.status_code, change.status_code, delete.status_code) == (404, 404, 404)
    assert SavedReply.objects.count() == 0


# --- what the pages cost --------------------------------------------------------------------


@pytest.mark.parametrize("waits", [3, 60])
def test_the_response_needed_tab_costs_the_same_for_three_and_sixty_waits(
    client: Client,
    seller: User,
    waits: int,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    busy_seller(seller, waits)
    actions.mark_seen(seller)
    signed_in(client, seller)

    # session, user, where the page's event stream starts (realtime/pages.py), one page of
    # waits (participants with conversations, buyers and their storefronts, last messages
    # and senders), the unread counters.
    with django_assert_num_queries(5):
        response = client.get(RESPONSE_NEEDED)

    assert page_text(response).count('name="conversation_ids"') == min(waits, 25)


def test_the_response_times_page_costs_nine_queries(
    client: Client,
    seller: User,
    seeded_response_times: None,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    signed_in(client, seller)

    # session, user, the answered waits' aggregates, the open waits' aggregates, the claim
    # rate's orders and claims (support's hook), the late waits still open and answered
    # late (docs/escalation.md), the counters for the header badge.
    with django_assert_num_queries(9):
        response = client.get(RESPONSE_TIMES)

    assert 'data-testid="share-90">60%</strong>' in page_text(response)


def test_the_saved_replies_page_costs_four_queries(
    client: Client,
    seller: User,
    shipping_reply: SavedReply,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    actions.save_reply(seller, "Returns", "30 days.")
    signed_in(client, seller)

    # session, user, the saved replies, the counters for the header badge; changing one
    # finds it in the same list.
    with django_assert_num_queries(4):
        listing = client.get(SAVED_REPLIES)
    with django_assert_num_queries(4):
        editing = client.get(saved_reply_url(shipping_reply))

    assert page_text(listing).count('class="saved-reply"') == 2
    assert page_text(editing).count('class="saved-reply saved-reply--editing"') == 1


def test_a_read_conversation_page_costs_a_seller_one_query_more_than_a_buyer(
    client: Client,
    seller: User,
    question: int,
    shipping_reply: SavedReply,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    actions.mark_read(seller, [question])
    signed_in(client, seller)

    # session, user, where the page's event stream starts, the participant with its
    # conversation (and the buyer's name), the saved replies, whether the buyer asked
    # customer service to step in (support's status line), the messages with senders
    # (and whether each has attachments: these have none, so none are read), the
    # counters for the header. Inserting a saved reply without script costs nothing more.
    with django_assert_num_queries(8):
        client.get(conversation_url(question))
    with django_assert_num_queries(8):
        response = client.get(conversation_url(question), {"saved_reply": shipping_reply.pk})

    assert "required>We ship within 1 business day.</textarea>" in page_text(response)
