"""Bidirectional overrides from what people write never reach a page, and numbers inside
Arabic keep their order (messagecenter/bidi.py);
e-mail: tests/delivery/test_sending.py and test_broadcast_emails.py."""

import pytest
from django.test import Client
from django.utils.safestring import mark_safe

from messagecenter.accounts.models import User
from messagecenter.bidi import isolating, neutralise, numbers_left_to_right
from messagecenter.conversations import actions
from messagecenter.conversations.models import Kind
from messagecenter.marketplace.models import Product
from messagecenter.support import actions as support_actions
from tests import factories
from tests.notifications.helpers import broadcast
from tests.web.helpers import not_isolated

pytestmark = pytest.mark.django_db

# Shows "invoiceexe.jpg" where it stands.
SPOOF = "invoice\u202egpj.exe"
CONTROLS = [chr(code) for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]


def test_isolating_wraps_each_place_of_the_name_and_escapes_the_rest() -> None:
    shop = "<b>חנות</b> & co"

    shown = isolating(f"You have not written to {shop} yet; {shop} has 48 hours.", shop)

    escaped = "&lt;b&gt;חנות&lt;/b&gt; &amp; co"
    assert shown == (
        f"You have not written to <bdi>{escaped}</bdi> yet; <bdi>{escaped}</bdi> has 48 hours."
    )
    # No name, or a sentence without it: only escaped.
    assert isolating("a < b", None) == "a &lt; b"
    assert isolating("a < b", "Acme") == "a &lt; b"


def test_neutralise_removes_every_embedding_override_and_isolate_and_nothing_else() -> None:
    arabic = "مرحبا \u200f بالعالم"

    assert neutralise("".join(CONTROLS) + SPOOF) == "invoicegpj.exe"
    # Natural right-to-left text and its marks (RLM) are left alone.
    assert neutralise(arabic) == arabic


def test_pages_show_names_subjects_and_bodies_without_overrides(
    client: Client, buyer: User, seller: User, product: Product
) -> None:
    seller.display_name = f"Shop {SPOOF}"
    seller.save(update_fields=["display_name"])
    product.title = f"Kettle {SPOOF}"
    product.save(update_fields=["title"])
    question = actions.ask_seller_about_product(buyer, product.pk, f"Is {SPOOF} safe?")
    actions.send_message(seller, question.conversation_id, f"Yes, {SPOOF}.")
    client.force_login(buyer)

    pages = [
        client.get("/message-center/").content.decode(),
        client.get(f"/message-center/conversations/{question.conversation_id}/").content.decode(),
        client.get(f"/products/{product.sku}/").content.decode(),
    ]

    for html in pages:
        assert "invoicegpj.exe" in html
        assert not set(CONTROLS) & set(html)


ORDER = "113-6624019-7781204"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        # After Arabic letters each group would be laid out on its own, right to left.
        (
            f"رقم الطلب {ORDER}!",
            f'رقم الطلب <bdi dir="ltr">{ORDER}</bdi>!',
        ),
        ("التاريخ 12/05/2026", 'التاريخ <bdi dir="ltr">12/05/2026</bdi>'),
        # Hebrew, or no right-to-left text at all: nothing to isolate.
        (f"ההזמנה {ORDER}", f"ההזמנה {ORDER}"),
        (f"Order {ORDER}", f"Order {ORDER}"),
        # Escaped as any text is.
        (f"<b>رقم</b> {ORDER}", f'&lt;b&gt;رقم&lt;/b&gt; <bdi dir="ltr">{ORDER}</bdi>'),
    ],
)
def test_numbers_in_arabic_text_keep_their_groups_in_order(text: str, shown: str) -> None:
    assert numbers_left_to_right(text) == shown


def test_only_the_text_between_tags_is_changed_never_a_link() -> None:
    html = mark_safe(
        f'رقم <a href="https://example.com/o/{ORDER}">{ORDER}</a><br><mark>{ORDER}</mark>'
    )

    assert numbers_left_to_right(html) == (
        f'رقم <a href="https://example.com/o/{ORDER}"><bdi dir="ltr">{ORDER}</bdi></a><br>'
        f'<mark><bdi dir="ltr">{ORDER}</bdi></mark>'
    )


# --- subjects: an isolate of their own wherever they are shown ------------------------

# A subject that starts left to right and ends right to left, and one that is Hebrew
# throughout: each shown with its own direction, never taking the words around it along.
MIXED = "Order 123 — שלום"
HEBREW = "שאלה על ההזמנה 123?"
ARABIC = "سؤال عن الطلب!"


def pages_showing(subject: str, buyer: User, product: Product) -> dict[str, str]:
    """The subject on every page a person meets it: a conversation's (the list, its header,
    search), a notice's (the list, its page), an order's messages, a request to customer
    service (the customer's list, the console's queue and the case)."""
    order = factories.order_with_item(buyer, product, number="113-6624019-7781204")
    message = actions.send_marketplace_message(
        buyer, kind=Kind.ORDER_UPDATES, subject=subject, body="Parcel tracked", order=order
    )
    notice = broadcast(subject=subject)
    case = support_actions.open_request(buyer, subject, "Where is it?")
    client = Client()
    client.force_login(buyer)
    paths = {
        "Message Center": "/message-center/",
        "conversation": f"/message-center/conversations/{message.conversation_id}/",
        "notice": f"/message-center/announcements/{notice.pk}/",
        "search": "/message-center/search/?q=tracked",
        "order": f"/orders/{order.number}/",
        "customer service": "/message-center/customer-service/",
    }
    shown = {name: client.get(path).content.decode() for name, path in paths.items()}
    client.force_login(factories.agent_in_team())
    shown["console"] = client.get("/console/").content.decode()
    shown["case"] = client.get(f"/console/cases/{case.pk}/").content.decode()
    return shown


@pytest.mark.parametrize("subject", [MIXED, HEBREW, ARABIC], ids=["mixed", "hebrew", "arabic"])
def test_a_subject_is_an_isolate_of_its_own_on_every_page(
    buyer: User, product: Product, subject: str
) -> None:
    """A subject in Hebrew or Arabic took the direction of the page around it: "?" at the
    wrong end, and the words and quotes beside it pulled into its run. Each place shows it
    as <bdi> (in a line of other words) or with dir="auto" (a heading, a line of its own),
    as messages are."""
    pages = pages_showing(subject, buyer, product)

    problems = {name: not_isolated(html, subject) for name, html in pages.items()}

    assert {name: found for name, found in problems.items() if found} == {}
