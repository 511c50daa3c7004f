"""Putting an old e-mail address back (docs/accounts.md#e-mail-address): the notice to the
old address carries a signed link that, from a page with a button, puts that address back,
signs out every browser and app, stops the password and sends a reset link to the old
address — for that account and that change only, never showing the new address — and
takes away the passkeys and authenticator app added since the change, keeping those from
before; refused, changing nothing, when altered, used, expired, overtaken by another
change, or when the old address belongs to someone else now."""

import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from pytest_django.fixtures import Settings

from messagecenter.accounts import actions, email_changes, two_factor
from messagecenter.accounts.models import ApiToken, Passkey, User
from messagecenter.delivery.models import Email
from messagecenter.delivery.sender import send_due_emails
from messagecenter.errors import Conflict, InvalidInput
from tests.accounts.authenticator import ORIGIN, RP_ID
from tests.accounts.test_email_change import _kept_mail, signed_in  # noqa: F401 (a fixture)
from tests.accounts.test_passkeys import browser, passwordless, with_passkey
from tests.accounts.test_two_factor import code_of, turn_on
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

OLD = "seller@example.test"
# The address of the exploratory test: someone else's mailbox, in the takeover case.
NEW = "Shared@example.net"
NEW_PASSWORD = "a fresh and long passphrase 2026"
SITE = "http://127.0.0.1:8000"


def link_in(email: EmailMessage, path: str) -> str:
    match = re.search(rf"{re.escape(SITE)}{path}\S+/", str(email.body))
    assert match is not None, email.body
    return match.group(0).removeprefix(SITE)


def change_address(user: User, address: str) -> None:
    """What the page does: ask from the account, open the link sent to the new address."""
    asked = past_second_factor(signed_in(user)).post(
        "/account/email-address/", {"email": address, "password": PASSWORD}
    )
    assert asked.status_code == 302
    assert send_due_emails() == 1
    assert mail.outbox[-1].to == [address]
    assert Client().post(link_in(mail.outbox[-1], "/accounts/email-change/")).status_code == 302
    # The next change of the same account is not held back by the one-a-minute limit.
    Email.objects.update(created_at=timezone.now() - timedelta(minutes=2))


def past_second_factor(browser: Client) -> Client:
    """A browser that gave its second factor too, when the account has one."""
    session = browser.session
    session.pop(two_factor.PENDING_KEY, None)
    session.save()
    return browser


def notice_of_change(user: User, address: str) -> EmailMessage:
    change_address(user, address)
    assert send_due_emails() == 1
    notice = mail.outbox[-1]
    assert notice.subject == "Your Marketplace e-mail address was changed"
    return notice


def undo_link(notice: EmailMessage) -> str:
    return link_in(notice, "/accounts/email-change/undo/")


def works(browser: Client) -> bool:
    return browser.get("/account/security/").status_code == 200


def token_works(secret: str) -> bool:
    answer = Client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    return answer.status_code == 200


def account_state(user: User) -> tuple[object, ...]:
    """What an undo changes, and what it sends."""
    user.refresh_from_db()
    return (
        user.email,
        user.password,
        user.session_generation,
        ApiToken.objects.filter(user=user, revoked_at__isnull=True).count(),
        list(Email.objects.order_by("pk").values_list("pk", "status")),
    )


def text_of(response: object) -> str:
    return str(response.content.decode())  # type: ignore[attr-defined]


