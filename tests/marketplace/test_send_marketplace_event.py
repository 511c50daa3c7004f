"""The operator's command signs an event file and posts it to a running server."""

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from messagecenter.accounts.models import User
from messagecenter.marketplace.models import MarketplaceEvent
from tests.marketplace.helpers import SECRET, URL, event

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_command_signs_and_delivers_an_event_file(
    buyer: User, live_server: LiveServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    event_file = tmp_path / "notice.json"
    event_file.write_text(
        json.dumps(event("account.notice", {"user": "alice", "subject": "Hi", "body": "Hello."}))
    )

    call_command("send_marketplace_event", str(event_file), url=live_server.url + URL)

    assert capsys.readouterr().out.startswith('201: {"id": "evt-1"')
    assert MarketplaceEvent.objects.get().type == "account.notice"


def test_the_command_reports_a_refusal(db: None, live_server: LiveServer, tmp_path: Path) -> None:
    event_file = tmp_path / "notice.json"
    event_file.write_text(
        json.dumps(event("account.notice", {"user": "nobody", "subject": "Hi", "body": "B"}))
    )

    with pytest.raises(CommandError, match=r'^422: .*"unknown_user"'):
        call_command(
            "send_marketplace_event", str(event_file), url=live_server.url + URL, secret=SECRET
        )


def test_without_url_it_posts_to_the_site_url_s_intake(
    buyer: User,
    live_server: LiveServer,
    settings: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The default was http://127.0.0.1:8000 whatever SITE_URL said: with the server on
    another port (`run --port 8141`, SITE_URL set for it) the event went nowhere."""
    settings.SITE_URL = live_server.url
    settings.MARKETPLACE_EVENTS_SECRETS = [SECRET]
    event_file = tmp_path / "notice.json"
    event_file.write_text(
        json.dumps(event("account.notice", {"user": "alice", "subject": "Hi", "body": "Hello."}))
    )

    call_command("send_marketplace_event", str(event_file))

    assert capsys.readouterr().out.startswith('201: {"id": "evt-1"')
    assert MarketplaceEvent.objects.get().type == "account.notice"
