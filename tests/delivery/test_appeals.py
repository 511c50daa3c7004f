"""Appeals of a suspension (docs/safety.md#appeals), end to end through the real SMTP
listener with SPF/DKIM/DMARC checked against a DNS server on loopback, and the sender's
e-mail to a real SMTP server: a suspended seller is e-mailed the notice (and nothing
else), appeals by replying to it or by writing to customer service's address, the
trust-and-safety team answers by e-mail and lifts or keeps the suspension."""

import smtplib
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.models import Message, Participant
from messagecenter.delivery import relay
from messagecenter.delivery.inbound.mailboxes import Delivery
from messagecenter.delivery.models import Email, EmailStatus, InboundEmail
from messagecenter.delivery.sender import NOT_ACTIVE, send_due_emails
from messagecenter.errors import Conflict
from messagecenter.marketplace.models import Product
from messagecenter.safety import actions as safety_actions
from messagecenter.support import actions as support_actions
from messagecenter.support import appeal_actions, report_actions
from messagecenter.support.models import Case, Report
from tests import factories
from tests.delivery.dns import DkimKey
from tests.delivery.replies import QUOTED_HISTORY, reply, send
from tests.delivery.smtp import Handler, Received
from tests.web.helpers import not_isolated

pytestmark = pytest.mark.django_db(transaction=True)

SCAM = "Pay me by gift card instead, it is cheaper: https://rnarketplace-pay.example/now"
LOGIN = "/accounts/login/"


def suspend_by_report(buyer: User, seller: User, product: Product, agent: User) -> Report:
    order = factories.order_with_item(buyer, product)
    scam = conversation_actions.contact_buyer_about_order(seller, order.pk, SCAM)
    report = report_actions.report_message(buyer, scam.pk, "scam").report
    report_actions.decide_report(agent, report.pk, "confirmed", "suspended")
    return report


def deliver() -> None:
    """What the worker's sender does: everything due, digests included."""
    send_due_emails(now=timezone.now() + timedelta(hours=2))


def received_by(inbox: Handler, person: User) -> list[Received]:
    return inbox.to(person.email)


def signs_in(person: User) -> bool:
    client = Client(REMOTE_ADDR="198.51.100.7")
    client.post(LOGIN, {"username": person.username, "password": factories.PASSWORD})
    return "_auth_user_id" in client.session


@pytest.fixture
def safety_agent(db: None) -> User:
    return factories.agent_in_team("trust-and-safety", username="tess", first_name="Tess")


def test_the_suspension_notice_is_emailed_and_nothing_else_reaches_the_account(
    buyer: User, seller: User, product: Product, safety_agent: User, inbox: Handler
) -> None:
    # The seller asked customer service something before: its answer must not reach them
    # once suspended.
    request = support_actions.open_request(seller, "Payouts", "When is my payout?")
    cs_agent = factories.agent_in_team()
    deliver()
    before = len(received_by(inbox, seller))

    report = suspend_by_report(buyer, seller, product, safety_agent)
    # Other mail for the suspended seller: a buyer's message is refused before it is
    # written, so it makes no digest (docs/conversations.md#a-closed-account); customer
    # service's answer on an ordinary request is written and its e-mail stopped.
    with pytest.raises(Conflict, match="account is suspended: your messages cannot be"):
        conversation_actions.send_message(
            buyer, report.case.about_conversation_id, "Hello? Where is my order?"
        )
    support_actions.reply_to_case(cs_agent, request.pk, "Your payout is on Friday.")
    deliver()

    new = received_by(inbox, seller)[before:]
    assert len(new) == 1
    notice = new[0]
    assert notice.message["Subject"] == "Your account's suspension"
    text = " ".join(notice.text().split())
    assert "was reported as phishing or scam" in text
    assert "Your account is suspended: you can no longer sign in" in text
    assert f"reply to this e-mail, or write to {settings.SUPPORT_EMAIL_ADDRESS}" in text
    # It can be answered: the reply address of the person's own suspension conversation.
    assert relay.parse(str(notice.message["Reply-To"])) is not None
    # Transactional: nothing to unsubscribe from.
    assert notice.message["List-Unsubscribe"] is None
    stopped = Email.objects.filter(user=seller, status=EmailStatus.CANCELLED)
    assert {email.last_error for email in stopped} == {NOT_ACTIVE}
    assert {email.kind for email in stopped} == {"message"}


