from collections.abc import Iterator

import pytest
from pytest_django.fixtures import Settings

from tests.delivery.smtp import Handler, SmtpServer


@pytest.fixture
def smtp_server(settings: Settings) -> Iterator[SmtpServer]:
    """A real SMTP server on loopback, and the Message Center sending to it."""
    server = SmtpServer()
    server.start()
    settings.MAILERS = {"default": server.mailer()}
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def inbox(smtp_server: SmtpServer) -> Handler:
    return smtp_server.handler
