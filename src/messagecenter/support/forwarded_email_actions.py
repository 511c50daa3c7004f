"""Suspicious e-mails forwarded to the report address (PHISHING_REPORT_ADDRESS,
docs/safety.md#forwarded-e-mails): the mailbox's action, in the inbound e-mail's
transaction. The inbound path has already tied the e-mail to one active account (its one
From, SPF/DKIM/DMARC, the rate limit) and found the forwarded e-mail in it
(delivery/inbound/forwards.py); nothing reaches here from a sender it could not confirm,
so nothing is ever answered to an address that may be forged.

The forward opens a case of kind `report` in the trust-and-safety queue with the evidence
beside it (`ForwardedEmail`), and the marketplace answers the person in a conversation of
their own (e-mailed to their account's address like any customer-service message): thanks,
and whether the e-mail is ours — judged by the reference it carried, checked for them as
"Is this e-mail from us?" checks it — and what to do when it is not. The same e-mail
forwarded again by the same person opens nothing and answers nothing new."""

import re
from dataclasses import replace
from email.utils import getaddresses, parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.models import Message
from messagecenter.delivery import queries as delivery_queries
from messagecenter.delivery.inbound.forwards import Forwarded
from messagecenter.delivery.inbound.mailboxes import Delivery
from messagecenter.delivery.links import absolute, without_secrets
from messagecenter.delivery.rendering import ACCOUNT_SUBJECTS
from messagecenter.errors import InvalidInput
from messagecenter.rows import unique_row
from messagecenter.safety import vocabulary_cache
from messagecenter.safety.detector import Sender, check
from messagecenter.safety.links import defang, find_links
from messagecenter.support import actions as support_actions
from messagecenter.support.models import CaseKind, ForwardedEmail
from messagecenter.web.dates import email_time

ANSWER_SUBJECT = "The e-mail you forwarded to us"
# What "Is this e-mail from us?" says of a reference that verifies for the person (also
# one of ours they wrote in a message to someone: "told").
GENUINE = ("marketplace", "person", "told")
# A genuine reference of theirs in an e-mail from an address that is not ours.
COPIED = "copied"
# A genuine reference of theirs in an e-mail whose links or subject are not the ones we sent.
ALTERED = "altered"
# A subject as a mail app shows a forward of it ("Fwd: ", "FW: ", "WG: ", "TR: ", "RV: "…).
_FORWARD_PREFIX = re.compile(
    r"^\s*(?:(?:fwd?|fw|wg|tr|rv|enc|vs|vl|vb|doorst|re|aw|sv|antw|ref|r|i|pd|tov|př|ilt|"
    r"转发|轉寄|回复|回覆|전달|답장)\s*[:：]\s*)+",
    re.IGNORECASE,
)
SUBJECT_CHARS = 80
_WHITESPACE = re.compile(r"\s+")
# What a mail gateway tags a subject with, before or after it: "[EXTERNAL] ", "EXTERNAL: ",
# "*SPAM* ". Only these words: any tag in brackets let "[Call 415-555-0123 today] Reset your
# Marketplace password" pass as our subject.
_GATEWAY_WORDS = (
    r"(?:external(?:[ _-]?(?:e-?mail|sender|message))?|ext|spam\??|possible spam|"
    r"suspected spam|suspicious|caution|warning|phish(?:ing)?\??|not verified|unverified)"
)
_TAGS = re.compile(
    rf"^\s*(?:[\[(*]\s*{_GATEWAY_WORDS}\s*[\])*]|{_GATEWAY_WORDS}\s*:)\s*"
    rf"|\s*[\[(*]\s*{_GATEWAY_WORDS}\s*[\])*]\s*$",
    re.IGNORECASE,
)


def report_forwarded_email(delivery: Delivery) -> Message:
    """Open trust and safety's case for a forwarded e-mail and answer the person; returns
    the answer. The same e-mail forwarded again by them: the first answer, nothing new."""
    forwarded = delivery.forwarded
    if forwarded is None:
        raise InvalidInput("No e-mail was forwarded.", code="nothing_forwarded")
    reporter = delivery.sender
    fingerprint = forwarded.fingerprint
    reference, checked = _reference(reporter, forwarded)
    if checked is not None and checked.origin in GENUINE and _from_us(forwarded) is False:
        # A reference of theirs in an e-mail that did not come from our address: someone
        # copied it (from an e-mail of ours they saw) into one of their own.
        checked = replace(checked, origin=COPIED)
    if checked is not None and checked.origin == "marketplace":
        # A From is whatever its writer typed: a reference of ours under our address is
        # vouched for only when the rest we can compare is ours too — every link to our
        # own site, the subject we sent (a scam kept a real reference and our From, and
        # was answered "It is from us … safe to read").
        altered = _altered(forwarded, checked)
        if altered:
            checked = replace(checked, origin=ALTERED, altered=altered)
    earlier = _earlier(reporter, fingerprint, forwarded, checked)
    if earlier is not None:
        return earlier
    try:
        with transaction.atomic():
            return _open(reporter, forwarded, fingerprint, reference, checked)
    except IntegrityError:
        # The same e-mail forwarded twice at once: the other forward opened the case.
        earlier = _earlier(reporter, fingerprint, forwarded, checked)
        if earlier is None:
            raise
        return earlier


