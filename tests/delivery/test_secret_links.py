"""Our links that work without signing in lose their key wherever people other than the
person read a copy (delivery.links.without_secrets): a forwarded genuine reset put a working
reset link before every trust-and-safety agent, and a second review found the same link
kept when a mail gateway had rewritten it, written with entities, or on another host."""

import base64

import pytest
from django.urls import reverse

from messagecenter.delivery.admin import original_without_secrets
from messagecenter.delivery.links import without_secrets

RESET = "/accounts/password-reset/MQ/dj69sg-06f271bfb4c63fd63bdf51d7960c3432/"
KEY = "dj69sg-06f271bfb4c63fd63bdf51d7960c3432"


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        (
            f"http://127.0.0.1:8000{RESET}",
            "http://127.0.0.1:8000/accounts/password-reset/[removed]/",
        ),
        (f"Open http://127.0.0.1:8000{RESET}.", "/accounts/password-reset/[removed]/."),
        # Another host or port opens the same page.
        (
            f"http://localhost:8103{RESET}",
            "http://localhost:8103/accounts/password-reset/[removed]/",
        ),
        (f"HTTP://127.0.0.1{RESET.rstrip('/')}", "/accounts/password-reset/[removed]"),
        # Gateways that rewrite links keep ours inside, percent-encoded or not.
        (
            "https://eur01.safelinks.protection.outlook.com/?url=http%3A%2F%2F127.0.0.1%3A8103"
            "%2Faccounts%2Fpassword-reset%2FMQ%2Fdj69sg-06f271bf%2F&data=05",
            "%2Faccounts%2Fpassword-reset%2F[removed]%2F&data=05",
        ),
        (
            f"https://urldefense.com/v3/__http://127.0.0.1:8103{RESET}__;!!abc",
            "/accounts/password-reset/[removed]/__;!!abc",
        ),
        (
            f"https://www.google.com/url?q=http://127.0.0.1:8103{RESET}&sa=D",
            "/accounts/password-reset/[removed]/&sa=D",
        ),
        # An HTML entity for the slash, an encoded character in the key.
        (
            "http:&#47;&#47;127.0.0.1&#47;accounts&#47;password-reset&#47;MQ&#47;dj69sg-06f2&#47;",
            "&#47;accounts&#47;password-reset&#47;[removed]&#47;",
        ),
        ("http://127.0.0.1/accounts/password-reset/MQ/dj69%2D06f2/", "password-reset/[removed]/"),
        # The other secret links.
        ("http://127.0.0.1/accounts/email-change/eyJ1IjoxfQ:1v:abc/", "email-change/[removed]/"),
        ("http://127.0.0.1/accounts/email-change/undo/eyJ1IjoxfQ:1v:abc/", "undo/[removed]/"),
        ("http://127.0.0.1/email/preferences/eyJ1IjoxfQ:abc/", "email/preferences/[removed]/"),
        ("http://127.0.0.1/email/unsubscribe/eyJ1IjoxfQ:abc/", "email/unsubscribe/[removed]/"),
    ],
)
def test_the_key_of_a_secret_link_is_taken_out_however_it_is_written(
    written: str, kept: str
) -> None:
    shown = without_secrets(written)

    assert kept in shown
    assert "dj69sg" not in shown
    assert "eyJ1" not in shown


@pytest.mark.parametrize(
    "text",
    [
        "http://127.0.0.1:8000/message-center/check-email/?reference=MC-A1-ABCDEFGH",
        "Ask again at http://127.0.0.1:8000/accounts/password-reset/ if it expired.",
        "http://127.0.0.1:8000/email/unsubscribe/ and http://127.0.0.1:8000/account/email/",
        # A phisher's obfuscated address (full-width slash): an address urlsplit refuses
        # made every report holding one fail (500) once redaction parsed addresses.
        "Pay at http://parcel-hold.example／pay today",
        "http://[::1:bad/ and http://127.0.0.1:99999/x and http://127.0.0.1/%ZZ",
    ],
)
def test_other_links_and_text_are_left_as_they_are(text: str) -> None:
    assert without_secrets(text) == text


def test_the_admin_shows_a_base64_original_decoded_and_without_the_key() -> None:
    """The admin's original e-mail was searched as raw bytes: a base64 part kept the key."""
    body = base64.encodebytes(f"Choose a new password: http://127.0.0.1:8000{RESET}\n".encode())
    raw = (
        b"From: bob@example.test\r\nSubject: Fwd: Reset\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + body
    )

    shown = original_without_secrets(raw)

    assert (
        "Choose a new password: http://127.0.0.1:8000/accounts/password-reset/[removed]/" in shown
    )
    assert KEY not in shown
    assert base64.encodebytes(KEY.encode()).decode().strip()[:12] not in shown
    assert reverse("password-reset-confirm", args=["MQ", KEY]) not in shown
