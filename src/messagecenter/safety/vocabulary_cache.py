"""The vocabulary in force (docs/safety.md#vocabulary): the admin's newest revision with the
settings on top, cached per process so the send path reads no row per message.

The newest VocabularyRevision is read at most once per VOCABULARY_CACHE_SECONDS per process
(one query), and at once after a change saved in this process (safety.actions forgets the
copy after commit); other processes follow within that time. Settings changed while running
(tests) are read on every call: they cost no query.
"""

import threading
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from messagecenter.safety.models import VocabularyRevision
from messagecenter.safety.vocabulary import Vocabulary, default_lists, with_settings

# A change saved in the admin reaches other processes within this time.
VOCABULARY_CACHE_SECONDS = 60.0

_lock = threading.Lock()
_loaded_at: float | None = None
_lists: dict[str, tuple[str, ...]] = {}
_revision = 0
# Raised at every read of the row: what was built from an earlier read is not reused (a
# revision number can come back when the transaction that wrote it was rolled back).
_reads = 0
_built: dict[tuple[object, ...], Vocabulary] = {}


def current() -> Vocabulary:
    """The vocabulary the detector judges with now, and its version."""
    lists, revision, reads = _newest_revision()
    key = (
        reads,
        tuple(getattr(settings, "SAFETY_OPERATOR_NAMES", ())),
        tuple(getattr(settings, "SAFETY_OPERATOR_DOMAINS", ())),
        tuple(getattr(settings, "SAFETY_TRUSTED_DOMAINS", ())),
        settings.SITE_URL,
        getattr(settings, "SAFETY_PHONE_REGION", "US"),
        tuple(sorted(dict(getattr(settings, "SAFETY_POLICY", {})).items())),
    )
    vocabulary = _built.get(key)
    if vocabulary is None:
        vocabulary = _with_settings(lists, revision)
        with _lock:
            if len(_built) > 32:
                _built.clear()
            _built[key] = vocabulary
    return vocabulary


def built_in() -> Vocabulary:
    """The default lists with the settings on top, without reading the admin's revision: what
    a server process judges a sample with before its first request (server/warm.py)."""
    return _with_settings(default_lists(), 0)


def _with_settings(lists: dict[str, tuple[str, ...]], revision: int) -> Vocabulary:
    try:
        return with_settings(
            lists,
            revision,
            operator_names=tuple(getattr(settings, "SAFETY_OPERATOR_NAMES", ())),
            operator_domains=tuple(getattr(settings, "SAFETY_OPERATOR_DOMAINS", ())),
            trusted_domains=tuple(getattr(settings, "SAFETY_TRUSTED_DOMAINS", ())),
            site_host=(urlsplit(settings.SITE_URL).hostname or "").lower(),
            phone_region=getattr(settings, "SAFETY_PHONE_REGION", "US"),
            policy=dict(getattr(settings, "SAFETY_POLICY", {})),
        )
    except ValueError as error:
        raise ImproperlyConfigured(str(error)) from None


def _newest_revision() -> tuple[dict[str, tuple[str, ...]], int, int]:
    global _loaded_at, _lists, _revision, _reads
    with _lock:
        now = time.monotonic()
        if _loaded_at is None or now - _loaded_at > VOCABULARY_CACHE_SECONDS:
            newest = VocabularyRevision.objects.order_by("-number").values_list("number", "lists")[
                :1
            ]
            found = list(newest)
            if found:
                number, lists = found[0]
                _lists = {kind: tuple(values) for kind, values in lists.items()}
                _revision = number
            else:
                # No revision stored (a database emptied by hand or by a test's flush):
                # the defaults in code, as revision 0.
                _lists, _revision = default_lists(), 0
            _loaded_at = now
            _reads += 1
        return _lists, _revision, _reads


def forget() -> None:
    """Read the newest revision again on next use (after a change; between tests)."""
    global _loaded_at
    with _lock:
        _loaded_at = None
