"""Where a request comes from: the client's address and, when a proxy says so, its country.

Used by the sign-in limits (django-axes counts failures per address) and by "Your devices"
(the place of a session's first and last use). Behind proxies, only the hops the operator
declares are trusted (TRUSTED_PROXY_COUNT): a client can write any X-Forwarded-For it likes,
so the address is taken that many entries from the right, never from the left.
"""

import ipaddress
from typing import Any

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    address = str(request.META.get("REMOTE_ADDR") or "")
    proxies: int = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [hop for hop in hops if hop]
        if len(hops) >= proxies:
            address = hops[-proxies]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        # Not an address (a test client, a unix socket): counted together, never unlimited.
        return "unknown"


def client_country(request: HttpRequest) -> str:
    """The two-letter country a CDN or proxy in front puts in a header
    (CLIENT_COUNTRY_HEADER, e.g. CF-IPCountry), else ""."""
    header: str = settings.CLIENT_COUNTRY_HEADER
    if not header:
        return ""
    value = str(request.headers.get(header, "")).strip().upper()
    return value if len(value) == 2 and value.isalpha() else ""


def sign_in_lockout_parameters(request_or_attempt: Any, credentials: Any = None) -> list[str]:
    """django-axes' counts (settings.AXES_LOCKOUT_PARAMETERS): per address, and per
    username when there is one. A passkey sign-in names no username: counted by a username
    of None, every passkey sign-in everywhere would share one count, and ten failures
    anywhere would pause them all (docs/accounts.md#passkeys)."""
    if isinstance(credentials, dict):
        has_username = bool(credentials.get("username"))
    else:
        has_username = getattr(request_or_attempt, "username", "") is not None
    return ["ip_address", "username"] if has_username else ["ip_address"]