def test_the_suspension_notice_offers_no_link_its_reader_cannot_open(
    buyer: User, seller: User, product: Product, safety_agent: User, inbox: Handler
) -> None:
    # A suspended person cannot sign in: the Message Center, the reference checker and the
    # preferences page (which refuses an inactive account's link as "not valid") all fail
    # them. The notice offered all three; now it offers the reply, which works.
    suspend_by_report(buyer, seller, product, safety_agent)
    deliver()

    (notice,) = received_by(inbox, seller)
    text = " ".join(notice.text().split())
    html = notice.html()
    for body in (text, html):
        assert settings.SITE_URL not in body
        assert "check a reference" not in body.lower()
        assert "E-mail preferences" not in body
    assert "this e-mail has no link to your Message Center: reply to it to reach us" in text
    assert "Reply to this e-mail to answer" in text
    assert "Reply to this e-mail to answer" in html
    assert notice.message["Reply-To"] is not None


def test_a_reply_to_the_notice_opens_an_appeal_that_agents_answer_and_lift(
    buyer: User,
    seller: User,
    product: Product,
    safety_agent: User,
    inbox: Handler,
    relay_listener: Controller,
    dkim_key: DkimKey,
) -> None:
    report = suspend_by_report(buyer, seller, product, safety_agent)
    deliver()
    [notice] = received_by(inbox, seller)
    reply_to = str(notice.message["Reply-To"])

    appeal = reply(
        sender=seller.email,
        to=reply_to,
        subject="Re: Your account's suspension",
        text="That was my assistant's mistake, it will not happen again." + QUOTED_HISTORY,
        sign_with=dkim_key,
    )
    send(relay_listener, appeal, mail_from=seller.email, to=reply_to)

    case = Case.objects.get(kind="appeal")
    assert (case.customer_id, case.status, case.team.slug, case.subject) == (
        seller.pk,
        "open",
        "trust-and-safety",
        "Appeal: suspension of Acme Kitchen",
    )
    inbound = InboundEmail.objects.get()
    assert (inbound.status, inbound.conversation_id) == ("posted", case.conversation_id)
    appeal_message = Message.objects.get(pk=inbound.message_id)
    assert appeal_message.body == "That was my assistant's mistake, it will not happen again."
    assert appeal_message.sent_by_email
    deliver()
    assert f"We have your appeal ({case.number})" in received_by(inbox, seller)[-1].text()

    # The team's agent finds it in the queue, with the report that suspended the seller.
    console = Client()
    console.force_login(safety_agent)
    assert case.subject in console.get(reverse("console")).content.decode()
    page = console.get(reverse("console-case", args=[case.pk])).content.decode()
    assert 'data-testid="appeal-panel"' in page
    assert report.case.number in page
    assert "rnarketplace-pay.example" in page

    # The agent's answer reaches the suspended seller by e-mail, and their reply joins
    # the same case.
    support_actions.reply_to_case(safety_agent, case.pk, "Who else can write from your shop?")
    deliver()
    answer = received_by(inbox, seller)[-1]
    assert "Who else can write from your shop?" in answer.text()
    again = reply(
        sender=seller.email,
        to=str(answer.message["Reply-To"]),
        subject="Re: Your account's suspension",
        text="Nobody now: I removed my assistant's access." + QUOTED_HISTORY,
        sign_with=dkim_key,
    )
    send(relay_listener, again, mail_from=seller.email, to=str(answer.message["Reply-To"]))
    case.refresh_from_db()
    assert case.status == "open"
    assert Case.objects.filter(kind="appeal").count() == 1

    # Lifted: active again, told by e-mail, and the password signs in.
    assert not signs_in(seller)
    response = console.post(reverse("console-appeal-decide", args=[case.pk]), {"decision": "lift"})
    assert response.status_code == 302
    seller.refresh_from_db()
    assert seller.is_active
    deliver()
    decision = received_by(inbox, seller)[-1]
    assert "lifted the suspension" in decision.text()
    # The conversation's subject, which must not say the account is suspended still.
    assert decision.message["Subject"] == "Your account's suspension"
    assert signs_in(seller)
    case.refresh_from_db()
    assert case.status == "solved"