def test_the_old_address_takes_the_account_back_from_whoever_changed_it(seller: User) -> None:
    """The exploratory test's takeover: the address changed to someone else's, who asks for
    a reset by username (it goes to them). The old mailbox's link ends all of it."""
    intruder = signed_in(seller)
    _, secret = actions.create_api_token(seller, "Intruder's phone")
    notice = notice_of_change(seller, NEW)

    assert notice.to == [OLD]
    html = str(notice.alternatives[0].content)  # type: ignore[union-attr]
    assert NEW.lower() not in (str(notice.body) + html).lower()
    link = undo_link(notice)
    assert link in html
    assert "7 days" in str(notice.body)
    # The reset form now sends the link to the new address: no way back that way.
    Client().post("/accounts/password-reset/", {"identifier": "seller"})
    assert send_due_emails() == 1
    assert mail.outbox[-1].to == [NEW]

    pressed = Client().post(link, follow=True)

    assert pressed.redirect_chain == [("/accounts/login/", 302)]
    assert f"The e-mail address of seller is {OLD} again" in text_of(pressed)
    assert NEW.lower() not in text_of(pressed).lower()
    seller.refresh_from_db()
    assert seller.email == OLD
    assert not seller.has_usable_password()
    assert not works(intruder)
    assert not token_works(secret)
    signing_in = Client().post("/accounts/login/", {"username": "seller", "password": PASSWORD})
    assert signing_in.status_code == 200  # refused: the password stopped working
    # A reset link to the old address, though one went to the new address a moment ago.
    assert send_due_emails() == 1
    reset = mail.outbox[-1]
    assert (reset.to, reset.subject) == ([OLD], "Reset your Marketplace password")
    chosen = Client().post(
        link_in(reset, "/accounts/password-reset/"),
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert chosen.status_code == 302
    owner = Client()
    assert (
        owner.post("/accounts/login/", {"username": "seller", "password": NEW_PASSWORD}).status_code
        == 302
    )
    assert works(owner)


def test_the_confirmation_link_cannot_take_the_address_again_once_it_was_put_back(
    seller: User,
) -> None:
    """A walkthrough's replay: once the undo put the old address back, the address matched
    the confirmation link's "from" again, and the link (valid for a day) took the address
    back for whoever held it — with no sign-in, as often as the owner undid it."""
    signed_in(seller).post("/account/email-address/", {"email": NEW, "password": PASSWORD})
    assert send_due_emails() == 1
    confirmation = link_in(mail.outbox[-1], "/accounts/email-change/")
    assert Client().post(confirmation).status_code == 302
    assert send_due_emails() == 1
    assert Client().post(undo_link(mail.outbox[-1])).status_code == 302
    before = account_state(seller)

    opened = Client().get(confirmation)
    pressed = Client().post(confirmation)

    assert (opened.status_code, pressed.status_code) == (400, 400)
    assert "Confirm this address" not in text_of(opened)
    assert account_state(seller) == before
    assert seller.email == OLD


def test_opening_the_link_changes_nothing_and_never_shows_the_new_address(
    seller: User,
) -> None:
    """Mail scanners open links: only the button changes anything."""
    browser = signed_in(seller)
    _, secret = actions.create_api_token(seller, "Phone")
    link = undo_link(notice_of_change(seller, NEW))
    before = account_state(seller)

    shown = [Client().get(link), Client().head(link), signed_in(seller).get(link)]

    assert [response.status_code for response in shown] == [200, 200, 200]
    page = text_of(shown[0])
    assert "Put back my address and sign everyone out" in page
    assert OLD in page
    assert "seller" in page
    assert NEW.lower() not in page.lower()
    assert account_state(seller) == before
    assert works(browser)
    assert token_works(secret)
    assert send_due_emails() == 0


def test_a_used_link_is_refused_and_changes_nothing(seller: User) -> None:
    link = undo_link(notice_of_change(seller, NEW))
    assert Client().post(link).status_code == 302
    assert send_due_emails() == 1
    before = account_state(seller)
    owner = signed_in(seller)

    shown, pressed = Client().get(link), Client().post(link)

    assert shown.status_code == pressed.status_code == 400
    assert "This link is not valid any more" in text_of(pressed)
    assert account_state(seller) == before
    assert works(owner)
    with pytest.raises(InvalidInput) as refused:
        actions.undo_email_change(link.split("/")[-2])
    assert refused.value.code == "email_change_undo_link_invalid"


def test_the_link_expires_after_the_days_the_notice_says(seller: User, settings: Settings) -> None:
    link = undo_link(notice_of_change(seller, NEW))
    before = account_state(seller)
    sent = timezone.now()
    days = timedelta(days=settings.EMAIL_CHANGE_UNDO_DAYS)

    with mock.patch("time.time", return_value=(sent + days - timedelta(hours=1)).timestamp()):
        assert Client().get(link).status_code == 200
    with mock.patch("time.time", return_value=(sent + days + timedelta(minutes=1)).timestamp()):
        assert Client().get(link).status_code == 400
        assert Client().post(link).status_code == 400

    assert account_state(seller) == before


def test_an_altered_link_or_another_links_token_is_refused(seller: User) -> None:
    link = undo_link(notice_of_change(seller, NEW))
    token = link.split("/")[-2]
    before = account_state(seller)
    # The confirmation link's token for the same change is signed for another purpose.
    confirmation = email_changes.make_link_token(seller, OLD)
    # The right words, signed by anyone but the site.
    with override_settings(SECRET_KEY="not the site's secret, but long enough to sign"):
        forged_token = email_changes.make_undo_token(email_changes.EmailChange(seller.pk, OLD, NEW))

    for bad in (token[:-4] + "xxxx", confirmation, forged_token):
        assert Client().get(f"/accounts/email-change/undo/{bad}/").status_code == 400
        assert Client().post(f"/accounts/email-change/undo/{bad}/").status_code == 400
    # Nor does the undo link confirm anything.
    assert Client().post(f"/accounts/email-change/{token}/").status_code == 400

    assert account_state(seller) == before


def test_a_link_is_refused_once_the_address_changed_again(seller: User) -> None:
    link = undo_link(notice_of_change(seller, NEW))
    change_address(seller, "third@example.test")
    before = account_state(seller)

    assert Client().post(link).status_code == 400

    assert account_state(seller) == before
    assert seller.email == "third@example.test"


def test_a_notice_sent_after_a_later_change_undoes_only_its_own(seller: User) -> None:
    """A notice whose first send failed goes out after the address changed again: its link
    must not put the first address back over the second change."""
    change_address(seller, NEW)
    # Its first attempt failed: retried later.
    Email.objects.filter(kind="email_changed").update(
        next_attempt_at=timezone.now() + timedelta(hours=1)
    )
    change_address(seller, "third@example.test")
    Email.objects.update(next_attempt_at=timezone.now())
    assert send_due_emails() == 2
    to_first, to_second = mail.outbox[-2:]
    assert (to_first.to, to_second.to) == ([OLD], [NEW])
    before = account_state(seller)

    assert Client().post(undo_link(to_first)).status_code == 400
    assert account_state(seller) == before

    assert Client().post(undo_link(to_second)).status_code == 302
    seller.refresh_from_db()
    assert seller.email == NEW


def test_an_old_address_another_account_took_meanwhile_is_not_put_back(
    seller: User, other_seller: User
) -> None:
    browser = signed_in(seller)
    link = undo_link(notice_of_change(seller, NEW))
    User.objects.filter(pk=other_seller.pk).update(email=OLD.upper())
    before = account_state(seller)

    pressed = Client().post(link)

    assert pressed.status_code == 409
    assert f"{OLD} belongs to another account now" in text_of(pressed)
    assert NEW.lower() not in text_of(pressed).lower()
    assert account_state(seller) == before
    assert works(browser)


def test_signed_in_to_another_account_it_undoes_only_the_links_account(
    seller: User, other_seller: User
) -> None:
    """The owner of a locked-out seller account may be signed in to another account."""
    link = undo_link(notice_of_change(seller, NEW))
    other = signed_in(other_seller)

    assert other.post(link).status_code == 302

    seller.refresh_from_db()
    other_seller.refresh_from_db()
    assert seller.email == OLD
    assert other_seller.email == "other-seller@example.test"
    assert other_seller.has_usable_password()
    assert works(other)


def in_threads(calls: list[Callable[[], object]]) -> list[object]:
    """The calls at once (a barrier releases them together), each on its own connection;
    each call's result, or the error it raised."""
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], object]) -> object:
        try:
            start.wait(timeout=30)
            return call()
        except (InvalidInput, Conflict) as refused:
            return refused
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


