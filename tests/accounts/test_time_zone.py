"""Each person's time zone (docs/accounts.md#time-zone): chosen in Your Account, in the
API's profile, active on every signed-in page and API call, and used by their e-mails."""

import re
from datetime import UTC, datetime

import pytest
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from messagecenter.accounts import actions
from messagecenter.accounts.models import User
from messagecenter.accounts.time_zones import zone_of
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.models import Message
from messagecenter.errors import InvalidInput
from messagecenter.marketplace.models import Product
from tests import factories
from tests.api.helpers import error_of, with_session, with_token

pytestmark = pytest.mark.django_db

# 23:30 UTC on March 1 is 08:30 on March 2 in Tokyo.
LATE_EVENING_UTC = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)


def signed_in(user: User) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def test_a_new_account_takes_the_default_time_zone_setting(settings: Settings) -> None:
    settings.DEFAULT_USER_TIME_ZONE = "America/Chicago"

    person = factories.BuyerFactory()

    assert person.time_zone == "America/Chicago"


def test_the_time_zone_page_lists_zones_and_saves_the_choice(buyer: User) -> None:
    browser = signed_in(buyer)

    page = browser.get("/account/time-zone/")

    assert page.status_code == 200
    html = page.content.decode()
    assert '<option value="Europe/Paris">Europe/Paris</option>' in html
    assert '<option value="America/New_York">America/New York</option>' in html
    assert '<option value="UTC" selected>UTC</option>' in html
    # Aliases kept for compatibility are not offered, nor names that are no place's time.
    assert "Etc/GMT+5" not in html
    assert 'value="localtime"' not in html
    assert 'value="Factory"' not in html
    saved = browser.post("/account/time-zone/", {"time_zone": "Asia/Tokyo"}, follow=True)
    assert saved.status_code == 200
    assert "Dates are now shown in Asia/Tokyo." in saved.content.decode()
    buyer.refresh_from_db()
    assert buyer.time_zone == "Asia/Tokyo"
    assert "Asia/Tokyo" in browser.get("/account/").content.decode()


def test_a_zone_the_list_hides_is_shown_chosen_and_saving_keeps_it(buyer: User) -> None:
    """Set through the API, "Etc/GMT+5" is valid but not listed: no option was selected, the
    browser showed the first, and Save moved the person to Africa/Abidjan."""
    actions.set_time_zone(buyer, "Etc/GMT+5")
    browser = signed_in(buyer)

    html = browser.get("/account/time-zone/").content.decode()
    browser.post("/account/time-zone/", {"time_zone": "Etc/GMT+5"})

    assert '<option value="Etc/GMT+5" selected>Etc/GMT+5</option>' in html
    buyer.refresh_from_db()
    assert buyer.time_zone == "Etc/GMT+5"
    # Only the person's own: for everyone else it stays out of the list.
    other = factories.BuyerFactory()
    assert "Etc/GMT+5" not in signed_in(other).get("/account/time-zone/").content.decode()


ALIASES = {
    "Europe/Kiev": "Europe/Kyiv",
    "Asia/Calcutta": "Asia/Kolkata",
    "Africa/Asmera": "Africa/Asmara",
    "Asia/Saigon": "Asia/Ho_Chi_Minh",
    "America/Godthab": "America/Nuuk",
    "Europe/Belfast": "Europe/London",
}


def test_the_list_names_each_place_once_without_its_old_aliases(buyer: User) -> None:
    """Europe/Kiev was listed beside Europe/Kyiv, Asia/Calcutta beside Asia/Kolkata."""
    html = signed_in(buyer).get("/account/time-zone/").content.decode()

    for alias, current in ALIASES.items():
        assert f'value="{alias}"' not in html
        assert f'value="{current}"' in html
    # Places that share another's clocks are still listed by their own name.
    assert 'value="Europe/Amsterdam"' in html
    assert 'value="Europe/Oslo"' in html


@pytest.mark.parametrize("alias", sorted(ALIASES))
def test_a_persons_old_alias_stays_accepted_shown_chosen_and_kept(buyer: User, alias: str) -> None:
    actions.set_time_zone(buyer, alias)
    browser = signed_in(buyer)

    html = browser.get("/account/time-zone/").content.decode()
    browser.post("/account/time-zone/", {"time_zone": alias})

    assert f'<option value="{alias}" selected>' in html
    buyer.refresh_from_db()
    assert buyer.time_zone == alias


