"""What a report hides is hidden everywhere (docs/safety.md#reports): the attachments of a
message one reported, or customer service removed, cannot be downloaded by those who no
longer see the message, a reported last message is not previewed in the reporter's list
rows (page and API), and a message out of someone's sight no longer counts as unread for
them (their conversation's count, their counters and badge, at the report or removal)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from messagecenter.accounts.models import Role, User
from messagecenter.conversations import actions
from messagecenter.conversations.models import Attachment, Message, Participant
from messagecenter.marketplace.models import Product
from messagecenter.realtime.models import UserEvent
from messagecenter.support import actions as support_actions
from messagecenter.support import claim_actions, report_actions
from messagecenter.support.models import Case, Report, Team, TeamMember
from tests import factories
from tests.api.helpers import with_token
from tests.conversations.helpers import maintained_unread, recounted_unread, unread_in_sight
from tests.support.claims import Clock, claimable_order, clock
from tests.web.helpers import pdf_bytes

__all__ = ["clock"]

pytestmark = pytest.mark.django_db

SCAM = "Pay for your order again here: https://rnarketplace-pay.example/invoice — urgent."


@pytest.fixture
def scam(buyer: User, seller: User, product: Product) -> Message:
    order = factories.order_with_item(buyer, product)
    return actions.contact_buyer_about_order(
        seller,
        order.pk,
        SCAM,
        attachments=[SimpleUploadedFile("invoice.pdf", pdf_bytes("Pay now"))],
    )


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def downloads(user: User, attachment: Attachment) -> tuple[int, int]:
    """The status of the attachment's download on the page and in the API."""
    page = signed_in(user).get(reverse("attachment", args=[attachment.pk]))
    api = with_token(user).get(f"/attachments/{attachment.pk}")
    return page.status_code, api.status_code


def test_the_attachment_of_a_reported_message_is_gone_for_its_reporter_only(
    buyer: User, seller: User, scam: Message
) -> None:
    attachment = Attachment.objects.get(message=scam)
    assert downloads(buyer, attachment) == (200, 200)

    report_actions.report_message(buyer, scam.pk, "scam")

    assert downloads(buyer, attachment) == (404, 404)
    assert downloads(seller, attachment) == (200, 200)


def test_the_attachment_of_a_removed_message_is_gone_for_all_but_its_sender(
    buyer: User, seller: User, scam: Message
) -> None:
    attachment = Attachment.objects.get(message=scam)
    assert downloads(buyer, attachment) == (200, 200)

    # What confirming a report does to the reported messages (decide_report).
    Message.objects.filter(pk=scam.pk).update(removed_at=timezone.now())

    assert downloads(buyer, attachment) == (404, 404)
    assert downloads(seller, attachment) == (200, 200)


def test_a_confirmed_report_leaves_the_attachment_to_its_sender_only(
    buyer: User, seller: User, scam: Message
) -> None:
    agent = factories.agent_in_team("trust-and-safety", username="tess")
    attachment = Attachment.objects.get(message=scam)
    report_actions.report_message(buyer, scam.pk, "scam")
    report = Report.objects.get()

    report_actions.decide_report(agent, report.pk, "confirmed", "restricted")

    assert Message.objects.get(pk=scam.pk).removed_at is not None
    assert downloads(buyer, attachment) == (404, 404)
    assert downloads(seller, attachment) == (200, 200)


def test_a_reported_last_message_is_not_previewed_in_the_reporters_list(
    buyer: User, seller: User, scam: Message
) -> None:
    listing = signed_in(buyer).get(reverse("message-center")).content.decode()
    assert "rnarketplace-pay" in listing

    report_actions.report_message(buyer, scam.pk, "scam")

    listing = signed_in(buyer).get(reverse("message-center")).content.decode()
    assert "rnarketplace-pay" not in listing
    assert "Message hidden: you reported it" in listing
    assert 'data-testid="safety-chip"' not in listing
    device = with_token(buyer)
    [row] = device.get("/conversations").json()["items"]
    assert row["last_message"]["preview"] == "Message hidden: you reported it"
    detail = device.get(f"/conversations/{scam.conversation_id}").json()
    assert detail["last_message"]["preview"] == "Message hidden: you reported it"
    # The sender's list still shows their own message.
    assert "rnarketplace-pay" in signed_in(seller).get(reverse("message-center")).content.decode()
    [own] = with_token(seller).get("/conversations").json()["items"]
    assert own["last_message"]["preview"] == SCAM


