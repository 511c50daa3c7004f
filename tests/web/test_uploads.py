"""Files sent with a page's form (web/uploads.py): read from the field the form names, and
refused under any other, beside the form; a form that takes no files refuses any file.
Read by their field only, files under another name were dropped without a word and the
rest of the form was done: a reply posted with `files=` was sent without them."""

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.conversations.models import Attachment, SavedReply
from messagecenter.marketplace.models import Product, ReturnRequest
from messagecenter.support import claim_actions
from messagecenter.support.models import Claim
from tests import factories
from tests.conversations.helpers import snapshot
from tests.factories import signed_in
from tests.support.claims import Clock, claimable_order, clock
from tests.web.helpers import png

__all__ = ["clock"]

pytestmark = pytest.mark.django_db

WRONG_FIELD = "Files came in a field this form does not read (“files”), so nothing was sent."
NO_FILES = "This form takes no files"


def everything() -> dict[str, Any]:
    return {
        **snapshot(),
        "attachments": Attachment.objects.count(),
        "claims": Claim.objects.count(),
        "returns": ReturnRequest.objects.count(),
        "saved_replies": SavedReply.objects.count(),
    }


# Each form of the site that takes files: (who sends it, its address, its fields).
FormOf = Callable[[User, User, Product, Clock], tuple[User, str, dict[str, Any]]]


def reply(buyer: User, seller: User, product: Product, clock: Clock) -> Any:
    question = actions.ask_seller_about_product(buyer, product.pk, "Is it loud?")
    return buyer, reverse("conversation", args=[question.conversation_id]), {"body": "A photo"}


def ask(buyer: User, seller: User, product: Product, clock: Clock) -> Any:
    return buyer, reverse("ask-seller", args=[product.sku]), {"body": "Like this one?"}


def contact_seller(buyer: User, seller: User, product: Product, clock: Clock) -> Any:
    order = factories.order_with_item(buyer, product, status="shipped")
    address = reverse("contact-seller", args=[order.number, product.storefront_id])
    return buyer, address, {"body": "It came scratched"}


def contact_buyer(buyer: User, seller: User, product: Product, clock: Clock) -> Any:
    order = factories.order_with_item(buyer, product, status="shipped")
    return seller, reverse("contact-buyer", args=[order.number]), {"body": "Which colour?"}


def request_return(buyer: User, seller: User, product: Product, clock: Clock) -> Any:
    order = factories.order_with_item(buyer, product, status="delivered")
    item = order.items.get()
    fields = {
        "storefront_id": str(product.storefront_id),
        "item": str(item.pk),
        "quantity": "1",
        "resolution": "refund",
        "reason": "damaged",
        "note": "Cracked",
    }
    return buyer, reverse("request-return", args=[order.number]), fields


def file_claim(buyer: User, seller: User, product: Product, clock: Clock) -> Any:
    order = claimable_order(buyer, product, clock)
    fields = {"reason": "not_received", "description": "Nothing came."}
    return buyer, reverse("claim-file", args=[order.number]), fields


def respond_to_claim(buyer: User, seller: User, product: Product, clock: Clock) -> Any:
    order = claimable_order(buyer, product, clock)
    claim = claim_actions.file_claim(buyer, order.number, "not_received", "Nothing came.")
    return seller, reverse("claim-respond", args=[claim.pk]), {"body": "Delivered Monday."}


FORMS_WITH_FILES = [
    reply,
    ask,
    contact_seller,
    contact_buyer,
    request_return,
    file_claim,
    respond_to_claim,
]


@pytest.mark.parametrize("form", FORMS_WITH_FILES)
def test_files_under_another_field_than_the_forms_are_refused_beside_the_form(
    buyer: User, seller: User, product: Product, clock: Clock, form: FormOf
) -> None:
    sender, address, fields = form(buyer, seller, product, clock)
    before = everything()

    response = signed_in(sender).post(address, {**fields, "files": png("proof.png")})

    assert response.status_code == 400
    page = response.content.decode()
    assert WRONG_FIELD in page
    assert everything() == before


def test_a_reply_shows_the_refusal_on_its_file_field_and_keeps_what_was_typed(
    buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    sender, address, _ = reply(buyer, seller, product, clock)

    page = (
        signed_in(sender)
        .post(address, {"body": "The scratch, see photo", "file": png()})
        .content.decode()
    )

    assert re.search(r'id="reply-attachments"[^>]*aria-invalid="true"', page)
    assert "The scratch, see photo" in page


def test_files_under_the_forms_own_field_are_still_sent(
    buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    sender, address, fields = reply(buyer, seller, product, clock)

    response = signed_in(sender).post(address, {**fields, "attachments": png("scratch.png")})

    assert response.status_code == 302
    assert Attachment.objects.get().filename == "scratch.png"


def test_a_form_that_takes_no_files_refuses_them_and_does_nothing(seller: User) -> None:
    """A saved reply has no file field: its form was done, the file dropped."""
    client = signed_in(seller)
    before = everything()

    response = client.post(
        reverse("saved-replies"),
        {"title": "Shipping", "body": "It ships tomorrow.", "photo": png()},
        headers={"Referer": "http://testserver/message-center/saved-replies/"},
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert NO_FILES in page
    assert 'href="http://testserver/message-center/saved-replies/">Go back</a>' in page
    assert everything() == before
    # Without the file, the same form is done.
    assert (
        client.post(reverse("saved-replies"), {"title": "Shipping", "body": "Soon."}).status_code
        == 302
    )


def _site_addresses(
    patterns: list[Any] | None = None, prefix: str = ""
) -> Iterator[tuple[str, Any]]:
    """Every page of the site (not the API, not Django's admin) and its view, with 1 for
    each parameter of its address."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        if route.startswith(("api/", "^api/", "admin/")):
            continue
        if isinstance(entry, URLResolver):
            yield from _site_addresses(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield "/" + re.sub(r"<[^>]+>", "1", route), entry.callback


def test_every_page_that_takes_no_files_refuses_them(buyer: User) -> None:
    """Before the view runs, whatever it would do: a page added later refuses files unless
    its view says which field it reads them from (@takes_files)."""
    taking = set()
    refused = {}
    for address, view in _site_addresses():
        if getattr(view, "form_file_field", None):
            taking.add(address)
            continue
        response = signed_in(buyer).post(address, {"note": "x", "upload": png()})
        refused[address] = response.status_code

    assert taking == {
        "/message-center/conversations/1/",
        "/products/1/ask/",
        "/orders/1/contact-buyer/",
        "/orders/1/contact/1/",
        "/orders/1/returns/",
        "/orders/1/claim/",
        "/claims/1/respond/",
    }
    assert refused == {address: 400 for address in refused}
    assert len(refused) > 80


def test_the_api_and_the_admin_keep_their_own_answers(buyer: User) -> None:
    """The API refuses a file by its own rules (api_support.uploaded_files), in its shape."""
    response = signed_in(buyer).post("/api/v1/nothing-here", {"upload": png()})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_endpoint"
    # Django's admin: its sign-in page for someone who is not staff, not the refusal.
    assert NO_FILES not in Client().post("/admin/login/", {"upload": png()}).content.decode()
