"""Reading a person's event log: what a device missed since its last sequence number
(docs/realtime.md)."""

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user
from django.contrib.sessions.backends.base import SessionBase
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from messagecenter.accounts.models import ApiToken, User
from messagecenter.realtime.models import EventStream, UserEvent


@dataclass(frozen=True)
class EventsPage:
    """The events after a device's position, oldest first.

    `last_sequence` is where the device stands after applying this page (the last event's
    sequence, or its own position when there is nothing new). With `resync`, the events it
    missed are no longer all kept (or its position is not one this log ever reached): it
    must refetch its state and continue from `last_sequence`, the log's newest event.
    """

    events: list[UserEvent]
    last_sequence: int
    has_more: bool
    resync: bool = False


def events_after(user: User | int, after: int, limit: int) -> EventsPage:
    """Up to `limit` of the person's events with a sequence above `after`.

    One index range scan on (user, sequence) in the common case; a second small read of
    the stream row when there is nothing new, to tell "up to date" from "ahead of the log".
    The log has no gaps (docs/realtime.md), so the first event after `after` is `after + 1`
    exactly when nothing the device needs was purged.
    """
    user_id = user if isinstance(user, int) else user.pk
    rows = list(
        UserEvent.objects.filter(user_id=user_id, sequence__gt=after).order_by("sequence")[
            : limit + 1
        ]
    )
    if rows and rows[0].sequence != after + 1:
        return _resync(user_id)
    if not rows:
        if after > 0 and after > last_sequence_of(user_id):
            return _resync(user_id)
        return EventsPage(events=[], last_sequence=after, has_more=False)
    events = rows[:limit]
    return EventsPage(events=events, last_sequence=events[-1].sequence, has_more=len(rows) > limit)


def last_sequence_of(user_id: int) -> int:
    """The newest sequence number handed out to the person; 0 before their first event."""
    found = EventStream.objects.filter(user_id=user_id).values_list("last_sequence", flat=True)
    return next(iter(found), 0)


def _resync(user_id: int) -> EventsPage:
    return EventsPage(
        events=[], last_sequence=last_sequence_of(user_id), has_more=False, resync=True
    )


# --- open streams: who is still signed in, and where their logs stand --------------------

# Ids in one IN (…): far below SQLite's 32,766 and PostgreSQL's 65,535 parameters, and
# enough for a process's 10,000 open streams in one statement.
IDS_PER_QUERY = 10_000


@dataclass(frozen=True)
class StreamCredential:
    """What an open stream was authenticated with: an API token, or a browser session."""

    user_id: int
    token_id: int | None = None
    session_key: str | None = None


def signed_in(credentials: Collection[StreamCredential]) -> set[StreamCredential]:
    """The credentials that still authenticate their person, all checked together: one
    query for the tokens, two for the sessions (the sessions, then their people).

    The same rules as signing in with them: a token that is not revoked, of an active
    person (accounts.queries.api_token_for_secret); a session that is stored and not
    expired, of an active person, whose password has not changed since
    (django.contrib.auth.get_user). So revoking a token, signing out (here or everywhere)
    and changing the password all end the person's open streams.
    """
    tokens = [c for c in credentials if c.token_id is not None]
    sessions = [c for c in credentials if c.session_key is not None]
    valid: set[StreamCredential] = set()
    if tokens:
        valid_token_ids: set[int] = set()
        for token_ids in _chunks({c.token_id for c in tokens if c.token_id is not None}):
            valid_token_ids.update(
                ApiToken.objects.filter(
                    pk__in=token_ids, revoked_at__isnull=True, user__is_active=True
                ).values_list("pk", flat=True)
            )
        valid.update(c for c in tokens if c.token_id in valid_token_ids)
    if sessions:
        valid.update(_signed_in_sessions(sessions))
    return valid


def _signed_in_sessions(credentials: list[StreamCredential]) -> set[StreamCredential]:
    store_class: type[SessionBase] = import_module(settings.SESSION_ENGINE).SessionStore
    if not issubclass(store_class, DatabaseSessionStore):
        # Sessions not kept in the database (cache, signed cookies): one look each.
        return {c for c in credentials if _session_signs_in(store_class, c)}
    session_model = store_class.get_model_class()
    keys = {c.session_key for c in credentials if c.session_key is not None}
    data: dict[str, dict[str, Any]] = {}
    now = timezone.now()
    for chunk in _chunks(keys):
        for key, encoded in session_model.objects.filter(
            session_key__in=chunk, expire_date__gt=now
        ).values_list("session_key", "session_data"):
            data[key] = store_class().decode(encoded)
    people: dict[int, User] = {}
    for user_ids in _chunks({c.user_id for c in credentials if c.session_key in data}):
        people.update(
            (person.pk, person)
            # What the session's signature is made of (accounts.User._get_session_auth_hash).
            for person in User.objects.filter(pk__in=user_ids, is_active=True).only(
                "pk", "password", "is_active", "session_generation"
            )
        )
    return {
        c
        for c in credentials
        if c.session_key in data and _session_is_of(data[c.session_key], people.get(c.user_id))
    }


def _session_is_of(session: dict[str, Any], person: User | None) -> bool:
    """get_user's checks, on a session already read: its person, through a configured
    backend, and the hash of the password it was signed in with (or one made with a
    fallback key, which get_user accepts and renews on the browser's next request)."""
    if person is None or session.get(SESSION_KEY) != str(person.pk):
        return False
    if session.get(BACKEND_SESSION_KEY) not in settings.AUTHENTICATION_BACKENDS:
        return False
    session_hash = session.get(HASH_SESSION_KEY)
    if not session_hash:
        return False
    return any(
        constant_time_compare(session_hash, expected)
        for expected in (person.get_session_auth_hash(), *person.get_session_auth_fallback_hash())
    )


def _session_signs_in(store_class: type[SessionBase], credential: StreamCredential) -> bool:
    probe = HttpRequest()
    probe.session = store_class(credential.session_key)
    return bool(get_user(probe).pk == credential.user_id)


def newest_sequences(user_ids: Collection[int]) -> dict[int, int]:
    """Each person's newest sequence number, for those who have any: one query for all of
    a process's open streams (which then read their log only when they are behind)."""
    newest: dict[int, int] = {}
    for chunk in _chunks(set(user_ids)):
        newest.update(
            EventStream.objects.filter(user_id__in=chunk).values_list("user_id", "last_sequence")
        )
    return newest


def _chunks[T](items: Collection[T]) -> Iterator[list[T]]:
    ordered = sorted(items)  # type: ignore[type-var]
    for start in range(0, len(ordered), IDS_PER_QUERY):
        yield ordered[start : start + IDS_PER_QUERY]
