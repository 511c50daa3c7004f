from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from pytest_django.fixtures import Settings

from messagecenter.delivery.inbound.listener import controller
from tests.delivery.dns import DkimKey, DnsServer, make_dkim_key
from tests.delivery.smtp import Handler, SmtpServer
from tests.test_processes import free_port


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
def inbox(smtp_server: SmtpServer) -> Iterator[Handler]:
    yield smtp_server.handler
    # Whatever a test sent, nobody received another person's real address.
    assert smtp_server.handler.real_addresses_seen() == []


@pytest.fixture(scope="session")
def dkim_key(tmp_path_factory: pytest.TempPathFactory) -> DkimKey:
    return make_dkim_key(tmp_path_factory.mktemp("dkim"))


@pytest.fixture
def dns_server(settings: Settings, dkim_key: DkimKey) -> Iterator[DnsServer]:
    """A DNS server on loopback with the records of two sending domains: example.test
    (every factory person's) sends from this machine and signs with `dkim_key`; both ask
    receivers to reject mail that fails DMARC."""
    server = DnsServer()
    server.publish("example.test", "v=spf1 ip4:127.0.0.1 -all")
    server.publish("mail._domainkey.example.test", f"v=DKIM1; k=rsa; p={dkim_key.public_base64}")
    server.publish("_dmarc.example.test", "v=DMARC1; p=reject")
    server.publish("elsewhere.test", "v=spf1 ip4:192.0.2.10 -all")
    server.publish("_dmarc.elsewhere.test", "v=DMARC1; p=reject")
    server.start()
    settings.INBOUND_DNS_SERVER = server.address
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def relay_listener(dns_server: DnsServer) -> Iterator[Controller]:
    """The Message Center's own SMTP listener for relay addresses, on a free port."""
    listener = controller(host="127.0.0.1", port=free_port())
    listener.start()
    try:
        yield listener
    finally:
        listener.stop()