def test_a_removed_last_message_is_not_previewed_in_the_api_either(
    buyer: User, seller: User, scam: Message
) -> None:
    Message.objects.filter(pk=scam.pk).update(removed_at=timezone.now())

    [row] = with_token(buyer).get("/conversations").json()["items"]

    assert row["last_message"]["preview"] == "Message removed by customer service"
    [own] = with_token(seller).get("/conversations").json()["items"]
    assert own["last_message"]["preview"] == SCAM


# --- a message out of sight is not unread ---------------------------------------------------


def unread_of(user: User, conversation_id: int) -> int:
    return Participant.objects.get(user=user, conversation_id=conversation_id).unread_count


def counts_are_true(user: User, conversation_id: int) -> None:
    """The counters equal a recount, and the conversation's unread count is what the
    person has in sight and has not read."""
    assert maintained_unread(user) == recounted_unread(user)
    assert unread_of(user, conversation_id) == unread_in_sight(user, conversation_id)


def test_a_reported_unread_message_no_longer_counts_as_unread_for_its_reporter(
    buyer: User, seller: User, scam: Message
) -> None:
    assert maintained_unread(buyer) == {"buyer_seller": 1, "unseen": 1}

    report_actions.report_message(buyer, scam.pk, "scam")

    # At once, without opening the conversation: no unread, no badge.
    assert unread_of(buyer, scam.conversation_id) == 0
    assert maintained_unread(buyer) == {}
    counts_are_true(buyer, scam.conversation_id)
    folders = {row["key"]: row for row in with_token(buyer).get("/folders").json()["folders"]}
    assert folders["buyer_seller"]["unread_count"] == 0
    # Their devices are told, so the badge follows without a reload.
    event = UserEvent.objects.filter(user=buyer).latest("sequence")
    assert (event.kind, event.payload["unread_count"]) == ("conversation.read", 0)


def test_reporting_one_of_two_unread_messages_leaves_the_other_unread(
    buyer: User, seller: User, scam: Message
) -> None:
    actions.send_message(seller, scam.conversation_id, "Your parcel left today.")

    report_actions.report_message(buyer, scam.pk, "scam")

    assert unread_of(buyer, scam.conversation_id) == 1
    assert maintained_unread(buyer) == {"buyer_seller": 1, "unseen": 1}
    counts_are_true(buyer, scam.conversation_id)
    event = UserEvent.objects.filter(user=buyer).latest("sequence")
    assert (event.kind, event.payload["unread_count"]) == ("conversation.unread", 1)


def test_reporting_a_conversation_takes_what_it_hides_out_of_the_unread_count(
    buyer: User, seller: User, scam: Message
) -> None:
    actions.send_message(seller, scam.conversation_id, "Did you pay yet?")
    assert unread_of(buyer, scam.conversation_id) == 2

    report_actions.report_conversation(buyer, scam.conversation_id, "scam")

    assert unread_of(buyer, scam.conversation_id) == 0
    assert maintained_unread(buyer) == {}
    counts_are_true(buyer, scam.conversation_id)


def test_a_reported_message_already_read_moves_no_count(
    buyer: User, seller: User, scam: Message
) -> None:
    actions.mark_read(buyer, [scam.conversation_id])
    actions.send_message(seller, scam.conversation_id, "Your parcel left today.")

    report_actions.report_message(buyer, scam.pk, "scam")

    assert unread_of(buyer, scam.conversation_id) == 1
    assert maintained_unread(buyer) == {"buyer_seller": 1, "unseen": 1}
    counts_are_true(buyer, scam.conversation_id)


