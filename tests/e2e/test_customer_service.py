"""Customer service in Chromium (docs/support.md), on a real `messagecenter serve` so the
buyer's page follows its event stream: alice asks about an order, the case waits in the
unassigned queue, an agent takes it, adds a note and answers with a canned response;
alice sees the answer live and by e-mail, never the note; her reply opens the case again;
the agent solves it and alice sees that live too."""

import re
from collections.abc import Iterator

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from playwright.sync_api import Page, expect
from pytest_django.fixtures import Settings

from messagecenter.accounts.models import User
from messagecenter.delivery.sender import send_due_emails
from messagecenter.marketplace.models import Order, Product
from messagecenter.realtime.models import UserEvent
from messagecenter.support import actions
from messagecenter.support.models import Case, CaseStatus
from tests import factories
from tests.delivery.smtp import Handler, SmtpServer
from tests.e2e.helpers import (
    HOLD_STREAMS,
    LIVE_MS,
    following_its_stream,
    sign_in,
    wait_for_held_streams,
)
from tests.factories import PASSWORD
from tests.realtime.servers import Server

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOTE = "Checked with UPS: the label was reprinted. Secret word okapimarmalade."


def real_password(user: User) -> None:
    """The server hashes with the real hashers, not the tests' fast one."""
    user.password = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt())
    user.save(update_fields=["password"])


@pytest.fixture
def inbox(settings: Settings) -> Iterator[Handler]:
    server = SmtpServer()
    server.start()
    settings.MAILERS = {"default": server.mailer()}
    try:
        yield server.handler
    finally:
        server.stop()


@pytest.fixture
def order(buyer: User, product: Product) -> Order:
    real_password(buyer)
    return factories.order_with_item(buyer, product, number="112-5550001-0000042")


@pytest.fixture
def priya(db: None) -> User:
    agent = factories.agent_in_team(username="priya", first_name="Priya", last_name="Natarajan")
    real_password(agent)
    return agent


