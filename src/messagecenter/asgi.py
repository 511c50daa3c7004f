"""The ASGI application `messagecenter serve` runs: Django, except for the event stream.

GET /api/v1/sync/stream goes to `realtime.streams.stream_application`, outside Django's
request handler, which would keep a thread for as long as each stream stays open
(docs/realtime.md, "The stream"). Everything else, including WebSocket and lifespan
scopes, goes to Django.
"""

import contextlib
import os
import resource
from typing import Any

from django.core.asgi import get_asgi_application

# Every open stream is a socket: take all the open files the system allows this process
# (the soft limit, often 1,024, is raised to the hard limit; going past that needs root).
_, _open_files_hard_limit = resource.getrlimit(resource.RLIMIT_NOFILE)
with contextlib.suppress(ValueError, OSError):
    resource.setrlimit(resource.RLIMIT_NOFILE, (_open_files_hard_limit, _open_files_hard_limit))

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "messagecenter.settings")
django_application = get_asgi_application()

# After get_asgi_application (django.setup): it reads models and settings.
from messagecenter.realtime.streams import PATH, stream_application  # noqa: E402


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    path = scope.get("path", "")
    root_path = scope.get("root_path", "")
    if root_path and path.startswith(root_path):
        path = path[len(root_path) :]
    if scope["type"] == "http" and path == PATH:
        await stream_application(scope, receive, send)
    else:
        await django_application(scope, receive, send)