def _earlier(
    reporter: User,
    fingerprint: str,
    forwarded: Forwarded,
    checked: delivery_queries.CheckedReference | None,
) -> Message | None:
    """The answer to this person's earlier forward of the same e-mail, if any. Its case
    stays the one case; an answer that is gone (purged from their Trash, or by the
    retention rules) is given again, or the forward would find nothing to return."""
    found = unique_row(
        ForwardedEmail.objects.select_for_update(of=("self",))
        .select_related("answer")
        .filter(reporter=reporter, fingerprint=fingerprint)
    )
    if found is None:
        return None
    if found.answer is None:
        found.answer = conversation_actions.start_customer_service_conversation(
            reporter, ANSWER_SUBJECT, answer_text(forwarded, checked), can_reply=False
        )
        found.save(update_fields=["answer"])
    return found.answer


def _open(
    reporter: User,
    forwarded: Forwarded,
    fingerprint: str,
    reference: str,
    checked: delivery_queries.CheckedReference | None,
) -> Message:
    # Trust and safety's agents read all of this: our links that work without signing in (a
    # genuine reset's, an unsubscribe) are kept without their key (delivery.links).
    subject = without_secrets(forwarded.subject)
    case = support_actions.open_case(
        CaseKind.REPORT,
        reporter,
        f"Forwarded e-mail: {subject or '(no subject)'}"[:200],
        # Like a report: trust and safety's to review, not a request the person follows
        # (their answer is a message of its own).
        tell_customer=False,
        channel="email",
    )
    answer = conversation_actions.start_customer_service_conversation(
        reporter, ANSWER_SUBJECT, answer_text(forwarded, checked), can_reply=False
    )
    ForwardedEmail.objects.create(
        case=case,
        reporter=reporter,
        fingerprint=fingerprint,
        how=forwarded.how,
        from_header=forwarded.from_header,
        reply_to=forwarded.reply_to,
        subject=subject,
        date=forwarded.date,
        message_id=forwarded.message_id,
        text=without_secrets(forwarded.text),
        links=[
            # A browser drops the line breaks an address was cut with: so does the check.
            {
                "href": without_secrets(_WHITESPACE.sub("", link.href)),
                "text": without_secrets(link.text),
            }
            for link in forwarded.links
        ],
        attachment_names=list(forwarded.attachment_names),
        note=without_secrets(forwarded.note),
        reference=reference,
        reference_origin=checked.origin if checked is not None else "",
        answer=answer,
        created_at=timezone.now(),
    )
    return answer


def _reference(
    reporter: User, forwarded: Forwarded
) -> tuple[str, delivery_queries.CheckedReference | None]:
    """The reference the e-mail carried, checked for the person who forwarded it (their
    own "Is this e-mail from us?"): the first that is one of theirs, else the first it
    carried (not ours to them). A reference copied from someone else's e-mail never
    verifies for them."""
    first: delivery_queries.CheckedReference | None = None
    for text in forwarded.references:
        checked = delivery_queries.find_reference(reporter, text)
        if checked.origin != "unknown":
            return checked.reference, checked
        first = first or checked
    if first is None:
        return "", None
    return first.reference, first