def test_alice_asks_an_agent_answers_live_and_by_email_never_the_note(
    streaming_server: Server,
    page: Page,
    other_device: Page,
    order: Order,
    priya: User,
    inbox: Handler,
) -> None:
    server = streaming_server
    team = actions.team_for("request")
    actions.save_canned_response(
        priya,
        team.pk,
        "Parcel on its way",
        "Hi {customer_name}, your order {order_number} is on its way again.",
    )

    # Alice asks about her order.
    sign_in(page, server, "alice", PASSWORD)  # type: ignore[arg-type]
    page.goto(f"{server.url}/message-center/customer-service/?order={order.number}")
    page.get_by_label("Subject").fill("My parcel is stuck")
    page.get_by_label("Your message").fill("UPS says the label is unreadable.")
    page.get_by_role("button", name="Send to customer service").click()
    status_line = page.get_by_test_id("case-status-line")
    expect(status_line).to_contain_text("Waiting for an agent")
    expect(status_line).to_contain_text("We expect to answer by")
    messages = page.get_by_role("list", name="Messages")
    expect(messages.get_by_role("listitem")).to_have_count(2)
    page.evaluate("window.stillTheSamePage = true")
    case = Case.objects.get()

    # The agent lands on the console; the case waits in Unassigned.
    agent = other_device
    agent.goto(f"{server.url}/accounts/login/")
    agent.get_by_label("Username").fill("priya")
    agent.get_by_label("Password").fill(PASSWORD)
    agent.get_by_role("button", name="Sign in").click()
    expect(agent).to_have_url(re.compile(r"/console/$"))
    expect(agent.get_by_test_id("queue-count-unassigned")).to_have_text("1")
    # The filters' number field wears the shared field style like its neighbours.
    age_style = agent.get_by_label("Waiting at least (hours)").evaluate(
        "field => [getComputedStyle(field).borderTopLeftRadius, getComputedStyle(field).width]"
    )
    assert age_style[0] == "8px"
    agent.get_by_role("link", name=case.number).click()
    agent.get_by_role("button", name="Assign to me").click()
    expect(agent.get_by_test_id("case-assignee")).to_contain_text("Priya Natarajan")
    agent.get_by_label("Add an internal note").fill(NOTE)
    agent.get_by_role("button", name="Add note").click()
    expect(agent.get_by_test_id("note")).to_contain_text("okapimarmalade")
    agent.get_by_label("Insert canned response").select_option(label="Parcel on its way")
    agent.get_by_role("button", name="Insert").click()
    reply_box = agent.get_by_label(re.compile("^Your answer"))
    expect(reply_box).to_have_value(
        f"Hi {order.buyer.first_name or order.buyer.public_name}, your order {order.number} "
        "is on its way again."
    )
    agent.get_by_role("button", name="Send to customer").click()
    expect(agent.get_by_test_id("case-status")).to_have_text("Waiting on customer")

    # Alice's open page shows the answer and the new status, without a reload.
    answer = messages.get_by_role("listitem").last
    expect(answer).to_contain_text("is on its way again.", timeout=LIVE_MS)
    expect(answer).to_contain_text("Customer Service")
    expect(answer).to_contain_text("Official")
    expect(status_line).to_contain_text("Answered — waiting for your reply", timeout=LIVE_MS)
    assert page.evaluate("window.stillTheSamePage === true")
    expect(page.get_by_text("okapimarmalade")).to_have_count(0)
    assert "Priya" not in page.content()

    # And by e-mail, without the note.
    send_due_emails()
    texts = [email.text() for email in inbox.received]
    assert any("is on its way again." in text for text in texts)
    assert all(
        "okapimarmalade" not in text + email.html()
        for text, email in zip(texts, inbox.received, strict=True)
    )

    # Alice replies: the case is open again, in the agent's queue.
    page.get_by_label("Your message").fill("Thank you! Will it still arrive by Friday?")
    page.get_by_role("button", name="Send").click()
    expect(status_line).to_contain_text("An agent is on it", timeout=LIVE_MS)
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    agent.reload()
    expect(agent.get_by_test_id("case-status")).to_have_text("Open")

    # Solved: alice sees it.
    agent.get_by_label("Status").select_option("solved")
    agent.get_by_role("button", name="Set status").click()
    expect(agent.get_by_test_id("case-status")).to_have_text("Solved")
    expect(status_line).to_contain_text("Solved", timeout=LIVE_MS)
    case.refresh_from_db()
    assert case.status == CaseStatus.SOLVED


