"""Transcripts of a conversation (docs/privacy.md#transcripts): what each person may see,
in each format, read back the way a person's program would read it."""

import email
import io
from email.message import Message as EmailMessage
from email.policy import default as default_policy

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from pypdf import PdfReader

from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.conversations.models import Conversation
from messagecenter.marketplace.models import Product
from messagecenter.privacy import transcripts
from messagecenter.support import actions as support_actions
from tests import factories
from tests.api.helpers import with_token
from tests.web.helpers import not_isolated, unique_png

pytestmark = pytest.mark.django_db

PNG = unique_png("receipt-bytes")


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def browser(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def conversation_id(buyer: User, seller: User, product: Product) -> int:
    question = actions.ask_seller_about_product(
        buyer,
        product.pk,
        "Is the café table’s finish “matte”? It costs 120 €.",
        attachments=[SimpleUploadedFile("receipt.png", PNG, content_type="image/png")],
    )
    actions.send_message(seller, question.conversation_id, "Yes, matte oak.\nShips Monday.")
    return question.conversation_id


def test_a_buyer_downloads_the_conversation_as_pdf_text_and_eml(
    buyer: User, conversation_id: int
) -> None:
    client = browser(buyer)
    url = f"/message-center/conversations/{conversation_id}/transcript/"

    pdf = client.get(url, {"format": "pdf"})
    text = client.get(url, {"format": "txt"})
    eml = client.get(url, {"format": "eml"})

    assert pdf.status_code == text.status_code == eml.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"] == (
        f'attachment; filename="conversation-{conversation_id}-transcript.pdf"'
    )
    assert "no-store" in pdf["Cache-Control"]
    assert pdf.content.startswith(b"%PDF-")
    shown = pdf_text(pdf.content)
    # The embedded font keeps the accents, quotes and the euro sign as text.
    assert "Is the café table’s finish “matte”? It costs 120 €." in shown
    assert "Yes, matte oak." in shown
    assert "Ships Monday." in shown
    assert "Attached: receipt.png" in shown

    body = text.content.decode()
    assert text["Content-Type"] == "text/plain; charset=utf-8"
    assert "Is the café table’s finish “matte”? It costs 120 €." in body
    assert "Yes, matte oak.\nShips Monday." in body
    assert body.index("café") < body.index("matte oak")

    parsed: EmailMessage = email.message_from_bytes(eml.content, policy=default_policy)
    assert eml["Content-Type"] == "message/rfc822"
    assert parsed["Subject"].startswith("Transcript: ")
    assert parsed["To"] == buyer.email
    plain = parsed.get_body(preferencelist=("plain",))
    assert plain is not None
    assert "matte oak" in plain.get_content()
    files = [
        (part.get_filename(), part.get_payload(decode=True)) for part in parsed.iter_attachments()
    ]
    assert files == [("receipt.png", PNG)]


