"""Security headers (docs/operations.md, "Production profile"): the policy on every page,
nothing of a signed-in person's kept by a cache, and `check --deploy` clean in production."""

import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.http import HttpResponse
from django.test import Client
from django.utils.cache import add_never_cache_headers

from messagecenter.accounts.middleware import never_cache
from messagecenter.accounts.models import User
from tests.api.helpers import with_token

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


@pytest.mark.django_db
def test_every_page_has_the_content_security_policy() -> None:
    response = Client().get("/accounts/login/")

    assert response["Content-Security-Policy"] == POLICY


def test_a_signed_in_page_is_never_stored(client: Client, buyer: User) -> None:
    client.force_login(buyer)

    response = client.get("/message-center/")

    assert response.status_code == 200
    assert response["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"
    assert response["Content-Security-Policy"] == POLICY


def test_an_api_answer_to_a_token_is_never_stored(buyer: User) -> None:
    response = with_token(buyer).get("/folders")

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_check_deploy_is_clean_under_the_production_profile(tmp_path: Path) -> None:
    """The environment of docs/operations.md's production profile. Its database is a SQLite
    file of its own, on either pass of `make test`: the PostgreSQL pass leaves this test,
    which opens no test database, to the SQLite pass (tests/conftest.py, runs_once)."""
    # Only what a deployment has: not this test run's variables (the browser tests set
    # DJANGO_ALLOW_ASYNC_UNSAFE, which check --deploy rightly refuses).
    environment = {
        "PATH": os.environ["PATH"],
        "MESSAGECENTER_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'production.sqlite3'}",
        "SECRET_KEY": "a-production-secret-key-of-fifty-or-more-characters-3f9Kq2xZ7",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "messages.example.com",
        "HTTPS": "true",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
        "SECURE_HSTS_PRELOAD": "true",
        "SITE_URL": "https://messages.example.com",
    }

    result = subprocess.run(
        [sys.executable, "-m", "messagecenter", "check", "--deploy", "--fail-level", "WARNING"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."


def test_without_the_production_profile_check_deploy_names_what_is_missing(
    tmp_path: Path,
) -> None:
    environment = {"PATH": os.environ["PATH"], "MESSAGECENTER_VAR_DIR": str(tmp_path)}

    result = subprocess.run(
        [sys.executable, "-m", "messagecenter", "check", "--deploy", "--fail-level", "WARNING"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 1
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr


@pytest.mark.parametrize(
    "own",
    [{}, {"Cache-Control": "max-age=60, public"}, {"Expires": "Thu, 01 Jan 2099 00:00:00 GMT"}],
    ids=["none", "cache-control", "expires"],
)
def test_never_cache_writes_what_djangos_add_never_cache_headers_writes(
    own: dict[str, str],
) -> None:
    """accounts.middleware.never_cache writes the headers without Django's parsing where
    the view set none, and leaves merging a view's own to Django."""
    ours, djangos = HttpResponse(headers=own), HttpResponse(headers=own)

    # One moment for both (each writes Expires from the clock).
    with mock.patch("time.time", return_value=1_796_482_800.0):
        never_cache(ours)
        add_never_cache_headers(djangos)

    assert dict(ours.items()) == dict(djangos.items())
