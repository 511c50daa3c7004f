"""Links in a message, and what is wrong with each (docs/safety.md#links).

A host is judged by its registrable domain from the Public Suffix List, as shipped inside
the publicsuffixlist package: nothing is fetched at run time.
"""

import bisect
import ipaddress
import re
from dataclasses import dataclass, replace
from functools import cache
from html.parser import HTMLParser

from publicsuffixlist import PublicSuffixList

from messagecenter.safety.text import edit_distance_at_most, skeleton
from messagecenter.safety.vocabulary import Vocabulary

_HOST_CHARACTER = r"[^\s<>\"'()\[\]{}/\\?#@:,;!]"
# A URL with a scheme (http, https, and the "hxxp" people write to defang one), or "www.…".
_URL = re.compile(r"(?i)\b(?:h(?:tt|xx)ps?://|www\.)[^\s<>\"'\]\[)(]+")
# A bare host ("example.com/path"): its suffix must be a known public suffix.
_BARE_HOST = re.compile(
    rf"(?<![\w@.-])((?:{_HOST_CHARACTER}+\.)+{_HOST_CHARACTER}+?)(?=[/:?#]|[.,;!?)\]]*(?:\s|$))"
    rf"(/[^\s<>\"']*)?"
)
_MARKDOWN_LINK = re.compile(r"\[([^\]\n]{1,200})\]\(([^)\s]{1,2000})\)")
# File names whose extension happens to be a top-level domain as well.
_FILE_EXTENSIONS = frozenset({"zip", "mov", "py", "sh", "md", "rs", "pl", "so", "ai", "pdf"})
_TRAILING = ".,;:!?)]}>'\""


@cache
def _public_suffixes() -> PublicSuffixList:
    return PublicSuffixList()


@dataclass(frozen=True)
class Link:
    start: int
    end: int
    url: str
    # The host as written (may hold non-ASCII letters), and as DNS sees it.
    host: str
    ascii_host: str
    registrable_domain: str
    # What the reader was shown instead of the address, if anything (HTML or Markdown).
    text: str = ""
    has_userinfo: bool = False
    # Written with its dots spelled out ("mystore dot com"): named, not a link to click.
    spelled_out: bool = False


@dataclass(frozen=True)
class LinkProblem:
    code: str
    text: str


def find_links(body: str, html_anchors: tuple[tuple[str, str], ...] = ()) -> list[Link]:
    links: list[Link] = []
    taken: list[tuple[int, int]] = []
    for match in _MARKDOWN_LINK.finditer(body):
        link = _link(match.group(2), match.start(), match.end(), text=match.group(1))
        if link is not None:
            links.append(link)
            taken.append((match.start(), match.end()))
    for match in _URL.finditer(body):
        if _inside(match.start(), taken):
            continue
        url = match.group(0).rstrip(_TRAILING)
        link = _link(url, match.start(), match.start() + len(url))
        if link is not None:
            links.append(link)
            taken.append((match.start(), match.start() + len(url)))
    for match in _BARE_HOST.finditer(body):
        if _inside(match.start(), taken):
            continue
        host = match.group(1)
        if not _is_public_host(host):
            continue
        url = (host + (match.group(2) or "")).rstrip(_TRAILING)
        link = _link(url, match.start(), match.start() + len(url))
        if link is not None:
            links.append(link)
    for href, text in html_anchors:
        link = _link(href, -1, -1, text=text)
        if link is not None:
            links.append(link)
    return links