def _altered(forwarded: Forwarded, checked: delivery_queries.CheckedReference) -> str:
    """What in the forwarded e-mail is not in the e-mail we sent with this reference, for
    the person ("" when nothing we can compare differs): a link that leads anywhere but
    our own site or a site our own text linked to — every link of an e-mail of ours goes
    to one of those —, or a subject that is not the one it had ("Name: subject" for an
    agent's), or a Reply-To at anything but our domains (ours is a relay address of
    ours, or none: "reply with your card number" went to the phisher). Only for the
    marketplace's own e-mails, the answer that vouches: a buyer's or seller's message
    we delivered is answered as theirs, never as safe, whatever it links to."""
    for _, address in getaddresses([forwarded.reply_to]) if forwarded.reply_to.strip() else []:
        domain = address.rpartition("@")[2].strip().lower()
        if domain and domain not in _our_mail_domains():
            return f"its Reply-To sends answers to {defang(domain)}, not to us"
    written = [
        link.url
        for link in find_links(forwarded.text)
        # A defanged address ("hxxps://shop[.]example", as our e-mails write a person's
        # links) is no link.
        if "://" not in link.url or link.url.lower().startswith(("http://", "https://"))
    ]
    # The sites our own text linked to (a notice's link to the terms, an agent's to a
    # carrier): its e-mail linked to them too.
    linked = {link.ascii_host for link in find_links(checked.sent_text)}
    for href in [link.href for link in forwarded.links] + written:
        # A link within the e-mail itself ("#top") leads nowhere else.
        if href.strip() and not href.strip().startswith("#") and not _ours(href.strip(), linked):
            host = urlsplit(href if "//" in href else f"//{href}").hostname or href
            return f"its link to {defang(host)} leads to a site our e-mail never linked to"
    sent = [checked.subject] if checked.subject else []
    if checked.account_email and not sent:
        # An account e-mail whose record is gone: one of their subjects, whichever.
        sent = list(ACCOUNT_SUBJECTS.values())
    if sent and forwarded.subject:
        said = _squeezed(_without_prefixes(forwarded.subject))
        # "<name>: <subject>" is an agent's answer; the account's e-mails have no name
        # before theirs ("URGENT: Reset your Marketplace password" was taken as ours).
        named = not checked.account_email
        if not any(_same_subject(said, _squeezed(subject), named=named) for subject in sent):
            if checked.subject:
                return f"its subject is not the one of our e-mail (“{defang(checked.subject)}”)"
            return "its subject is not one our e-mails about your account have"
    return ""


def _without_prefixes(subject: str) -> str:
    """The subject without what mail apps and gateways put before it: "Fwd:" and its
    cousins, and tags in brackets ("[EXTERNAL]", "[SPAM?]") — a genuine reset forwarded
    through a company's gateway was answered as not ours."""
    while True:
        shorter = _TAGS.sub("", _FORWARD_PREFIX.sub("", subject))
        if shorter == subject:
            return subject
        subject = shorter


def _same_subject(said: str, sent: str, *, named: bool) -> bool:
    return said == sent or (named and said.endswith(f": {sent}") and len(said) - len(sent) <= 60)


def _ours(href: str, linked: set[str]) -> bool:
    """A link to our own site (any port: links written before the site's address changed
    keep working) or to a site our text linked to (`linked`), or an e-mail address at one of
    our domains."""
    scheme, _, address = href.partition(":")
    if scheme.lower() == "mailto":
        domain = address.split("?")[0].rpartition("@")[2].strip().lower()
        return domain in _our_mail_domains()
    host = urlsplit(href if "//" in href else f"//{href}").hostname
    return host is not None and (
        host.lower() == urlsplit(settings.SITE_URL).hostname or host.lower() in linked
    )


def _our_mail_domains() -> set[str]:
    addresses = [
        parseaddr(settings.DEFAULT_FROM_EMAIL)[1],
        settings.SUPPORT_EMAIL_ADDRESS,
        settings.PHISHING_REPORT_ADDRESS,
    ]
    return {settings.EMAIL_REPLY_DOMAIN} | {
        address.rpartition("@")[2].lower() for address in addresses if "@" in address
    }


def _squeezed(text: str) -> str:
    return " ".join(text.split()).casefold()


def _from_us(forwarded: Forwarded) -> bool | None:
    """Whether the forwarded e-mail's From is the address every e-mail of ours comes from
    (DEFAULT_FROM_EMAIL: "<shop> via Message Center" too); None when it names none."""
    _, address = parseaddr(forwarded.from_header)
    if "@" not in address:
        return None
    return address.strip().lower() == parseaddr(settings.DEFAULT_FROM_EMAIL)[1].strip().lower()


