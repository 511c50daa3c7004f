from django.contrib.auth.views import LogoutView
from django.urls import path

from messagecenter.accounts import passkey_views, two_factor_views, views

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
    path(
        "accounts/email-change/undo/<str:token>/",
        views.undo_email_change,
        name="email-change-undo",
    ),
    path("accounts/two-factor/", two_factor_views.verify, name="two-factor-verify"),
    path("account/two-factor/", two_factor_views.settings_page, name="two-factor"),
    path("account/two-factor/start/", two_factor_views.start, name="two-factor-start"),
    path("account/two-factor/confirm/", two_factor_views.confirm, name="two-factor-confirm"),
    path("account/two-factor/off/", two_factor_views.turn_off, name="two-factor-off"),
    # Passkeys (passkey_views.py): each ceremony's options, then the authenticator's answer.
    path(
        "account/passkeys/options/",
        passkey_views.registration_options,
        name="passkey-registration-options",
    ),
    path("account/passkeys/", passkey_views.register, name="passkey-register"),
    path("account/passkeys/<int:passkey_id>/remove/", passkey_views.remove, name="passkey-remove"),
    path(
        "accounts/two-factor/passkey/options/",
        passkey_views.second_factor_options,
        name="two-factor-passkey-options",
    ),
    path("accounts/two-factor/passkey/", passkey_views.second_factor, name="two-factor-passkey"),
    path(
        "accounts/passkey-sign-in/options/",
        passkey_views.sign_in_options,
        name="passkey-sign-in-options",
    ),
    path("accounts/passkey-sign-in/", passkey_views.sign_in, name="passkey-sign-in"),
    path(
        "account/confirm-sign-in/passkey/options/",
        passkey_views.confirm_options,
        name="confirm-sign-in-passkey-options",
    ),
    path(
        "account/confirm-sign-in/passkey/",
        passkey_views.confirm,
        name="confirm-sign-in-passkey",
    ),
    path("accounts/password-reset/", views.password_reset, name="password-reset"),
    path(
        "accounts/password-reset/<str:uidb64>/<str:token>/",
        views.password_reset_confirm,
        name="password-reset-confirm",
    ),
]