def test_live_chat_between_two_browsers_and_offline_becomes_a_case(
    streaming_server: Server, page: Page, other_device: Page, order: Order, priya: User
) -> None:
    """Alice (one browser) and the agent (another) chat: each sees the other's message
    without a reload. Before the agent is available, "Chat with us" says so and opens an
    ordinary request with the expected response time."""
    server = streaming_server
    chat_url = f"{server.url}/message-center/customer-service/chat/"

    # Nobody available: said honestly, and the question becomes an ordinary case.
    sign_in(page, server, "alice", PASSWORD)  # type: ignore[arg-type]
    page.goto(f"{server.url}/message-center/")
    page.get_by_role("link", name="Chat with us").click()
    expect(page.get_by_test_id("chat-status")).to_contain_text(
        "No agent is available for chat right now"
    )
    page.get_by_label("Your question").fill("Can I change my delivery address?")
    page.get_by_role("button", name="Send to customer service").click()
    status_line = page.get_by_test_id("case-status-line")
    expect(status_line).to_contain_text("Waiting for an agent")
    expect(status_line).to_contain_text("We expect to answer by")
    offline = Case.objects.get()
    assert offline.assignee_id is None

    # The agent opens the console and becomes available.
    agent = other_device
    agent.goto(f"{server.url}/accounts/login/")
    agent.get_by_label("Username").fill("priya")
    agent.get_by_label("Password").fill(PASSWORD)
    agent.get_by_role("button", name="Sign in").click()
    expect(agent).to_have_url(re.compile(r"/console/$"))
    agent.get_by_role("button", name="Available for chat").click()
    expect(agent.get_by_test_id("chat-availability")).to_have_text("Available for chat")

    # Alice starts a chat: the agent has it at once.
    page.goto(chat_url)
    expect(page.get_by_test_id("chat-status")).to_contain_text("An agent is available now")
    page.get_by_label("Your question").fill("Where is my parcel?")
    with following_its_stream(page):
        page.get_by_role("button", name="Start chat").click()
    messages = page.get_by_role("list", name="Messages")
    expect(messages).to_contain_text("You are chatting with Customer Service")
    expect(status_line).to_contain_text("An agent is on it")
    chat = Case.objects.exclude(pk=offline.pk).get()
    assert chat.assignee_id == priya.pk

    agent.goto(f"{server.url}/console/?view=mine")
    # Typing is a nudge, in no log: the agent's page must be following before alice types.
    with following_its_stream(agent):
        agent.get_by_role("link", name=chat.number).click()
    agent_messages = agent.get_by_role("list", name="Messages")
    expect(agent_messages).to_contain_text("Where is my parcel?")

    # Alice types: the agent sees it while she does — a nudge, nothing stored for it —
    # then her message, without a reload, and the indicator goes.
    agent.evaluate("window.stillTheSamePage = true")
    events = UserEvent.objects.count()
    agent_sees_typing = agent.get_by_test_id("typing")
    page.get_by_label("Your message").press_sequentially("It was due on Monday.", delay=30)
    expect(agent_sees_typing).to_have_text("Alice Buyer is typing…", timeout=LIVE_MS)
    assert UserEvent.objects.count() == events
    # Sending loads her page again: it must be following before the agent types.
    with following_its_stream(page):
        page.get_by_role("button", name="Send").click()
    expect(agent_messages).to_contain_text("It was due on Monday.", timeout=LIVE_MS)
    expect(agent_sees_typing).to_be_hidden()
    assert agent.evaluate("window.stillTheSamePage === true")

    # The agent types and answers: Alice sees "Customer Service is typing…" (never the
    # agent's own name), then the answer, without a reload.
    page.evaluate("window.stillTheSamePage = true")
    alice_sees_typing = page.get_by_test_id("typing")
    agent.get_by_label(re.compile("^Your answer")).press_sequentially(
        "It is at the depot and arrives tomorrow.", delay=30
    )
    expect(alice_sees_typing).to_have_text("Customer Service is typing…", timeout=LIVE_MS)
    agent.get_by_role("button", name="Send to customer").click()
    expect(messages).to_contain_text("arrives tomorrow", timeout=LIVE_MS)
    expect(alice_sees_typing).to_be_hidden()
    assert page.evaluate("window.stillTheSamePage === true")
    assert "Priya" not in page.content()


