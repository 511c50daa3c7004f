from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, logout, password_validation, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, SetPasswordForm
from django.contrib.auth.tokens import default_token_generator
from django.contrib.auth.views import LoginView
from django.core import validators
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from messagecenter.accounts import (
    actions,
    email_changes,
    queries,
    recent_sign_in,
    time_zones,
    two_factor,
)
from messagecenter.accounts.authentication_backends import is_suspended_sign_in
from messagecenter.accounts.models import User
from messagecenter.accounts.passkey_actions import NAME_MAX_CHARS as PASSKEY_NAME_MAX_CHARS
from messagecenter.accounts.recent_sign_in import recent_sign_in_required
from messagecenter.accounts.sign_in_hints import sign_in_hints
from messagecenter.accounts.user_agents import describe
from messagecenter.errors import Conflict, InvalidInput, NotFound, TooManyRequests
from messagecenter.web.shortcuts import AuthenticatedHttpRequest, redirect_to_next

PASSWORD_MAX_CHARS = actions.PASSWORD_MAX_CHARS


class PasswordField(forms.CharField):
    """A password refused past PASSWORD_MAX_CHARS by the server alone: its input carries
    no maxlength. A browser cuts a longer password pasted from a password manager to the
    limit without a word, so a new password would be set to what was cut and a current
    one would fail as wrong; refused whole, it shows actions.PASSWORD_TOO_LONG instead."""

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        attrs.pop("maxlength", None)
        return attrs


