from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect
from django.views.decorators.http import require_safe


@require_safe
def home(request: HttpRequest) -> HttpResponseRedirect:
    """The site's front door: the Message Center for a signed-in person (the console for
    an agent), else sign-in."""
    if not request.user.is_authenticated:
        return redirect("login")
    return redirect("console" if getattr(request.user, "is_agent", False) else "message-center")
