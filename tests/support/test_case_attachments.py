"""What the customer attached, in the agent console (docs/support.md#attachments-in-the-console):
the case page shows every message's attachments as the conversation's page does, and the
agents who may open the case open them — through the case's own address, checked as the
page is — whether or not they are in its conversation. Everyone else is refused as
before; the Message Center's own download stays for the conversation's participants."""

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from messagecenter.accounts.models import Role, User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.models import Attachment, Message, Participant
from messagecenter.support import actions, queries, report_actions
from messagecenter.support.models import Case, CaseEvent, CaseEventKind
from tests import factories
from tests.api.helpers import with_token
from tests.web.helpers import PNG_BYTES, pdf_bytes

pytestmark = pytest.mark.django_db

RECEIPT = pdf_bytes("Receipt 4417")


def signed_in(person: User | None) -> Client:
    client = Client()
    if person is not None:
        client.force_login(person)
    return client


def photo(name: str = "dent.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG_BYTES, content_type="image/png")


def receipt(name: str = "receipt.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, RECEIPT, content_type="application/pdf")


def request_with_files(customer: User, *files: SimpleUploadedFile, subject: str = "Dented") -> Case:
    """A customer-service request whose first message carries the files (as one by e-mail
    does), in the customer-service team's queue, unassigned: no agent is in its
    conversation."""
    return actions.open_request(
        customer, subject, "The kettle came dented, photo attached.", attachments=list(files)
    )


def attachments_of(case: Case) -> list[Attachment]:
    return list(Attachment.objects.filter(message__conversation_id=case.conversation_id))


def case_attachment_url(case_id: int, attachment: Attachment) -> str:
    return reverse("console-case-attachment", args=[case_id, attachment.pk])


def content(response: Any) -> bytes:
    return b"".join(response.streaming_content)


@pytest.fixture
def team_agent(db: None) -> User:
    return factories.agent_in_team("customer-service", first_name="Priya")


@pytest.fixture
def other_team_agent(db: None) -> User:
    return factories.agent_in_team("trust-and-safety", first_name="Omar")


def test_an_agent_of_the_case_sees_the_customers_attachments_and_opens_them(
    buyer: User, team_agent: User
) -> None:
    case = request_with_files(buyer, photo(), receipt())
    image, pdf = sorted(attachments_of(case), key=lambda attachment: attachment.pk)
    assert not Participant.objects.filter(user=team_agent).exists()
    agent = signed_in(team_agent)

    page = agent.get(reverse("console-case", args=[case.pk])).content.decode()
    image_response = agent.get(case_attachment_url(case.pk, image), {"view": "inline"})
    pdf_response = agent.get(case_attachment_url(case.pk, pdf))

    # As the conversation's page shows them: a thumbnail that opens full size, and each file
    # as a download, at the case's address.
    assert f'<img src="{case_attachment_url(case.pk, image)}?view=inline"' in page
    assert f'<a href="{case_attachment_url(case.pk, image)}" download>' in page
    assert f'<a href="{case_attachment_url(case.pk, pdf)}" download>' in page
    assert "receipt.pdf" in page
    assert image_response.status_code == 200
    assert image_response["Content-Disposition"].startswith("inline")
    assert image_response["X-Content-Type-Options"] == "nosniff"
    assert content(image_response) == image.file.open("rb").read()
    assert pdf_response.status_code == 200
    assert pdf_response["Content-Disposition"].startswith("attachment")
    assert content(pdf_response) == RECEIPT
    # An admin supervises every team.
    admin = factories.UserFactory(role=Role.ADMIN, is_staff=True)
    assert signed_in(admin).get(case_attachment_url(case.pk, pdf)).status_code == 200


def test_everyone_else_is_refused_as_before(
    buyer: User, other_buyer: User, team_agent: User, other_team_agent: User
) -> None:
    case = request_with_files(buyer, receipt())
    [pdf] = attachments_of(case)
    own_request = request_with_files(other_buyer, receipt("theirs.pdf"))
    url = case_attachment_url(case.pk, pdf)

    # The case page and its attachment: the same refusals, for the same people.
    for person, status in (
        (other_team_agent, 404),
        (other_buyer, 404),
        (buyer, 404),  # the customer's own download is the Message Center's
    ):
        client = signed_in(person)
        assert client.get(reverse("console-case", args=[case.pk])).status_code == status
        assert client.get(url).status_code == status
    anonymous = signed_in(None).get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("login"))

    agent = signed_in(team_agent)
    # The case's address opens only the case's attachments: not another case's, even one
    # the agent may open through its own case, and no id that does not exist.
    [theirs] = attachments_of(own_request)
    assert agent.get(case_attachment_url(case.pk, theirs)).status_code == 404
    assert agent.get(case_attachment_url(own_request.pk, theirs)).status_code == 200
    assert agent.get(reverse("console-case-attachment", args=[case.pk, 999999])).status_code == 404
    # The Message Center's download stays the conversation's participants': the agent, who
    # is not one, and the other buyer get its 404; the buyer gets the file.
    download = reverse("attachment", args=[pdf.pk])
    assert agent.get(download).status_code == 404
    assert signed_in(other_buyer).get(download).status_code == 404
    assert signed_in(buyer).get(download).status_code == 200


def test_a_merged_duplicates_attachments_show_on_the_kept_case(
    buyer: User, team_agent: User
) -> None:
    kept = request_with_files(buyer, subject="Kettle")
    duplicate = request_with_files(buyer, receipt("second.pdf"), subject="Kettle again")
    [pdf] = attachments_of(duplicate)
    actions.merge_cases(team_agent, duplicate.pk, kept.pk)
    agent = signed_in(team_agent)

    page = agent.get(reverse("console-case", args=[kept.pk])).content.decode()
    from_kept = agent.get(case_attachment_url(kept.pk, pdf))
    # The duplicate's address leads to the kept case's, as its page does.
    from_duplicate = agent.get(case_attachment_url(duplicate.pk, pdf), {"view": "inline"})

    assert f"From CS-{duplicate.pk}" in page
    assert case_attachment_url(kept.pk, pdf) in page
    assert from_kept.status_code == 200
    assert content(from_kept) == RECEIPT
    assert from_duplicate.status_code == 302
    assert from_duplicate["Location"] == f"{case_attachment_url(kept.pk, pdf)}?view=inline"


def test_a_reported_messages_attachments_show_in_the_report_panel(
    buyer: User, seller: User, product: Any, team_agent: User
) -> None:
    reviewer = factories.agent_in_team("trust-and-safety")
    question = conversation_actions.ask_seller_about_product(buyer, product.pk, "Is it new?")
    scam = conversation_actions.send_message(
        seller,
        question.conversation_id,
        "Pay by gift card, see the invoice.",
        attachments=[receipt("invoice.pdf")],
    )
    report = report_actions.report_message(buyer, scam.pk, "scam").report
    [pdf] = scam.attachments.all()
    url = case_attachment_url(report.pk, pdf)

    panel = signed_in(reviewer).get(reverse("console-case", args=[report.pk])).content.decode()
    reviewed = signed_in(reviewer).get(url)

    assert "invoice.pdf" in panel
    assert url in panel
    assert reviewed.status_code == 200
    assert content(reviewed) == RECEIPT
    # Not the other team's, not the reporter's.
    assert signed_in(team_agent).get(url).status_code == 404
    assert signed_in(buyer).get(url).status_code == 404


def test_the_agents_api_lists_a_cases_attachments_and_serves_them_to_its_agents(
    buyer: User, seller: User, product: Any, team_agent: User, other_team_agent: User
) -> None:
    case = request_with_files(buyer, photo(), receipt())
    image, pdf = sorted(attachments_of(case), key=lambda attachment: attachment.pk)
    priya = with_token(team_agent)

    detail = priya.get(f"/agent/cases/{case.pk}").json()
    [first] = [message for message in detail["messages"] if message["attachments"]]
    listed = first["attachments"]
    downloaded = priya.get(f"/agent/cases/{case.pk}/attachments/{pdf.pk}")

    assert [attachment["id"] for attachment in listed] == [image.pk, pdf.pk]
    assert listed[1] == {
        "id": pdf.pk,
        "filename": "receipt.pdf",
        "content_type": "application/pdf",
        "size": len(RECEIPT),
        "download_url": f"/api/v1/agent/cases/{case.pk}/attachments/{pdf.pk}",
    }
    assert downloaded.status_code == 200
    assert downloaded["Content-Disposition"].startswith("attachment")
    assert content(downloaded) == RECEIPT
    # The conversations' download stays the participants'.
    assert priya.get(f"/attachments/{pdf.pk}").status_code == 404
    # Refused as the case detail is: another team's agent 404, a customer 403.
    path = f"/agent/cases/{case.pk}/attachments/{pdf.pk}"
    assert with_token(other_team_agent).get(path).status_code == 404
    assert with_token(buyer).get(path).status_code == 403
    assert Client().get(f"/api/v1{path}").status_code == 401

    # A report's messages carry theirs, served through the report's case.
    reviewer = factories.agent_in_team("trust-and-safety")
    question = conversation_actions.ask_seller_about_product(buyer, product.pk, "Is it new?")
    scam = conversation_actions.send_message(
        seller, question.conversation_id, "Pay here.", attachments=[receipt("invoice.pdf")]
    )
    report = report_actions.report_message(buyer, scam.pk, "scam").report
    [invoice] = scam.attachments.all()
    reported = with_token(reviewer).get(f"/agent/reports/{report.pk}").json()["messages"]
    assert [attachment["download_url"] for attachment in reported[0]["attachments"]] == [
        f"/api/v1/agent/cases/{report.pk}/attachments/{invoice.pk}"
    ]
    served = with_token(reviewer).get(f"/agent/cases/{report.pk}/attachments/{invoice.pk}")
    assert served.status_code == 200


def test_a_message_arriving_on_the_open_case_comes_rendered_by_the_page(
    buyer: User, team_agent: User
) -> None:
    """What site.js asks for when a message arrives live (X-Partial: messages): the messages
    after the last one shown, as the page renders them, attachments and all; reading them
    marks the conversation read for the agent."""
    case = request_with_files(buyer)
    actions.take_case(team_agent, case.pk)
    shown = Message.objects.filter(conversation_id=case.conversation_id).latest("pk")
    reply = conversation_actions.send_message(
        buyer, case.conversation_id, "Here is another photo.", attachments=[photo("side.png")]
    )
    [image] = reply.attachments.all()
    participant = Participant.objects.get(user=team_agent, conversation_id=case.conversation_id)
    assert participant.unread_count == 1

    response = signed_in(team_agent).get(
        reverse("console-case", args=[case.pk]),
        {"after": shown.pk},
        headers={"X-Partial": "messages"},
    )

    partial = response.content.decode()
    assert response.status_code == 200
    assert "X-Partial" in response["Vary"]
    assert partial.startswith('<ol data-older-url="" data-newer-url="">')
    assert partial.count('<li class="message') == 1
    assert f'id="message-{reply.pk}"' in partial
    assert f'<img src="{case_attachment_url(case.pk, image)}?view=inline"' in partial
    assert "<bdi>Alice Buyer</bdi> <bdi>(customer)</bdi>" in partial
    participant.refresh_from_db()
    assert participant.unread_count == 0
    # The page itself says where to ask.
    page = signed_in(team_agent).get(reverse("console-case", args=[case.pk])).content.decode()
    assert f'data-messages-url="{reverse("console-case", args=[case.pk])}"' in page


def test_the_case_page_reads_every_messages_attachments_at_once(
    buyer: User, team_agent: User, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    """No statement per message or per attachment: the page's count is the same with one
    message carrying files as with six."""
    case = request_with_files(buyer, photo(), receipt())
    actions.take_case(team_agent, case.pk)
    agent = signed_in(team_agent)
    url = reverse("console-case", args=[case.pk])
    agent.get(url)  # Sessions, compiled statements and presence settle.
    with CaptureQueriesContext(connection) as first:
        assert agent.get(url).status_code == 200
    one_message = len(first)
    for number in range(5):
        conversation_actions.send_message(
            buyer, case.conversation_id, f"And {number}.", attachments=[photo(), receipt()]
        )
    agent.get(url)
    with django_assert_num_queries(one_message):
        page = agent.get(url).content.decode()
    assert page.count('class="attachments"') == 6


def test_the_conversation_read_beside_the_case_shows_its_files_to_the_case_s_agents(
    buyer: User, seller: User, product: Any, team_agent: User, other_team_agent: User
) -> None:
    """The buyer↔seller conversation about the case's order, read only in the console:
    its files listed as the case's own are, served at its own address to those who may
    read it, each download an audit line in the case's history."""
    order = factories.order_with_item(buyer, product)
    asked = conversation_actions.contact_seller_about_order(
        buyer, order.pk, product.storefront_id, "It came dented.", attachments=[photo(), receipt()]
    )
    case = actions.open_request(buyer, "Dented kettle", "See my photo.", order_number=order.number)
    image, pdf = Attachment.objects.filter(message=asked).order_by("id")
    page_url = reverse("console-context-conversation", args=[case.pk, asked.conversation_id])

    def file_url(attachment: Attachment, case_id: int = case.pk) -> str:
        return reverse(
            "console-context-attachment", args=[case_id, asked.conversation_id, attachment.pk]
        )

    agent = signed_in(team_agent)
    page = agent.get(page_url).content.decode()

    assert f'href="{file_url(pdf)}"' in page
    assert f'src="{file_url(image)}?view=inline"' in page
    assert content(agent.get(file_url(pdf))) == RECEIPT
    assert agent.get(f"{file_url(image)}?view=inline")["Content-Type"] == "image/png"
    history = [line for _, line in queries.case_history(case)]
    assert any(
        line.endswith(
            "downloaded “receipt.pdf” from the conversation " + f"“{asked.conversation.subject}”"
        )
        for line in history
    )
    # The inline image is what the audited page showed: no line of its own.
    assert not any("dent.png" in line for line in history)
    # Not a context conversation's file: the case's own, or another conversation's.
    other = request_with_files(buyer, receipt("other.pdf"))
    assert agent.get(file_url(attachments_of(other)[0])).status_code == 404
    for person in (other_team_agent, seller, buyer, None):
        response = signed_in(person).get(file_url(pdf))
        assert response.status_code in (302, 404), person
        assert RECEIPT not in (content(response) if response.streaming else response.content)


def test_a_download_recorded_before_names_it_without_bidirectional_controls(
    buyer: User, team_agent: User
) -> None:
    """A file's name is stored and served without the embeddings, overrides and isolates
    ("invoice\u202efdp.pdf" reads "invoicefdp.pdf" reversed); the history's line of a
    download recorded before names it as it is served now, on the page and in the API."""
    case = request_with_files(buyer, receipt())
    CaseEvent.objects.create(
        case=case,
        actor=team_agent,
        kind=CaseEventKind.CONTEXT_OPENED,
        detail={"attachment": "invoice\u202efdp.pdf", "subject": "Dented kettle"},
        created_at=case.created_at,
    )

    api = with_token(team_agent).get(f"/agent/cases/{case.pk}").json()["history"]
    page = signed_in(team_agent).get(reverse("console-case", args=[case.pk])).content.decode()

    assert any("downloaded “invoicefdp.pdf” from the conversation" in line for line in api)
    assert "downloaded “<bdi>invoicefdp.pdf</bdi>” from the conversation" in page