# A site's address with its dots written out, which no app turns into a link: "mystore dot
# com", "www dot mystore dot com", "mystore [dot] co [dot] uk", and the path written after
# it ("paypal dot me/anna"). Up to four names before the last one; what the last one must be
# is decided in spelled_out_links.
_SPELLED_DOT = r"(?:[ \t]+dot[ \t]+|[ \t]*[\[(][ \t]*(?:dot|\.)[ \t]*[\])][ \t]*)"
_SPELLED_HOST = re.compile(
    rf"(?i)(?<![\w.@#$/-])((?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?{_SPELLED_DOT}){{1,4}}"
    r"[a-z]{2,6})(?![\w-])(/[^\s<>\"']*)?"
)
_SPELLED_DOT_SPLIT = re.compile(rf"(?i){_SPELLED_DOT}")
# Written with its letters as a set, not (?i): the regex engine then skips to a "d" or a
# bracket (3 µs a message less).
_SPELLED_HINT = re.compile(r"[dD][oO][tT]\b|[\[(][ \t]*\.")
# The endings of a spelled-out address that are no English word ("the polka dot in the
# photo", "a red dot on it", "polka dot shop" are not addresses); any other ending the
# Public Suffix List knows, after "www".
_SPELLED_SUFFIXES = frozenset(
    {"com", "net", "org", "io", "info", "biz", "xyz", "co", "uk", "eu", "edu", "gov"}
    | {"de", "fr", "nl", "ch", "se", "dk", "fi", "pl", "ru", "au", "nz", "jp", "cn", "br"}
    | {"mx", "ie", "pt", "gr", "cz", "hu", "ro", "tr", "za", "ca", "es"}
)
# Words before "dot com" that make no site's name: "the dot com bubble", "a dot com", "I
# code in dot net".
_NOT_SITE_NAMES = frozenset(
    {"the", "a", "an", "this", "that", "these", "those", "my", "your", "our", "their", "his"}
    | {"her", "its", "any", "every", "each", "some", "old", "new", "big", "early", "late"}
    | {"in", "on", "at", "of", "to", "by", "for", "with", "from", "and", "or", "it", "is"}
)


@cache
def _listed_hosts(*host_lists: tuple[str, ...]) -> frozenset[str]:
    return frozenset(entry.partition("/")[0].lower() for hosts in host_lists for entry in hosts)


def _is_listed(host: str, vocabulary: Vocabulary) -> bool:
    """A host of the vocabulary's payment link, messenger link or shortener lists, or a
    subdomain of one: "paypal dot me" spells a payment link whatever word its ending is."""
    listed = _listed_hosts(
        vocabulary.payment_link_hosts,
        vocabulary.messenger_link_hosts,
        vocabulary.shortener_domains,
    )
    labels = host.split(".")
    return any(".".join(labels[index:]) in listed for index in range(len(labels) - 1))


# A verb that sends the reader to a place, right before a spelled-out site: "Visit cedarpine
# dot shop", "check out velvetvine dot store" (detector version 7). After one, an ending that
# is an English word (shop, store, me, online, …) makes a site too, unless the name before
# "dot" is a word for a dot ("Visit Polka Dot Shop on Main Street").
_SENDS_THERE = re.compile(
    r"(?i)\b(?:visit(?:[ \t]+us[ \t]+at)?|go[ \t]+to|head(?:[ \t]+over)?[ \t]+to|check[ \t]+out"
    r"|find[ \t]+us[ \t]+(?:at|on)|(?:shop|order|buy)[ \t]+(?:at|from))[ \t]+$"
)
# What a dot is called by, before "dot" ("polka dot", "the red dot", "a little dot"): no
# site's name after a verb. The detector has no dictionary; these are the words that name a
# kind of dot, and with "dot" a shop, a café or an award may be named after them.
_WORDS_FOR_A_DOT = frozenset(
    {"polka", "red", "blue", "green", "yellow", "black", "white", "pink", "purple", "orange"}
    | {"grey", "gray", "brown", "gold", "golden", "silver", "little", "small", "tiny", "large"}
    | {"huge", "giant", "hot", "cool", "single", "double", "triple", "half", "full", "dot"}
)


# The words read back in a respelled message (contacts.respelled_words) that make a spelled
# site: "dot" and the endings ("mystore d0t com", "mystore d o t com", "mystore dot c0m").
_RESPELLED_SITE_WORDS = frozenset(
    {"dot", "com", "net", "org", "info", "biz", "xyz", "edu", "gov", "shop", "store", "online"}
)


