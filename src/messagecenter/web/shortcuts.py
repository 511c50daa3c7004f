"""What every page's view needs besides its one action: the signed-in person's type, a
safe way back to where a form came from, and the key that makes a form submit once."""

import uuid
from typing import TYPE_CHECKING

from django.http import HttpRequest, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme

if TYPE_CHECKING:
    # A type only: the foundation does not depend on accounts at run time.
    from messagecenter.accounts.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """The request of a view behind login_required: `user` is a signed-in User."""

    user: "User"


def redirect_to_next(request: HttpRequest, fallback: str) -> HttpResponseRedirect:
    """Back to the page the form was on. `next` comes from the browser, so anything that
    is not a URL of this site becomes the fallback: no open redirect."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = fallback
    return HttpResponseRedirect(target)


def new_idempotency_key() -> str:
    """Put in a form when it is rendered: submitting the same form twice (a double click, a
    resubmit after a timeout) sends the message once."""
    return str(uuid.uuid4())
