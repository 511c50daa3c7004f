"""Is this e-mail really from the address in its From? SPF (pyspf), DKIM (dkimpy) and
DMARC (authheaders) evaluated here, against DNS, for every e-mail the listener receives.

Only our own results count. An `Authentication-Results` header that came with the e-mail
was written by someone else — possibly by the forger — and is ignored; behind a
provider's inbound webhook (where we do not see the connecting server, so SPF cannot be
ours) the provider's own header is read only when it is the topmost one and its
authserv-id is listed in INBOUND_TRUSTED_AUTHSERV_IDS.

The From domain counts as confirmed when DMARC passes, or — for a domain that publishes
no DMARC policy — when SPF or DKIM passes for that same domain (DMARC's own alignment
rule, applied without a policy). Anything else is not confirmed.
"""

import importlib.resources
import logging
import warnings
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from functools import cache, lru_cache

import authres
import authres.core
import dns.resolver
from django.conf import settings

with warnings.catch_warnings():
    # pyspf 2.0.14 has a docstring with an invalid escape: a SyntaxWarning each time it is
    # compiled, printed at every start where bytecode is not cached.
    warnings.simplefilter("ignore", SyntaxWarning)
    import authheaders
    import authheaders.dmarc_lookup
    from authheaders import check_dkim, check_dmarc, check_spf
    from publicsuffix2 import PublicSuffixList

logger = logging.getLogger(__name__)


@cache
def _public_suffixes() -> PublicSuffixList:
    location = importlib.resources.files("authheaders") / "public_suffix_list.txt"
    with importlib.resources.as_file(location) as path, path.open(encoding="utf-8") as lines:
        return PublicSuffixList(lines)


@lru_cache(maxsize=4096)
def get_org_domain(domain: str) -> str:
    """The organisational domain (DMARC alignment), from authheaders' own copy of the
    Public Suffix List, read once."""
    return str(_public_suffixes().get_public_suffix(domain))


# authheaders reads and parses the whole Public Suffix List on every call of its
# get_org_domain (about a second each, four calls per e-mail); the same answer, cached.
authheaders.get_org_domain = get_org_domain
authheaders.dmarc_lookup.get_org_domain = get_org_domain


@dataclass(frozen=True)
class Verdict:
    is_confirmed: bool
    # Our Authentication-Results header value, kept with the e-mail for agents.
    header: str
    # Why not, in words for the person whose reply was not posted.
    explanation: str = ""
    # The domain asked for such mail to be rejected (DMARC p=reject).
    is_rejected_by_policy: bool = False


def authenticate(
    raw: bytes,
    *,
    from_domain: str,
    ip: str | None,
    helo: str | None,
    mail_from: str | None,
) -> Verdict:
    """SPF (only with the connecting server's address), DKIM and DMARC for one e-mail."""
    _use_configured_resolver()
    results: list[object] = []
    spf_result = None
    if ip:
        envelope = mail_from or f"postmaster@{helo or ''}"
        spf_result = check_spf(ip, envelope, helo or "")
        results.append(spf_result)
    dkim_result = check_dkim(raw)
    results.append(dkim_result)
    dmarc_result = check_dmarc(raw, spf_result=spf_result, dkim_result=dkim_result)
    results.append(dmarc_result)
    header = str(
        authres.AuthenticationResultsHeader(
            authserv_id=settings.INBOUND_AUTHSERV_ID, results=results
        )
    ).removeprefix("Authentication-Results: ")

    spf = str(spf_result.result) if spf_result is not None else "none"
    dkim = str(dkim_result.result or "none")
    dmarc = str(dmarc_result.result or "none")
    policy = str(getattr(dmarc_result, "policy", "") or "")
    # authheaders reads the From domain from the raw e-mail itself: its pass counts only
    # for the domain the reply is judged by, never for another From it found there.
    dmarc_from = str(getattr(dmarc_result, "header_from", "") or "")
    if dmarc == "pass" and _same_domain(dmarc_from, from_domain):
        return Verdict(True, header)
    if dmarc == "pass":
        dmarc = "none"
    if dmarc == "none":
        spf_aligned = (
            spf == "pass" and mail_from is not None and _aligned(_domain(mail_from), from_domain)
        )
        dkim_aligned = dkim == "pass" and _aligned(
            str(getattr(dkim_result, "header_d", "") or ""), from_domain
        )
        if spf_aligned or dkim_aligned:
            return Verdict(True, header)
    if BytesHeaderParser().parsebytes(raw).get("DKIM-Signature") is None:
        # No signature at all has no DKIM result to speak of: "none", not the "fail" the
        # checker gives it (a review read "DKIM fail" for an unsigned e-mail).
        dkim = "none"
    explanation = (
        f"We could not confirm this e-mail came from you: {from_domain or 'the sender domain'} "
        "did not vouch for it, so it was not posted. Reply from the mail app or website of "
        "your e-mail provider, which signs what it sends; if you did, your provider's "
        f"settings may be to blame (for them: SPF {spf}, DKIM {dkim}, DMARC {dmarc}"
        + (f", policy {policy}" if dmarc == "fail" and policy else "")
        + ")."
    )
    return Verdict(
        False,
        header,
        explanation,
        is_rejected_by_policy=dmarc == "fail" and policy == "reject",
    )