def _site_words_written_back(body: str, respelled: list[tuple[int, int, str]]) -> str:
    """The body with a respelled "dot" or ending written as the word, padded with spaces to
    the length it was written in, so that positions stay those of the body."""
    pieces = []
    position = 0
    for start, end, word in respelled:
        if word in _RESPELLED_SITE_WORDS:
            pieces.append(body[position:start])
            pieces.append(word.rjust(end - start))
            position = end
    if not pieces:
        return body
    pieces.append(body[position:])
    return "".join(pieces)


def spelled_out_links(
    body: str,
    taken: list[Link],
    vocabulary: Vocabulary,
    respelled: list[tuple[int, int, str]] | None = None,
) -> list[Link]:
    """Addresses of sites written with their dots spelled out ("mystore dot com", "www dot
    mystore dot com"; detector version 6), to judge as links are (links.problems): a site
    given to go to, though the reader must type it. Not where `taken` already found a link,
    and not a name before "dot" with an ending that is an English word ("polka dot in"),
    unless written after "www" or (detector version 7) the host is one the vocabulary lists
    ("paypal dot me", "cash dot app", "wa dot me"). `respelled` (contacts.respelled_words)
    has where "dot" or an ending was respelled ("mystore d0t com"; detector version 7): read
    as it is in an e-mail address."""
    if respelled:
        body = _site_words_written_back(body, respelled)
    if _SPELLED_HINT.search(body) is None:
        return []
    starts: list[int] = []
    ends: list[int] = []
    for link in sorted((link for link in taken if link.start >= 0), key=lambda link: link.start):
        if ends and link.start < ends[-1]:
            ends[-1] = max(ends[-1], link.end)
        else:
            starts.append(link.start)
            ends.append(link.end)
    found = []
    for match in _SPELLED_HOST.finditer(body):
        before = bisect.bisect_right(starts, match.start()) - 1
        if (before >= 0 and ends[before] > match.start()) or (
            before + 1 < len(starts) and starts[before + 1] < match.end()
        ):
            continue
        labels = [label.lower() for label in _SPELLED_DOT_SPLIT.split(match.group(1))]
        host = ".".join(labels)
        if labels[0] == "www":
            labels_of_site = labels[1:]
        elif _is_listed(host, vocabulary) or (
            labels[0] not in _NOT_SITE_NAMES
            and (
                labels[-1] in _SPELLED_SUFFIXES
                or (
                    labels[0] not in _WORDS_FOR_A_DOT
                    and _SENDS_THERE.search(body, max(0, match.start() - 30), match.start())
                )
            )
        ):
            labels_of_site = labels
        else:
            continue
        if (
            len(labels_of_site) < 2
            or not any(c.isalpha() for c in labels_of_site[-2])
            or not _is_public_host(host)
        ):
            continue
        path = (match.group(2) or "").rstrip(_TRAILING)
        spelled = _link(host + path, match.start(), match.end(1) + len(path))
        if spelled is not None:
            found.append(replace(spelled, spelled_out=True))
    return found


def _inside(position: int, spans: list[tuple[int, int]]) -> bool:
    return any(start <= position < end for start, end in spans)


def _is_public_host(host: str) -> bool:
    labels = host.lower().split(".")
    if labels[-1] in _FILE_EXTENSIONS or not any(c.isalpha() for c in labels[-2]):
        return False
    ascii_host = _to_ascii(host.lower())
    if ascii_host is None:
        return False
    return _public_suffixes().publicsuffix(ascii_host, accept_unknown=False) is not None


def _to_ascii(host: str) -> str | None:
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return None


def _to_unicode(host: str) -> str:
    if "xn--" not in host:
        return host
    try:
        return host.encode("ascii").decode("idna")
    except UnicodeError:
        return host