class SignInForm(AuthenticationForm):
    password = PasswordField(
        label="Password", strip=False, max_length=PASSWORD_MAX_CHARS, widget=forms.PasswordInput
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        # One message whether the username exists or not.
        "invalid_login": "That username and password do not match an account. Check both "
        "and try again, or reset your password.",
        # Only ever after the right password (authentication_backends.PasswordBackend):
        # a wrong one gets invalid_login, whether the account is suspended or not.
        "suspended": "This account is suspended, so it cannot sign in: customer service "
        "suspended it after reviewing messages it sent, and e-mailed why to the account's "
        "e-mail address. If you think this is a mistake, appeal by e-mail: {how}",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Each field's error names the field: the page puts it on that field alone.
        self.fields["username"].error_messages["required"] = "Enter your username."
        self.fields["password"].error_messages.update(
            required="Enter your password.", max_length=actions.PASSWORD_TOO_LONG
        )

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()
        except forms.ValidationError as error:
            if error.code == "invalid_login" and is_suspended_sign_in(self.request):
                raise forms.ValidationError(
                    self.error_messages["suspended"].format(how=_how_to_appeal()),
                    code="suspended",
                ) from None
            raise


def _how_to_appeal() -> str:
    """The ways a suspended person appeals (docs/safety.md#appeals): a reply to the
    suspension e-mail, or customer service's address (read now: settings may change)."""
    if not settings.SUPPORT_EMAIL_ADDRESS:
        return "reply to that e-mail from the account's e-mail address."
    return (
        f"reply to that e-mail, or write to {settings.SUPPORT_EMAIL_ADDRESS}, from the "
        "account's e-mail address."
    )


# The methods every form page takes: Django's LoginView also answers PUT (as a POST) and
# OPTIONS, which no page of the site does.
@method_decorator(require_http_methods(["GET", "HEAD", "POST"]), name="dispatch")
class SignInView(LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True
    authentication_form = SignInForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        # The fields with something wrong, in the page's order: each is marked invalid and
        # described by the error, and the first takes the focus, as on the two-factor step.
        # After a wrong password the username is filled in already: that is the password.
        # Not after a suspended account's right password: nothing there is wrong.
        form = context["form"]
        invalid_fields = [name for name in ("username", "password") if form.has_error(name)]
        if form.has_error(NON_FIELD_ERRORS, "invalid_login") and not invalid_fields:
            invalid_fields = ["password"]
        context["invalid_fields"] = invalid_fields
        context["focus_field"] = invalid_fields[0] if invalid_fields else ""
        # On a demo install the sign-in page says which demo accounts to try.
        hints = sign_in_hints()
        if hints is not None:
            context["demo_sign_ins"] = hints.sign_ins
            context["demo_password"] = hints.password
        return context


def passkey_form_context(next_url: str, *, primary: bool = False) -> dict[str, Any]:
    """What the "Add a passkey" form (accounts/_passkey_add.html) needs."""
    return {
        "passkey_next": next_url,
        "passkey_name_max_chars": PASSKEY_NAME_MAX_CHARS,
        "passkey_primary": primary,
    }


def sign_in_paused(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any
) -> HttpResponse:
    """django-axes' answer once the username or the address reached the failure limit
    (settings.AXES_LOCKOUT_CALLABLE): the sign-in page, with when to try again and the way
    back now. It reads the same whether or not the username exists. A passkey sign-in
    (passkey_views.sign_in) answered the pause as JSON already: that answer stays."""
    if original_response is not None and original_response.get("Content-Type", "").startswith(
        "application/json"
    ):
        return original_response
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


@login_required
@require_safe
def security(request: AuthenticatedHttpRequest) -> HttpResponse:
    """ "Sign-in and security": the person's devices — signed-in browsers, API tokens and
    passkeys — with where they were last used; end one, or sign out everywhere. Right after
    a token is made, its secret once (_show_new_token_once)."""
    return _security_page(request, new_token=_new_token_to_show(request))


# The session key holding a new token's name and secret from its POST to the one page that
# shows them (Post/Redirect/Get: a reload of the result makes no second token). Never in
# the URL, where history, logs and Referer headers would keep it.
NEW_API_TOKEN_SESSION_KEY = "new_api_token"


def _show_new_token_once(request: AuthenticatedHttpRequest, name: str, secret: str) -> None:
    request.session[NEW_API_TOKEN_SESSION_KEY] = {"name": name, "secret": secret}


def _new_token_to_show(request: AuthenticatedHttpRequest) -> tuple[str, str] | None:
    """The new token's name and secret the first time the page is read after it was made,
    then gone from the session: a reload shows the list without it. A HEAD request (a
    link checker, a prefetch) shows nobody anything, so it leaves the secret for the GET."""
    if request.method != "GET":
        return None
    new_token = request.session.pop(NEW_API_TOKEN_SESSION_KEY, None)
    if not isinstance(new_token, dict):
        return None
    return str(new_token.get("name", "")), str(new_token.get("secret", ""))


def _security_page(
    request: AuthenticatedHttpRequest,
    *,
    new_token: tuple[str, str] | None = None,
    token_error: str = "",
    status: int = 200,
) -> HttpResponse:
    current_key = request.session.session_key
    browsers = [
        {
            "id": browser.pk,
            "device": describe(browser.user_agent),
            "user_agent": browser.user_agent,
            "signed_in_at": browser.signed_in_at,
            "first_place": browser.first_country or browser.first_address or "unknown",
            "last_used_at": browser.last_used_at,
            "last_place": browser.last_country or browser.last_address or "unknown",
            "is_current": browser.session_key == current_key,
        }
        for browser in queries.browser_sessions(request.user)
    ]
    tokens = [
        {
            "id": token.pk,
            "name": token.name,
            "prefix": token.prefix,
            # Shown once it was used (the page says "not used yet" before): a client that
            # sends no User-Agent used it from an unknown device.
            "device": describe(token.user_agent),
            "created_at": token.created_at,
            "first_place": token.first_used_country or token.first_used_address or "",
            "last_used_at": token.last_used_at,
            "last_place": token.last_used_country or token.last_used_address or "",
        }
        for token in queries.active_api_tokens(request.user)
    ]
    passkeys = [
        {
            "id": passkey.pk,
            "name": passkey.name,
            "created_at": passkey.created_at,
            "last_used_at": passkey.last_used_at,
            "last_place": passkey.last_used_country or passkey.last_used_address or "",
        }
        for passkey in queries.passkeys(request.user)
    ]
    return render(
        request,
        "accounts/security.html",
        {
            "browsers": browsers,
            "tokens": tokens,
            "passkeys": passkeys,
            "has_two_factor": two_factor.has_two_factor(request.user),
            **passkey_form_context(reverse("account-security")),
            "new_token": new_token,
            "token_error": token_error,
            "token_name_max_chars": actions.API_TOKEN_NAME_MAX_CHARS,
        },
        status=status,
    )


@login_required
@require_POST
def end_browser_session(request: AuthenticatedHttpRequest, browser_session_id: int) -> HttpResponse:
    is_current = (
        queries.browser_sessions(request.user)
        .filter(pk=browser_session_id, session_key=request.session.session_key)
        .exists()
    )
    actions.end_browser_session(request.user, browser_session_id)
    if is_current:
        logout(request)
        return redirect("login")
    messages.success(request, "That browser is signed out.")
    return redirect("account-security")


@login_required
@require_POST
def sign_out_everywhere(request: AuthenticatedHttpRequest) -> HttpResponse:
    signed_out = actions.sign_out_everywhere(request.user)
    # This browser's session is gone from the store: forget it here too, then say so.
    logout(request)
    messages.success(
        request,
        f"Signed out everywhere: {signed_out.browsers} browser"
        f"{'' if signed_out.browsers == 1 else 's'} and {signed_out.tokens} API token"
        f"{'' if signed_out.tokens == 1 else 's'}. Sign in again on the devices you use.",
    )
    return redirect("login")


@login_required
@require_POST
@recent_sign_in_required
def create_api_token(request: AuthenticatedHttpRequest) -> HttpResponse:
    try:
        token, secret = actions.create_api_token(request.user, request.POST.get("name", ""))
    except InvalidInput as error:
        return _security_page(request, token_error=error.message, status=400)
    _show_new_token_once(request, token.name, secret)
    return redirect("account-security")


@login_required
@require_POST
def revoke_api_token(request: AuthenticatedHttpRequest, token_id: int) -> HttpResponse:
    try:
        token = actions.revoke_api_token(request.user, token_id)
    except NotFound:
        # Revoked from a second tab that still listed it: not "we can't find that page".
        if not queries.is_revoked_api_token(request.user, token_id):
            raise
        messages.info(request, "This token was revoked already.")
        return redirect("account-security")
    messages.success(request, f"The API token “{token.name}” no longer works.")
    return redirect("account-security")


def focus_first_wrong_field(form: forms.Form) -> None:
    """A refused form's first wrong field, in the page's order, takes the focus, as on the
    sign-in page; no other field keeps one (PasswordChangeForm's current password always
    had it, whichever field was wrong). Django marks each wrong field aria-invalid and
    describes it by its own error list (`<id>_error`), which the page shows beside it;
    the page's alert reads every error, each naming its field and what to do."""
    wrong = [field for field in form if field.errors]
    if not wrong:
        return
    for field in form:
        field.field.widget.attrs.pop("autofocus", None)
    wrong[0].field.widget.attrs["autofocus"] = True


class TimeZoneForm(forms.Form):
    # Only a page sent with a name not in the list (an old page, a script) is refused:
    # Django's "Select a valid choice. … is not one of the available choices." named no
    # field and nothing to do.
    time_zone = forms.ChoiceField(
        label="Time zone",
        choices=time_zones.choices,
        error_messages={
            "required": "Choose your time zone from the list.",
            "invalid_choice": "Choose your time zone from the list.",
        },
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def time_zone(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The zone every date of the person's pages and e-mails is shown in."""
    # The zone dates are shown in: for a stored name no longer accepted ("localtime"), the
    # default it falls back to, so Save keeps what the person sees.
    shown = time_zones.name_of(request.user)
    form = TimeZoneForm(request.POST or None, initial={"time_zone": shown})
    form.fields["time_zone"].choices = time_zones.choices_for(shown)  # type: ignore[attr-defined]
    if request.method == "POST" and form.is_valid():
        actions.set_time_zone(request.user, form.cleaned_data["time_zone"])
        messages.success(request, f"Dates are now shown in {request.user.time_zone}.")
        return redirect("account-time-zone")
    focus_first_wrong_field(form)
    return render(
        request,
        "accounts/time_zone.html",
        {"form": form, "now": timezone.now(), "time_zone": shown},
        status=400 if request.method == "POST" else 200,
    )


# A field's error says which field and what to do: "This field is required." under the
# field, and "Check the fields below." above the form, said neither.
CURRENT_PASSWORD_ERRORS = {
    "required": "Enter your current password.",
    "max_length": actions.PASSWORD_TOO_LONG,
}


def limit_password_length(field: forms.Field) -> None:
    """A password field of Django's forms (PasswordChangeForm's, SetPasswordForm's) took
    any length, hashed or checked against the rules whole: it is refused past
    PASSWORD_MAX_CHARS, on that field and unhashed, as on the sign-in page — by the server
    alone, as PasswordField: its input is given no maxlength."""
    assert isinstance(field, forms.CharField)
    field.max_length = PASSWORD_MAX_CHARS
    field.validators.append(validators.MaxLengthValidator(PASSWORD_MAX_CHARS))
    field.error_messages["max_length"] = actions.PASSWORD_TOO_LONG


class NewPasswordForm(SetPasswordForm[User]):
    """A new password, typed twice: the reset link's page (ChangePasswordForm adds the
    current password). The same password rules as everywhere (AUTH_PASSWORD_VALIDATORS)."""

    error_messages = {
        **SetPasswordForm.error_messages,
        "password_mismatch": "The two new passwords do not match: type the same new "
        "password in both fields.",
        "password_refused": "Choose another new password: this one does not follow the rules.",
    }

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(user, *args, **kwargs)
        self.fields["new_password1"].error_messages["required"] = "Enter a new password."
        self.fields["new_password2"].error_messages["required"] = (
            "Enter the new password a second time, to confirm it."
        )
        for name in ("new_password1", "new_password2"):
            limit_password_length(self.fields[name])

    @sensitive_variables("password")
    def clean(self) -> dict[str, Any]:
        self.validate_passwords("new_password1", "new_password2")
        # The rules are checked on the new password itself, the field that shows them and
        # the one to change: Django's SetPasswordForm put each broken rule on the
        # confirmation, marking the wrong field. Each rule's own message is kept. Not while
        # the two differ: which of them was meant is not known yet.
        password = self.cleaned_data.get("new_password1")
        if password and not self.has_error("new_password2", "password_mismatch"):
            try:
                password_validation.validate_password(password, self.user)
            except ValidationError as broken:
                refused = ValidationError(
                    self.error_messages["password_refused"], code="password_refused"
                )
                self.add_error("new_password1", [refused, *broken.error_list])
        return self.cleaned_data


class ChangePasswordForm(NewPasswordForm, PasswordChangeForm):
    """The current password, then a new one typed twice."""

    error_messages = {
        **NewPasswordForm.error_messages,
        "password_incorrect": "That is not your current password: check it and try again.",
        "password_unchanged": "Choose a new password: this one is your current password.",
    }

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(user, *args, **kwargs)
        self.fields["old_password"].label = "Current password"
        limit_password_length(self.fields["old_password"])
        self.fields["old_password"].error_messages.update(CURRENT_PASSWORD_ERRORS)

    @sensitive_variables("current", "password")
    def clean(self) -> dict[str, Any]:
        # The current password again (a password manager fills the saved one into every
        # field) changed nothing but said "Your password is changed", signing every other
        # device out and revoking every token: someone who knows it still does. The
        # current password is in cleaned_data only once it was checked, so this tells
        # nothing to whoever does not know it. (A reset link's page takes any: its person
        # forgot it.)
        super().clean()
        current = self.cleaned_data.get("old_password")
        password = self.cleaned_data.get("new_password1")
        if current and password == current:
            self.add_error(
                "new_password1",
                ValidationError(
                    self.error_messages["password_unchanged"], code="password_unchanged"
                ),
            )
        return self.cleaned_data


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@recent_sign_in_required
def change_password(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Asks for the current password (a sign-in on the spot, so a browser left signed in
    cannot change it), then signs every other browser out and revokes every API token."""
    form = ChangePasswordForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        old_key = request.session.session_key
        signed_out = actions.change_password(
            request.user, form.cleaned_data["new_password1"], keep_session_key=old_key
        )
        update_session_auth_hash(request, request.user)
        actions.browser_session_key_changed(old_key, request.session.session_key)
        messages.success(
            request,
            "Your password is changed. Every other browser is signed out "
            f"({signed_out.browsers}) and every API token revoked ({signed_out.tokens}).",
        )
        return redirect("account-security")
    focus_first_wrong_field(form)
    return render(
        request,
        "accounts/password_change.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "HEAD", "POST"])
def password_reset(request: HttpRequest) -> HttpResponse:
    """ "Forgot your password?": a username or e-mail address in, the same answer out
    whether or not an account has it; the link goes to the account's own address."""
    if request.method == "POST":
        actions.request_password_reset(request.POST.get("identifier", ""))
        return render(request, "accounts/password_reset.html", {"is_sent": True})
    return render(
        request,
        "accounts/password_reset.html",
        {"identifier_max_chars": actions.RESET_IDENTIFIER_MAX_CHARS},
    )


@require_http_methods(["GET", "HEAD", "POST"])
def password_reset_confirm(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """The link from the e-mail: a new password, then every device is signed out and the
    person signs in again. A used, expired or altered link changes nothing (400)."""
    person = _person_of_reset_link(uidb64, token)
    if person is None:
        return render(request, "accounts/password_reset_confirm.html", {"form": None}, status=400)
    form = NewPasswordForm(person, request.POST or None)
    if request.method == "POST" and form.is_valid():
        actions.reset_password(person, form.cleaned_data["new_password1"])
        if request.user.is_authenticated:
            logout(request)
        messages.success(
            request, "Your password is changed and every device signed out. Sign in again."
        )
        return redirect("login")
    focus_first_wrong_field(form)
    return render(
        request,
        "accounts/password_reset_confirm.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )


def _person_of_reset_link(uidb64: str, token: str) -> User | None:
    try:
        user_id = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError):
        return None
    person = User.objects.filter(pk=user_id, is_active=True).first()
    if person is None or not default_token_generator.check_token(person, token):
        return None
    return person


class EmailChangeForm(forms.Form):
    email = forms.CharField(
        label="New e-mail address",
        max_length=actions.EMAIL_ADDRESS_MAX_CHARS,
        strip=True,
        error_messages={
            "required": "Enter the new e-mail address.",
            "max_length": f"An e-mail address is at most {actions.EMAIL_ADDRESS_MAX_CHARS} "
            "characters: check the new address.",
        },
    )
    password = PasswordField(
        label="Your current password",
        strip=False,
        max_length=PASSWORD_MAX_CHARS,
        widget=forms.PasswordInput,
        error_messages=CURRENT_PASSWORD_ERRORS,
    )


# The field each refusal of actions.request_email_change is about: it is marked and focused.
# An address another account uses is not one of them: the asker is told nothing of it.
EMAIL_CHANGE_REFUSAL_FIELDS = {
    "wrong_password": "password",
    "password_too_long": "password",
    "invalid_email": "email",
    "same_email": "email",
}


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@recent_sign_in_required
def change_email(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A new e-mail address: a link goes to it, and it changes only once the link is
    opened (actions.request_email_change). The page says the same whether or not another
    account uses the address."""
    form = EmailChangeForm(request.POST or None)
    error: TooManyRequests | None = None
    if request.method == "POST" and form.is_valid():
        try:
            address = actions.request_email_change(
                request.user, form.cleaned_data["email"], form.cleaned_data["password"]
            )
        except InvalidInput as refused:
            form.add_error(EMAIL_CHANGE_REFUSAL_FIELDS.get(refused.code), refused.message)
        except TooManyRequests as refused:
            # Nothing in the form is wrong: the same ask is right a minute later.
            error = refused
        else:
            messages.success(
                request,
                f"We sent a link to {address}. Open it within "
                f"{settings.EMAIL_CHANGE_LINK_HOURS} hours to confirm the new address; "
                "until then your address stays as it is.",
            )
            return redirect("email-change")
    focus_first_wrong_field(form)
    return render(
        request,
        "accounts/email_change.html",
        {"form": form, "error": error},
        status=(error.status if error else 400) if request.method == "POST" else 200,
    )


def _link_refused(
    request: HttpRequest, template: str, refused: InvalidInput | Conflict | None = None
) -> HttpResponse:
    """An e-mail link's page saying why it does nothing (its template's own words for an
    altered, expired or used link when `refused` is None)."""
    status = refused.status if refused is not None else 400
    return render(request, template, {"is_valid": False, "error": refused}, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
def confirm_email_change(request: HttpRequest, token: str) -> HttpResponse:
    """The link from the e-mail: a button to press (a mail scanner that opens links
    changes nothing), then the address changes. No sign-in needed: the link is the proof
    of reading the new mailbox, and it was asked for from the signed-in account."""
    change = email_changes.read_link_token(token)
    if change is None or not queries.confirmable_email_change(change):
        return _link_refused(request, "accounts/email_change_confirm.html")
    # Signed in as someone else, the button would change the other account's address while
    # this account's page said "Your e-mail address is now …" (the API refuses the same).
    if request.user.is_authenticated and request.user.pk != change.user_id:
        other = InvalidInput(
            "This link changes another account's e-mail address, not the one you are signed "
            "in to. Sign out, then open the link again.",
            code="email_change_other_account",
        )
        return _link_refused(request, "accounts/email_change_confirm.html", other)
    if request.method == "POST":
        try:
            actions.confirm_email_change(token)
        except (InvalidInput, Conflict) as refused:
            return _link_refused(request, "accounts/email_change_confirm.html", refused)
        messages.success(request, f"Your e-mail address is now {change.new_address}.")
        return redirect("account" if request.user.is_authenticated else "login")
    return render(
        request,
        "accounts/email_change_confirm.html",
        {"is_valid": True, "new_address": change.new_address},
    )


@require_http_methods(["GET", "HEAD", "POST"])
def undo_email_change(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the notice to the old address ("It was not me"): a button to press (a
    mail scanner that opens links changes nothing), then the old address is back and
    everyone is signed out (actions.undo_email_change). No sign-in needed — its owner may
    be locked out, and the link is the proof of reading the old mailbox — and the page
    never shows the new address. Signed in to another account, it still undoes only the
    link's account, which the page names."""
    found = queries.undoable_email_change(token)
    if found is None:
        return _link_refused(request, "accounts/email_change_undo.html")
    change, username = found
    if request.method == "POST":
        try:
            actions.undo_email_change(token)
        except (InvalidInput, Conflict) as refused:
            return _link_refused(request, "accounts/email_change_undo.html", refused)
        # This browser, if it was signed in to that account, is signed out with the rest.
        if request.user.is_authenticated and request.user.pk == change.user_id:
            logout(request)
        messages.success(
            request,
            f"The e-mail address of {username} is {change.old_address} again, every browser "
            "and app is signed out, the password no longer works and the passkeys and "
            "authenticator app added since the change are removed. We sent a link to "
            f"{change.old_address}: choose a new password with it, then sign in.",
        )
        return redirect("login")
    return render(
        request,
        "accounts/email_change_undo.html",
        {"is_valid": True, "username": username, "old_address": change.old_address},
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def confirm_sign_in(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The recent sign-in rule's page (accounts/recent_sign_in.py): the password again —
    counted by the sign-in limits like the sign-in page's — and the code when two-factor is
    on; then back to the page the person was on."""
    needs_code = two_factor.has_two_factor(request.user)
    has_passkey = two_factor.has_passkey(request.user)
    # With passkeys and no app, the password and a recovery code would be less than the
    # sign-in itself asks: only the passkey confirms.
    takes_password = not has_passkey or two_factor.has_authenticator_app(request.user)
    error = ""
    status = 200
    if request.method == "POST":
        if not takes_password:
            error, status = "Use your passkey to confirm it is you.", 400
        else:
            error, status = _confirm_sign_in(request, needs_code)
        if not error:
            return redirect_to_next(request, reverse("account-security"))
    return render(
        request,
        "accounts/confirm_sign_in.html",
        {
            "needs_code": needs_code,
            "has_passkey": has_passkey,
            "takes_password": takes_password,
            "error": error,
            "minutes": settings.RECENT_SIGN_IN_MINUTES,
            "next": request.POST.get("next") or request.GET.get("next", ""),
        },
        status=status,
    )


def _confirm_sign_in(request: AuthenticatedHttpRequest, needs_code: bool) -> tuple[str, int]:
    password = request.POST.get("password", "")
    if len(password) > PASSWORD_MAX_CHARS:
        # Refused unhashed and uncounted, as on the sign-in page; cut to the limit, it
        # was checked (and counted as a wrong password) as if the rest were not typed.
        return actions.PASSWORD_TOO_LONG, 400
    try:
        person = authenticate(request, username=request.user.get_username(), password=password)
    except PermissionDenied:
        return (
            f"Too many wrong passwords: try again in {settings.SIGN_IN_LOCKOUT_MINUTES} "
            "minutes, or reset your password.",
            429,
        )
    if person is None or person.pk != request.user.pk:
        return "That password is not right.", 400
    if needs_code:
        try:
            two_factor.verify(request, request.user, request.POST.get("code", ""))
        except (InvalidInput, TooManyRequests) as invalid:
            return invalid.message, invalid.status
    recent_sign_in.mark(request)
    return "", 200
