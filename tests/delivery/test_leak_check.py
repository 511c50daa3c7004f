"""The e-mail tests' leak check (tests/delivery/smtp.py: every e-mail any test sends is
searched for another person's real address) finds an address wherever a reader would see
it: in an encoded header, a base64 body, an attachment's encoded file name."""

from email.message import EmailMessage
from email.utils import formataddr

from tests.delivery.smtp import addresses_in


def test_an_address_is_found_in_encoded_headers_bodies_and_file_names() -> None:
    message = EmailMessage()
    message["From"] = formataddr(("Jürgen (juergen@private.test)", "relay-1@reply.localhost"))
    message["To"] = "bob@example.test"
    message["Subject"] = "Écrivez à maria@private.test"
    message.set_content("Schreib mir: ännchen@private.test", charset="utf-8", cte="base64")
    message.add_attachment(
        b"%PDF-1.4",
        maintype="application",
        subtype="pdf",
        filename="für carl@private.test, bitte.pdf",
    )

    assert addresses_in(bytes(message)) >= {
        "juergen@private.test",
        "maria@private.test",
        "ännchen@private.test",
        "carl@private.test",
        "bob@example.test",
    }