def test_an_email_to_customer_service_appeals_and_keeping_the_suspension_says_so(
    buyer: User,
    seller: User,
    product: Product,
    safety_agent: User,
    inbox: Handler,
    relay_listener: Controller,
    dkim_key: DkimKey,
) -> None:
    suspend_by_report(buyer, seller, product, safety_agent)
    raw = reply(
        sender=seller.email,
        to=settings.SUPPORT_EMAIL_ADDRESS,
        subject="Please unsuspend my shop",
        text="I did nothing wrong.",
        sign_with=dkim_key,
    )

    send(relay_listener, raw, mail_from=seller.email, to=settings.SUPPORT_EMAIL_ADDRESS)

    case = Case.objects.get(kind="appeal")
    assert (case.customer_id, case.team.slug, case.status) == (
        seller.pk,
        "trust-and-safety",
        "open",
    )
    assert Message.objects.filter(conversation_id=case.conversation_id, body="I did nothing wrong.")

    appeal_actions.decide_appeal(safety_agent, case.pk, "keep")
    deliver()

    assert "the suspension stays" in received_by(inbox, seller)[-1].text()
    seller.refresh_from_db()
    assert not seller.is_active
    assert not signs_in(seller)
    case.refresh_from_db()
    assert case.status == "solved"


def test_an_inactive_account_with_nothing_to_appeal_is_refused_as_unknown(
    seller: User, relay_listener: Controller, dkim_key: DkimKey
) -> None:
    # Deactivated some other way: no suspension conversation, nothing to appeal.
    safety_actions.suspend(seller)
    raw = reply(
        sender=seller.email,
        to=settings.SUPPORT_EMAIL_ADDRESS,
        subject="Let me in",
        text="Why can I not sign in?",
        sign_with=dkim_key,
    )

    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(relay_listener, raw, mail_from=seller.email, to=settings.SUPPORT_EMAIL_ADDRESS)

    assert refused.value.smtp_code == 550
    assert InboundEmail.objects.get().reason_code == "unknown_sender"
    assert not Case.objects.exists()


def test_a_suspended_account_cannot_reply_in_any_other_conversation(
    buyer: User,
    seller: User,
    product: Product,
    safety_agent: User,
    inbox: Handler,
    relay_listener: Controller,
    dkim_key: DkimKey,
) -> None:
    report = suspend_by_report(buyer, seller, product, safety_agent)
    seat = Participant.objects.get(conversation_id=report.case.about_conversation_id, user=seller)
    address = relay.participant_address(
        participant_id=seat.pk, conversation_id=seat.conversation_id, user_id=seller.pk
    )
    raw = reply(sender=seller.email, to=address, text="Still here!", sign_with=dkim_key)

    send(relay_listener, raw, mail_from=seller.email, to=address)

    assert InboundEmail.objects.get().reason_code == "unknown_address"
    assert not Case.objects.filter(kind="appeal").exists()


def test_only_the_trust_and_safety_team_sees_and_decides_an_appeal(
    buyer: User, seller: User, product: Product, safety_agent: User, dkim_key: DkimKey
) -> None:
    suspend_by_report(buyer, seller, product, safety_agent)
    seller.refresh_from_db()
    appeal_actions.appeal_by_email(
        Delivery(sender=seller, subject="", body="Mistake!", attachments=[], idempotency_key="a-1")
    )
    case = Case.objects.get(kind="appeal")
    other = factories.agent_in_team()  # customer service, not trust and safety
    console = Client()
    console.force_login(other)

    assert console.get(reverse("console-case", args=[case.pk])).status_code == 404
    assert (
        console.post(
            reverse("console-appeal-decide", args=[case.pk]), {"decision": "lift"}
        ).status_code
        == 404
    )
    seller.refresh_from_db()
    assert not seller.is_active


def test_a_person_restricted_before_the_suspension_can_still_appeal(
    buyer: User, seller: User, product: Product, safety_agent: User
) -> None:
    order = factories.order_with_item(buyer, product)
    scam = conversation_actions.contact_buyer_about_order(seller, order.pk, SCAM)
    # Restricted by an earlier report, then suspended: writing to customer service is
    # never a first contact, which a restriction forbids.
    safety_actions.restrict_sending(seller, now=timezone.now())
    report = report_actions.report_message(buyer, scam.pk, "scam").report
    report_actions.decide_report(safety_agent, report.pk, "confirmed", "suspended")
    seller.refresh_from_db()

    appeal_actions.appeal_by_email(
        Delivery(sender=seller, subject="", body="Please.", attachments=[], idempotency_key="r")
    )

    case = Case.objects.get(kind="appeal")
    assert Message.objects.filter(
        conversation_id=case.conversation_id, sender=seller, body="Please."
    ).exists()


