"""Guarantee claims on the web: filing from the order, the claim's page for buyer and seller,
the decision in the console (docs/support.md#guarantee-claims)."""

from datetime import datetime, timedelta
from email import message_from_bytes, policy
from html import escape
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from messagecenter.accounts.models import User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.models import Attachment, HiddenMessage, Message, Participant
from messagecenter.delivery import rendering
from messagecenter.delivery.models import Email
from messagecenter.marketplace.models import OrderItem, OrderStatus, Product, Refund
from messagecenter.safety.links import defang
from messagecenter.support import actions as support_actions
from messagecenter.support import claim_actions, claim_queries, report_actions
from messagecenter.support.models import Claim, Report, TeamMember
from tests import factories
from tests.api.helpers import with_token
from tests.factories import signed_in
from tests.support.claims import Clock, claimable_order, clock, refunded_in_full
from tests.web.helpers import PNG_BYTES, not_isolated

__all__ = ["clock"]

pytestmark = pytest.mark.django_db

PNG = PNG_BYTES
# How the console's pages name the seller and the customer: the name and the part in the
# case each an isolate of their own (support.queries.person_in_console_html).
SELLER_SHOWN = "<bdi>Acme Kitchen</bdi> <bdi>(seller)</bdi>"
CUSTOMER_SHOWN = "<bdi>Alice Buyer</bdi> <bdi>(customer)</bdi>"


def test_the_order_page_offers_a_claim_and_the_form_explains_each_refusal(
    buyer: User, product: Product, clock: Clock
) -> None:
    order = factories.order_with_item(buyer, product, placed_at=clock.now - timedelta(days=2))
    client = signed_in(buyer)

    order_page = client.get(reverse("order", args=[order.number]))
    form = client.get(reverse("claim-file", args=[order.number]))

    assert reverse("claim-file", args=[order.number]) in order_page.content.decode()
    page = form.content.decode()
    assert form.status_code == 200
    # Only "item not received" waits on the seller: the order is not delivered and has no
    # return, which no message to the seller changes, so those reasons say that instead.
    assert (
        page.count("Contact the seller first: you have not written to <bdi>Acme Kitchen</bdi>") == 1
    )
    assert "once the order is delivered" in page
    assert "There is no return on this order waiting for a refund" in page
    assert page.count(" disabled ") == 3