def test_a_removed_message_no_longer_counts_as_unread_for_anyone_but_its_sender(
    buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    """In a claim's conversation the agent who took the claim reads along: the seller's
    scam there is unread for the buyer, who reports it, and for the agent, until customer
    service removes it — then for nobody."""
    claims_agent = factories.agent_in_team("claims", username="dana")
    safety_agent = factories.agent_in_team("trust-and-safety", username="tess")
    claim = claim_actions.file_claim(
        buyer, claimable_order(buyer, product, clock).number, "not_received", "Never came."
    )
    support_actions.take_case(claims_agent, claim.pk)
    conversation_id = claim.case.conversation_id
    scam = actions.send_message(seller, conversation_id, SCAM)
    assert unread_of(claims_agent, conversation_id) == 1
    report_actions.report_message(buyer, scam.pk, "scam")
    buyer_unread = unread_of(buyer, conversation_id)

    report_actions.decide_report(safety_agent, Report.objects.get().pk, "confirmed", "restricted")

    assert unread_of(claims_agent, conversation_id) == 0
    assert maintained_unread(claims_agent) == {}
    # The reporter's count dropped when they reported it, not a second time now.
    assert unread_of(buyer, conversation_id) == buyer_unread
    for person in (claims_agent, buyer, seller):
        counts_are_true(person, conversation_id)


def test_a_case_page_lists_the_customers_other_cases_of_the_agents_own_teams_only(
    buyer: User, scam: Message
) -> None:
    """ "Other cases of the customer" beside a request listed every case of theirs, with its
    number and subject, whatever its team: an agent of customer service alone read of the
    trust-and-safety team's report case, which they cannot open (404, as any other team's
    case reads). It lists the cases of the agent's teams; an admin's, all of them."""
    filing = report_actions.report_message(buyer, scam.pk, "scam")
    report_case = Case.objects.get(pk=filing.report.pk)
    customer = User.objects.get(pk=report_case.customer_id)
    request = support_actions.open_request(customer, "Parcel missing", "Order 1 is late.")
    customer_service_only = factories.agent_in_team(username="omar")
    both = factories.agent_in_team("trust-and-safety", username="priya")
    TeamMember.objects.create(agent=both, team=Team.objects.get(slug="customer-service"))
    admin = factories.UserFactory(username="root", role=Role.ADMIN, is_staff=True)
    url = f"/console/cases/{request.pk}/"

    page = signed_in(customer_service_only).get(url).content.decode()
    report_page = signed_in(customer_service_only).get(f"/console/cases/{report_case.pk}/")

    assert report_page.status_code == 404
    assert "Other cases of the customer" not in page
    listed = f"<li>{report_case.number} <bdi>{report_case.subject}</bdi>"
    assert listed not in page
    assert listed in signed_in(both).get(url).content.decode()
    assert listed in signed_in(admin).get(url).content.decode()


def test_the_sender_reads_in_the_api_that_customer_service_removed_their_message(
    buyer: User, seller: User, scam: Message
) -> None:
    """The page says "Customer service removed this message after a report" beside the
    sender's own removed message; the API gave it like any other."""
    agent = factories.agent_in_team("trust-and-safety", username="tess")
    report_actions.report_message(buyer, scam.pk, "scam")
    report_actions.decide_report(agent, Report.objects.get().pk, "confirmed", "restricted")

    messages = with_token(seller).get(f"/conversations/{scam.conversation_id}/messages").json()

    removed = {message["id"]: message["removed_at"] for message in messages["items"]}
    assert removed[scam.pk] is not None
    assert [at for at in removed.values() if at is not None] == [removed[scam.pk]]
    # The buyer does not get it at all.
    theirs = with_token(buyer).get(f"/conversations/{scam.conversation_id}/messages").json()
    assert scam.pk not in [message["id"] for message in theirs["items"]]
    assert all(message["removed_at"] is None for message in theirs["items"])