def _link(url: str, start: int, end: int, text: str = "") -> Link | None:
    rest = re.sub(r"(?i)^h(?:tt|xx)ps?://", "", url)
    authority = re.split(r"[/?#\\]", rest, maxsplit=1)[0]
    has_userinfo = "@" in authority
    host = authority.rpartition("@")[2]
    if host.startswith("["):
        host = host[1 : host.find("]")] if "]" in host else host[1:]
    else:
        host = host.split(":", 1)[0]
    host = host.strip(".").lower()
    if not host or len(host) > 253:
        return None
    ascii_host = _to_ascii(host) or host
    registrable = _public_suffixes().privatesuffix(ascii_host) or ascii_host
    return Link(start, end, url, host, ascii_host, registrable, text.strip(), has_userinfo)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        # 3232235777 or 0xC0A80001: a number is an address to a browser too.
        return bool(re.fullmatch(r"0x[0-9a-f]{1,8}|\d{8,10}", host))
    return True


def _matches(host: str, domains: tuple[str, ...]) -> bool:
    return any(host == domain or host.endswith("." + domain) for domain in domains)


def is_operator_link(link: Link, vocabulary: Vocabulary) -> bool:
    return _matches(link.ascii_host, vocabulary.operator_domains)


# A link's scheme, if written, and its host: what is left is its path. A bare host
# ("paypal.com/paypalme/anna") and "www.…" have no scheme.
_SCHEME_AND_AUTHORITY = re.compile(r"(?i)^(?:h(?:tt|xx)ps?://)?[^/?#\\]*/?")


def matches_host_list(link: Link, hosts: tuple[str, ...]) -> bool:
    """A host list entry may carry a path prefix ("paypal.com/paypalme")."""
    address = link.ascii_host + "/" + _SCHEME_AND_AUTHORITY.sub("", link.url, count=1)
    for entry in hosts:
        host, _, path = entry.partition("/")
        if _matches(link.ascii_host, (host,)) and (
            not path or address.lower().startswith(link.ascii_host + "/" + path.lower())
        ):
            return True
    return False


def imitates_operator(host_or_name: str, vocabulary: Vocabulary) -> str | None:
    """The operator name or domain a host (or a name) imitates, or None."""
    ascii_host = _to_ascii(host_or_name) or host_or_name
    if _matches(ascii_host, vocabulary.operator_domains):
        return None
    host_or_name = _to_unicode(host_or_name)
    host_skeleton = skeleton(host_or_name)
    for name in vocabulary.operator_names:
        name_skeleton = skeleton(name)
        if len(name_skeleton) >= 4 and name_skeleton in host_skeleton:
            return name
    registrable = _public_suffixes().privatesuffix(ascii_host) or ascii_host
    suffix = _public_suffixes().publicsuffix(registrable) or ""
    label = registrable[: -len(suffix) - 1] if suffix and registrable != suffix else registrable
    label_skeleton = skeleton(_to_unicode(label))
    for domain in vocabulary.operator_domains:
        operator_suffix = _public_suffixes().publicsuffix(domain) or ""
        operator_label = domain[: -len(operator_suffix) - 1] if operator_suffix else domain
        operator_skeleton = skeleton(operator_label)
        if len(operator_skeleton) < 5:
            continue
        if operator_skeleton in label_skeleton or edit_distance_at_most(
            label_skeleton, operator_skeleton, 2
        ):
            return domain
        # The operator's whole domain as a subdomain: marketplace.example.evil.net
        if ascii_host.startswith(domain + ".") or f".{domain}." in ascii_host:
            return domain
    return None