def test_the_form_of_a_suspended_sellers_order_does_not_ask_to_contact_them(
    buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    order = factories.order_with_item(buyer, product, placed_at=clock.now - timedelta(days=20))
    User.objects.filter(pk=seller.pk).update(is_active=False)

    page = signed_in(buyer).get(reverse("claim-file", args=[order.number])).content.decode()

    assert "Contact the seller first" not in page
    assert page.count(" disabled ") == 2
    assert 'value="not_received"' in page
    # Nor does it promise them a response window they cannot use.
    assert "hours to respond to your claim" not in page
    assert "account is suspended: your claim goes straight to an agent" in page
    filed = signed_in(buyer).post(
        reverse("claim-file", args=[order.number]),
        {"reason": "not_received", "description": "Nothing came."},
        follow=True,
    )
    assert "goes straight to an agent of the claims team" in filed.content.decode()
    assert "You and the seller will hear" not in filed.content.decode()


def test_a_cancelled_order_is_offered_no_claim_and_its_form_only_says_why(
    buyer: User, product: Product
) -> None:
    """A request about a cancelled order linked to "File a guarantee claim", whose form
    refused every reason yet showed the description and the button."""
    order = factories.order_with_item(buyer, product, status=OrderStatus.CANCELLED)
    case = support_actions.open_request(
        buyer, "Cancelled", "Why was it cancelled?", order_number=order.number
    )
    client = signed_in(buyer)

    request_page = client.get(reverse("conversation", args=[case.conversation_id]))
    form = client.get(reverse("claim-file", args=[order.number])).content.decode()

    assert reverse("claim-file", args=[order.number]) not in request_page.content.decode()
    assert form.count("This order was cancelled: there is nothing to claim.") == 3
    assert "File the claim" not in form
    assert 'name="description"' not in form


def test_an_order_refunded_in_full_says_why_no_claim_instead_of_offering_one(
    buyer: User, product: Product, clock: Clock
) -> None:
    """The order page used to link to "File a guarantee claim" on an order refunded in
    full, whose form then only said why not: the page says it right there, by the claim
    page's own rule, from the refunds it reads anyway."""
    order = claimable_order(buyer, product, clock)
    client = signed_in(buyer)
    order_page = reverse("order", args=[order.number])
    claimable = client.get(order_page).content.decode()
    refunded_in_full(order, clock)

    refunded = client.get(order_page).content.decode()

    assert 'data-testid="file-claim"' in claimable
    assert 'data-testid="claim-refusal"' not in claimable
    assert 'data-testid="file-claim"' not in refunded
    why = f"Order {order.number} was refunded in full already"
    assert why in refunded
    assert why in client.get(reverse("claim-file", args=[order.number])).content.decode()


def test_only_the_orders_buyer_is_offered_a_claim_in_a_conversation_about_it(
    buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    """Both read the conversation about the order; the claim is the buyer's to file (the
    seller's link led to a 404)."""
    order = claimable_order(buyer, product, clock)
    conversation_id = Message.objects.filter(conversation__order=order).get().conversation_id
    page = reverse("conversation", args=[conversation_id])
    claim = reverse("claim-file", args=[order.number])

    assert claim in signed_in(buyer).get(page).content.decode()
    seller_sees = signed_in(seller).get(page)
    assert seller_sees.status_code == 200
    assert claim not in seller_sees.content.decode()
    assert 'data-testid="file-claim"' not in seller_sees.content.decode()


@pytest.mark.parametrize("ended", ["refunded in full", "past the filing window"])
def test_a_conversation_about_an_order_nothing_can_be_claimed_on_says_why_instead_of_a_link(
    buyer: User, product: Product, clock: Clock, ended: str
) -> None:
    """The conversation with the seller about an order, and a request to customer service
    about it, linked to "File a guarantee claim" on an order refunded in full or past the
    filing window, whose form then only said why not (the order's page already said it)."""
    order = claimable_order(buyer, product, clock)
    conversation_id = Message.objects.filter(conversation__order=order).get().conversation_id
    case = support_actions.open_request(
        buyer, "About my order", "Where is it?", order_number=order.number
    )
    client = signed_in(buyer)
    with_seller = reverse("conversation", args=[conversation_id])
    with_us = reverse("conversation", args=[case.conversation_id])
    claim = reverse("claim-file", args=[order.number])
    assert 'data-testid="file-claim"' in client.get(with_seller).content.decode()
    assert claim in client.get(with_us).content.decode()
    if ended == "refunded in full":
        refunded_in_full(order, clock)
        why = f"Order {order.number} was refunded in full already"
    else:
        clock.now = order.placed_at + timedelta(days=settings.CLAIM_FILING_WINDOW_DAYS)
        why = "Claims on this order could be filed until"
        # Signed in again: the session of ten days ago has expired.
        client = signed_in(buyer)

    page_with_seller = client.get(with_seller).content.decode()
    page_with_us = client.get(with_us).content.decode()

    assert 'data-testid="file-claim"' not in page_with_seller
    assert 'data-testid="claim-refusal"' in page_with_seller
    assert f"No guarantee claim: {why}" in page_with_seller
    assert claim not in page_with_us
    # What the claim's form says too.
    assert why in client.get(claim).content.decode()


def test_a_buyer_files_a_claim_with_a_photo_and_lands_in_its_conversation(
    buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    order = claimable_order(buyer, product, clock)
    client = signed_in(buyer)

    response = client.post(
        reverse("claim-file", args=[order.number]),
        {
            "reason": "not_received",
            "description": "Nothing came.",
            "idempotency_key": "form-1",
            "attachments": SimpleUploadedFile("door.png", PNG, content_type="image/png"),
        },
    )

    claim = Claim.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("conversation", args=[claim.case.conversation_id])
    assert (
        Attachment.objects.filter(message__conversation_id=claim.case.conversation_id).count() == 1
    )
    conversation = client.get(response["Location"]).content.decode()
    assert f"{claim.number} · Guarantee claim · Waiting for the seller" in conversation
    assert reverse("claim", args=[claim.pk]) in conversation
    # The seller reads what they owe: the claim's response, on its page.
    sellers = signed_in(seller).get(response["Location"]).content.decode()
    assert f"{claim.number} · Guarantee claim · Your response is due" in sellers
    assert f"{reverse('claim', args=[claim.pk])}#respond-title" in sellers


def test_a_refused_filing_shows_why_with_400_and_files_nothing(
    buyer: User, product: Product, clock: Clock
) -> None:
    order = factories.order_with_item(buyer, product, placed_at=clock.now - timedelta(days=20))

    response = signed_in(buyer).post(
        reverse("claim-file", args=[order.number]),
        {"reason": "not_received", "description": "Nothing came."},
    )

    assert response.status_code == 403
    assert "Contact the seller first" in response.content.decode()
    assert not Claim.objects.exists()
    assert not Message.objects.filter(conversation__kind="claim").exists()


def test_the_seller_responds_from_the_claim_page(
    buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    order = claimable_order(buyer, product, clock)
    claim = claim_actions.file_claim(buyer, order.number, "not_received", "Nothing came.")
    client = signed_in(seller)

    page = client.get(reverse("claim", args=[claim.pk])).content.decode()
    response = client.post(
        reverse("claim-respond", args=[claim.pk]),
        {
            "body": "Delivered on Monday, photo attached.",
            "attachments": SimpleUploadedFile("proof.png", PNG, content_type="image/png"),
        },
    )

    assert "Respond to the claim" in page
    assert response.status_code == 302
    assert Claim.objects.get(pk=claim.pk).stage == "decision"
    assert Attachment.objects.filter(message__sender=seller).count() == 1


def test_the_sellers_claim_page_speaks_to_the_seller_and_the_others_pages_about_them(
    buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    """The seller's own claim page said "The seller has until …" to the seller, twice (under
    the title and above the Respond form). It now says "You have until …"; the buyer's and
    the agent's pages keep speaking of the seller."""
    order = claimable_order(buyer, product, clock)
    claim = claim_actions.file_claim(buyer, order.number, "not_received", "Nothing came.")
    url = reverse("claim", args=[claim.pk])
    due = claim_queries.when(claim.case.due_at)  # type: ignore[arg-type]

    sellers_page = signed_in(seller).get(url).content.decode()
    buyers_page = signed_in(buyer).get(url).content.decode()
    agents_page = signed_in(factories.agent_in_team("claims")).get(url).content.decode()

    assert "The seller has until" not in sellers_page
    assert sellers_page.count(f"You have until {escape(due)} to respond") == 2
    for page in (buyers_page, agents_page):
        assert f"The seller has until {escape(due)} to respond" in page
        assert "You have until" not in page


def test_the_seller_is_told_above_the_reply_box_that_a_reply_is_not_the_response(
    buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    """The claim's conversation offered the seller a Reply box and "respond here": a reply
    there moved nothing. While the claim's response is due, the seller's page says so above
    the box, with the way to the claim's Respond form; the buyer's page does not."""
    order = claimable_order(buyer, product, clock)
    claim = claim_actions.file_claim(buyer, order.number, "not_received", "Nothing came.")
    conversation_url = reverse("conversation", args=[claim.case.conversation_id])
    respond_link = f'href="{reverse("claim", args=[claim.pk])}#respond-title"'
    sellers = signed_in(seller)

    page = sellers.get(conversation_url).content.decode()
    buyers_page = signed_in(buyer).get(conversation_url).content.decode()
    # A reply from the page changes nothing of that.
    sellers.post(conversation_url, {"body": "It was shipped on Monday."})
    after_reply = sellers.get(conversation_url).content.decode()

    notice = page[page.index('data-testid="reply-notice"') : page.index('id="reply-body"')]
    assert f"Your response to claim {claim.number} is due by" in notice
    assert "is not a response to the claim" in notice
    assert respond_link in notice
    assert "Respond to the claim" in notice
    assert page.index('data-testid="reply-notice"') > page.index('id="reply-title"')
    assert "Your response is due" in page  # the status line under the title too
    assert 'data-testid="reply-notice"' not in buyers_page
    assert 'data-testid="reply-notice"' in after_reply
    assert Claim.objects.get(pk=claim.pk).stage == "seller_response"

    claim_actions.respond_to_claim(seller, claim.pk, "Tracking says delivered.")

    responded = sellers.get(conversation_url).content.decode()
    assert 'data-testid="reply-notice"' not in responded
    assert "Your response is due" not in responded


@pytest.mark.parametrize("kind", ["claim", "request"])
def test_the_customer_of_a_closed_case_is_told_above_the_reply_box_that_nobody_will_act(
    buyer: User, seller: User, product: Product, clock: Clock, kind: str
) -> None:
    """A closed claim (or request) kept the customer's Reply box and said nothing: a reply
    was stored, reopened nothing and reached no queue. The customer's page now says so
    above the box, with the way to a new request about the order; the seller's does not,
    nor does a case that is only solved (a reply opens it again)."""
    order = claimable_order(buyer, product, clock)
    if kind == "claim":
        case = claim_actions.file_claim(buyer, order.number, "not_received", "Nothing came.").case
    else:
        case = support_actions.open_request(buyer, "Lost", "Help", order_number=order.number)
    conversation_url = reverse("conversation", args=[case.conversation_id])
    buyers = signed_in(buyer)

    type(case).objects.filter(pk=case.pk).update(status="solved")
    solved = buyers.get(conversation_url).content.decode()
    type(case).objects.filter(pk=case.pk).update(status="closed")
    Claim.objects.filter(case=case).update(stage="closed")
    closed = buyers.get(conversation_url).content.decode()

    assert 'data-testid="reply-notice"' not in solved
    notice = closed[closed.index('data-testid="reply-notice"') : closed.index('id="reply-body"')]
    assert f"This {kind} is closed: a reply here is kept in the conversation" in notice
    assert "no agent is asked to read it" in notice
    assert f'href="{reverse("contact-customer-service")}?order={order.number}"' in notice
    assert "Contact customer service" in notice
    if kind == "claim":
        # The line under the title keeps its way to the claim and its decision.
        assert f'href="{reverse("claim", args=[case.pk])}"' in closed
        sellers_page = signed_in(seller).get(conversation_url).content.decode()
        assert 'data-testid="reply-notice"' not in sellers_page


def test_the_claims_conversation_offers_the_seller_no_no_response_needed_while_it_is_due(
    buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    """The conversation page offered "No response needed" on a claim's conversation, which
    took it out of the seller's Response needed while the claim still waited for their
    response. Not offered there; sent anyway (the list's bulk bar), it is refused with why."""
    order = claimable_order(buyer, product, clock)
    claim = claim_actions.file_claim(buyer, order.number, "not_received", "Nothing came.")
    conversation_id = claim.case.conversation_id
    sellers = signed_in(seller)

    page = sellers.get(reverse("conversation", args=[conversation_id])).content.decode()
    refused = sellers.post(
        reverse("conversation-actions"),
        {"action": "no_response_needed", "conversation_ids": [conversation_id]},
    )

    assert 'value="no_response_needed"' not in page
    assert refused.status_code == 409
    assert "respond to the claim on its page" in refused.content.decode()
    assert (
        Participant.objects.get(
            user=seller, conversation_id=conversation_id
        ).awaiting_response_since
        is not None
    )


def test_the_sellers_claim_email_links_to_the_respond_form_not_just_reply(
    buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    """The claim's e-mail said "Reply to this e-mail to answer …": a reply by e-mail lands
    in the conversation and is no response to the claim. While it is due, the seller's
    e-mail says so, with the link to the claim's Respond form."""
    order = claimable_order(buyer, product, clock)
    claim = claim_actions.file_claim(buyer, order.number, "not_received", "Nothing came.")
    respond = f"{settings.SITE_URL.rstrip('/')}/claims/{claim.pk}/#respond-title"
    emails = Email.objects.filter(user=seller, message__conversation_id=claim.case.conversation_id)

    built = [rendering.build(email, seller, {}) for email in emails.order_by("id")]
    buyers = rendering.build(
        Email.objects.filter(user=buyer, message__conversation_id=claim.case.conversation_id).get(),
        buyer,
        {},
    )

    assert len(built) == 2  # the buyer's description, the marketplace's "filed"
    for email in built:
        html = str(email.alternatives[0][0])
        assert f"Respond to the claim: {respond}" in email.body
        assert "is not a response to the claim" in email.body
        assert "Reply to this e-mail to answer" not in email.body
        assert f'href="{respond}"' in html
        assert "it is not your response to the claim" in html
    assert "Respond to the claim:" not in buyers.body
    claim_actions.respond_to_claim(seller, claim.pk, "Tracking says delivered.")
    later = rendering.build(emails.order_by("id")[0], seller, {})
    assert "Respond to the claim:" not in later.body


def test_the_agent_grants_from_the_console_and_both_read_the_refund(
    buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    agent = factories.agent_in_team("claims")
    order = claimable_order(buyer, product, clock)
    claim = claim_actions.file_claim(buyer, order.number, "not_received", "Nothing came.")
    claim_actions.respond_to_claim(seller, claim.pk, "Sorry.")
    client = signed_in(agent)

    console = client.get(reverse("console-case", args=[claim.pk])).content.decode()
    refused = client.post(
        reverse("console-claim-decide", args=[claim.pk]),
        {"outcome": "granted", "refund": "9999.99", "reasons": "Lost."},
    )
    granted = client.post(
        reverse("console-claim-decide", args=[claim.pk]),
        {"outcome": "granted", "refund": "12.50", "reasons": "The carrier lost it."},
    )

    assert 'data-testid="claim-panel"' in console
    assert "Record the decision" in console
    assert refused.status_code == 400
    assert granted.status_code == 302
    assert Refund.objects.get().amount_cents == 1250
    for person in (buyer, seller):
        conversation = signed_in(person).get(
            reverse("conversation", args=[claim.case.conversation_id])
        )
        assert "A refund of $12.50 to the buyer is recorded" in conversation.content.decode()


def test_an_amount_typed_beside_deny_is_refused_not_dropped(
    buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    """The agent may have meant to grant: the form says so and nothing is decided."""
    agent = factories.agent_in_team("claims")
    order = claimable_order(buyer, product, clock)
    claim = claim_actions.file_claim(buyer, order.number, "not_received", "Nothing came.")
    claim_actions.respond_to_claim(seller, claim.pk, "Sorry.")
    client = signed_in(agent)

    refused = client.post(
        reverse("console-claim-decide", args=[claim.pk]),
        {"outcome": "denied", "refund": "12.50", "reasons": "Delivered."},
    )
    denied = client.post(
        reverse("console-claim-decide", args=[claim.pk]),
        {"outcome": "denied", "refund": "", "reasons": "Delivered."},
    )

    assert refused.status_code == 400
    assert "A denied claim refunds nothing." in refused.content.decode()
    assert 'value="12.50"' in refused.content.decode()
    assert denied.status_code == 302
    assert not Refund.objects.exists()
    assert Claim.objects.get(pk=claim.pk).outcome == "denied"


PHISHING = (
    "Please confirm your account at http://marketplace-security-check.example/login and "
    "enter your card number to get the refund"
)


def message_on(page: str, message: Message) -> str:
    """One message's item of a console page."""
    return page.split(f'id="message-{message.pk}"', 1)[1].split("</article>", 1)[0]


def claim_answered_with_phishing(
    buyer: User, seller: User, product: Product, clock: Clock
) -> tuple[Claim, Message, Message]:
    """A claim the buyer filed and the seller answered with PHISHING: the claim, the
    buyer's filing message and the seller's answer."""
    order = claimable_order(buyer, product, clock)
    claim = claim_actions.file_claim(buyer, order.number, "not_received", "Nothing came.")
    claim_actions.respond_to_claim(seller, claim.pk, PHISHING)
    conversation = claim.case.conversation_id
    filed = Message.objects.get(conversation_id=conversation, sender=buyer)
    response = Message.objects.get(conversation_id=conversation, sender=seller)
    return claim, filed, response


def test_the_console_shows_the_agent_each_flagged_message_with_its_verdict_and_author(
    buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    """The agent deciding a claim read the seller's phishing answer under the seller's
    account name, with no verdict and no hint it was the seller's, while the buyer read it
    under a warning; a report's case showed the verdict all along."""
    agent = factories.agent_in_team("claims")
    seller.first_name, seller.last_name = "Marcus", "Reyes"
    seller.save(update_fields=["first_name", "last_name"])
    claim, filed, response = claim_answered_with_phishing(buyer, seller, product, clock)
    assert response.safety_verdict == "warn"
    client = signed_in(agent)
    url = reverse("console-case", args=[claim.pk])

    page = client.get(url).content.decode()
    # What site.js adds when a message arrives while the page is open: the same.
    live = client.get(url, {"after": filed.pk}, headers={"X-Partial": "messages"})

    for shown in (message_on(page, response), message_on(live.content.decode(), response)):
        assert f'<span class="message__sender">{SELLER_SHOWN}</span>' in shown
        assert "Marcus Reyes" not in shown
        assert 'data-testid="message-verdict">Verdict when sent: <strong>warn</strong>' in shown
        assert response.safety_version in shown
        assert response.safety_reasons
        for reason in response.safety_reasons:
            assert f"<li>{escape(reason['text'])}</li>" in shown
        # Read as text, never as a link.
        assert "<a " not in shown
    buyers = message_on(page, filed)
    assert f'<span class="message__sender">{CUSTOMER_SHOWN}</span>' in buyers
    assert "message-verdict" not in buyers


def test_the_console_marks_a_message_customer_service_removed(
    buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    """The seller's phishing answer in a claim, reported by the buyer and removed: the
    buyer no longer saw it, but the claim's console page showed it as any other message,
    so the agent deciding the claim could not tell."""
    agent = factories.agent_in_team("claims")
    safety_agent = factories.agent_in_team("trust-and-safety", username="tess")
    claim, filed, response = claim_answered_with_phishing(buyer, seller, product, clock)
    report_actions.report_message(buyer, response.pk, "scam")
    report_actions.decide_report(safety_agent, Report.objects.get().pk, "confirmed", "restricted")
    client = signed_in(agent)
    url = reverse("console-case", args=[claim.pk])

    page = client.get(url).content.decode()
    live = client.get(url, {"after": filed.pk}, headers={"X-Partial": "messages"})

    for shown in (message_on(page, response), message_on(live.content.decode(), response)):
        assert '<span class="tag">Removed</span>' in shown
        assert 'data-testid="message-removed"' in shown
        assert "only its sender still sees it" in shown
    assert "message-removed" not in message_on(page, filed)


def test_the_console_marks_a_message_the_customer_reported_with_who_and_when(
    buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    """The buyer reported the seller's phishing answer in a claim: it left the buyer's
    page at once (hidden for its reporter), but the claim's console page showed it as any
    other message until customer service decided, so the agent deciding the claim could not
    tell the buyer no longer read it. It is marked now, as a removed one is: who reported it
    and when, and — until it is removed — that the others still see it."""
    agent = factories.agent_in_team("claims")
    safety_agent = factories.agent_in_team("trust-and-safety", username="tess")
    claim, filed, response = claim_answered_with_phishing(buyer, seller, product, clock)
    report_actions.report_message(buyer, response.pk, "scam")
    client = signed_in(agent)
    url = reverse("console-case", args=[claim.pk])

    page = client.get(url).content.decode()
    live = client.get(url, {"after": filed.pk}, headers={"X-Partial": "messages"})

    for shown in (message_on(page, response), message_on(live.content.decode(), response)):
        assert '<span class="tag" data-testid="reported-tag">Reported</span>' in shown
        note = shown.split('data-testid="message-reported"', 1)[1].split("</div>", 1)[0]
        assert f"{CUSTOMER_SHOWN} reported this message, <time datetime=" in note
        assert "it is hidden for them; the others in the conversation still see it." in note
        assert "message-removed" not in shown
    assert "message-reported" not in message_on(page, filed)
    assert "reported-tag" not in message_on(page, filed)

    report_actions.decide_report(safety_agent, Report.objects.get().pk, "confirmed", "restricted")
    removed = message_on(client.get(url).content.decode(), response)

    # Both marks: who reported it, and that customer service removed it for everyone else.
    assert 'data-testid="message-removed"' in removed
    assert f"{CUSTOMER_SHOWN} reported this message" in removed
    assert "it is hidden for them." in removed
    assert "the others in the conversation still see it" not in removed


def test_the_conversation_read_beside_a_claim_marks_each_reported_message_in_one_statement(
    buyer: User,
    seller: User,
    product: Product,
    clock: Clock,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    """The buyer↔seller conversation read beside the claim marks what the buyer reported:
    whoever reported which is read once for the page, not per message."""
    agent = factories.agent_in_team("claims")
    order = claimable_order(buyer, product, clock)
    asked = Message.objects.get(sender=buyer)
    first = conversation_actions.send_message(seller, asked.conversation_id, "Pay me by wire.")
    claim = claim_actions.file_claim(buyer, order.number, "not_received", "Nothing came.")
    report_actions.report_message(buyer, first.pk, "pay_outside")
    client = signed_in(agent)
    url = reverse("console-context-conversation", args=[claim.pk, asked.conversation_id])
    client.get(url)  # Sessions and compiled statements settle.
    with CaptureQueriesContext(connection) as one_reported:
        client.get(url)
    more = [
        conversation_actions.send_message(seller, asked.conversation_id, f"Wire it today, {n}.")
        for n in range(2)
    ]
    for message in more:
        report_actions.report_message(buyer, message.pk, "spam")

    with django_assert_num_queries(len(one_reported)):
        page = client.get(url).content.decode()

    for message in (first, *more):
        shown = message_on(page, message)
        assert '<span class="tag" data-testid="reported-tag">Reported</span>' in shown
        assert f"{CUSTOMER_SHOWN} reported this message" in shown
    assert "message-reported" not in message_on(page, asked)


def test_the_agent_api_and_the_transcripts_mark_a_message_customer_service_removed(
    buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    """The console marked the seller's removed answer, but GET /agent/cases/{id} listed it
    as any other message and the case's transcripts showed it unmarked."""
    agent = factories.agent_in_team("claims")
    safety_agent = factories.agent_in_team("trust-and-safety", username="tess")
    claim, filed, response = claim_answered_with_phishing(buyer, seller, product, clock)
    report_actions.report_message(buyer, response.pk, "scam")
    report_actions.decide_report(safety_agent, Report.objects.get().pk, "confirmed", "restricted")
    response.refresh_from_db()
    assert response.removed_at is not None
    api = with_token(agent)

    listed = {
        message["id"]: message["removed_at"]
        for message in api.get(f"/agent/cases/{claim.pk}").json()["messages"]
    }
    text = api.get(f"/agent/cases/{claim.pk}/transcript?format=txt").content.decode()
    eml = message_from_bytes(
        api.get(f"/agent/cases/{claim.pk}/transcript?format=eml").content,
        policy=policy.default,
    )
    parts = {
        part.get_content_type(): part.get_content()
        for part in eml.walk()
        if not part.is_multipart()
    }

    assert listed[filed.pk] is None
    assert datetime.fromisoformat(listed[response.pk]) == response.removed_at
    marker = "[Removed by customer service on "
    assert text.count(marker) == 1
    # Right under the seller's answer (warned: as its e-mail copy reads, its link
    # defanged), not the buyer's filing.
    assert f"{defang(PHISHING)}\n{marker}" in text
    assert "; only its sender still sees it]" in text
    assert parts["text/plain"].count(marker) == 1
    assert parts["text/html"].count(marker) == 1


def test_the_agent_api_and_the_transcripts_mark_a_message_someone_reported(
    buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    """The console marked the seller's answer the buyer reported — who and when, hidden
    for them — but GET /agent/cases/{id} listed it as any other message and the case's
    transcripts showed it unmarked. Both say it now, as the console does; the seller's own
    transcript never tells them who reported what."""
    agent = factories.agent_in_team("claims")
    claim, filed, response = claim_answered_with_phishing(buyer, seller, product, clock)
    report_actions.report_message(buyer, response.pk, "scam")
    hidden_at = HiddenMessage.objects.get(message=response).hidden_at
    api = with_token(agent)

    listed = {
        message["id"]: message["reported"]
        for message in api.get(f"/agent/cases/{claim.pk}").json()["messages"]
    }
    text = api.get(f"/agent/cases/{claim.pk}/transcript?format=txt").content.decode()
    eml = message_from_bytes(
        api.get(f"/agent/cases/{claim.pk}/transcript?format=eml").content,
        policy=policy.default,
    )
    parts = {
        part.get_content_type(): part.get_content()
        for part in eml.walk()
        if not part.is_multipart()
    }
    sellers = (
        with_token(seller)
        .get(f"/conversations/{claim.case.conversation_id}/transcript?format=txt")
        .content.decode()
    )

    assert listed[filed.pk] == []
    [reported] = listed[response.pk]
    assert reported["reporter"] == "customer"
    assert reported["reporter_name"] == "Alice Buyer"
    assert datetime.fromisoformat(reported["reported_at"]) == hidden_at
    marker = "[Alice Buyer (customer) reported this message on "
    assert text.count(marker) == 1
    # Right under the seller's answer (warned: as its e-mail copy reads, its link
    # defanged), not the buyer's filing.
    assert f"{defang(PHISHING)}\n{marker}" in text
    assert ": it is hidden for them; the others in the conversation still see it]" in text
    assert parts["text/plain"].count(marker) == 1
    assert (
        parts["text/html"].count(
            "[<bdi>Alice Buyer</bdi> <bdi>(customer)</bdi> reported this message on "
        )
        == 1
    )
    assert defang(PHISHING) in sellers
    assert "reported this message" not in sellers


def test_the_agent_api_and_the_case_transcript_read_who_reported_what_in_one_statement(
    buyer: User,
    seller: User,
    product: Product,
    clock: Clock,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    """Who reported which message is read once for the case's detail and its transcript,
    not per message — and not at all when nobody reported any."""
    agent = factories.agent_in_team("claims")
    claim, _filed, response = claim_answered_with_phishing(buyer, seller, product, clock)
    api = with_token(agent)
    urls = [f"/agent/cases/{claim.pk}", f"/agent/cases/{claim.pk}/transcript?format=txt"]

    def counts() -> list[int]:
        for url in urls:
            api.get(url)  # Compiled statements and the token's cache settle.
        found = []
        for url in urls:
            with CaptureQueriesContext(connection) as queries:
                assert api.get(url).status_code == 200
            found.append(len(queries))
        return found

    none_reported = counts()
    report_actions.report_message(buyer, response.pk, "scam")
    one_reported = counts()
    more = [
        conversation_actions.send_message(seller, claim.case.conversation_id, f"Wire it, {n}.")
        for n in range(2)
    ]
    for message in more:
        report_actions.report_message(buyer, message.pk, "spam")

    assert one_reported == [count + 1 for count in none_reported]
    detail_url, transcript_url = urls
    detail_count, transcript_count = one_reported
    with django_assert_num_queries(detail_count):
        detail = api.get(detail_url).json()
    with django_assert_num_queries(transcript_count):
        text = api.get(transcript_url).content.decode()
    assert len([message for message in detail["messages"] if message["reported"]]) == 3
    assert text.count("[Alice Buyer (customer) reported this message on ") == 3


def test_a_report_of_a_claim_message_links_the_claim_for_agents_who_may_open_it(
    buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    """A report of the seller's message in a claim is about the claim's conversation: its
    console page linked "read the whole conversation" to a read-only view that only
    takes buyer↔seller conversations, a 404. Now it links the claim's own page, for an
    agent who may open the claim; one who may not is offered no link."""
    claim, _filed, response = claim_answered_with_phishing(buyer, seller, product, clock)
    report_actions.report_message(buyer, response.pk, "scam")
    report = Report.objects.get()
    safety_only = factories.agent_in_team(report.case.team.slug, username="sam")
    both = factories.agent_in_team(report.case.team.slug, username="tess")
    TeamMember.objects.create(team=claim.case.team, agent=both)
    client = signed_in(both)
    claim_page = reverse("console-case", args=[claim.pk])

    page = client.get(reverse("console-case", args=[report.case_id])).content.decode()
    about = page.split('data-testid="about-conversation"', 1)[1].split("</p>", 1)[0]
    followed = client.get(claim_page)
    others = signed_in(safety_only).get(reverse("console-case", args=[report.case_id]))
    other_about = others.content.decode().split('data-testid="about-conversation"', 1)[1]

    assert f'<a href="{claim_page}">' in about
    assert "/conversations/" not in about
    assert followed.status_code == 200
    assert "<a " not in other_about.split("</p>", 1)[0]
    assert signed_in(safety_only).get(claim_page).status_code == 404


def test_the_conversation_read_beside_a_claim_shows_parts_verdicts_and_removals(
    buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    """The buyer↔seller conversation an agent reads beside the claim (read only) named the
    seller by the account holder's name, said nobody's part, and showed the seller's
    phishing message — warned about, then removed after the buyer's report — with no
    verdict and no sign that the buyer no longer sees it."""
    agent = factories.agent_in_team("claims")
    safety_agent = factories.agent_in_team("trust-and-safety", username="tess")
    seller.first_name, seller.last_name = "Marcus", "Reyes"
    seller.save(update_fields=["first_name", "last_name"])
    order = claimable_order(buyer, product, clock)
    asked = Message.objects.get(sender=buyer)
    phishing = conversation_actions.send_message(seller, asked.conversation_id, PHISHING)
    assert phishing.safety_verdict == "warn"
    report_actions.report_message(buyer, phishing.pk, "scam")
    report_actions.decide_report(safety_agent, Report.objects.get().pk, "confirmed", "restricted")
    claim = claim_actions.file_claim(buyer, order.number, "not_received", "Nothing came.")

    page = (
        signed_in(agent)
        .get(reverse("console-context-conversation", args=[claim.pk, asked.conversation_id]))
        .content.decode()
    )

    assert SELLER_SHOWN in page
    assert "Marcus Reyes" not in page
    shown = message_on(page, phishing)
    assert f'<span class="message__sender">{SELLER_SHOWN}</span>' in shown
    assert 'data-testid="message-verdict">Verdict when sent: <strong>warn</strong>' in shown
    for reason in phishing.safety_reasons:
        assert f"<li>{escape(reason['text'])}</li>" in shown
    assert '<span class="tag">Removed</span>' in shown
    assert 'data-testid="message-removed"' in shown
    assert "<a " not in shown
    buyers = message_on(page, asked)
    assert f'<span class="message__sender">{CUSTOMER_SHOWN}</span>' in buyers
    assert "message-verdict" not in buyers
    assert "message-removed" not in buyers


def test_the_case_history_names_the_seller_by_their_shop_as_the_messages_do(
    buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    """The history said "Marcus Reyes moved the claim to …" — the account holder's own
    name — where the message above it said "Acme Kitchen (seller)"."""
    agent = factories.agent_in_team("claims")
    seller.first_name, seller.last_name = "Marcus", "Reyes"
    seller.save(update_fields=["first_name", "last_name"])
    order = claimable_order(buyer, product, clock)
    claim = claim_actions.file_claim(buyer, order.number, "not_received", "Nothing came.")
    claim_actions.respond_to_claim(seller, claim.pk, "Sorry, it is lost.")

    page = signed_in(agent).get(reverse("console-case", args=[claim.pk])).content.decode()
    history = page.split('id="history-title"', 1)[1].split("</section>", 1)[0]
    api = with_token(agent).get(f"/agent/cases/{claim.pk}").json()["history"]

    for lines, seller_named, buyer_named in (
        (history, SELLER_SHOWN, CUSTOMER_SHOWN),
        ("\n".join(api), "Acme Kitchen (seller)", "Alice Buyer (customer)"),
    ):
        assert f"{seller_named} moved the claim to" in lines
        assert f"{buyer_named} opened the case" in lines
        assert "Marcus Reyes" not in lines


@pytest.mark.parametrize("typed", ["", "0", "0.00", "-5"])
def test_a_grant_without_a_refund_says_what_amount_is_needed(
    buyer: User, seller: User, product: Product, clock: Clock, typed: str
) -> None:
    claim, refused = _granted_with_refund_typed(buyer, seller, product, clock, typed)

    assert refused.status_code == 400
    assert (
        "Enter a refund amount above $0.00, at most the order&#x27;s total, "
        f"${claim.order.total_cents / 100:,.2f}: a granted claim refunds the buyer."
    ) in refused.content.decode()
    assert not Refund.objects.exists()
    assert Claim.objects.get(pk=claim.pk).stage == "decision"


def _granted_with_refund_typed(
    buyer: User, seller: User, product: Product, clock: Clock, typed: str
) -> tuple[Claim, Any]:
    """A claims agent grants a claim the seller answered, the refund typed as `typed`."""
    agent = factories.agent_in_team("claims")
    order = claimable_order(buyer, product, clock)
    claim = claim_actions.file_claim(buyer, order.number, "not_received", "Nothing came.")
    claim_actions.respond_to_claim(seller, claim.pk, "Sorry.")
    answer = signed_in(agent).post(
        reverse("console-claim-decide", args=[claim.pk]),
        {"outcome": "granted", "refund": typed, "reasons": "Lost."},
    )
    return claim, answer


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        # A decimal comma was dropped: 0,05 refunded 5.00 and 10,50 refunded 1,050.00.
        ("0,05", "with a decimal point, not a comma, and no thousands separators"),
        ("10,50", "with a decimal point, not a comma, and no thousands separators"),
        ("1,234.50", "with a decimal point, not a comma, and no thousands separators"),
        ("1e2", "as digits with at most two decimals after a point"),
        ("12.999", "as digits with at most two decimals after a point"),
        ("$5", "as digits with at most two decimals after a point"),
        ("1 000", "as digits with at most two decimals after a point"),
        ("١٢", "as digits with at most two decimals after a point"),
        ("NaN", "as digits with at most two decimals after a point"),
    ],
)
def test_a_refund_typed_other_than_as_plain_digits_is_refused_not_guessed(
    buyer: User, seller: User, product: Product, clock: Clock, typed: str, says: str
) -> None:
    claim, refused = _granted_with_refund_typed(buyer, seller, product, clock, typed)

    assert refused.status_code == 400
    page = refused.content.decode()
    assert f"Write the amount {says}, e.g. " in page
    # The form comes back as the agent wrote it, to correct the amount, not to start over.
    assert f'value="{escape(typed)}"' in page
    assert 'id="outcome-granted" required checked>' in page
    assert ">Lost.</textarea>" in page
    assert not Refund.objects.exists()
    assert Claim.objects.get(pk=claim.pk).stage == "decision"


@pytest.mark.parametrize(("typed", "cents"), [("0.05", 5), ("10.5", 1050), (" 12 ", 1200)])
def test_a_refund_in_plain_digits_is_read_to_the_cent(
    buyer: User, seller: User, product: Product, clock: Clock, typed: str, cents: int
) -> None:
    claim, granted = _granted_with_refund_typed(buyer, seller, product, clock, typed)

    assert granted.status_code == 302
    assert Refund.objects.get().amount_cents == cents
    assert Claim.objects.get(pk=claim.pk).refunded_cents == cents


def _denied_claim(buyer: User, seller: User, product: Product, clock: Clock) -> Claim:
    """A claim the seller answered and a claims agent denied: open to the buyer's appeal."""
    agent = factories.agent_in_team("claims")
    order = claimable_order(buyer, product, clock)
    claim = claim_actions.file_claim(buyer, order.number, "not_received", "Nothing came.")
    claim_actions.respond_to_claim(seller, claim.pk, "Sorry.")
    claim_actions.decide_claim(agent, claim.pk, "denied", "Delivered.")
    return claim


def test_the_buyer_appeals_from_the_claim_page(
    buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    claim = _denied_claim(buyer, seller, product, clock)
    client = signed_in(buyer)

    page = client.get(reverse("claim", args=[claim.pk])).content.decode()
    response = client.post(reverse("claim-appeal", args=[claim.pk]), {"body": "Not to me."})

    assert "Appeal the decision" in page
    assert claim_queries.when(clock.now + timedelta(days=30)) in page
    assert response.status_code == 302
    assert Claim.objects.get(pk=claim.pk).stage == "decision"


def test_the_buyers_claim_page_tells_them_they_may_appeal_the_others_that_the_buyer_may(
    buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    """Decided, the buyer's own page said "The buyer may appeal once, until …" under the
    title, above a form saying "You can appeal once": as if someone else could. The buyer
    reads it addressed to them; the seller's and the agent's pages keep speaking of the
    buyer, as the seller's window speaks to the seller."""
    claim = _denied_claim(buyer, seller, product, clock)
    url = reverse("claim", args=[claim.pk])
    due = escape(claim_queries.when(clock.now + timedelta(days=30)))

    buyers_page = signed_in(buyer).get(url).content.decode()
    sellers_page = signed_in(seller).get(url).content.decode()
    agents_page = signed_in(factories.agent_in_team("claims")).get(url).content.decode()

    assert f"You may appeal once, until {due}; then the claim closes." in buyers_page
    assert "The buyer may appeal" not in buyers_page
    for page in (sellers_page, agents_page):
        assert f"The buyer may appeal once, until {due}; then the claim closes." in page
        assert "You may appeal" not in page


def test_the_appeal_form_sent_twice_with_its_key_answers_as_the_first_time(
    buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    claim = _denied_claim(buyer, seller, product, clock)
    client = signed_in(buyer)
    url = reverse("claim-appeal", args=[claim.pk])

    first = client.post(url, {"body": "Not to me.", "idempotency_key": "form-1"})
    again = client.post(url, {"body": "Not to me.", "idempotency_key": "form-1"})
    other = client.post(url, {"body": "Not to me!", "idempotency_key": "form-2"})

    assert (first.status_code, again.status_code) == (302, 302)
    assert other.status_code == 409
    assert "was appealed already" in other.content.decode()
    assert Message.objects.filter(sender=buyer, body__startswith="Not to me").count() == 1
    assert Claim.objects.get(pk=claim.pk).stage == "decision"


def test_other_people_get_a_404_for_a_claim(
    buyer: User, other_buyer: User, other_seller: User, product: Product, clock: Clock
) -> None:
    order = claimable_order(buyer, product, clock)
    claim = claim_actions.file_claim(buyer, order.number, "not_received", "Nothing came.")
    other_agent = factories.agent_in_team("customer-service")

    for person in (other_buyer, other_seller, other_agent):
        assert signed_in(person).get(reverse("claim", args=[claim.pk])).status_code == 404
    assert signed_in(other_buyer).get(reverse("claim-file", args=[order.number])).status_code == 404


def test_the_console_shows_a_right_to_left_name_apart_from_its_part_in_the_case(
    buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    """The console wrote a person as one run of text, "نور الهدى (customer)": an Arabic or
    Hebrew name took the "(customer)" after it into its right-to-left run, the part shown
    on the name's wrong side — beside each message, in the "reported this message" note
    and in the history. The name and the part are now each a <bdi>, and the customer's
    card, the claim's "Against …", a conversation's "with …" and whom it is assigned to
    isolate the name too."""
    customer, shop = "نور الهدى", "חנות הקומקומים"
    User.objects.filter(pk=buyer.pk).update(display_name=customer)
    seller.storefront.name = shop
    seller.storefront.save(update_fields=["name"])
    agent = factories.agent_in_team("claims")
    claim, filed, response = claim_answered_with_phishing(buyer, seller, product, clock)
    report_actions.report_message(buyer, response.pk, "scam")
    teammate = factories.agent_in_team("claims", username="rania", first_name="رانيا")
    support_actions.assign_case(agent, claim.pk, teammate.pk)

    page = signed_in(agent).get(reverse("console-case", args=[claim.pk])).content.decode()

    assert not_isolated(page, customer) == []
    # An agent's name too, wherever it is a name of its own (not an <option> of the list).
    assert "assigned it to <bdi>رانيا</bdi>" in page
    assert "Assigned to <bdi>رانيا</bdi>" in page
    # The shop's name as a name (the claim's "Against …", a conversation "with …"): its
    # own isolate; in a subject or a message it is in theirs.
    assert [
        place
        for place in not_isolated(page, shop)
        if "message__body" not in place and not place.startswith("<bdi {}>")
    ] == []
    customer_shown = f"<bdi>{customer}</bdi> <bdi>(customer)</bdi>"
    seller_shown = f"<bdi>{shop}</bdi> <bdi>(seller)</bdi>"
    assert f'<span class="message__sender">{customer_shown}</span>' in message_on(page, filed)
    assert f'<span class="message__sender">{seller_shown}</span>' in message_on(page, response)
    assert f"{customer_shown} reported this message" in message_on(page, response)
    history = page.split('id="history-title"', 1)[1].split("</section>", 1)[0]
    assert f"{customer_shown} opened the case" in history
    assert f"{seller_shown} moved the claim to" in history
    # The API's history is text, as it was.
    api = with_token(agent).get(f"/agent/cases/{claim.pk}").json()["history"]
    assert f"{customer} (customer) opened the case" in api


def test_the_buyers_claim_pages_isolate_the_shops_name(
    buyer: User, seller: User, other_seller: User, product: Product, clock: Clock
) -> None:
    """The filing page and the claim's page wrote the shop's name as part of their own
    sentences ("What went wrong with your order from …?", "Contact the seller first: you
    have not written to … about this order yet", "against …"): a Hebrew or Arabic name took
    the words and punctuation beside it into its right-to-left run. Each is its own isolate
    now, as everywhere else names people chose are shown."""
    shop = "חנות הקומקומים"
    seller.storefront.name = shop
    seller.storefront.save(update_fields=["name"])
    order = factories.order_with_item(buyer, product, placed_at=clock.now - timedelta(days=20))
    # A second seller on the order: the page asks which one, in a list.
    other = factories.ProductFactory(storefront=other_seller.storefront)
    OrderItem.objects.create(
        order=order,
        product=other,
        storefront=other.storefront,
        title=other.title,
        quantity=1,
        unit_price_cents=other.price_cents,
    )
    client = signed_in(buyer)
    form_url = reverse("claim-file", args=[order.number])

    not_contacted = client.get(f"{form_url}?seller={seller.storefront.pk}").content.decode()
    refused = client.post(
        form_url,
        {"seller": seller.storefront.pk, "reason": "not_received", "description": "Nothing came."},
    ).content.decode()
    conversation_actions.contact_seller_about_order(
        buyer, order.pk, seller.storefront.pk, "Where is my parcel?"
    )
    waiting = client.get(f"{form_url}?seller={seller.storefront.pk}").content.decode()
    clock.advance(hours=48)
    claim = claim_actions.file_claim(
        buyer, order.number, "not_received", "Nothing came.", storefront_id=seller.storefront.pk
    )
    claim_page = client.get(reverse("claim", args=[claim.pk])).content.decode()
    sellers_claim_page = signed_in(seller).get(reverse("claim", args=[claim.pk])).content.decode()

    assert "you have not written to" in not_contacted
    assert "you have not written to" in refused
    assert "has until" in waiting
    for page in (not_contacted, refused, waiting, claim_page, sellers_claim_page):
        assert not_isolated(page, shop) == []


def test_a_claim_open_on_the_order_is_named_where_a_claim_would_be_offered(
    buyer: User, product: Product, clock: Clock
) -> None:
    """The conversation with the seller and the order's page offered "File a guarantee
    claim" while one was open (its form then refused), and once the claim's grant refunded
    the order said "No guarantee claim: … refunded in full" with no word of the claim."""
    order = claimable_order(buyer, product, clock)
    conversation_id = Message.objects.filter(conversation__order=order).get().conversation_id
    claim = claim_actions.file_claim(buyer, order.number, "not_received", "Nothing came.")
    client = signed_in(buyer)

    for page in (
        client.get(reverse("conversation", args=[conversation_id])).content.decode(),
        client.get(reverse("order", args=[order.number])).content.decode(),
    ):
        assert 'data-testid="file-claim"' not in page
        assert (
            f"No guarantee claim: There is already an open claim on this order: {claim.number}."
        ) in page