def provider_verdict(header_values: list[str], *, from_domain: str) -> Verdict | None:
    """The verdict of a provider's receiving server, from the topmost
    Authentication-Results header when its authserv-id is trusted; else None."""
    trusted = {value.lower() for value in settings.INBOUND_TRUSTED_AUTHSERV_IDS}
    if not header_values or not trusted:
        return None
    try:
        parsed = authres.all_features().parse_value(" ".join(header_values[0].split()))
    except (authres.core.AuthResError, ValueError, IndexError):
        return None
    if str(parsed.authserv_id).lower() not in trusted:
        return None
    results = {str(result.method).lower(): str(result.result).lower() for result in parsed.results}
    if results.get("dmarc") == "pass" and all(
        _same_domain(domain, from_domain) for domain in _dmarc_header_from(parsed.results)
    ):
        return Verdict(True, header_values[0])
    if results.get("dmarc") == "pass":
        # A pass for the domain the provider read From as, which is not the one the reply
        # is judged by (a second From, or one read another way).
        results["dmarc"] = "none"
    return Verdict(
        False,
        header_values[0],
        f"We could not confirm this e-mail came from you: {from_domain} did not vouch for it "
        f"(DMARC {results.get('dmarc', 'none')}, as checked by {parsed.authserv_id}).",
    )


def _dmarc_header_from(results: list[object]) -> list[str]:
    """The header.from each DMARC result names (a provider's header may name none)."""
    return [
        str(getattr(prop, "value", "") or "")
        for result in results
        if str(getattr(result, "method", "")).lower() == "dmarc"
        for prop in getattr(result, "properties", [])
        if str(getattr(prop, "type", "")).lower() == "header"
        and str(getattr(prop, "name", "")).lower() == "from"
    ]


def _same_domain(domain: str, from_domain: str) -> bool:
    return bool(domain) and domain.lower().rstrip(".") == from_domain.lower().rstrip(".")


def _aligned(domain: str, from_domain: str) -> bool:
    if not domain or not from_domain:
        return False
    domain, from_domain = domain.lower().rstrip("."), from_domain.lower().rstrip(".")
    return domain == from_domain or get_org_domain(domain) == get_org_domain(from_domain)


def _domain(address: str) -> str:
    return address.strip("<> ").rpartition("@")[2].lower()


def _use_configured_resolver() -> None:
    """pyspf, dkimpy and authheaders all ask dnspython's default resolver."""
    dns.resolver.default_resolver = _resolver(settings.INBOUND_DNS_SERVER)


@cache
def _resolver(server: str) -> dns.resolver.Resolver:
    if not server:
        resolver = dns.resolver.Resolver()
    else:
        host, _, port = server.rpartition(":")
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [host.strip("[]") or server]
        resolver.port = int(port) if host else 53
    # A look-up that hangs must not hold an e-mail (and its SMTP session) for long.
    resolver.lifetime = 5
    return resolver
