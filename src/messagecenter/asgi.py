"""The ASGI application `messagecenter serve` runs.

GET /api/v1/sync/stream goes to `realtime.streams.stream_application`, outside Django's
request handler, which would keep a thread for as long as each stream stays open
(docs/realtime.md, "The stream").

Every other request goes to Django's WSGI handler on a pool of `WEB_THREADS` threads
(server/threads.py, on a2wsgi: an ordinary request crosses once each way). Not Django's
ASGI handler: it runs synchronous middleware and views in one thread per process
(asgiref's thread-sensitive mode), so a process answered one request at a time and stood
still while each waited for the database, and its hand-offs between the event loop and
that thread cost more than a small request itself — GET /healthz answered ≈ 300
requests/s through it and ≈ 3,000/s through this pool (docs/benchmarks.md, decision 0006).
The project has no async views; WebSocket connections are closed (code 1000).
"""

import contextlib
import gc
import os
import resource
import time
from typing import Any, cast

from a2wsgi.wsgi_typing import WSGIApp
from django.conf import settings
from django.core.wsgi import get_wsgi_application

from messagecenter.request_bodies import ChunkedBodies
from messagecenter.server.loop_threads import LoopThreads
from messagecenter.server.threads import DjangoInThreads

# Every open stream is a socket: take all the open files the system allows this process
# (the soft limit, often 1,024, is raised to the hard limit; going past that needs root).
_, _open_files_hard_limit = resource.getrlimit(resource.RLIMIT_NOFILE)
with contextlib.suppress(ValueError, OSError):
    resource.setrlimit(resource.RLIMIT_NOFILE, (_open_files_hard_limit, _open_files_hard_limit))

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "messagecenter.settings")
# Django's stubs type the handler's answer as a response, which is the iterable of bytes
# WSGI asks for.
django_handler = cast("WSGIApp", ChunkedBodies(get_wsgi_application()))
django_application = DjangoInThreads(django_handler, workers=settings.WEB_THREADS)

# After get_wsgi_application (django.setup): it reads models and settings.
from messagecenter.realtime.streams import PATH, stream_application  # noqa: E402
from messagecenter.server import express  # noqa: E402
from messagecenter.server.timing import RECEIVED_AT  # noqa: E402
from messagecenter.server.warm import warm_up  # noqa: E402

# Sends on their own pool of threads (SEND_THREADS): a send waiting for its batch keeps a
# thread, and on the main road's pool it kept it from pages and reads.
express_lane = express.ExpressLane(
    django_application,
    LoopThreads(settings.SEND_THREADS, name="send"),
    read_threads=django_application.threads,
)

# Before the first request rather than during it, and before the freeze below.
warm_up()

# Everything alive now (Django, the apps, their modules: ≈ 117,000 objects) lives as long as
# the process: take it out of the garbage collector's reach, so that a full collection does
# not walk it in the middle of a request — measured on the 100-message page, p99 74 → 22 ms
# (docs/benchmarks.md, "Per-request cost").
gc.freeze()


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    path = scope.get("path", "")
    root_path = scope.get("root_path", "")
    if root_path and path.startswith(root_path):
        path = path[len(root_path) :]
    if scope["type"] != "http":
        await django_application(scope, receive, send)
        return
    if path == PATH:
        await stream_application(scope, receive, send)
        return
    # Server-Timing counts from here: waiting for a free thread is server time too.
    timed: Any = {**scope, RECEIVED_AT: time.perf_counter()}
    view = express.route(scope, path) if settings.EXPRESS_LANE else None
    if view is not None:
        await express_lane(timed, receive, send, view)
    else:
        await django_application(timed, receive, send)
