from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect
from django.views.decorators.http import require_safe


@require_safe
def home(request: HttpRequest) -> HttpResponseRedirect:
    """The site's front door: the Message Center for a signed-in person, else sign-in."""
    return redirect("message-center" if request.user.is_authenticated else "login")