@pytest.mark.django_db(transaction=True)
def test_two_undos_at_once_put_the_address_back_once(seller: User) -> None:
    token = undo_link(notice_of_change(seller, NEW)).split("/")[-2]

    results = in_threads([lambda: actions.undo_email_change(token)] * 2)

    assert sorted(type(result).__name__ for result in results) == ["InvalidInput", "User"]
    seller.refresh_from_db()
    assert seller.email == OLD
    assert list(Email.objects.filter(kind="password_reset").values_list("status")) == [("queued",)]


@pytest.mark.django_db(transaction=True)
def test_an_undo_and_another_change_at_once_take_turns(seller: User) -> None:
    token = undo_link(notice_of_change(seller, NEW)).split("/")[-2]
    seller.refresh_from_db()
    another = email_changes.make_link_token(seller, "third@example.test")

    undone, changed = in_threads(
        [
            lambda: actions.undo_email_change(token),
            lambda: actions.confirm_email_change(another),
        ]
    )

    seller.refresh_from_db()
    # Whichever came second found the address not the one it expected.
    if isinstance(undone, User):
        assert isinstance(changed, InvalidInput)
        assert (seller.email, seller.has_usable_password()) == (OLD, False)
    else:
        assert isinstance(undone, InvalidInput)
        assert isinstance(changed, User)
        assert (seller.email, seller.has_usable_password()) == ("third@example.test", True)


# --- second factors added since the change ----------------------------------------------


@pytest.fixture
def _relying_party(settings: Settings) -> None:
    settings.PASSKEY_RP_ID = RP_ID
    settings.PASSKEY_ORIGINS = [ORIGIN]


def set_up_long_ago(user: User) -> None:
    """The owner's second factors date from a day before anyone changed the address."""
    long_ago = timezone.now() - timedelta(days=1)
    for model in (Passkey, TOTPDevice, StaticDevice):
        model.objects.filter(user=user).update(created_at=long_ago)