def test_the_appeal_panel_shows_a_right_to_left_name_apart_from_what_follows_it(
    buyer: User, seller: User, product: Product, safety_agent: User
) -> None:
    """The appeal's panel wrote "Appeal of חנות הקומקומים's suspension" and "confirmed by
    رانيا, <date>" as runs of text: the "'s suspension" and the date after a right-to-left
    name were taken into its run. The person appealing, the reported messages' sender and
    the agent who confirmed the report are each an isolate of their own now."""
    shop, agent_name = "חנות הקומקומים", "رانيا"
    seller.storefront.name = shop
    seller.storefront.save(update_fields=["name"])
    User.objects.filter(pk=safety_agent.pk).update(first_name=agent_name)
    suspend_by_report(buyer, seller, product, safety_agent)
    seller.refresh_from_db()
    appeal_actions.appeal_by_email(
        Delivery(sender=seller, subject="", body="Mistake!", attachments=[], idempotency_key="a-1")
    )
    case = Case.objects.get(kind="appeal")
    console = Client()
    console.force_login(safety_agent)

    page = console.get(reverse("console-case", args=[case.pk])).content.decode()

    panel = page.split('data-testid="appeal-panel"', 1)[1].split("</section>", 1)[0]
    assert f"Appeal of <bdi>{shop}</bdi>'s suspension" in panel
    assert f"confirmed by <bdi>{agent_name}</bdi>, " in panel
    assert f'<span class="message__sender"><bdi>{shop}</bdi></span>' in panel
    assert not_isolated(page, agent_name) == []
    # The shop's name as a name; in the case's subject ("Appeal: suspension of …") it is
    # in the subject's isolate.
    assert [
        place
        for place in not_isolated(page, shop)
        if not place.startswith(("<bdi {}>", "<h1 {'dir': 'auto'}>"))
    ] == []


def test_the_console_says_a_suspended_customer_hears_by_email_not_what_they_see(
    buyer: User, seller: User, product: Product, safety_agent: User
) -> None:
    """The appeal's page said "The customer sees: “Waiting for an agent”", but a suspended
    person cannot sign in to see anything: everything reaches them by e-mail. Once the
    suspension is lifted they can, and the line says what they see again."""
    suspend_by_report(buyer, seller, product, safety_agent)
    seller.refresh_from_db()
    appeal_actions.appeal_by_email(
        Delivery(sender=seller, subject="", body="Mistake!", attachments=[], idempotency_key="a-1")
    )
    case = Case.objects.get(kind="appeal")
    console = Client()
    console.force_login(safety_agent)
    url = reverse("console-case", args=[case.pk])
    suspended = "The customer cannot sign in while suspended: they hear from you by e-mail"

    page = console.get(url).content.decode()
    live = console.get(url, {"after": 0}, headers={"X-Partial": "messages"}).content.decode()

    for shown in (page, live):
        assert suspended in shown
        assert "The customer sees" not in shown

    appeal_actions.decide_appeal(safety_agent, case.pk, "lift")
    page = console.get(url).content.decode()
    assert suspended not in page
    assert "The customer sees: “Solved”" in page


def test_an_erased_persons_closed_appeal_cannot_lift_their_account_back(
    buyer: User, seller: User, product: Product, safety_agent: User
) -> None:
    """Erasure closes the person's appeal and closes their account for good; "Lift" on the
    closed appeal (a console page left open, or the form posted again) made the erased
    account active again — and resumed its waits in the buyers' conversations."""
    from messagecenter.accounts import closed_accounts
    from messagecenter.privacy.erasure import erase_person

    suspend_by_report(buyer, seller, product, safety_agent)
    seller.refresh_from_db()
    appeal_actions.appeal_by_email(
        Delivery(sender=seller, subject="", body="Mistake!", attachments=[], idempotency_key="a-1")
    )
    case = Case.objects.get(kind="appeal")
    erase_person(factories.UserFactory(role="admin", is_staff=True, is_superuser=True), seller)
    console = Client()
    console.force_login(safety_agent)

    response = console.post(reverse("console-appeal-decide", args=[case.pk]), {"decision": "lift"})

    assert response.status_code == 409
    seller.refresh_from_db()
    assert not seller.is_active
    assert closed_accounts.closure_of(seller) == closed_accounts.Closure.ERASED
    with pytest.raises(Conflict) as refused:
        appeal_actions.decide_appeal(safety_agent, case.pk, "lift")
    assert refused.value.code == "customer_erased"
