"""Settings, all read from the environment so one build runs anywhere.

See docs/operations.md for every variable. Defaults give the embedded setup that
`make run` uses: SQLite under var/, and the database task queue.
"""

import ipaddress
import json
import os
import secrets
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("MESSAGECENTER_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _retention_days(name: str, default: str) -> int | None:
    value = os.environ.get(name, default).strip().lower()
    if value == "forever":
        return None
    days = int(value)
    if days < 1:
        raise ValueError(f"{name} must be a number of days (1 or more) or 'forever'")
    return days


def _secret_key() -> str:
    """The SECRET_KEY from the environment, else one generated once and kept under var/."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        # O_EXCL: two processes starting together must not write two different keys.
        try:
            descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_bool("DEBUG", False)
ALLOWED_HOSTS = _env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = _env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks_db",
    # Sign-in limits per account and per address (docs/accounts.md).
    "axes",
    # Two-factor sign-in: authenticator apps and recovery codes (docs/accounts.md).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # Only for the interactive API docs' templates and static files (served from here,
    # not from a CDN).
    "ninja",
    "messagecenter.accounts",
    "messagecenter.business_days",
    "messagecenter.hub",
    "messagecenter.marketplace",
    "messagecenter.conversations",
    "messagecenter.realtime",
    "messagecenter.search",
    "messagecenter.notifications",
    "messagecenter.delivery",
    "messagecenter.safety",
    "messagecenter.support",
    "messagecenter.privacy",
    "messagecenter.web",
    "messagecenter.server",
    # The demo marketplace: its `demo` command, and its accounts on the sign-in page once
    # loaded. Nothing else imports it.
    "messagecenter.demo",
]

MIDDLEWARE = [
    # Outermost: a Server-Timing header with Django's time for the whole request.
    "messagecenter.server.timing.ServerTimingMiddleware",
    # An API call with an Authorization header goes through TOKEN_CALL_MIDDLEWARE (below)
    # instead of the rest of this list (server/token_calls.py).
    "messagecenter.server.token_calls.TokenCallsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "messagecenter.server.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: it needs to know whether the answer is someone's own.
    "messagecenter.accounts.middleware.PrivatePagesMiddleware",
    # A password-only sign-in pending its second factor reaches the two-factor pages only.
    "messagecenter.accounts.middleware.SecondFactorMiddleware",
    "messagecenter.accounts.middleware.BrowserUseMiddleware",
    # Dates in the signed-in person's own time zone (an API token's person: ApiTokenAuth).
    "messagecenter.accounts.middleware.TimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # NotFound and NotAllowed from any page's action or access_* getter: the 404 and 403
    # pages, in one place (web/errors.py) instead of an except in every view.
    "messagecenter.web.errors.ErrorPagesMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Pages leave without bidirectional overrides from what people wrote (bidi.py).
    "messagecenter.bidi.BidiControlsMiddleware",
    # Turns a sign-in refused by the limits into the sign-in page's "paused" answer (429).
    "axes.middleware.AxesMiddleware",
    # Not a step: hands the view-calling end to TokenCallsMiddleware.
    "messagecenter.server.token_calls.ViewsMiddleware",
]
# What an API call with an Authorization header goes through (server/token_calls.py):
# the middleware above that can change its answer. The session and what reads it
# (CSRF, authentication, second factor, browser use, messages) cannot apply to it — the
# header alone judges it —, nor static files, the pages' 404/403 pages, their bidi
# clean-up, or the sign-in limits' lockout page.
TOKEN_CALL_MIDDLEWARE = [
    # https:// redirect and HSTS, nosniff, Referrer-Policy, Cross-Origin-Opener-Policy.
    "django.middleware.security.SecurityMiddleware",
    "messagecenter.server.csp.ContentSecurityPolicyMiddleware",
    # ALLOWED_HOSTS (a 400 for another Host) and Content-Length.
    "django.middleware.common.CommonMiddleware",
    # Cache-Control: no-store, private.
    "messagecenter.accounts.middleware.PrivatePagesMiddleware",
    # Ends the token's person's time zone with the request (ApiTokenAuth activates it).
    "messagecenter.accounts.middleware.TimeZoneMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "messagecenter.urls"
ASGI_APPLICATION = "messagecenter.asgi.application"
WSGI_APPLICATION = "messagecenter.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "messagecenter.hub.context_processors.message_center_badge",
            ],
            # One date format per context, in every template without a {% load %}
            # (web/dates.py).
            "builtins": [
                "messagecenter.web.templatetags.dates",
                "messagecenter.web.templatetags.text_direction",
            ],
        },
    },
]


def _database(url: str) -> dict[str, Any]:
    config: dict[str, Any] = dict(dj_database_url.parse(url))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # Django's, with the threads of a process taking turns to write in order.
        config["ENGINE"] = "messagecenter.db.sqlite3"
        config["OPTIONS"] = {
            # Writers queue on the lock instead of failing: IMMEDIATE takes the write lock
            # at BEGIN (no deadlock on read-to-write upgrade), the timeout is how long to wait.
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=NORMAL;"
                "PRAGMA cache_size=-65536;"
                "PRAGMA temp_store=MEMORY;"
            ),
        }
        # Tests use a file, not Django's shared-cache in-memory database: concurrency
        # tests need real WAL locking between threads.
        config["TEST"] = {"NAME": str(VAR_DIR / "test-messagecenter.sqlite3")}
        # A connection kept by each thread between requests (Django's persistent
        # connections), where each request opened its own: the file, the four PRAGMAs and
        # the thirty-odd SQL functions Django registers on every new connection were a
        # tenth of a send's CPU and more of a small read's (docs/benchmarks.md). Requests
        # run on a fixed pool of threads (WEB_THREADS), so a process keeps that many; an
        # SQLite connection outside a transaction holds no snapshot and no lock.
        config["CONN_MAX_AGE"] = 600
    else:
        # A connection pool per process (psycopg_pool, Django's "pool" option). Requests run
        # on many threads (WEB_THREADS, the stream's short calls in asyncio's pool), and
        # persistent per-thread connections (CONN_MAX_AGE > 0) piled up until PostgreSQL
        # refused more; the pool hands a connection to a request and takes it back at its
        # end (docs/operations.md).
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = {
            # Parameters bound on the server, so psycopg prepares a statement once it has
            # run a few times on a connection (the pool keeps connections): the inbox's
            # many-table join is planned once, not on every request (docs/benchmarks.md).
            "server_side_binding": True,
            "prepare_threshold": 5,
            # Each session without JIT compilation and without parallel workers: every
            # statement here is a short, indexed read or write, and at 10M messages the
            # planner's estimates crossed the default thresholds for a misspelt word's
            # search, which then spent 22 ms compiling its 2 ms lookup and ≈ 18 ms starting
            # two workers for 0.1 ms of work each (decision 0013). Read once, at connect.
            "options": os.environ.get(
                "DATABASE_SESSION_OPTIONS", "-c jit=off -c max_parallel_workers_per_gather=0"
            ),
            "pool": {
                "min_size": int(os.environ.get("DATABASE_POOL_MIN_SIZE", "2")),
                "max_size": int(os.environ.get("DATABASE_POOL_MAX_SIZE", "20")),
                # Seconds a request waits for a free connection before failing.
                "timeout": float(os.environ.get("DATABASE_POOL_TIMEOUT", "10")),
            },
        }
    return config


# Threads per server process answering requests (messagecenter/asgi.py). Each holds a
# database connection while it works: keep it below DATABASE_POOL_MAX_SIZE on PostgreSQL.
WEB_THREADS = int(os.environ.get("WEB_THREADS", "10"))
# Threads per server process answering sends (the express lane, server/express.py), apart
# from WEB_THREADS: a send spends most of its time waiting for the batch it joined
# (db/group_commit.py), and on the shared pool those waits took the threads of pages and
# reads, and capped a batch at the pool's size. A waiting send holds no database
# connection on PostgreSQL (it gives its own back to the pool), so these need not fit
# in DATABASE_POOL_MAX_SIZE (docs/benchmarks.md, "Sends: a pool of their own").
SEND_THREADS = int(os.environ.get("SEND_THREADS", "32"))
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'messagecenter.sqlite3'}"
DATABASES: dict[str, dict[str, Any]] = {"default": _database(DATABASE_URL)}
# Concurrent sends of a process are committed together (messagecenter/db/group_commit.py,
# decision 0010), on both databases; GROUP_COMMIT=0 commits each send alone.
GROUP_COMMIT = os.environ.get("GROUP_COMMIT", "1") != "0"
# A reply with a JSON body and a token is answered outside Django's request handler and
# ninja's operation, through the same middleware, authentication, action and answer
# (messagecenter/server/express.py); EXPRESS_LANE=0 sends it the main road like every call.
EXPRESS_LANE = os.environ.get("EXPRESS_LANE", "1") != "0"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# django-axes first: a sign-in over the limits is refused before any password is hashed, so
# an attacker cannot spend the server's CPU on the (deliberately slow) password hasher.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's password check, which also tells the sign-in page about a suspended account
    # whose right password was given (docs/accounts.md#a-suspended-account).
    "messagecenter.accounts.authentication_backends.PasswordBackend",
    # Never reached with a password (the one above decides every one): kept so that the
    # browsers signed in through it before stay signed in (a session names its backend).
    "django.contrib.auth.backends.ModelBackend",
    # A passkey alone (docs/accounts.md#passkeys), after the limits' check above.
    "messagecenter.accounts.authentication_backends.PasskeyBackend",
]
LOGIN_URL = "login"
# "home" sends each person where they work: the Message Center, or an agent's console.
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# A password reset link works this long (seconds), and only until the password changes.
PASSWORD_RESET_TIMEOUT = int(os.environ.get("PASSWORD_RESET_TIMEOUT", "3600"))
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
# A new account's time zone (an IANA name); each person changes theirs in Your Account →
# Time zone, and every page, API answer and e-mail of theirs uses it (docs/accounts.md).
DEFAULT_USER_TIME_ZONE = os.environ.get("DEFAULT_USER_TIME_ZONE", TIME_ZONE)
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns on every start if it is missing
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

# Sign-in limits (docs/accounts.md, "Sign-in protection"). Failures are counted per
# username (whether or not it exists, so the answer tells nothing about accounts) and per
# client address, separately: either reaching the limit pauses sign-in for it for the
# lockout time, counted from the failure that reached it. A correct password does not
# reset the count (an attacker with an account of their own could otherwise reset their
# address's count between guesses); a password reset by e-mail clears the username's.
SIGN_IN_FAILURE_LIMIT = int(os.environ.get("SIGN_IN_FAILURE_LIMIT", "10"))
SIGN_IN_LOCKOUT_MINUTES = int(os.environ.get("SIGN_IN_LOCKOUT_MINUTES", "15"))
AXES_FAILURE_LIMIT = SIGN_IN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=SIGN_IN_LOCKOUT_MINUTES)
# Per address and per username (none for a passkey sign-in: accounts/network.py).
AXES_LOCKOUT_PARAMETERS = "messagecenter.accounts.network.sign_in_lockout_parameters"
AXES_RESET_ON_SUCCESS = False
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "messagecenter.accounts.views.sign_in_paused"
AXES_CLIENT_IP_CALLABLE = "messagecenter.accounts.network.client_ip"
AXES_HTTP_RESPONSE_CODE = 429
# Every sign-in is recorded as a device of its person instead ("Your devices").
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
# Roles that must sign in with two-factor (comma-separated: buyer, seller, agent, admin, and
# staff for anyone with admin access); empty: everyone chooses. Production: agent,admin,staff.
TWO_FACTOR_REQUIRED_ROLES = _env_list("TWO_FACTOR_REQUIRED_ROLES", "")
# Changing a password or e-mail address, turning two-factor off or setting it up again,
# making an API token and asking for one's data need a sign-in (password, and second factor
# when on) within this many minutes; else the password is asked again
# (docs/accounts.md#recent-sign-in).
RECENT_SIGN_IN_MINUTES = int(os.environ.get("RECENT_SIGN_IN_MINUTES", "15"))
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Marketplace")
# Proxies in front that append to X-Forwarded-For (0: the connection's address is the
# client's), and the header a CDN puts the client's country in (e.g. CF-IPCountry).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
CLIENT_COUNTRY_HEADER = os.environ.get("CLIENT_COUNTRY_HEADER", "")

# Served over HTTPS (docs/operations.md, "Production profile"): one switch for the
# secure-only cookies, the redirect of http:// to https:// and Strict-Transport-Security,
# each of which can still be set on its own.
HTTPS = _env_bool("HTTPS", False)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = _env_bool("SECURE_COOKIES", HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# A form with a missing or stale token: the site's page saying to reload and try again.
CSRF_FAILURE_VIEW = "messagecenter.web.errors.csrf_failure"
SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", HTTPS)
# A load balancer's health probe may speak plain HTTP on the inside.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000" if HTTPS else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = _env_bool("SECURE_HSTS_PRELOAD", False)
# Behind a proxy that ends TLS: the header it sets to tell Django the request was https
# ("X-Forwarded-Proto"); the proxy must overwrite any such header a client sends.
if proxy_header := os.environ.get("SECURE_PROXY_SSL_HEADER", ""):
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + proxy_header.upper().replace("-", "_"), "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Every page: scripts, styles and everything else only from the site itself, no inline
# script or style attribute anywhere (site.js and site.css carry them), nothing may frame a
# page. Images may also be data: URLs (the paperclip and badges are inline SVG in CSS).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# Durable background jobs: rows in the same database, so a job enqueued inside an
# action's transaction exists exactly when the change it belongs to is committed.
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}


def _mailer(url: str) -> dict[str, Any]:
    """The outgoing e-mail transport from EMAIL_URL (docs/email.md):
    smtp://user:pass@host:port (add ?tls=1 for STARTTLS), smtps://… for implicit TLS,
    anymail:<provider> (amazon_ses, postmark, sendgrid, mailgun, …: anymail reads the
    provider's credentials from ANYMAIL_* environment variables), mailbox: to keep every
    e-mail for the /mailbox/ page (development), or console: to print them."""
    parts = urlsplit(url)
    if parts.scheme == "console":
        return {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if parts.scheme == "mailbox":
        return {"BACKEND": "messagecenter.delivery.mailbox.MailboxBackend"}
    if parts.scheme == "anymail":
        provider = parts.path.strip("/")
        if not provider.isidentifier():
            raise ValueError(f"EMAIL_URL anymail:<provider> needs a provider name, not {url!r}")
        return {"BACKEND": f"anymail.backends.{provider}.EmailBackend"}
    if parts.scheme in {"smtp", "smtps"}:
        query = parse_qs(parts.query)
        return {
            # Django's SMTP backend with a fast path for assembled broadcasts.
            "BACKEND": "messagecenter.delivery.smtp.EmailBackend",
            "OPTIONS": {
                "host": parts.hostname or "127.0.0.1",
                "port": parts.port or (465 if parts.scheme == "smtps" else 25),
                "username": unquote(parts.username or ""),
                "password": unquote(parts.password or ""),
                "use_ssl": parts.scheme == "smtps",
                "use_tls": query.get("tls", ["0"])[0] in {"1", "true"},
                "timeout": 10,
            },
        }
    raise ValueError(
        "EMAIL_URL must be smtp://, smtps://, anymail:<provider>, mailbox: or console:, "
        f"not {url!r}"
    )


EMAIL_URL = os.environ.get("EMAIL_URL", "mailbox:")
MAILERS = {"default": _mailer(EMAIL_URL)}
# The development mailbox page (/mailbox/) exists only with the mailbox transport.
MAILBOX_ENABLED = EMAIL_URL.startswith("mailbox:")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Message Center <no-reply@localhost>")
# Links in e-mails point here (the address people reach the site at).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")
# Passkeys (WebAuthn, docs/accounts.md#passkeys). The relying party id is the site's domain
# ("messages.example.com"), the origins every address the pages are served from; both
# default to SITE_URL's. Browsers refuse an IP address as the id: for SITE_URL's default
# (127.0.0.1) it is localhost, so in development passkeys work at http://localhost:8000.
_SITE = urlsplit(SITE_URL)


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


PASSKEY_RP_ID = os.environ.get("PASSKEY_RP_ID", "") or (
    "localhost" if _is_ip_address(_SITE.hostname or "") else (_SITE.hostname or "localhost")
)
PASSKEY_RP_NAME = os.environ.get("PASSKEY_RP_NAME", "Marketplace")
PASSKEY_ORIGINS = _env_list("PASSKEY_ORIGINS", "") or [
    f"{_SITE.scheme}://{PASSKEY_RP_ID}{f':{_SITE.port}' if _SITE.port else ''}"
]
# A ceremony's challenge is good for one answer within this many seconds.
PASSKEY_CHALLENGE_SECONDS = int(os.environ.get("PASSKEY_CHALLENGE_SECONDS", "300"))
# Message-IDs are <mc.kind.id@this>: the sending domain.
EMAIL_MESSAGE_ID_DOMAIN = os.environ.get(
    "EMAIL_MESSAGE_ID_DOMAIN", DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(" >") or "localhost"
)
# New buyer–seller messages wait this long for more before one digest e-mail goes out,
# but never longer than the maximum after the first (docs/email.md).
EMAIL_DIGEST_QUIET_MINUTES = float(os.environ.get("EMAIL_DIGEST_QUIET_MINUTES", "10"))
EMAIL_DIGEST_MAX_WAIT_MINUTES = float(os.environ.get("EMAIL_DIGEST_MAX_WAIT_MINUTES", "60"))
# Retries with backoff (30 s doubling up to 6 h) until this many attempts; a sender owns a
# claimed e-mail this long (a sender that died gives it up then).
EMAIL_MAX_ATTEMPTS = int(os.environ.get("EMAIL_MAX_ATTEMPTS", "8"))
EMAIL_CLAIM_SECONDS = float(os.environ.get("EMAIL_CLAIM_SECONDS", "120"))
EMAIL_SENDER_IDLE_SECONDS = float(os.environ.get("EMAIL_SENDER_IDLE_SECONDS", "1"))
# Preference and unsubscribe links in e-mails work without signing in for this long.
EMAIL_LINK_MAX_AGE_DAYS = int(os.environ.get("EMAIL_LINK_MAX_AGE_DAYS", "730"))
# Delivery records of sent, failed and cancelled e-mails are kept this long.
EMAIL_RETENTION_DAYS = int(os.environ.get("EMAIL_RETENTION_DAYS", "90"))
# Optional DKIM signing of outgoing mail (PEM RSA private key file).
DKIM_DOMAIN = os.environ.get("DKIM_DOMAIN", "")
DKIM_SELECTOR = os.environ.get("DKIM_SELECTOR", "")
DKIM_PRIVATE_KEY_FILE = os.environ.get("DKIM_PRIVATE_KEY_FILE", "")

# Reply by e-mail (docs/email.md#reply-by-e-mail): every e-mail about a conversation says
# Reply-To <token>@EMAIL_REPLY_DOMAIN, a relay address keyed to one participant of one
# conversation. Mail to it arrives through the built-in SMTP listener
# (`messagecenter inbound-smtp`, on INBOUND_SMTP_HOST:INBOUND_SMTP_PORT) or a provider's
# inbound webhook (django-anymail).
EMAIL_REPLY_DOMAIN = os.environ.get("EMAIL_REPLY_DOMAIN", "reply.localhost").strip().lower()
INBOUND_SMTP_HOST = os.environ.get("INBOUND_SMTP_HOST", "127.0.0.1")
INBOUND_SMTP_PORT = int(os.environ.get("INBOUND_SMTP_PORT", "2525"))
# The name this server writes in its own Authentication-Results header; providers' inbound
# webhooks are trusted only for headers their own receiving servers wrote (comma-separated
# authserv-ids, e.g. "amazonses.com,mx.sendgrid.net").
INBOUND_AUTHSERV_ID = os.environ.get("INBOUND_AUTHSERV_ID", EMAIL_REPLY_DOMAIN)
INBOUND_TRUSTED_AUTHSERV_IDS = _env_list("INBOUND_TRUSTED_AUTHSERV_IDS", "")
# SPF, DKIM and DMARC look-ups go to the system's resolver, or to this one ("host:port").
INBOUND_DNS_SERVER = os.environ.get("INBOUND_DNS_SERVER", "")
# Whether mail that no SPF, DKIM or DMARC result vouches for is posted. Only for trying
# replies on one machine (`make run` sets it): real mail is always checked.
INBOUND_REQUIRE_AUTHENTICATION = os.environ.get("INBOUND_REQUIRE_AUTHENTICATION", "1") != "0"
# At most this many e-mails from one address per hour are looked at; more are refused.
INBOUND_EMAILS_PER_HOUR = int(os.environ.get("INBOUND_EMAILS_PER_HOUR", "30"))
# The largest e-mail accepted: a message with its largest attachments, base64-encoded.
INBOUND_MAX_BYTES = int(os.environ.get("INBOUND_MAX_BYTES", str(70 * 1024 * 1024)))

# Product rules, in one place so docs and tests can name them (docs/operations.md).
TRASH_RETENTION_DAYS = int(os.environ.get("TRASH_RETENTION_DAYS", "30"))
# The link that confirms a new e-mail address works this long (docs/accounts.md).
EMAIL_CHANGE_LINK_HOURS = int(os.environ.get("EMAIL_CHANGE_LINK_HOURS", "24"))
# The link in the notice to the old address that puts it back works this long: long enough
# for someone who reads that mailbox now and then (a holiday) to find it in time.
EMAIL_CHANGE_UNDO_DAYS = int(os.environ.get("EMAIL_CHANGE_UNDO_DAYS", "7"))
# How long messages are kept, per kind (docs/privacy.md#how-long-we-keep-messages): days
# after a conversation's last message (a notice or promotion: after it was sent, or after
# it expired if later), then the worker's purge deletes them for everyone; "forever" keeps
# them. Order updates, returns and claims are the operator's records: no rule deletes them.
RETENTION_PROMOTIONS_DAYS = _retention_days("RETENTION_PROMOTIONS_DAYS", "180")
RETENTION_NOTICES_DAYS = _retention_days("RETENTION_NOTICES_DAYS", "1095")
RETENTION_BUYER_SELLER_DAYS = _retention_days("RETENTION_BUYER_SELLER_DAYS", "730")
RETENTION_CUSTOMER_SERVICE_DAYS = _retention_days("RETENTION_CUSTOMER_SERVICE_DAYS", "1095")
# A person's data export (docs/privacy.md#your-data) can be downloaded this long after it is
# ready; then the periodic purge deletes the file.
DATA_EXPORT_DOWNLOAD_HOURS = int(os.environ.get("DATA_EXPORT_DOWNLOAD_HOURS", "72"))
# Realtime (docs/realtime.md): how long the event log keeps events (a device away longer
# gets a resync), and what wakes open streams: memory:// inside one process, or
# redis://host:port/db across several server processes.
REALTIME_EVENT_RETENTION_DAYS = int(os.environ.get("REALTIME_EVENT_RETENTION_DAYS", "30"))
PUBSUB_URL = os.environ.get("PUBSUB_URL", "memory://")
# What the Redis channels' names start with: pub/sub is one namespace for a whole Redis
# server, whatever database PUBSUB_URL names, so deployments sharing one set their own.
PUBSUB_CHANNEL_PREFIX = os.environ.get("PUBSUB_CHANNEL_PREFIX", "messagecenter")
# Comment lines that keep proxies from closing an idle stream, and how often an open
# stream checks that its token or session is still valid.
REALTIME_HEARTBEAT_SECONDS = float(os.environ.get("REALTIME_HEARTBEAT_SECONDS", "15"))
REALTIME_AUTH_CHECK_SECONDS = float(os.environ.get("REALTIME_AUTH_CHECK_SECONDS", "5"))
REALTIME_EVENTS_PAGE_MAX_SIZE = 500
# Order events from the marketplace's systems (docs/marketplace-events.md): the shared
# secrets their signatures are checked with (comma-separated: during a rotation the old and
# the new one both verify; none set refuses every event), and how far a signature's
# timestamp may be from now, either way.
MARKETPLACE_EVENTS_SECRETS = _env_list("MARKETPLACE_EVENTS_SECRETS", "")
MARKETPLACE_EVENTS_TOLERANCE_SECONDS = int(
    os.environ.get("MARKETPLACE_EVENTS_TOLERANCE_SECONDS", "300")
)
# Returns started from the buyer's order page (docs/returns.md): how long after delivery
# items can be sent back; which reasons (ReturnReason values, comma-separated) are approved
# at once, without the seller, for a return worth at most RETURNS_AUTO_APPROVE_MAX_CENTS
# (0: never); and what an approved return tells the buyer to do when the seller writes
# nothing of their own ({reference}, {order_number} and {storefront} are filled in).
RETURNS_WINDOW_DAYS = int(os.environ.get("RETURNS_WINDOW_DAYS", "30"))
RETURNS_AUTO_APPROVE_REASONS = _env_list("RETURNS_AUTO_APPROVE_REASONS", "damaged,wrong_item")
RETURNS_AUTO_APPROVE_MAX_CENTS = int(os.environ.get("RETURNS_AUTO_APPROVE_MAX_CENTS", "5000"))
RETURNS_INSTRUCTIONS = os.environ.get(
    "RETURNS_INSTRUCTIONS",
    "Pack the items securely with everything they came with. Write the return reference "
    "{reference} on the parcel (or print this message and put it inside), and send it to "
    "{storefront} within 14 days with any carrier. Keep the receipt until your refund or "
    "replacement arrives.",
)
MESSAGE_BODY_MAX_CHARS = 10_000
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
ATTACHMENT_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf")
ATTACHMENTS_PER_MESSAGE = 5
INBOX_PAGE_SIZE = 25
# The JSON API refuses a larger body from its Content-Length before reading it: a message
# with its largest attachments, plus room for the form's own fields (docs/api.md). JSON
# bodies stay under Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB), as on the web pages.
API_REQUEST_MAX_BYTES = ATTACHMENTS_PER_MESSAGE * ATTACHMENT_MAX_BYTES + 1024 * 1024
API_PAGE_MAX_SIZE = 100

# The safety check of messages people send each other (docs/safety.md). Unset: the
# detector's defaults (messagecenter/safety/vocabulary.py). Lists are comma-separated;
# SAFETY_POLICY is category=allow|warn|mask|hold pairs, e.g. "contact_phone=hold,links=allow".
if "SAFETY_OPERATOR_NAMES" in os.environ:
    SAFETY_OPERATOR_NAMES = _env_list("SAFETY_OPERATOR_NAMES", "")
if "SAFETY_OPERATOR_DOMAINS" in os.environ:
    SAFETY_OPERATOR_DOMAINS = _env_list("SAFETY_OPERATOR_DOMAINS", "")
if "SAFETY_TRUSTED_DOMAINS" in os.environ:
    SAFETY_TRUSTED_DOMAINS = _env_list("SAFETY_TRUSTED_DOMAINS", "")
SAFETY_PHONE_REGION = os.environ.get("SAFETY_PHONE_REGION", "US")
# "off" skips the scam check of messages people send (blocks and sending limits still run):
# for measuring its cost in a benchmark only (docs/benchmarks.md); a server started with it
# says so in a system check warning.
SAFETY_DETECTOR = os.environ.get("SAFETY_DETECTOR", "on")
SAFETY_POLICY = dict(pair.split("=", 1) for pair in _env_list("SAFETY_POLICY", "") if "=" in pair)
# Sending limits per buyer or seller (docs/safety.md#sending-limits): messages per minute,
# hour and day (UTC), stricter for accounts younger than SAFETY_NEW_ACCOUNT_DAYS; and
# "first contact" messages — to someone who has never written back — per hour and day.
# "period=count" pairs; 0 or a missing period: no limit for it.
SAFETY_SEND_LIMITS = _env_list("SAFETY_SEND_LIMITS", "minute=20,hour=300,day=1000")
SAFETY_NEW_ACCOUNT_SEND_LIMITS = _env_list(
    "SAFETY_NEW_ACCOUNT_SEND_LIMITS", "minute=6,hour=60,day=200"
)
SAFETY_FIRST_CONTACT_LIMITS = _env_list("SAFETY_FIRST_CONTACT_LIMITS", "hour=20,day=60")
SAFETY_NEW_ACCOUNT_FIRST_CONTACT_LIMITS = _env_list(
    "SAFETY_NEW_ACCOUNT_FIRST_CONTACT_LIMITS", "hour=5,day=15"
)
SAFETY_NEW_ACCOUNT_DAYS = int(os.environ.get("SAFETY_NEW_ACCOUNT_DAYS", "7"))
# Attachments (docs/safety.md#attachments): images are encoded again, so a decoded image may
# have at most this many pixels; ClamAV's clamd scans every upload when SAFETY_CLAMD names
# it: "unix:/run/clamav/clamd.ctl" or "tcp:127.0.0.1:3310" (empty: no virus scanner).
SAFETY_IMAGE_MAX_PIXELS = int(os.environ.get("SAFETY_IMAGE_MAX_PIXELS", "50000000"))
SAFETY_CLAMD = os.environ.get("SAFETY_CLAMD", "")
SAFETY_CLAMD_TIMEOUT = float(os.environ.get("SAFETY_CLAMD_TIMEOUT", "30"))

# The business-day calendar and the seller's response window (docs/escalation.md). JSON
# maps by country (ISO 3166-1 alpha-2): weekends as weekday names, e.g. {"IL": ["fri",
# "sat"]} (default: the `holidays` package's weekend of the country); closures on top of
# public holidays, e.g. {"US": ["2026-12-24"]} (more in the admin). Deadlines are counted
# in the seller's own time zone (User.time_zone).
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _env_json(name: str) -> dict[str, Any]:
    value = json.loads(os.environ.get(name) or "{}")
    if not isinstance(value, dict):
        raise ValueError(f"{name} must be a JSON object keyed by country code.")
    return {str(key).upper(): item for key, item in value.items()}


BUSINESS_CALENDAR_COUNTRY = os.environ.get("BUSINESS_CALENDAR_COUNTRY", "US").upper()
BUSINESS_CALENDAR_WEEKENDS: dict[str, list[int]] = {
    country: sorted({WEEKDAY_NAMES.index(str(day).lower()[:3]) for day in days})
    for country, days in _env_json("BUSINESS_CALENDAR_WEEKENDS").items()
}
if any(len(days) >= 7 for days in BUSINESS_CALENDAR_WEEKENDS.values()):
    raise ValueError("BUSINESS_CALENDAR_WEEKENDS: a weekend cannot be the whole week.")
BUSINESS_CALENDAR_CLOSURES: dict[str, list[date]] = {
    country: [date.fromisoformat(day) for day in days]
    for country, days in _env_json("BUSINESS_CALENDAR_CLOSURES").items()
}
# A buyer's question to a seller is due within this many business days of the seller's
# calendar; after that the buyer can ask customer service to step in.
SELLER_RESPONSE_BUSINESS_DAYS = int(os.environ.get("SELLER_RESPONSE_BUSINESS_DAYS", "2"))
if SELLER_RESPONSE_BUSINESS_DAYS < 1:
    raise ValueError("SELLER_RESPONSE_BUSINESS_DAYS must be at least 1.")
# When an account is suspended, erased or open again, the other side of its buyer–seller
# conversations with a message in this many days is told live (an open page shows it);
# the others see it on their next load (docs/realtime.md#live-pages).
CLOSED_ACCOUNT_LIVE_NOTICE_DAYS = int(os.environ.get("CLOSED_ACCOUNT_LIVE_NOTICE_DAYS", "30"))

# Customer service (docs/support.md). New cases go to a team by kind: (slug, name).
SUPPORT_TEAMS: dict[str, tuple[str, str]] = {
    "request": ("customer-service", "Customer service"),
    "report": ("trust-and-safety", "Trust & safety"),
    "claim": ("claims", "Claims"),
    # A suspended person's appeal goes to the team that suspended them.
    "appeal": ("trust-and-safety", "Trust & safety"),
}
SUPPORT_QUEUE_PAGE_SIZE = 25
# What a new customer is promised until the team has answered enough cases to measure
# (then: its recent first answers, 80th percentile), and the least it ever promises.
SUPPORT_RESPONSE_TARGET_HOURS = int(os.environ.get("SUPPORT_RESPONSE_TARGET_HOURS", "24"))
SUPPORT_RESPONSE_MINIMUM_MINUTES = int(os.environ.get("SUPPORT_RESPONSE_MINIMUM_MINUTES", "30"))
# Customers see agents as this name, unless the operator shows agents' own display names.
SUPPORT_SHOW_AGENT_NAMES = os.environ.get("SUPPORT_SHOW_AGENT_NAMES", "") == "true"
SUPPORT_AGENT_PUBLIC_NAME = os.environ.get("SUPPORT_AGENT_PUBLIC_NAME", "Customer Service")
# Live chat: an agent takes chats while "available" and a console page of theirs was open
# within this many minutes (the console renews it while open).
SUPPORT_CHAT_PRESENCE_MINUTES = int(os.environ.get("SUPPORT_CHAT_PRESENCE_MINUTES", "5"))
# An e-mail to this address from a customer's own (confirmed) address opens a request, by
# the inbound e-mail path of replies; empty: no such address.
SUPPORT_EMAIL_ADDRESS = (
    os.environ.get("SUPPORT_EMAIL_ADDRESS", f"help@{EMAIL_REPLY_DOMAIN}").strip().lower()
)
# A suspicious e-mail forwarded to this address from a customer's own (confirmed) address
# opens a case for trust and safety and is answered in their Message Center: whether it is
# from us (docs/safety.md#forwarded-e-mails); empty: no such address.
PHISHING_REPORT_ADDRESS = (
    os.environ.get("PHISHING_REPORT_ADDRESS", f"report-phishing@{EMAIL_REPLY_DOMAIN}")
    .strip()
    .lower()
)

# Guarantee claims (docs/support.md#guarantee-claims): the lifecycle's deadlines and who may
# file when. Hours and days are exact durations from the moment that starts them.
# The seller's window to respond to a filed claim; then an agent decides.
CLAIM_SELLER_RESPONSE_HOURS = int(os.environ.get("CLAIM_SELLER_RESPONSE_HOURS", "48"))
# After a decision, the buyer may appeal (once) within this many days; then it closes.
CLAIM_APPEAL_DAYS = int(os.environ.get("CLAIM_APPEAL_DAYS", "30"))
# Contact the seller first: a claim can be filed this long after the buyer first wrote to
# the seller about the order (the seller's chance to put it right).
CLAIM_CONTACT_SELLER_FIRST_HOURS = int(os.environ.get("CLAIM_CONTACT_SELLER_FIRST_HOURS", "48"))
# "Item not received": from this many days after the latest estimated delivery (or after
# the order was placed, when no shipment carries an estimate).
CLAIM_NOT_RECEIVED_AFTER_DAYS = int(os.environ.get("CLAIM_NOT_RECEIVED_AFTER_DAYS", "3"))
CLAIM_NOT_RECEIVED_WITHOUT_ESTIMATE_DAYS = int(
    os.environ.get("CLAIM_NOT_RECEIVED_WITHOUT_ESTIMATE_DAYS", "14")
)
# "Returned but not refunded": this many days after the return was requested.
CLAIM_REFUND_WAIT_DAYS = int(os.environ.get("CLAIM_REFUND_WAIT_DAYS", "14"))
# No claim later than this many days after the order was placed.
CLAIM_FILING_WINDOW_DAYS = int(os.environ.get("CLAIM_FILING_WINDOW_DAYS", "90"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # aiosmtpd logs every SMTP command at INFO: the inbound listener would drown the rest.
        "mail.log": {"level": "WARNING"},
    },
}
