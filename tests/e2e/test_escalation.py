"""A silent seller in Chromium (docs/escalation.md): alice's question waits, her page
counts down to the seller's deadline; once the stored deadline has passed (moved into the
past here, as the clock would) and the sweep has run, she asks customer service to help
with one click; the agent reads her whole conversation with the seller from the case and
answers; alice sees the answer."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.utils import timezone
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from messagecenter.accounts.models import User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.models import Participant
from messagecenter.marketplace.models import Product
from messagecenter.support.models import Case
from tests import factories
from tests.e2e.helpers import LIVE_MS, sign_in
from tests.factories import PASSWORD
from tests.realtime.servers import Server

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUESTION = "Where is my parcel? The tracking has not moved for a week (wombatlantern)."


def real_password(user: User) -> None:
    """The server hashes with the real hashers, not the tests' fast one."""
    user.password = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt())
    user.save(update_fields=["password"])


def test_a_silent_seller_the_countdown_then_customer_service_steps_in(
    streaming_server: Server,
    page: Page,
    other_device: Page,
    buyer: User,
    seller: User,
    product: Product,
) -> None:
    server = streaming_server
    real_password(buyer)
    priya = factories.agent_in_team(username="priya", first_name="Priya", last_name="Natarajan")
    real_password(priya)
    order = factories.order_with_item(buyer, product, number="112-5550001-0000077")
    question = conversation_actions.contact_seller_about_order(
        buyer, order.pk, product.storefront_id, QUESTION
    )
    conversation_url = f"{server.url}/message-center/conversations/{question.conversation_id}/"

    # The countdown: the seller still has time; no button yet.
    sign_in(page, server, "alice", PASSWORD)  # type: ignore[arg-type]
    page.goto(conversation_url)
    window = page.get_by_test_id("response-window")
    expect(window).to_contain_text("if there is no answer by the end of")
    expect(window).to_contain_text("you can ask us to step in")
    expect(page.get_by_role("button", name="Ask customer service to help")).to_have_count(0)

    # The seller stays silent past the stored deadline; the sweep marks it.
    Participant.objects.filter(user=seller).update(
        response_due_at=timezone.now() - timedelta(minutes=1)
    )
    assert conversation_actions.pass_response_deadlines() == 1
    page.reload()
    expect(page.get_by_role("list", name="Messages")).to_contain_text(
        f"No answer yet from {seller.public_name}"
    )
    expect(window).to_contain_text(f"{seller.public_name} has not answered by")
    page.get_by_role("button", name="Ask customer service to help").click()
    case = Case.objects.get()
    expect(page).to_have_url(f"{server.url}/message-center/conversations/{case.conversation_id}/")
    expect(page.get_by_test_id("case-status-line")).to_contain_text("Waiting for an agent")
    page.goto(conversation_url)
    expect(page.get_by_test_id("case-status-line")).to_contain_text(
        f"{case.number} · Customer service is helping"
    )

    # The agent sees the case, and the whole buyer–seller thread from it.
    agent = other_device
    sign_in(agent, server, "priya", PASSWORD)  # type: ignore[arg-type]
    agent.get_by_role("link", name=case.number).click()
    about = agent.get_by_test_id("about-conversation")
    expect(about).to_contain_text(question.conversation.subject)
    about.get_by_role("link").click()
    expect(agent.get_by_role("list", name="Messages")).to_contain_text("wombatlantern")
    expect(agent.get_by_role("list", name="Messages")).to_contain_text("No answer yet from")
    agent.go_back()
    agent.get_by_role("button", name="Assign to me").click()
    agent.get_by_label(re.compile("^Your answer")).fill(
        "Hi Alice, we have contacted the seller and will refund you if the parcel does not "
        "arrive by Friday."
    )
    agent.get_by_role("button", name="Send to customer").click()
    expect(agent.get_by_test_id("case-status")).to_have_text("Waiting on customer")

    # Alice sees the answer in her request.
    page.goto(f"{server.url}/message-center/conversations/{case.conversation_id}/")
    answer = page.get_by_role("list", name="Messages").get_by_role("listitem").last
    expect(answer).to_contain_text("will refund you if the parcel does not arrive")
    expect(answer).to_contain_text("Official")

    # In her list, the marketplace's notice lends the seller's name no Official badge.
    page.goto(f"{server.url}/message-center/")
    row = page.locator(
        ".conversation",
        has=page.locator(f'a[href="/message-center/conversations/{question.conversation_id}/"]'),
    )
    expect(row.locator(".conversation__from")).to_have_text(seller.public_name)
    expect(row.locator(".conversation__top .badge--official")).to_have_count(0)


def test_the_countdown_runs_without_reload_and_the_page_follows_the_deadline(
    live_server: LiveServer,
    page: Page,
    buyer: User,
    seller: User,
    product: Product,
) -> None:
    """The time left updates on its own; when the sweep marks the deadline (its notice on
    alice's stream), the page shows "Ask customer service to help" without a reload. On
    pytest-django's live server, in this process, so the sweep run here reaches the page
    through the event log (the WSGI stream answers it within its two-second retry)."""
    server = live_server
    order = factories.order_with_item(buyer, product, number="112-5550001-0000078")
    question = conversation_actions.contact_seller_about_order(
        buyer, order.pk, product.storefront_id, QUESTION
    )
    sign_in(page, server, "alice", PASSWORD)
    # Nothing on the page may come from a reload: a marker the reload would drop.
    Participant.objects.filter(user=seller).update(
        response_due_at=timezone.now() + timedelta(hours=5, minutes=30)
    )
    page.goto(f"{server.url}/message-center/conversations/{question.conversation_id}/")
    page.evaluate("document.body.dataset.sameDocument = 'yes'")
    countdown = page.get_by_test_id("response-countdown")
    expect(countdown).to_have_text(re.compile(r"^5 hours, (29|30) minutes left\.$"))

    # The seller's deadline is moved into the past (as time would) and the sweep runs:
    # its notice arrives on alice's stream and the block shows the button.
    Participant.objects.filter(user=seller).update(
        response_due_at=timezone.now() - timedelta(minutes=1)
    )
    assert conversation_actions.pass_response_deadlines() == 1
    button = page.get_by_role("button", name="Ask customer service to help")
    expect(button).to_be_visible(timeout=LIVE_MS)
    expect(page.get_by_test_id("response-window")).to_contain_text(
        f"{seller.public_name} has not answered by"
    )
    assert page.evaluate("document.body.dataset.sameDocument") == "yes"


def test_at_the_deadlines_moment_the_page_shows_the_button_by_itself(
    live_server: LiveServer,
    page: Page,
    buyer: User,
    seller: User,
    product: Product,
) -> None:
    server = live_server
    order = factories.order_with_item(buyer, product, number="112-5550001-0000079")
    question = conversation_actions.contact_seller_about_order(
        buyer, order.pk, product.storefront_id, QUESTION
    )
    sign_in(page, server, "alice", PASSWORD)
    Participant.objects.filter(user=seller).update(
        response_due_at=timezone.now() + timedelta(seconds=4)
    )
    page.goto(f"{server.url}/message-center/conversations/{question.conversation_id}/")
    page.evaluate("document.body.dataset.sameDocument = 'yes'")
    expect(page.get_by_test_id("response-countdown")).to_have_text("less than a minute left.")

    # No sweep: the server's page says the deadline passed from its very second.
    expect(page.get_by_role("button", name="Ask customer service to help")).to_be_visible(
        timeout=LIVE_MS
    )
    assert page.evaluate("document.body.dataset.sameDocument") == "yes"
