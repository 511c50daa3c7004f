import pytest
from django.db import connection

from messagecenter import settings
from tests.databases import on_postgresql


def test_postgres_urls_give_pooled_health_checked_connections() -> None:
    config = settings._database("postgres://mc:secret@db.internal:6543/messages")
    assert (config["ENGINE"], config["HOST"], config["PORT"], config["NAME"]) == (
        "django.db.backends.postgresql",
        "db.internal",
        6543,
        "messages",
    )
    # A pool per process, no persistent per-thread connections (they pile up under ASGI).
    assert config["CONN_MAX_AGE"] == 0
    assert config["OPTIONS"]["pool"] == {"min_size": 2, "max_size": 20, "timeout": 10.0}
    # Statements prepared on the server after a few runs: planned once per connection.
    assert (config["OPTIONS"]["server_side_binding"], config["OPTIONS"]["prepare_threshold"]) == (
        True,
        5,
    )
    # No JIT compilation, no parallel workers: short indexed statements (decision 0013).
    assert config["OPTIONS"]["options"] == "-c jit=off -c max_parallel_workers_per_gather=0"


@pytest.mark.django_db
@pytest.mark.skipif(not on_postgresql(), reason="PostgreSQL's session settings")
def test_the_applications_postgresql_sessions_compile_nothing_and_start_no_workers() -> None:
    """At 10M messages a misspelt word's search spent 22 ms JIT-compiling a 2 ms lookup and
    18 ms starting parallel workers (docs/benchmarks.md, "No JIT, no parallel workers")."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('jit'), current_setting('max_parallel_workers_per_gather')"
        )
        assert cursor.fetchone() == ("off", "0")


def test_sqlite_urls_get_wal_immediate_transactions_and_a_busy_timeout() -> None:
    config = settings._database("sqlite:////tmp/mc.sqlite3")
    assert config["NAME"] == "/tmp/mc.sqlite3"
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert config["OPTIONS"]["timeout"] == 30
    assert "PRAGMA journal_mode=WAL;" in config["OPTIONS"]["init_command"]
    # Each request thread keeps its connection: opening one per request was a tenth of a
    # send's CPU (docs/benchmarks.md).
    assert config["CONN_MAX_AGE"] == 600


def test_smtp_urls_become_the_default_mailer() -> None:
    assert settings._mailer("smtp://user:pw@mail.internal:587?tls=1") == {
        "BACKEND": "messagecenter.delivery.smtp.EmailBackend",
        "OPTIONS": {
            "host": "mail.internal",
            "port": 587,
            "username": "user",
            "password": "pw",
            "use_ssl": False,
            "use_tls": True,
            "timeout": 10,
        },
    }


def test_other_transports_from_email_url() -> None:
    assert settings._mailer("mailbox:") == {
        "BACKEND": "messagecenter.delivery.mailbox.MailboxBackend"
    }
    assert settings._mailer("anymail:postmark") == {
        "BACKEND": "anymail.backends.postmark.EmailBackend"
    }
    assert settings._mailer("smtp://user%40corp:p%2Fw@mail.internal")["OPTIONS"]["username"] == (
        "user@corp"
    )
    with pytest.raises(ValueError, match="needs a provider name"):
        settings._mailer("anymail:")


def test_an_unknown_email_url_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="EMAIL_URL must be"):
        settings._mailer("carrier-pigeon://roof")


def test_the_secret_key_is_generated_once_and_kept(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setattr(settings, "VAR_DIR", tmp_path)
    first = settings._secret_key()
    assert len(first) >= 50
    assert settings._secret_key() == first
