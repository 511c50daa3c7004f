from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from messagecenter import demo
from messagecenter.marketplace import queries as marketplace_queries
from messagecenter.web.shortcuts import AuthenticatedHttpRequest

# Longer is no password anyone types; refusing it unhashed keeps a megabyte "password"
# from costing anything.
PASSWORD_MAX_CHARS = 1024


class SignInForm(AuthenticationForm):
    password = forms.CharField(
        label="Password", strip=False, max_length=PASSWORD_MAX_CHARS, widget=forms.PasswordInput
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        # One message whether the username exists or not.
        "invalid_login": "That username and password do not match an account. Check both "
        "and try again, or reset your password.",
    }


class SignInView(LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True
    authentication_form = SignInForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        # On a demo install the sign-in page says which demo accounts to try.
        if demo.is_loaded():
            context["demo_sign_ins"] = demo.SIGN_INS
            context["demo_password"] = demo.DEMO_PASSWORD
        return context


@login_required
@require_safe
def account(request: AuthenticatedHttpRequest) -> HttpResponse:
    """ "Your Account": the way to the Message Center and Your Orders, as in the user's guide."""
    return render(
        request,
        "accounts/account.html",
        {"products": marketplace_queries.storefront_products(request.user)},
    )


def sign_in_paused(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any
) -> HttpResponse:
    """django-axes' answer once the username or the address reached the failure limit
    (settings.AXES_LOCKOUT_CALLABLE): the sign-in page, with when to try again and the way
    back now. It reads the same whether or not the username exists."""
    return render(
        request,
        "accounts/login.html",
        {
            "form": SignInForm(request),
            "paused_minutes": settings.SIGN_IN_LOCKOUT_MINUTES,
            "next": request.POST.get("next", ""),
        },
        status=429,
    )
