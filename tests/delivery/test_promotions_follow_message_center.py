"""Every e-mail we send is also in the Message Center (docs/email.md#preferences): with
Promotions off in the Message Center, no promotion e-mail goes, whatever the e-mail choice
says; the page and the API show it, and "Is this e-mail from us?" does not say the person
deleted a promotion they only switched off."""

import re

import pytest
from django.urls import reverse

from messagecenter.accounts.models import User
from messagecenter.delivery import actions, references
from messagecenter.delivery.models import Category, Channel, Email
from messagecenter.delivery.preferences import is_enabled
from messagecenter.delivery.sender import send_due_emails
from messagecenter.errors import InvalidInput
from messagecenter.notifications.models import Audience
from tests.api.helpers import error_of, with_token
from tests.delivery.helpers import send_broadcast
from tests.delivery.smtp import Handler
from tests.factories import signed_in

pytestmark = pytest.mark.django_db

PROMOTIONS_IN_MESSAGE_CENTER = (Category.PROMOTIONS, Channel.MESSAGE_CENTER)
PROMOTIONS_BY_EMAIL = (Category.PROMOTIONS, Channel.EMAIL)


def test_no_promotion_email_reaches_someone_who_switched_promotions_off_in_the_message_center(
    buyer: User, other_buyer: User, inbox: Handler
) -> None:
    actions.set_preferences(buyer, {PROMOTIONS_IN_MESSAGE_CENTER: False})

    send_broadcast(audience=Audience.BUYERS)
    send_due_emails()

    assert list(Email.objects.values_list("user_id", flat=True)) == [other_buyer.pk]
    assert [received.recipients for received in inbox.received] == [[other_buyer.email]]
    assert not is_enabled(buyer, *PROMOTIONS_BY_EMAIL)


def test_an_email_queued_before_the_switch_is_not_sent(
    buyer: User, other_buyer: User, inbox: Handler
) -> None:
    send_broadcast(audience=Audience.BUYERS)
    actions.set_preferences(buyer, {PROMOTIONS_IN_MESSAGE_CENTER: False})

    send_due_emails()

    assert [received.recipients for received in inbox.received] == [[other_buyer.email]]


def test_the_page_and_the_api_show_the_email_choice_held_off(buyer: User) -> None:
    actions.set_preferences(buyer, {PROMOTIONS_IN_MESSAGE_CENTER: False})

    page = signed_in(buyer).get(reverse("email-preferences")).content.decode()
    table = with_token(buyer).get("/preferences").json()

    assert 'data-testid="pref-promotions-email-waits"' in page
    assert 'value="promotions:email"' not in page
    assert "Off while this is off in your Message Center" in page
    [by_email] = [c for c in table if (c["category"], c["channel"]) == PROMOTIONS_BY_EMAIL]
    assert by_email["is_enabled"] is False
    assert by_email["can_change"] is False
    assert by_email["why_fixed"].startswith("Off while this is off in your Message Center")


def test_the_api_refuses_promotion_email_without_the_message_center_copy(buyer: User) -> None:
    caller = with_token(buyer)
    off = {"category": "promotions", "channel": "message_center", "is_enabled": False}
    on = {"category": "promotions", "channel": "message_center", "is_enabled": True}
    email = {"category": "promotions", "channel": "email", "is_enabled": True}

    refused = caller.call("PUT", "/preferences", {"choices": [off, email]})
    assert error_of(refused) == (400, "needs_message_center")
    assert buyer.__class__.objects.get(pk=buyer.pk).shows_promotions is True

    caller.call("PUT", "/preferences", {"choices": [off]})
    assert error_of(caller.call("PUT", "/preferences", {"choices": [email]})) == (
        400,
        "needs_message_center",
    )
    # Both on again at once is fine.
    assert caller.call("PUT", "/preferences", {"choices": [on, email]}).status_code == 200
    assert is_enabled(buyer, *PROMOTIONS_BY_EMAIL)


def test_unticking_the_message_center_box_keeps_the_email_choice_for_later(buyer: User) -> None:
    client = signed_in(buyer)
    # Promotions e-mail ticked, the Message Center copy unticked, in one save.
    client.post(
        reverse("email-preferences"), {"enabled": ["buyer_seller:email", "promotions:email"]}
    )
    buyer.refresh_from_db()
    assert not is_enabled(buyer, *PROMOTIONS_BY_EMAIL)

    actions.set_preferences(buyer, {PROMOTIONS_IN_MESSAGE_CENTER: True})

    assert is_enabled(buyer, *PROMOTIONS_BY_EMAIL)
    with pytest.raises(InvalidInput):
        actions.set_preferences(
            buyer, {PROMOTIONS_IN_MESSAGE_CENTER: False, PROMOTIONS_BY_EMAIL: True}
        )


def test_the_reference_of_a_hidden_promotion_does_not_say_it_was_deleted(
    buyer: User, inbox: Handler
) -> None:
    broadcast = send_broadcast(audience=Audience.BUYERS)
    actions.set_preferences(buyer, {PROMOTIONS_IN_MESSAGE_CENTER: False})
    buyer.refresh_from_db()
    reference = references.for_broadcast(broadcast.pk, buyer.pk)

    page = signed_in(buyer).get(reverse("check-email"), {"reference": reference}).content.decode()

    assert 'data-testid="reference-marketplace"' in page
    assert "deleted" not in page
    assert "promotions are switched off in your Message Center" in page


def test_ticking_the_message_center_box_again_on_the_page_brings_the_email_choice_back(
    buyer: User,
) -> None:
    """The page shows the e-mail box held off, so it sends no box and no `shown` field for
    it: saving the page with the Message Center box ticked again leaves the stored e-mail
    choice as it was, not switched off as a box left unticked."""
    actions.set_preferences(buyer, {PROMOTIONS_BY_EMAIL: True})
    actions.set_preferences(buyer, {PROMOTIONS_IN_MESSAGE_CENTER: False})
    client = signed_in(buyer)
    page = client.get(reverse("email-preferences")).content.decode()
    ticked = re.findall(r'name="enabled" value="([^"]+)" checked', page)
    shown = re.findall(r'name="shown" value="([^"]+)"', page)
    assert not [value for value in shown if value.startswith("promotions:email:")]

    client.post(
        reverse("email-preferences"),
        {"enabled": [*ticked, "promotions:message_center"], "shown": shown},
    )

    buyer.refresh_from_db()
    assert is_enabled(buyer, *PROMOTIONS_IN_MESSAGE_CENTER)
    assert is_enabled(buyer, *PROMOTIONS_BY_EMAIL)
