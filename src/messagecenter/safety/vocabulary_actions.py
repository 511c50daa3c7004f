"""Changing the detector's vocabulary (docs/safety.md#vocabulary): every change that makes a
difference is published as a new VocabularyRevision — the active entries by kind — whose
number the next verdicts carry in their version."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.errors import Conflict, InvalidInput, NotAllowed
from messagecenter.safety import vocabulary_cache
from messagecenter.safety.models import VocabularyEntry, VocabularyRevision
from messagecenter.safety.vocabulary import KINDS


def _require_staff(user: User) -> None:
    if not (user.is_active and user.is_staff):
        raise NotAllowed("Only the marketplace's staff edit the vocabulary.", code="staff_only")


def save_vocabulary_entry(staff: User, entry: VocabularyEntry) -> VocabularyRevision | None:
    """Add or change one entry (normalised and checked first: a domain must be a domain).
    Returns the revision it published, or None when the vocabulary in force did not change
    (an inactive entry edited, a form saved as it was)."""
    _require_staff(staff)
    try:
        entry.full_clean(exclude=["updated_at"])
    except ValidationError as error:
        messages = [text for texts in error.message_dict.values() for text in texts]
        code = (
            "vocabulary_entry_exists"
            if any("already exists" in text for text in messages)
            else "invalid_vocabulary_entry"
        )
        raise InvalidInput(" ".join(messages), code=code) from None
    try:
        with transaction.atomic():
            newest = _lock_newest()
            before = (
                VocabularyEntry.objects.filter(pk=entry.pk).first()
                if entry.pk is not None
                else None
            )
            entry.updated_at = timezone.now()
            entry.save()
            revision = _publish(staff, _describe(before, entry), newest)
    except IntegrityError:
        # Another change added the same entry between the check and the save.
        raise Conflict(
            f"{entry} is already in the vocabulary.", code="vocabulary_entry_exists"
        ) from None
    _forget_after_commit()
    return revision


def remove_vocabulary_entries(staff: User, entry_ids: Iterable[int]) -> VocabularyRevision | None:
    """Delete entries (turning one off keeps it for the record; deleting forgets it)."""
    _require_staff(staff)
    with transaction.atomic():
        newest = _lock_newest()
        entries = list(VocabularyEntry.objects.filter(pk__in=list(entry_ids)))
        if not entries:
            return None
        VocabularyEntry.objects.filter(pk__in=[entry.pk for entry in entries]).delete()
        described = ", ".join(str(entry) for entry in entries)
        revision = _publish(staff, f"Removed {described}", newest)
    _forget_after_commit()
    return revision


def _lock_newest() -> VocabularyRevision | None:
    """Changes take turns on the newest revision's row: each publishes what the one before
    it committed (READ COMMITTED reads it after the lock), never a list missing it."""
    return VocabularyRevision.objects.select_for_update().order_by("-number").first()


def _publish(
    staff: User, change: str, newest: VocabularyRevision | None
) -> VocabularyRevision | None:
    lists: dict[str, list[str]] = {kind: [] for kind in KINDS}
    for kind, value in (
        VocabularyEntry.objects.filter(active=True).order_by("id").values_list("kind", "value")
    ):
        lists.setdefault(kind, []).append(value)
    if newest is not None and newest.lists == lists:
        return None
    return VocabularyRevision.objects.create(
        created_at=timezone.now(), changed_by=staff, change=change[:300], lists=lists
    )


def _describe(before: VocabularyEntry | None, after: VocabularyEntry) -> str:
    if before is None:
        return f"Added {after}" + ("" if after.active else " (off)")
    if (before.kind, before.value) != (after.kind, after.value):
        return f"Changed {before} to {after}" + ("" if after.active else " (off)")
    return f"{'Turned on' if after.active else 'Turned off'} {after}"


def _forget_after_commit() -> None:
    # At once, so this request's next check reads the change; after commit too, in case
    # another thread of this process read the old revision before the commit.
    vocabulary_cache.forget()
    transaction.on_commit(vocabulary_cache.forget)
