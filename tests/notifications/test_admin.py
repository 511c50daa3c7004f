"""Staff compose, preview, schedule and cancel broadcasts in the admin; nobody else can."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from messagecenter.accounts.models import Role, User
from messagecenter.errors import InvalidInput, NotAllowed
from messagecenter.notifications import actions
from messagecenter.notifications.models import Audience, Broadcast, BroadcastRecipient
from tests import factories
from tests.notifications.helpers import broadcast, staff

pytestmark = pytest.mark.django_db

ADD = "/admin/notifications/broadcast/"


@pytest.fixture
def staff_client(client: Client) -> Client:
    client.force_login(factories.UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True))
    return client


def form(**fields: object) -> dict[str, object]:
    later = timezone.localtime() + timedelta(hours=1)
    return {
        "kind": "notice",
        "subject": "Scheduled maintenance",
        "body": "We will be down for an hour.",
        "send_at_0": later.strftime("%Y-%m-%d"),
        "send_at_1": later.strftime("%H:%M:%S"),
        "expires_at_0": "",
        "expires_at_1": "",
        "audience": "everyone",
        "country": "",
        "user_ids": "",
        **fields,
    }


def test_staff_schedule_a_list_broadcast_from_pasted_ids(
    staff_client: Client, buyer: User, seller: User
) -> None:
    response = staff_client.post(
        f"{ADD}add/", form(audience="list", user_ids=f"{buyer.pk}, {seller.pk}\n{buyer.pk}")
    )

    assert response.status_code == 302
    saved = Broadcast.objects.get()
    assert (saved.audience, saved.subject) == (Audience.LIST, "Scheduled maintenance")
    assert sorted(BroadcastRecipient.objects.values_list("user_id", flat=True)) == sorted(
        [buyer.pk, seller.pk]
    )


def test_an_uploaded_list_with_a_header_line_is_read(staff_client: Client, buyer: User) -> None:
    upload = SimpleUploadedFile("people.csv", f"user_id\n{buyer.pk}\n".encode())

    response = staff_client.post(f"{ADD}add/", {**form(audience="list"), "user_ids_file": upload})

    assert response.status_code == 302
    assert list(BroadcastRecipient.objects.values_list("user_id", flat=True)) == [buyer.pk]


@pytest.mark.parametrize(
    ("user_ids", "error"),
    [
        ("12, abc", "Line 1: &#x27;abc&#x27; is not a user id."),
        ("999999", "No user has the id 999999."),
        ("", "The list of user ids is empty."),
    ],
)
def test_a_bad_list_is_refused_with_a_clear_error(
    staff_client: Client, buyer: User, user_ids: str, error: str
) -> None:
    response = staff_client.post(f"{ADD}add/", form(audience="list", user_ids=user_ids))

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Broadcast.objects.exists()


def test_a_country_must_be_a_code_and_expiry_after_sending(staff_client: Client) -> None:
    country = staff_client.post(f"{ADD}add/", form(audience="country", country="Germany"))
    expiry = staff_client.post(
        f"{ADD}add/", form(expires_at_0="2000-01-01", expires_at_1="00:00:00")
    )

    assert "Ensure this value has at most 2 characters (it has 7)." in country.content.decode()
    assert "It must expire after it is sent." in expiry.content.decode()
    assert not Broadcast.objects.exists()


def test_a_schedule_out_of_range_is_refused(staff_client: Client) -> None:
    late = staff_client.post(f"{ADD}add/", form(send_at_0="9999-12-31", send_at_1="23:59:59"))
    early = staff_client.post(f"{ADD}add/", form(send_at_0="1900-01-01", send_at_1="00:00:00"))
    never = staff_client.post(
        f"{ADD}add/", form(expires_at_0="9999-12-31", expires_at_1="23:59:59")
    )

    assert "The send time must be between 1970-01-01 and 2200-01-01" in late.content.decode()
    assert "The send time must be between 1970-01-01 and 2200-01-01" in early.content.decode()
    assert "The expiry must be between 1970-01-01 and 2200-01-01" in never.content.decode()
    assert not Broadcast.objects.exists()


def test_a_lowercase_country_code_is_accepted(staff_client: Client) -> None:
    response = staff_client.post(f"{ADD}add/", form(audience="country", country="de"))

    assert response.status_code == 302
    assert Broadcast.objects.get().country == "DE"


def test_preview_shows_the_broadcast_and_audience_and_saves_nothing(
    staff_client: Client, buyer: User, seller: User
) -> None:
    response = staff_client.post(
        f"{ADD}add/",
        {**form(audience="buyers", body="Hello.\n\nhttps://example.test"), "_preview": "1"},
    )

    text = response.content.decode()
    assert response.status_code == 200
    assert "All buyers — 1 person now" in text
    assert '<a href="https://example.test" rel="nofollow">https://example.test</a>' in text
    assert 'name="_save"' in text
    assert not Broadcast.objects.exists()


def test_preview_of_a_list_counts_only_the_people_it_would_reach(
    staff_client: Client, buyer: User, other_buyer: User, seller: User
) -> None:
    """An erased or suspended account on the list is nobody the fan-out reaches: the
    preview said "2 people now" for a list of one active buyer and one erased one."""
    User.objects.filter(pk__in=[other_buyer.pk, seller.pk]).update(is_active=False)

    response = staff_client.post(
        f"{ADD}add/",
        {
            **form(audience="list", user_ids=f"{buyer.pk}\n{other_buyer.pk}\n{seller.pk}"),
            "_preview": "1",
        },
    )

    assert "A list of user ids — 1 person now" in response.content.decode()


def test_an_unknown_country_code_is_refused(staff_client: Client) -> None:
    response = staff_client.post(f"{ADD}add/", form(audience="country", country="XX"))

    assert response.status_code == 200
    assert "XX is not a country code (ISO 3166-1)" in response.content.decode()
    assert not Broadcast.objects.exists()
    with pytest.raises(InvalidInput) as refused:
        actions.check_broadcast(
            kind="notice",
            subject="Hello",
            body="Hello.",
            send_at=timezone.now(),
            expires_at=None,
            audience=Audience.COUNTRY,
            country="xx",
            user_ids=[],
        )
    assert refused.value.code == "invalid_country"


def test_staff_cancel_from_the_list(staff_client: Client) -> None:
    scheduled = broadcast(send_at=timezone.now() + timedelta(hours=1))

    response = staff_client.post(
        ADD, {"action": "cancel_selected", "_selected_action": [scheduled.pk]}
    )

    assert response.status_code == 302
    scheduled.refresh_from_db()
    assert scheduled.cancelled_at is not None


def test_people_who_are_not_staff_cannot_schedule_or_cancel(client: Client, buyer: User) -> None:
    client.force_login(buyer)
    existing = broadcast()

    assert client.get(f"{ADD}add/").status_code == 302
    with pytest.raises(NotAllowed):
        actions.schedule_broadcast(
            buyer,
            kind="notice",
            subject="Fake",
            body="Fake",
            send_at=timezone.now(),
            audience="everyone",
        )
    with pytest.raises(NotAllowed):
        actions.cancel_broadcast(buyer, existing.pk)
    assert Broadcast.objects.count() == 1
    assert staff().is_staff
