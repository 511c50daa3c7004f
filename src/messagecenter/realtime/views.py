"""GET /api/v1/sync/stream under a WSGI server (`runserver`, pytest-django's live_server).

Under ASGI (`messagecenter serve`) this path never reaches Django: `messagecenter/asgi.py`
routes it to `realtime.streams.stream_application`, which streams. A WSGI server cannot
hold a response open without blocking a thread for ever, so here the view answers what is
in the log after the device's position and ends; EventSource reconnects after `retry`
with Last-Event-ID, which makes it a poll (docs/realtime.md, "Live pages"). It judges the
request exactly as the stream does (realtime/streams.py: `authenticate`, `position_of`).
"""

from django.http import HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_GET

from messagecenter.api_support import error_response
from messagecenter.errors import InvalidInput, NotAuthenticated, NotFound
from messagecenter.realtime import queries
from messagecenter.realtime.streams import (
    CONTENT_TYPE,
    RETRY_MESSAGE,
    STREAM_PAGE_SIZE,
    authenticate,
    page_messages,
    position_of,
    stream_headers,
)


@require_GET
def event_stream(request: HttpRequest) -> HttpResponseBase:
    try:
        credential = authenticate(request)
        after = position_of(request)
    except (NotAuthenticated, InvalidInput, NotFound) as error:
        return error_response(error)
    page = queries.events_after(credential.user_id, after, STREAM_PAGE_SIZE)
    response = StreamingHttpResponse(
        [RETRY_MESSAGE, page_messages(page)], content_type=CONTENT_TYPE
    )
    stream_headers(response)
    return response