def test_the_case_page_s_status_follows_the_customer_s_reply_without_a_reload(
    streaming_server: Server, page: Page, other_device: Page, buyer: User, priya: User
) -> None:
    """The agent has the case open after answering ("Waiting on customer"); the customer
    replies from another device: the reply appeared live, but the line under the title
    still said "Waiting on customer" and "The customer sees: Answered — waiting for your
    reply" until a reload, though the reply had opened the case again. Then the line
    followed, but the "Set status" dropdown kept "Waiting on customer" chosen: one click
    on Set status put the reopened case back to waiting."""
    server = streaming_server
    real_password(buyer)
    case = actions.open_request(buyer, "Dented kettle", "It came dented.")
    actions.reply_to_case(priya, case.pk, "Could you send us a photo of the dent?")
    assert Case.objects.get(pk=case.pk).status == CaseStatus.PENDING

    agent = other_device
    sign_in(agent, server, "priya", PASSWORD)  # type: ignore[arg-type]
    agent.goto(f"{server.url}/console/cases/{case.pk}/")
    status = agent.get_by_test_id("case-status")
    customer_sees = agent.get_by_text("The customer sees:")
    set_status = agent.get_by_label("Status", exact=True)
    expect(status).to_have_text("Waiting on customer")
    expect(customer_sees).to_have_text("The customer sees: “Answered — waiting for your reply”")
    expect(set_status).to_have_value("pending")
    agent.evaluate("window.stillTheSamePage = true")

    sign_in(page, server, buyer.username, PASSWORD)  # type: ignore[arg-type]
    page.goto(f"{server.url}/message-center/conversations/{case.conversation_id}/")
    page.get_by_label("Your message").fill("Here is the photo of the dent.")
    page.get_by_role("button", name="Send").click()

    expect(agent.get_by_role("list", name="Messages")).to_contain_text(
        "Here is the photo of the dent.", timeout=LIVE_MS
    )
    expect(status).to_have_text("Open", timeout=LIVE_MS)
    expect(customer_sees).to_have_text("The customer sees: “An agent is on it”")
    expect(set_status).to_have_value("open")
    assert agent.evaluate("window.stillTheSamePage === true")
    assert Case.objects.get(pk=case.pk).status == CaseStatus.OPEN
    # A status the agent picked is theirs: another message leaves the dropdown alone, and
    # the form that came with the part sets it.
    set_status.select_option("solved")
    page.get_by_label("Your message").fill("It is on the left side.")
    page.get_by_role("button", name="Send").click()
    expect(agent.get_by_role("list", name="Messages")).to_contain_text(
        "It is on the left side.", timeout=LIVE_MS
    )
    expect(set_status).to_have_value("solved")
    agent.get_by_role("button", name="Set status").click()
    expect(status).to_have_text("Solved")
    assert Case.objects.get(pk=case.pk).status == CaseStatus.SOLVED


