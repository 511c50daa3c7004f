from django.contrib.auth.views import LogoutView
from django.urls import path

from messagecenter.accounts import two_factor_views, views

urlpatterns = [
    path("accounts/login/", views.SignInView.as_view(), name="login"),
    path("accounts/logout/", LogoutView.as_view(), name="logout"),
    path("account/security/", views.security, name="account-security"),
    path(
        "account/security/browsers/<int:browser_session_id>/sign-out/",
        views.end_browser_session,
        name="end-browser-session",
    ),
    path(
        "account/security/sign-out-everywhere/",
        views.sign_out_everywhere,
        name="sign-out-everywhere",
    ),
    path("account/security/tokens/", views.create_api_token, name="create-api-token"),
    path(
        "account/security/tokens/<int:token_id>/revoke/",
        views.revoke_api_token,
        name="revoke-api-token",
    ),
    path("account/time-zone/", views.time_zone, name="account-time-zone"),
    path("account/password/", views.change_password, name="password-change"),
    path("account/email-address/", views.change_email, name="email-change"),
    path("account/confirm-sign-in/", views.confirm_sign_in, name="confirm-sign-in"),
    path(
        "accounts/email-change/<str:token>/",
        views.confirm_email_change,
        name="email-change-confirm",
    ),
    path("accounts/two-factor/", two_factor_views.verify, name="two-factor-verify"),
    path("account/two-factor/", two_factor_views.settings_page, name="two-factor"),
    path("account/two-factor/start/", two_factor_views.start, name="two-factor-start"),
    path("account/two-factor/confirm/", two_factor_views.confirm, name="two-factor-confirm"),
    path("account/two-factor/off/", two_factor_views.turn_off, name="two-factor-off"),
    path("accounts/password-reset/", views.password_reset, name="password-reset"),
    path(
        "accounts/password-reset/<str:uidb64>/<str:token>/",
        views.password_reset_confirm,
        name="password-reset-confirm",
    ),
]