@pytest.mark.parametrize(
    "value",
    [
        "Mars/Olympus_Mons",
        "",
        "europe/paris",
        "UTC\x00",
        # In the zone directory, but no place's time: the server's own zone, the zone of a
        # machine nobody set up, POSIX's default rules, the copies under posix/ and right/.
        "localtime",
        "Factory",
        "posixrules",
        "posix/Europe/Paris",
        "right/Europe/Paris",
    ],
)
def test_an_unknown_time_zone_is_refused_and_nothing_changes(buyer: User, value: str) -> None:
    """Refused, the page said "Check the field below." above Django's "Select a valid
    choice.": the error now says what to do, and the list has the focus, marked invalid and
    described by it."""
    page = signed_in(buyer).post("/account/time-zone/", {"time_zone": value})

    assert page.status_code == 400
    text = page.content.decode()
    assert re.search(
        r'<p class="alert alert--error" role="alert">\s*Choose your time zone from the list\.',
        text,
    )
    select = re.search(r'<select[^>]*\bid="id_time_zone"[^>]*>', text)
    assert select is not None
    assert " autofocus" in select.group(0)
    assert 'aria-invalid="true"' in select.group(0)
    assert 'aria-describedby="id_time_zone_error"' in select.group(0)
    assert re.search(
        r'<ul class="errorlist" id="id_time_zone_error"><li>Choose your time zone from the list\.',
        text,
    )
    buyer.refresh_from_db()
    assert buyer.time_zone == "UTC"
    with pytest.raises(InvalidInput) as refused:
        actions.set_time_zone(buyer, value)
    assert refused.value.code == "invalid_time_zone"
    buyer.refresh_from_db()
    assert buyer.time_zone == "UTC"


@pytest.mark.parametrize("sign_in", [with_token, with_session])
def test_the_api_profile_shows_and_changes_the_time_zone(buyer: User, sign_in: object) -> None:
    caller = sign_in(buyer)  # type: ignore[operator]

    assert caller.get("/me").json()["time_zone"] == "UTC"
    changed = caller.call("patch", "/me", {"time_zone": "Europe/Paris"})
    assert changed.status_code == 200
    assert changed.json()["time_zone"] == "Europe/Paris"
    assert error_of(caller.call("patch", "/me", {"time_zone": "Paris"})) == (
        400,
        "invalid_time_zone",
    )
    for no_place in ("localtime", "Factory"):
        assert error_of(caller.call("patch", "/me", {"time_zone": no_place})) == (
            400,
            "invalid_time_zone",
        )
    buyer.refresh_from_db()
    assert buyer.time_zone == "Europe/Paris"


def test_a_signed_in_page_shows_times_in_the_persons_zone(
    buyer: User, seller: User, product: Product
) -> None:
    question = conversation_actions.ask_seller_about_product(buyer, product.pk, "Is it new?")
    Message.objects.filter(pk=question.pk).update(created_at=LATE_EVENING_UTC)
    actions.set_time_zone(buyer, "Asia/Tokyo")

    page = signed_in(buyer).get(f"/message-center/conversations/{question.conversation_id}/")

    html = page.content.decode()
    assert "Mon 2 Mar 2026, 8:30 AM" in html
    assert "Sun 1 Mar 2026, 11:30 PM" not in html
    # Each request starts from the site's zone again: nothing carries over to the next.
    assert timezone.get_current_timezone_name() == "UTC"


def test_a_persons_retired_zone_falls_back_to_the_default(buyer: User) -> None:
    User.objects.filter(pk=buyer.pk).update(time_zone="Nowhere/Gone")
    buyer.refresh_from_db()

    assert signed_in(buyer).get("/message-center/").status_code == 200


@pytest.mark.parametrize("stored", ["localtime", "Nowhere/Gone"])
def test_the_api_names_the_zone_dates_are_shown_in_not_one_no_longer_accepted(
    buyer: User, settings: Settings, stored: str
) -> None:
    # GET /me's time_zone is the zone the pages and e-mails show dates in, for an app to
    # show them the same way: it said the stored name, "localtime" (the server's own zone,
    # for the app: the phone's) or a retired one, while every page used the default.
    settings.DEFAULT_USER_TIME_ZONE = "Asia/Tokyo"
    User.objects.filter(pk=buyer.pk).update(time_zone=stored)
    buyer.refresh_from_db()

    assert with_token(buyer).get("/me").json()["time_zone"] == "Asia/Tokyo"


def test_a_stored_zone_no_longer_accepted_shows_dates_in_the_default_and_saving_keeps_it(
    buyer: User, settings: Settings
) -> None:
    """ "localtime", accepted before: the server's own zone, so the person's dates moved with
    the machine. They read in the default zone now, which the page shows chosen."""
    settings.DEFAULT_USER_TIME_ZONE = "Asia/Tokyo"
    User.objects.filter(pk=buyer.pk).update(time_zone="localtime")
    browser = signed_in(buyer)

    html = browser.get("/account/time-zone/").content.decode()
    saved = browser.post("/account/time-zone/", {"time_zone": "Asia/Tokyo"})

    buyer.refresh_from_db()
    assert zone_of(buyer).key == "Asia/Tokyo"
    assert '<option value="Asia/Tokyo" selected>Asia/Tokyo</option>' in html
    assert 'value="localtime"' not in html
    assert "(Asia/Tokyo)" in html
    assert saved.status_code == 302
    buyer.refresh_from_db()
    assert buyer.time_zone == "Asia/Tokyo"