def test_the_agents_queue_page_follows_new_and_changed_cases_without_a_reload(
    streaming_server: Server, page: Page, other_device: Page, order: Order, priya: User
) -> None:
    """The agent's open queue page shows a request the moment alice sends it (count and
    row), and again when it leaves the queue, without a reload (console_queue.js, on the
    team's `queue.changed` nudge)."""
    server = streaming_server
    agent = other_device
    # The queue page follows a nudge, in no log: it must be following before alice sends.
    with following_its_stream(agent):
        sign_in(agent, server, "priya", PASSWORD)  # type: ignore[arg-type]
    unassigned = agent.get_by_test_id("queue-count-unassigned")
    expect(unassigned).to_have_text("0")
    expect(agent.get_by_test_id("case-row")).to_have_count(0)
    agent.evaluate("window.stillTheSamePage = true")

    sign_in(page, server, "alice", PASSWORD)  # type: ignore[arg-type]
    page.goto(f"{server.url}/message-center/customer-service/?order={order.number}")
    page.get_by_label("Subject").fill("Wrong colour delivered")
    page.get_by_label("Your message").fill("I ordered blue and got green.")
    page.get_by_role("button", name="Send to customer service").click()
    expect(page.get_by_test_id("case-status-line")).to_contain_text("Waiting for an agent")
    case = Case.objects.get()

    expect(unassigned).to_have_text("1", timeout=LIVE_MS)
    rows = agent.get_by_test_id("case-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(case.number)
    expect(rows.first).to_contain_text("Wrong colour delivered")
    assert agent.evaluate("window.stillTheSamePage === true")

    # Alice's second request arrives on top of the first, oldest first.
    page.goto(f"{server.url}/message-center/customer-service/")
    page.get_by_label("Subject").fill("And a missing manual")
    page.get_by_label("Your message").fill("There was no manual in the box.")
    page.get_by_role("button", name="Send to customer service").click()
    expect(page.get_by_test_id("case-status-line")).to_contain_text("Waiting for an agent")
    expect(unassigned).to_have_text("2", timeout=LIVE_MS)
    expect(rows).to_have_count(2)
    expect(rows.last).to_contain_text("And a missing manual")
    assert agent.evaluate("window.stillTheSamePage === true")


def test_the_queue_page_catches_up_on_what_changed_while_its_stream_was_not_open(
    streaming_server: Server, other_device: Page, buyer: User, order: Order, priya: User
) -> None:
    """A nudge is in no log, so the queue page misses one sent while it loads (before its
    stream opens) or while its stream is down after a lost connection: it fetches itself
    again each time its stream opens (console_queue.js, on site.js's live:open). The
    requests here are opened in the test's process, whose nudges reach no server: only
    that catch-up can show them."""
    agent = other_device
    agent.add_init_script(HOLD_STREAMS)
    sign_in(agent, streaming_server, "priya", PASSWORD)  # type: ignore[arg-type]
    unassigned = agent.get_by_test_id("queue-count-unassigned")
    expect(unassigned).to_have_text("0")
    wait_for_held_streams(agent, 1)
    agent.evaluate("window.stillTheSamePage = true")

    actions.open_request(
        buyer, "Wrong colour delivered", "I ordered blue and got green.", order_number=order.number
    )
    agent.evaluate("window.releaseStreams()")
    expect(unassigned).to_have_text("1", timeout=LIVE_MS)

    agent.evaluate("window.dropStreams()")
    actions.open_request(buyer, "And a missing manual", "There was no manual in the box.")
    agent.evaluate("window.releaseStreams()")
    expect(unassigned).to_have_text("2", timeout=LIVE_MS)
    expect(agent.get_by_test_id("case-row")).to_have_count(2)
    assert agent.evaluate("window.stillTheSamePage === true")


def test_an_open_case_page_shows_a_colleague_s_take_and_its_transfer_away_without_a_reload(
    streaming_server: Server, page: Page, other_device: Page, buyer: User, priya: User
) -> None:
    """Priya has a case open; Tess takes it, then transfers it to a team Priya is not in.
    Priya's page went on offering "Assign to me" and a reply to a case she could no
    longer open, each refused only once sent (console_case.js, on the team's nudge)."""
    server = streaming_server
    tess = factories.agent_in_team(username="tess", first_name="Tess", last_name="Ng")
    real_password(tess)
    factories.agent_in_team("trust-and-safety", username="sam")
    case = actions.open_request(buyer, "Dented kettle", "It came dented.")
    agent = other_device
    sign_in(agent, server, "priya", PASSWORD)  # type: ignore[arg-type]
    with following_its_stream(agent):
        agent.goto(f"{server.url}/console/cases/{case.pk}/")
    assignee = agent.get_by_test_id("case-assignee")
    expect(assignee).to_have_text("Unassigned")
    agent.evaluate("window.stillTheSamePage = true")

    sign_in(page, server, "tess", PASSWORD)  # type: ignore[arg-type]
    page.goto(f"{server.url}/console/cases/{case.pk}/")
    page.get_by_role("button", name="Assign to me").click()
    expect(page.get_by_test_id("case-assignee")).to_have_text("Assigned to Tess Ng")

    expect(assignee).to_have_text("Assigned to Tess Ng", timeout=LIVE_MS)
    expect(agent.get_by_test_id("case-gone")).to_have_count(0)

    page.get_by_text("Transfer to another team").click()
    page.get_by_label("Transfer to").select_option(label="Trust and safety")
    page.get_by_role("button", name="Transfer").click()
    expect(page.get_by_text("transferred to Trust and safety")).to_be_visible()

    gone = agent.get_by_test_id("case-gone")
    expect(gone).to_contain_text("moved to a team you do not work in", timeout=LIVE_MS)
    expect(gone.get_by_role("link", name="Back to the queues")).to_have_attribute(
        "href", re.compile(r"/console/$")
    )
    assert agent.evaluate(
        "[...document.querySelectorAll('.console-case form')].every((form) => form.inert)"
    )
    assert agent.evaluate("window.stillTheSamePage === true")