def problems(link: Link, vocabulary: Vocabulary) -> list[LinkProblem]:
    """What a reader should know about a link that leaves the marketplace."""
    found: list[LinkProblem] = []
    shown = link.text
    if shown:
        shown_link = _link(shown, -1, -1) if re.search(r"\w\.\w", shown) else None
        if (
            shown_link is not None
            and " " not in shown.strip()
            and shown_link.registrable_domain != link.registrable_domain
        ):
            found.append(
                LinkProblem(
                    "link_text_mismatch",
                    f'A link shows "{shown}" but goes to {link.ascii_host}.',
                )
            )
    if (is_operator_link(link, vocabulary) and not link.has_userinfo) or (
        link.spelled_out and _names_the_operator(link, vocabulary)
    ):
        return found
    if link.has_userinfo:
        found.append(
            LinkProblem(
                "link_userinfo",
                f"A link hides its real destination behind an @: it goes to {link.ascii_host}.",
            )
        )
    if _is_ip(link.host):
        found.append(
            LinkProblem(
                "link_ip_address",
                f"A link goes to a bare internet address ({link.host}) instead of a named site.",
            )
        )
        return found
    if link.host != link.ascii_host or "xn--" in link.ascii_host:
        found.append(
            LinkProblem(
                "link_punycode",
                f"A link's address uses letters from other alphabets; spelled out in plain "
                f"letters it is {link.ascii_host}.",
            )
        )
    imitated = imitates_operator(link.host, vocabulary)
    if imitated is not None:
        found.append(
            LinkProblem(
                "link_lookalike",
                f"A link goes to {link.ascii_host}, which imitates {imitated} but is not ours.",
            )
        )
    elif _matches(link.registrable_domain, vocabulary.shortener_domains) or _matches(
        link.ascii_host, vocabulary.shortener_domains
    ):
        found.append(
            LinkProblem(
                "link_shortener",
                f"A link goes through a link shortener ({link.ascii_host}), which hides where "
                "it really leads.",
            )
        )
    elif not found and not _matches(link.ascii_host, vocabulary.trusted_domains):
        scheme = _NOT_A_PAGE.match(link.url)
        found.append(
            LinkProblem(
                "link_outside",
                f"It names a site away from the marketplace, {link.ascii_host}, with its dots "
                "written out so that it is not a link."
                if link.spelled_out
                # "[link](javascript:alert(3))" was "a link … to javascript".
                else f"A link is no web page's address ({scheme[1].lower()}:): a browser "
                "would run it or open it as a file."
                if scheme is not None
                else f"A link leads away from the marketplace, to {link.ascii_host}.",
            )
        )
    return found


# A link with a scheme that is no web page's: "javascript:", "data:", "file:", "vbscript:".
_NOT_A_PAGE = re.compile(r"(?i)\s*(javascript|vbscript|data|file|blob|jar|intent):")


def _names_the_operator(link: Link, vocabulary: Vocabulary) -> bool:
    """A site spelled out with the marketplace's own name ("we're at Marketplace dot com
    too"): the marketplace, named as people say it — a link to that host is still judged
    as one, a lookalike of the operator's domains."""
    suffix = _public_suffixes().publicsuffix(link.registrable_domain) or ""
    name = link.registrable_domain[: -len(suffix) - 1] if suffix else link.registrable_domain
    return any(
        name.replace("-", "") == re.sub(r"[\s-]", "", operator_name.lower())
        for operator_name in vocabulary.operator_names
    )


class _AnchorParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[tuple[str, str]] = []
        self.text: list[str] = []
        self._href: str | None = None
        self._anchor_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href") or ""
            self._anchor_text = []
        elif tag in {"br", "p", "div", "tr", "li"}:
            self.text.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.anchors.append((self._href, "".join(self._anchor_text)))
            self._href = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._href is not None:
            self._anchor_text.append(data)


def read_html(html: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """An HTML body's text and its links as (target, text shown) pairs."""
    parser = _AnchorParser()
    parser.feed(html)
    parser.close()
    return "".join(parser.text), tuple(parser.anchors)


_DEFANG_SCHEME = re.compile(r"(?i)^h(?:tt|xx)p(s?)://")


def defang(text: str) -> str:
    """Addresses no mail client turns into links ("hxxps://evil[.]example/x"): a warned
    message's links must not be clickable in its e-mail copy either."""
    pieces = []
    position = 0
    for link in sorted(find_links(text), key=lambda link: link.start):
        if link.start < position:
            continue
        url = _DEFANG_SCHEME.sub(lambda match: f"hxxp{match.group(1)}://", link.url)
        host_at = url.lower().find(link.host)
        if host_at >= 0:
            url = url[:host_at] + link.host.replace(".", "[.]") + url[host_at + len(link.host) :]
        pieces.append(text[position : link.start])
        pieces.append(url)
        position = link.end
    pieces.append(text[position:])
    return "".join(pieces)