def test_the_seller_gets_their_own_copy(seller: User, conversation_id: int) -> None:
    response = browser(seller).get(
        f"/message-center/conversations/{conversation_id}/transcript/", {"format": "txt"}
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert "120 €" in body
    assert "matte oak" in body
    assert f"for {seller.public_name}" in body


def test_only_the_messages_the_person_may_see(
    buyer: User, seller: User, product: Product, conversation_id: int
) -> None:
    """A buyer who deleted the conversation and wrote again sees only what came after; the
    seller still has it all."""
    actions.trash_conversations(buyer, [conversation_id])
    actions.delete_conversations(buyer, [conversation_id])
    again = actions.ask_seller_about_product(buyer, product.pk, "Writing again about the table.")
    assert again.conversation_id == conversation_id
    url = f"/message-center/conversations/{conversation_id}/transcript/"

    buyers = browser(buyer).get(url, {"format": "pdf"})
    sellers = browser(seller).get(url, {"format": "txt"}).content.decode()

    shown = pdf_text(buyers.content)
    assert "Writing again about the table." in shown
    assert "matte" not in shown
    assert "receipt.png" not in shown
    assert "120 €" in sellers
    assert "Writing again about the table." in sellers


def test_someone_else_gets_not_found_and_nothing_of_it(
    other_buyer: User, other_seller: User, agent: User, conversation_id: int
) -> None:
    for outsider in (other_buyer, other_seller, agent):
        page = browser(outsider).get(
            f"/message-center/conversations/{conversation_id}/transcript/", {"format": "txt"}
        )
        api = with_token(outsider).get(f"/conversations/{conversation_id}/transcript")
        assert page.status_code == 404
        assert api.status_code == 404
        assert api.json()["error"]["code"] == "conversation_not_found"
        assert b"matte" not in page.content + api.content


def test_an_unknown_format_is_refused_with_the_choices(buyer: User, conversation_id: int) -> None:
    client = browser(buyer)
    url = f"/message-center/conversations/{conversation_id}/transcript/"

    choices = client.get(url)
    refused = client.get(url, {"format": "docx"})
    api = with_token(buyer).get(f"/conversations/{conversation_id}/transcript?format=docx")

    assert choices.status_code == 200
    assert b"?format=pdf" in choices.content
    assert b"?format=eml" in choices.content
    assert refused.status_code == 400
    assert b"Choose the transcript&#x27;s format: pdf, txt or eml." in refused.content
    assert api.status_code == 422


def test_the_api_gives_each_format(buyer: User, conversation_id: int) -> None:
    caller = with_token(buyer)

    default = caller.get(f"/conversations/{conversation_id}/transcript")
    text = caller.get(f"/conversations/{conversation_id}/transcript?format=txt")

    assert default.status_code == 200
    assert default["Content-Type"] == "application/pdf"
    assert "matte oak" in pdf_text(default.content)
    assert "matte oak" in text.content.decode()


def test_a_message_s_markup_is_text_and_fetches_nothing(
    buyer: User, seller: User, conversation_id: int
) -> None:
    body = (
        '<img src="http://203.0.113.9/track.png"> <b>bold?</b> & <a href="file:///etc/passwd">x</a>'
    )
    actions.send_message(buyer, conversation_id, body)

    response = browser(buyer).get(
        f"/message-center/conversations/{conversation_id}/transcript/", {"format": "pdf"}
    )

    shown = pdf_text(response.content)
    # As text (a raw IP address is warned about: the address defanged, as in e-mail).
    assert '<img src="hxxp://203[.]0[.]113[.]9/track.png">' in shown
    assert "<b>bold?</b> &" in shown


def test_the_page_and_the_console_link_to_it(buyer: User, conversation_id: int) -> None:
    page = browser(buyer).get(f"/message-center/conversations/{conversation_id}/")

    assert f'href="/message-center/conversations/{conversation_id}/transcript/"'.encode() in (
        page.content
    )


# --- agents, from the console's case -------------------------------------------------------


@pytest.fixture
def team_agent(db: None) -> User:
    return factories.agent_in_team(username="priya", first_name="Priya", last_name="Natarajan")


def test_an_agent_downloads_a_case_without_its_notes(buyer: User, team_agent: User) -> None:
    case = support_actions.open_request(buyer, "Broken kettle", "It leaks on the counter.")
    support_actions.add_note(team_agent, case.pk, "Internal: refund approved.")
    support_actions.reply_to_case(team_agent, case.pk, "A new kettle is on its way.")
    client = browser(team_agent)

    console = client.get(f"/console/cases/{case.pk}/")
    pdf = client.get(f"/console/cases/{case.pk}/transcript/", {"format": "pdf"})
    api = with_token(team_agent).get(f"/agent/cases/{case.pk}/transcript?format=eml")

    assert f'href="/console/cases/{case.pk}/transcript/"'.encode() in console.content
    shown = pdf_text(pdf.content)
    assert f"Case {case.number}" in shown
    assert "It leaks on the counter." in shown
    assert "A new kettle is on its way." in shown
    assert "refund approved" not in shown
    assert pdf["Content-Disposition"] == f'attachment; filename="{case.number}-transcript.pdf"'
    parsed = email.message_from_bytes(api.content, policy=default_policy)
    plain = parsed.get_body(preferencelist=("plain",))
    assert plain is not None
    assert "A new kettle is on its way." in plain.get_content()
    assert "refund approved" not in api.content.decode()


def test_the_case_transcript_is_for_its_team_only(buyer: User, team_agent: User) -> None:
    case = support_actions.open_request(buyer, "Broken kettle", "It leaks on the counter.")
    other_team = factories.agent_in_team("trust-and-safety", username="omar")

    for outsider, refused in ((other_team, 404), (buyer, 403)):
        page = browser(outsider).get(f"/console/cases/{case.pk}/transcript/", {"format": "txt"})
        api = with_token(outsider).get(f"/agent/cases/{case.pk}/transcript")
        assert (page.status_code, api.status_code) == (404, refused)
        assert b"leaks" not in page.content + api.content


# What people wrote, right to left: a Hebrew subject ending in "?", an Arabic message and
# an Arabic name ending in a number.
HEBREW_SUBJECT = "שאלה על ההזמנה 123?"
ARABIC_MESSAGE = "هل وصل الطرد؟"
ARABIC_NAME = "سارة 24"


def test_a_case_transcript_gives_what_people_wrote_its_own_direction(
    buyer: User, team_agent: User
) -> None:
    """The transcripts' HTML (the EML's alternative, the PDF's source) showed a Hebrew
    subject, an Arabic message and an Arabic name in the page's left-to-right order — the
    subject's "?" at the wrong end, "Customer: …" and "· <time>" pulled into the name's
    run. The EML's HTML isolates each as the site does (dir="auto", <bdi>); xhtml2pdf does
    not work dir="auto" out, so the PDF's is told the direction."""
    User.objects.filter(pk=buyer.pk).update(display_name=ARABIC_NAME)
    case = support_actions.open_request(buyer, HEBREW_SUBJECT, ARABIC_MESSAGE)
    actions.send_message(buyer, case.conversation_id, "طلبي رقم 123-456")
    client = browser(team_agent)

    eml = client.get(f"/console/cases/{case.pk}/transcript/", {"format": "eml"})
    pdf = client.get(f"/console/cases/{case.pk}/transcript/", {"format": "pdf"})

    parsed = email.message_from_bytes(eml.content, policy=default_policy)
    html_part = parsed.get_body(preferencelist=("html",))
    assert html_part is not None
    html = html_part.get_content()
    for written in (HEBREW_SUBJECT, ARABIC_MESSAGE, ARABIC_NAME):
        assert not_isolated(html, written) == [], written
    for_pdf = transcripts.as_html(transcripts.case_transcript(team_agent, case.pk), for_pdf=True)
    assert f'<h1 dir="rtl">{HEBREW_SUBJECT}</h1>' in for_pdf
    assert f'<p class="entry__body" dir="rtl">{ARABIC_MESSAGE}</p>' in for_pdf
    assert pdf.content.startswith(b"%PDF-")
    # Numbers inside Arabic read in order, as on the site.
    assert '<bdi dir="ltr">123-456</bdi>' in html
    # The plain text says it as written, with no direction controls of ours.
    plain = parsed.get_body(preferencelist=("plain",))
    assert plain is not None
    assert f"Customer: {ARABIC_NAME}\n" in plain.get_content()
    assert not set("\u2066\u2067\u2068\u2069") & set(plain.get_content())


def test_a_conversation_transcript_names_and_titles_keep_their_own_direction(
    buyer: User, seller: User, product: Product
) -> None:
    """ "With <shop>" and "About <product>": the names and titles people chose, isolated."""
    Product.objects.filter(pk=product.pk).update(title="קומקום חשמלי 2")
    seller.storefront.name = "متجر الأمل"
    seller.storefront.save(update_fields=["name"])
    question = actions.ask_seller_about_product(buyer, product.pk, ARABIC_MESSAGE)

    eml = browser(buyer).get(
        f"/message-center/conversations/{question.conversation_id}/transcript/", {"format": "eml"}
    )

    part = email.message_from_bytes(eml.content, policy=default_policy).get_body(
        preferencelist=("html",)
    )
    assert part is not None
    for written in ("Question about קומקום חשמלי 2", "متجر الأمل", ARABIC_MESSAGE):
        assert not_isolated(part.get_content(), written) == [], written
    for_pdf = transcripts.as_html(
        transcripts.conversation_transcript(buyer, question.conversation_id), for_pdf=True
    )
    assert "With <bdi>متجر الأمل</bdi>" in for_pdf
    assert "About <bdi>קומקום חשמלי 2</bdi>" in for_pdf


# Shows "invoiceexe.pdf" where it stands; every embedding, override and isolate control.
SPOOF = "invoice\u202efdp.exe"
CONTROLS = {chr(code) for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}


def test_transcripts_leave_without_the_overrides_the_pages_remove(
    buyer: User, seller: User, product: Product
) -> None:
    """The pages and e-mails remove the embeddings, overrides and isolates from what people
    wrote (bidi.py), but the transcripts kept them: "invoice\\u202efdp.exe" in a body or a
    file's name read "invoiceexe.pdf" in the text, the EML (its subject, text, HTML and
    file names) and the PDF. Every format now shows it as the pages do; the marks (RLM)
    that natural right-to-left text may carry stay, as on the pages."""
    question = actions.ask_seller_about_product(
        buyer,
        product.pk,
        f"Here is {SPOOF} and \u2067{SPOOF}\u2069, שלום\u200f.",
        attachments=[SimpleUploadedFile(f"{SPOOF}.png", PNG, content_type="image/png")],
    )
    actions.send_message(seller, question.conversation_id, f"\u202aThanks\u202c for {SPOOF}")
    Conversation.objects.filter(pk=question.conversation_id).update(subject=f"About {SPOOF}")
    url = f"/message-center/conversations/{question.conversation_id}/transcript/"
    client = browser(buyer)

    text = client.get(url, {"format": "txt"}).content.decode()
    eml = email.message_from_bytes(
        client.get(url, {"format": "eml"}).content, policy=default_policy
    )
    parts = {
        part.get_content_type(): part.get_content()
        for part in eml.walk()
        if not part.is_multipart()
    }
    files = [part.get_filename() for part in eml.iter_attachments()]
    for_pdf = transcripts.as_html(
        transcripts.conversation_transcript(buyer, question.conversation_id), for_pdf=True
    )
    pdf = pdf_text(client.get(url, {"format": "pdf"}).content)

    shown = {
        "text": text,
        "eml subject": str(eml["Subject"]),
        "eml text": parts["text/plain"],
        "eml html": parts["text/html"],
        "eml files": " ".join(files),
        "pdf html": for_pdf,
        "pdf": pdf,
    }
    assert {where: sorted(CONTROLS & set(it)) for where, it in shown.items()} == {
        where: [] for where in shown
    }
    assert "Here is invoicefdp.exe and invoicefdp.exe, שלום\u200f." in text
    assert "Thanks for invoicefdp.exe" in text
    assert "Attached: invoicefdp.exe.png" in text
    assert str(eml["Subject"]) == "Transcript: About invoicefdp.exe"
    assert files == ["invoicefdp.exe.png"]
    assert "invoicefdp.exe" in parts["text/html"]


def test_a_warned_message_keeps_its_warning_and_no_live_link_in_every_format(
    buyer: User, seller: User, conversation_id: int
) -> None:
    """A transcript is an e-mail file "From" our address, and a PDF: a warned message read
    there as written — "paypal.me/…" live for the mail app — with no warning, where its
    page and its e-mail copy warn and defang it."""
    actions.send_message(
        seller, conversation_id, "Pay outside, cheaper: https://paypal-checkout.shop/acme-kitchen"
    )
    client = browser(buyer)
    url = f"/message-center/conversations/{conversation_id}/transcript/"

    text = client.get(url, {"format": "txt"}).content.decode()
    eml = email.message_from_bytes(
        client.get(url, {"format": "eml"}).content, policy=default_policy
    )
    pdf = pdf_text(client.get(url, {"format": "pdf"}).content)

    html_part = eml.get_body(preferencelist=("html",))
    assert html_part is not None
    html = html_part.get_content()
    for shown in (text, html, pdf):
        assert "THIS MESSAGE MAY BE A SCAM" in shown
        assert "https://paypal-checkout.shop" not in shown
        assert "paypal-checkout[.]shop" in shown
    # Only the warned message: the others read as written.
    assert text.count("THIS MESSAGE MAY BE A SCAM") == 1
    assert "Yes, matte oak.\nShips Monday." in text
