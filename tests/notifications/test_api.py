"""Notices and promotions in the JSON API: counts in /folders, the list, one broadcast,
actions, and /seen."""

import pytest
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.notifications.models import Audience, BroadcastKind
from tests.api.helpers import with_token
from tests.notifications.helpers import broadcast

pytestmark = pytest.mark.django_db


def test_folders_count_broadcasts_and_seen_clears_them(buyer: User) -> None:
    broadcast()
    broadcast(kind=BroadcastKind.PROMOTION, subject="Sale")
    api = with_token(buyer)

    folders = api.get("/folders").json()
    counts = {folder["key"]: folder["unread_count"] for folder in folders["folders"]}
    seen = api.post("/seen").json()
    after = api.get("/folders").json()

    assert (counts["all"], counts["notices"], counts["promotions"]) == (2, 1, 1)
    assert folders["unseen_count"] == 2
    assert seen == {"changed": 2}
    assert after["unseen_count"] == 0


def test_the_list_pages_newest_first_and_the_detail_has_the_body(buyer: User) -> None:
    now = timezone.now()
    made = [broadcast(subject=f"Notice {n}", send_at=now.replace(microsecond=n)) for n in range(3)]
    api = with_token(buyer)

    first = api.get("/broadcasts", {"limit": 2}).json()
    second = api.get("/broadcasts", {"limit": 2, "cursor": first["next_cursor"]}).json()
    detail = api.get(f"/broadcasts/{made[0].pk}").json()

    assert [item["subject"] for item in first["items"]] == ["Notice 2", "Notice 1"]
    assert [item["subject"] for item in second["items"]] == ["Notice 0"]
    assert second["next_cursor"] is None
    assert first["items"][0]["is_official"] is True
    assert first["items"][0]["folder"] == "notices"
    assert detail["body"] == made[0].body
    assert detail["is_read"] is False


def test_actions_change_the_persons_copy(buyer: User) -> None:
    notice = broadcast()
    api = with_token(buyer)

    read = api.post("/broadcasts/actions", {"action": "read", "broadcast_ids": [notice.pk]})
    archived = api.post("/broadcasts/actions", {"action": "archive", "broadcast_ids": [notice.pk]})
    archive = api.get("/broadcasts", {"box": "archive"}).json()

    assert (read.json(), archived.json()) == ({"changed": 1}, {"changed": 1})
    assert [(item["id"], item["box"], item["is_read"]) for item in archive["items"]] == [
        (notice.pk, "archive", True)
    ]


def test_not_yours_and_missing_are_one_error(buyer: User) -> None:
    for_sellers = broadcast(audience=Audience.SELLERS)
    api = with_token(buyer)

    answers = [
        api.get(f"/broadcasts/{for_sellers.pk}"),
        api.get(f"/broadcasts/{for_sellers.pk + 1}"),
        api.post("/broadcasts/actions", {"action": "read", "broadcast_ids": [for_sellers.pk]}),
    ]

    assert [(answer.status_code, answer.json()) for answer in answers] == [
        (404, {"error": {"code": "broadcast_not_found", "message": "No such message."}})
    ] * 3


def test_bad_input_gets_the_one_error_shape(buyer: User) -> None:
    api = with_token(buyer)

    bad_cursor = api.get("/broadcasts", {"cursor": "yesterday"})
    bad_folder = api.get("/broadcasts", {"box": "trash", "folder": "notices"})
    empty = api.post("/broadcasts/actions", {"action": "read", "broadcast_ids": []})

    assert bad_cursor.json()["error"]["code"] == "invalid_cursor"
    assert bad_folder.json()["error"]["code"] == "invalid_folder"
    assert (empty.status_code, empty.json()["error"]["code"]) == (400, "no_broadcasts")
