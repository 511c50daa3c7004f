from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from messagecenter import demo
from messagecenter.marketplace import queries as marketplace_queries
from messagecenter.web.shortcuts import AuthenticatedHttpRequest


class SignInView(LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

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