def answer_text(forwarded: Forwarded, checked: delivery_queries.CheckedReference | None) -> str:
    """What the person is told. The subject is the suspicious e-mail's sender's words,
    quoted inside an Official message: its contact details masked and its links defanged,
    like every quoted word (docs/safety.md) — "call 415-555-0123" was repeated as written."""
    # Kept in a conversation agents may open as context: our secret links without their key.
    said = without_secrets(forwarded.subject.replace("\n", " "))
    verdict = check(said, Sender("", "seller"), vocabulary_cache.current())
    subject = defang(verdict.masked_body if verdict.masked_body is not None else said).strip()
    if len(subject) > SUBJECT_CHARS:
        subject = subject[: SUBJECT_CHARS - 1] + "…"
    what = f"the e-mail “{subject}”" if subject else "the e-mail"
    thanks = f"Thank you for forwarding {what} to us."
    if checked is not None and checked.origin == "marketplace":
        # What could be compared is ours — the reference, our address, the links, the
        # subject —, but not every word: the person is sent to our copy, not told the
        # e-mail is safe.
        if checked.account_email:
            # Kept in no Message Center (its link is a secret): what it was, from its row —
            # and not "do not click its links": a reset the person asked for is theirs to
            # use.
            sent = f", sent on {email_time(checked.sent_at)}" if checked.sent_at else ""
            return (
                f"{thanks} It is from us: its reference {checked.reference} is one we sent "
                f"to you, and its subject and links are ours. It is an e-mail about your "
                f"account{sent}: {checked.about} E-mails about your account are not kept in "
                f"your Message Center. {_account_email_rule()} If anything in it still "
                "looks wrong to you, contact customer service."
            )
        if checked.url:
            where = (
                f" Our copy is in your Message Center: {absolute(checked.url)} — if the "
                "e-mail you have says anything ours does not (another phone number, a "
                "payment, a request for your password or card), it is not ours: do as below."
            )
        else:
            where = (
                " It is no longer in your Message Center. If it asks you to pay, to call a "
                "number or for your password or card details, it is not ours: do as below."
            )
        return (
            f"{thanks} It is from us: its reference {checked.reference} is one we sent to "
            f"you, and its subject and links are ours.{where} {_what_to_do()} If anything "
            "in it still looks wrong to you, contact customer service."
        )
    if checked is not None and checked.origin == "told":
        if checked.account_email:
            # Nothing in the Message Center to compare with: what a genuine one is like.
            ours = (
                f" Ours was an e-mail about your account, which is not kept in your Message "
                f"Center: {checked.about} {_account_email_rule()}"
            )
        elif checked.url:
            ours = (
                f" Our message is in your Message Center: {absolute(checked.url)} If the "
                "e-mail says anything else, it is not from us."
            )
        else:
            ours = " If the e-mail says anything else, it is not from us."
        return (
            f"{thanks} Its reference {checked.reference} is the one of an e-mail we sent you, "
            f"but you wrote it in a message to {checked.told_to} on "
            f"{email_time(checked.told_at)}, so it cannot tell whether this e-mail is that "
            "one: anyone who read your message can copy the reference under an e-mail of "
            f"their own.{ours} {_what_to_do()} Our trust and safety team is looking at it."
        )
    if checked is not None and checked.origin == "person":
        sender = (
            f"{checked.sender_name}, a {checked.sender_role}"
            if checked.sender_name
            else "a buyer or a seller"
        )
        return (
            f"{thanks} It is a message from {sender}, which we delivered to you — it is "
            f"not from the marketplace. {_what_to_do()} If the message asks for any of "
            "this, report it on the message in your Message Center; our trust and safety "
            "team is looking at what you sent."
        )
    return (
        f"{thanks} We did not send you this e-mail: {_not_ours(checked)} "
        f"{_what_to_do()} Our trust and safety team is looking at it. You can delete it."
    )


def _not_ours(checked: delivery_queries.CheckedReference | None) -> str:
    if checked is None:
        return "it carries no reference of ours, and every e-mail we send has one."
    if checked.origin == ALTERED:
        ours = (
            f" Our e-mail is in your Message Center: {absolute(checked.url)}" if checked.url else ""
        )
        return (
            f"it carries the reference {checked.reference} of an e-mail we sent you, but "
            f"{checked.altered}: someone copied the reference into an e-mail of their own."
            f"{ours}"
        )
    if checked.origin == COPIED:
        ours = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
        return (
            f"it carries the reference {checked.reference} of an e-mail we sent you, but it "
            f"did not come from our address ({ours}): someone copied the reference into an "
            "e-mail of their own."
        )
    if checked.origin == "own":
        return (
            f"its reference {checked.reference} is the one of your own message, and we never "
            "e-mail your messages back to you."
        )
    return (
        f"its reference {checked.reference} is not one we sent to you (it may have been "
        "copied from someone else's e-mail)."
    )


def _account_email_rule() -> str:
    """What every genuine e-mail about the account is like, to tell a copy by."""
    site = urlsplit(settings.SITE_URL).hostname
    return (
        f"Every link in a genuine one goes to our site, {site}, and none asks you to pay, to "
        "call a number or to send your password, codes or card details: an e-mail that "
        "does is not ours."
    )


def _what_to_do() -> str:
    address = settings.SUPPORT_EMAIL_ADDRESS
    contact = f"write to {address} or " if address else ""
    return (
        "Do not click its links, open its attachments or answer it. Never pay outside the "
        "marketplace, and never give your password, codes or card details: the marketplace "
        "never asks for them by e-mail. If you entered your password after opening it, "
        "change your password now (Your Account → Password) and sign out of your other "
        f"devices; if you paid or gave card details, {contact}contact customer service."
    )