def second_factors(user: User) -> tuple[object, ...]:
    return (
        sorted(Passkey.objects.filter(user=user).values_list("name", flat=True)),
        list(TOTPDevice.objects.filter(user=user).values_list("pk", "confirmed")),
        two_factor.recovery_codes_left(user),
    )


@pytest.mark.usefixtures("_relying_party")
def test_a_passkey_added_since_the_change_goes_and_the_owners_stay(seller: User) -> None:
    """A passkey signs in on its own, without the password the undo stops: one added by
    whoever changed the address would keep them in. The owner's app, passkey and recovery
    codes from before the change stay, and the owner's passkey still signs in."""
    app, _, _ = turn_on(seller)
    owners_key = with_passkey(seller, "Owner's laptop")
    set_up_long_ago(seller)
    link = undo_link(notice_of_change(seller, NEW))
    intruders_key = with_passkey(seller, "Intruder's key")
    assert passwordless(browser(), intruders_key).status_code == 200

    pressed = Client().post(link, follow=True)

    assert pressed.redirect_chain == [("/accounts/login/", 302)]
    assert "the passkeys and authenticator app added since the change are removed" in text_of(
        pressed
    )
    assert second_factors(seller) == (["Owner's laptop"], [(app.pk, True)], 10)
    assert passwordless(browser(), intruders_key).status_code == 400
    assert passwordless(browser(), owners_key).status_code == 200


@pytest.mark.usefixtures("_relying_party")
def test_two_factor_turned_on_since_the_change_is_off_after_the_undo(seller: User) -> None:
    """An app, a passkey and the recovery codes that came with them, all from whoever
    changed the address: the owner could pass none of them, so two-factor is off."""
    link = undo_link(notice_of_change(seller, NEW))
    turn_on(seller)
    with_passkey(seller, "Intruder's key")
    assert two_factor.has_two_factor(seller)

    actions.undo_email_change(link.split("/")[-2])

    assert second_factors(seller) == ([], [], 0)
    assert not StaticDevice.objects.filter(user=seller).exists()
    assert not two_factor.has_two_factor(seller)


def test_an_app_set_up_before_the_change_but_turned_on_after_it_goes(seller: User) -> None:
    """The set-up page shows a started set-up's key to whoever has the account: its time
    is when its first code turned it on, not when it was started."""
    Client().post("/account/two-factor/start/")  # signed out: changes nothing
    owner = signed_in(seller)
    assert owner.post("/account/two-factor/start/").status_code == 200
    set_up_long_ago(seller)
    link = undo_link(notice_of_change(seller, NEW))
    started = TOTPDevice.objects.get(user=seller, confirmed=False)
    intruder = signed_in(seller)
    turned_on = intruder.post("/account/two-factor/confirm/", {"code": code_of(started)})
    assert turned_on.status_code == 200
    assert two_factor.has_authenticator_app(seller)

    assert Client().post(link).status_code == 302

    assert second_factors(seller) == ([], [], 0)


def test_a_set_up_left_half_done_goes_too(seller: User) -> None:
    """Its key was on the page for whoever had the account: the owner starts again."""
    assert signed_in(seller).post("/account/two-factor/start/").status_code == 200
    set_up_long_ago(seller)
    link = undo_link(notice_of_change(seller, NEW))

    assert Client().post(link).status_code == 302

    assert not TOTPDevice.objects.filter(user=seller).exists()


@pytest.mark.usefixtures("_relying_party")
def test_a_link_made_before_links_carried_the_change_counts_from_its_sending(
    seller: User,
) -> None:
    """Undo links work for days, so some were sent before an upgrade: without the moment of
    the change, the moment the link was signed (the notice's sending) stands in for it."""
    with_passkey(seller, "Owner's laptop")
    set_up_long_ago(seller)
    User.objects.filter(pk=seller.pk).update(email=NEW)
    token = email_changes.make_undo_token(email_changes.EmailChange(seller.pk, OLD, NEW))
    intruders_key = with_passkey(seller, "Intruder's key")

    actions.undo_email_change(token)

    assert second_factors(seller) == (["Owner's laptop"], [], 10)
    assert passwordless(browser(), intruders_key).status_code == 400


def test_the_link_carries_the_moment_of_the_change(seller: User) -> None:
    """The notice was queued in the change's own transaction: its row's time is the
    change's, whenever the notice is sent."""
    change_address(seller, NEW)
    queued = Email.objects.get(kind="email_changed")
    Email.objects.filter(pk=queued.pk).update(next_attempt_at=timezone.now())
    assert send_due_emails() == 1

    change = email_changes.read_undo_token(undo_link(mail.outbox[-1]).split("/")[-2])

    assert change is not None
    assert change.changed_at == queued.created_at
