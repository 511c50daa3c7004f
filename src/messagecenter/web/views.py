from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect
from django.templatetags.static import static
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

# How long a browser may keep /favicon.ico's answer before asking again.
FAVICON_CACHE_SECONDS = 24 * 60 * 60


@require_safe
def home(request: HttpRequest) -> HttpResponseRedirect:
    """The site's front door: the Message Center for a signed-in person (the console for
    an agent), else sign-in."""
    if not request.user.is_authenticated:
        return redirect("login")
    return redirect("console" if getattr(request.user, "is_agent", False) else "message-center")


@require_safe
def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """The site's icon where browsers look for it without being told: a page with no
    <link rel="icon"> (the admin's, the API's JSON) made them ask for /favicon.ico, a 404
    logged for every admin page. Sent on to the icon the site's pages name (an SVG, which
    browsers take from here too); not permanently, as STATIC_URL may move (a CDN)."""
    response = redirect(static("web/favicon.svg"))
    patch_cache_control(response, public=True, max_age=FAVICON_CACHE_SECONDS)
    return response
