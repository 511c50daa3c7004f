"""Where a live page stands in the person's event log (docs/realtime.md, "Live pages").

A page that site.js keeps up to date — the Message Center's list, a conversation, a
notice, a case in the console — is rendered from reads made at one moment, and its event
stream opens a moment later, once the browser has loaded it. Started "from now", the
stream would skip what happened in between: a reply that lands while the page loads
would show only after a reload. So these pages read the person's position first, before
anything they show, and say it (`<body data-live-after>`); the stream starts there and
replays whatever came after, which the page applies as it does any event (a message
already on the page is not added twice).
"""

from collections.abc import Callable
from functools import wraps
from typing import Concatenate

from django.http import HttpResponse

from messagecenter.realtime.queries import last_sequence_of
from messagecenter.web.shortcuts import AuthenticatedHttpRequest

type PageView[**P] = Callable[Concatenate[AuthenticatedHttpRequest, P], HttpResponse]


def live_page[**P](view: PageView[P]) -> PageView[P]:
    """For a view of a signed-in person's page: on a GET, the person's position is read
    before the view reads anything (`request.live_after`, which web/base.html renders).
    Not for a POST that renders a page again (an error): its own writes' events would come
    back to it; nor for a page's partial answers, which no stream starts from."""

    @wraps(view)
    def read_position_first(
        request: AuthenticatedHttpRequest, /, *args: P.args, **kwargs: P.kwargs
    ) -> HttpResponse:
        if request.method == "GET" and "X-Partial" not in request.headers:
            setattr(request, "live_after", last_sequence_of(request.user.pk))  # noqa: B010
        return view(request, *args, **kwargs)

    return read_position_first
