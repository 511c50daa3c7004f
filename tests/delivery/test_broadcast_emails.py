"""Notices and promotions by e-mail: fan-out in batches that honour preferences, the
RFC 8058 pair on promotions only, and an unsubscribe in the middle of a 2,000-recipient
promotion that stops that person's mail at once."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from django.utils.html import strip_tags

from messagecenter.accounts.models import User
from messagecenter.delivery import actions, references
from messagecenter.delivery.models import (
    BroadcastEmailRun,
    Category,
    Channel,
    Email,
    EmailStatus,
)
from messagecenter.delivery.preferences import is_enabled
from messagecenter.delivery.sender import send_due_emails
from messagecenter.notifications import actions as notification_actions
from messagecenter.notifications.emails import advance_broadcast_runs
from messagecenter.notifications.models import Audience, BroadcastKind
from tests import factories
from tests.delivery.helpers import (
    KEEPS_SPACES,
    NESTED_LIST,
    many_buyers,
    nested_list_in_html,
    send_broadcast,
)
from tests.delivery.smtp import Handler, Received, SmtpServer
from tests.web.helpers import not_isolated


@pytest.mark.django_db
def test_a_promotion_goes_to_its_audience_with_one_click_unsubscribe(
    buyer: User, other_buyer: User, seller: User, inbox: Handler
) -> None:
    actions.unsubscribe(other_buyer)

    broadcast = send_broadcast(audience=Audience.BUYERS)

    assert sorted(Email.objects.values_list("user_id", flat=True)) == [buyer.pk]
    assert BroadcastEmailRun.objects.get().finished_at is not None
    send_due_emails()
    [received] = inbox.received
    message = received.message
    assert received.recipients == [buyer.email]
    assert message["Subject"] == "Autumn sale: 20% off kitchen gear"
    unsubscribe = message["List-Unsubscribe"]
    assert unsubscribe.startswith("<http://127.0.0.1:8000/email/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    reference = references.for_broadcast(broadcast.pk, buyer.pk)
    assert reference in received.text()
    assert message["X-Message-Center-Reference"] == reference
    assert "Unsubscribe from promotions" in received.html()

    # What a mail client does with the pair: POST the body, no cookies.
    path = unsubscribe.strip("<>").removeprefix("http://127.0.0.1:8000")
    answer = Client().post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert answer.status_code == 200
    assert actions.RULES[(Category.PROMOTIONS, Channel.EMAIL)].default is not False

    assert not is_enabled(buyer, Category.PROMOTIONS, Channel.EMAIL)


@pytest.mark.django_db
def test_an_important_notice_reaches_everyone_without_an_unsubscribe_pair(
    buyer: User, other_buyer: User, inbox: Handler
) -> None:
    actions.unsubscribe(other_buyer)

    send_broadcast(
        BroadcastKind.NOTICE,
        subject="Changes to our terms",
        body="Read them.",
        audience=Audience.BUYERS,
    )
    send_due_emails()

    assert sorted(item.recipients[0] for item in inbox.received) == sorted(
        [buyer.email, other_buyer.email]
    )
    assert all(item.message["List-Unsubscribe"] is None for item in inbox.received)
    assert all("Official" in item.html() for item in inbox.received)


@pytest.mark.django_db
def test_a_broadcast_cancelled_while_sending_sends_no_more(
    buyer: User, other_buyer: User, inbox: Handler
) -> None:
    broadcast = send_broadcast()
    notification_actions.cancel_broadcast(broadcast.created_by, broadcast.pk)

    send_due_emails()

    assert inbox.received == []
    assert set(Email.objects.values_list("status", flat=True)) == {EmailStatus.CANCELLED}


@pytest.mark.django_db
def test_the_fan_out_goes_on_where_it_stopped_and_never_queues_twice(inbox: Handler) -> None:
    people = many_buyers(2500)
    staff = factories.UserFactory(is_staff=True, role="admin")
    broadcast = notification_actions.schedule_broadcast(
        staff,
        kind=BroadcastKind.PROMOTION,
        subject="Sale",
        body="Now.",
        send_at=timezone.now() - timedelta(seconds=1),
        audience=Audience.BUYERS,
    )
    notification_actions.announce_due_broadcasts()

    assert advance_broadcast_runs(batch_size=1000) == 1000
    # A sender that died after its batch: the cursor moved with the rows.
    run = BroadcastEmailRun.objects.get()
    assert run.cursor == people[999].pk
    # Replaying from the start (a lost cursor) adds nothing twice.
    BroadcastEmailRun.objects.filter(pk=run.pk).update(cursor=0)
    assert advance_broadcast_runs(batch_size=1000) == 1000
    while advance_broadcast_runs(batch_size=1000):
        pass
    assert Email.objects.filter(broadcast_id=broadcast.pk).count() == 2500


# The sender below takes batches of 500 and checks and sends 50 at a time under the people's
# row locks (sender.CHECKED_CHUNK): 2,000 are four batches of ten chunks. The unsubscribes
# start at the 625th e-mail, halfway through a chunk of the second batch, so the first
# target's e-mail is in the chunk being sent; the third target (400 e-mails on) is in the
# third batch, and the last person in the fourth, about 1,375 e-mails after the start.
# 10,000 sent the same batches and chunks twenty times over.
PROMOTION_RECIPIENTS = 2000
UNSUBSCRIBES_AFTER = 625


@pytest.mark.django_db(transaction=True)
def test_unsubscribing_in_the_middle_of_a_2000_recipient_promotion(
    smtp_server: SmtpServer,
) -> None:
    """Nothing reaches a person after their unsubscribe is recorded — also the person
    whose e-mail is in the batch being sent at that very moment."""
    # The server's handler, not the inbox fixture: its check that no one received another
    # person's address parses every e-mail afterwards, 1.5–4.5 ms each (15–45 s for the
    # 10,000 this test once sent), and a promotion names no one else (the tests above
    # check a promotion's text through it).
    inbox = smtp_server.handler
    people = many_buyers(PROMOTION_RECIPIENTS)
    send_broadcast(audience=Audience.BUYERS)
    assert Email.objects.filter(status=EmailStatus.QUEUED).count() == PROMOTION_RECIPIENTS
    halfway = threading.Event()
    inbox.on_message = lambda item: (
        halfway.set() if len(inbox.received) == UNSUBSCRIBES_AFTER else None
    )

    def drain() -> None:
        try:
            while send_due_emails(limit=500):
                pass
        finally:
            connection.close()

    sender = threading.Thread(target=drain)
    sender.start()
    assert halfway.wait(timeout=120)
    # Whoever is being sent right now, someone a little later, and the last of all.
    sent_so_far = {item.recipients[0] for item in list(inbox.received)}
    next_up = [person for person in people if person.email not in sent_so_far]
    targets = [next_up[0], next_up[20], next_up[400], people[-1]]
    recorded: dict[int, float] = {}

    def unsubscribe_all() -> None:
        try:
            for person in targets:
                actions.unsubscribe(person)
                recorded[person.pk] = time.monotonic()
        finally:
            connection.close()

    unsubscriber = threading.Thread(target=unsubscribe_all)
    unsubscriber.start()
    unsubscriber.join(timeout=120)
    sender.join(timeout=300)
    assert not sender.is_alive()

    for person in targets:
        after: list[Received] = [
            item for item in inbox.to(person.email) if item.at >= recorded[person.pk]
        ]
        assert after == [], f"{person.email} got mail after unsubscribing"
    assert inbox.to(people[-1].email) == []
    assert inbox.to(next_up[400].email) == []
    not_sent = Email.objects.filter(status=EmailStatus.CANCELLED)
    assert {email.user_id for email in not_sent} <= {person.pk for person in targets}
    assert len(inbox.received) + not_sent.count() == PROMOTION_RECIPIENTS
    assert Email.objects.filter(status=EmailStatus.SENT).count() == len(inbox.received)


@pytest.mark.django_db
def test_assembled_broadcast_emails_round_trip_through_a_standard_parser(
    inbox: Handler,
) -> None:
    """The fast assembly (delivery/mime.py) against the standard library's parser:
    non-ASCII subject, name and text, long lines, a line starting with a dot."""
    person = User.objects.create(
        username="zoe", email="zoe@example.test", display_name="Zoë Ångström", role="buyer"
    )
    body = "Große Rabatte — 20 % auf alles!\n\n.hidden dot line\n" + "lang " * 60
    send_broadcast(subject="Herbst-Angebote: 20 % günstiger ☕", body=body, audience="buyers")

    send_due_emails()

    [received] = inbox.received
    message = received.message
    assert str(message["Subject"]) == "Herbst-Angebote: 20 % günstiger ☕"
    assert received.recipients == [person.email]
    assert message.get_content_type() == "multipart/alternative"
    assert "Hello Zoë Ångström," in received.text()
    assert ".hidden dot line" in received.text()
    assert ("lang " * 60).strip() in received.text()
    assert "Hello Zoë Ångström," in strip_tags(received.html())
    assert "Große Rabatte — 20 % auf alles!" in received.html()
    assert not message.defects
    assert all(not part.defects for part in message.walk())


@pytest.mark.django_db
def test_an_address_smtp_cannot_carry_fails_alone(buyer: User, inbox: Handler) -> None:
    person = User.objects.create(
        username="jose", email="josé@example.test", display_name="José", role="buyer"
    )
    send_broadcast(audience="buyers")

    send_due_emails()

    failed = Email.objects.get(user=person)
    assert failed.status == EmailStatus.FAILED
    assert failed.last_error.startswith("The address cannot be used:")
    assert [item.recipients for item in inbox.received] == [[buyer.email]]


@pytest.mark.parametrize("international", [False, True], ids=["prebuilt", "general"])
def test_bidirectional_overrides_are_removed_from_a_broadcast_email(
    buyer: User, inbox: Handler, international: bool
) -> None:
    spoof = "invoice\u202egpj.exe"
    if international:
        buyer.email = "alice@exämple.test"
    buyer.display_name = "Al\u202eice"
    buyer.save(update_fields=["display_name", "email"])
    send_broadcast(
        BroadcastKind.NOTICE,
        subject=f"New terms {spoof}",
        body=f"Read {spoof}",
        audience=Audience.LIST,
        user_ids=[buyer.pk],
    )

    send_due_emails()

    [received] = [item for item in inbox.received if "Read invoicegpj.exe" in item.text()]
    assert "New terms invoicegpj.exe" in str(received.message["Subject"])
    for shown in (received.text(), received.html()):
        assert "Read invoicegpj.exe" in shown
        assert "Alice" in shown
        assert "\u202e" not in shown


def test_a_broadcast_emails_subject_is_an_isolate_of_its_own(buyer: User, inbox: Handler) -> None:
    """The heading holds the subject and the Official badge: the subject alone takes its
    direction (a Hebrew one reads right to left), the badge stays where it is."""
    subject = "תנאי שימוש חדשים!"
    send_broadcast(
        BroadcastKind.NOTICE, subject=subject, audience=Audience.LIST, user_ids=[buyer.pk]
    )

    send_due_emails()

    [received] = [item for item in inbox.received if item.recipients == [buyer.email]]
    assert not_isolated(received.html(), subject) == []


def test_a_broadcast_emails_body_and_greeting_have_their_own_direction(
    buyer: User, inbox: Handler
) -> None:
    """A notice written in Arabic read left aligned in its e-mail, its "!" at the wrong
    end, and an Arabic name took the "Hello …," around it into its run: the body and the
    name are each an element with dir="auto", as the subject is."""
    body, name = "تم تحديث شروط الاستخدام!", "سارة 24"
    User.objects.filter(pk=buyer.pk).update(display_name=name)
    send_broadcast(
        BroadcastKind.NOTICE,
        subject="New terms",
        body=body,
        audience=Audience.LIST,
        user_ids=[buyer.pk],
    )

    send_due_emails()

    [received] = [item for item in inbox.received if item.recipients == [buyer.email]]
    assert not_isolated(received.html(), body) == []
    assert not_isolated(received.html(), name) == []


@pytest.mark.django_db
def test_a_nested_list_keeps_its_indent_in_both_parts_of_a_broadcast_e_mail(
    buyer: User, inbox: Handler
) -> None:
    send_broadcast(body=NESTED_LIST, audience=Audience.BUYERS)

    send_due_emails()

    [received] = inbox.received
    assert NESTED_LIST in received.text().replace("\r\n", "\n")
    white_space, shown = nested_list_in_html(received.html())
    assert white_space in KEEPS_SPACES
    assert shown == NESTED_LIST
