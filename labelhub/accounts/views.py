"""Console pages: sign-in/out (and its 2FA step), password reset, profile, invitations, setup."""

from __future__ import annotations

import django_otp
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods
from django_otp.plugins.otp_static.models import StaticDevice

from labelhub.accounts import hooks, mfa, services
from labelhub.accounts.forms import (
    MfaCodeForm,
    MfaReauthForm,
    ProfileForm,
    SignInCodeForm,
    SignInForm,
)
from labelhub.core.errors import ApplicationError
from labelhub.core.views import apply_error_to_form, flash_error

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


class SignInView(auth_views.LoginView):
    """E-mail + password sign-in (django-axes throttles failures; the session key rotates)."""

    form_class = SignInForm
    template_name = "accounts/sign_in.html"
    redirect_authenticated_user = True

    def dispatch(self, request, *args, **kwargs):
        if not hooks.is_installed():
            return redirect("console:setup")
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        """Sign in, or hold the user until the authenticator's code when one is enrolled."""
        user = form.get_user()
        if mfa.has_mfa(user):
            mfa.pending_start(self.request, user, next_url=self.get_redirect_url())
            return redirect("accounts:sign-in-code")
        mfa.pending_clear(self.request)  # another account's unfinished sign-in ends here
        return super().form_valid(form)


@require_http_methods(["GET", "POST"])
def sign_in_code(request):
    """Second factor: after the password, or for a signed-in session an admin page asks it of."""
    if request.user.is_authenticated:
        next_url = mfa.safe_next(request, request.POST.get("next") or request.GET.get("next"))
        if mfa.is_verified(request.user) or not mfa.has_mfa(request.user):
            return redirect(next_url or settings.LOGIN_REDIRECT_URL)
        user, pending = request.user, None
    else:
        pending, expired = mfa.pending_get(request)
        if pending is None:
            if expired:
                messages.error(request, "The sign-in timed out. Enter your password again.")
            return redirect("accounts:sign-in")
        user, next_url = pending.user, pending.next_url
    form = SignInCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = mfa.verify_code(user=user, code=form.cleaned_data["code"])
        except ApplicationError as exc:
            apply_error_to_form(form, exc)
        else:
            if pending is not None:
                mfa.pending_clear(request)
                login(request, user, backend=pending.backend)  # rotates the session key
            else:
                request.session.cycle_key()
            django_otp.login(request, device)
            if isinstance(device, StaticDevice):
                _recovery_code_used(request, user)
            return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    return render(
        request,
        "accounts/sign_in_code.html",
        {"form": form, "next": next_url, "step_up": pending is None, "person": user},
    )


def _recovery_code_used(request, user) -> None:
    left = mfa.recovery_codes_left(user)
    if left:
        messages.warning(
            request, f"You signed in with a recovery code; {left} left. Each works only once."
        )
    else:
        messages.warning(
            request, "That was your last recovery code. Create new ones on your profile."
        )


class SignOutView(auth_views.LogoutView):
    """POST-only sign-out; flushes the session server-side."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You are signed out.")
        return response


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset.txt"
    html_email_template_name = "accounts/email/password_reset.html"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password-reset-done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password-reset-complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    """Name, password change and two-factor authentication."""
    profile_form = ProfileForm(initial={"name": request.user.name})
    password_form = PasswordChangeForm(request.user)
    next_url = mfa.safe_next(request, request.POST.get("next") or request.GET.get("next"))
    mfa_forms: dict = {"next_url": next_url}
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action.startswith("mfa-"):
            response = _mfa_action(request, action, mfa_forms)
            if response is not None:
                return response
        elif action == "password":
            password_form = PasswordChangeForm(request.user, request.POST)
            if password_form.is_valid():
                user = password_form.save()
                update_session_auth_hash(request, user)
                messages.success(request, "Your password was changed.")
                return redirect("accounts:profile")
        else:
            profile_form = ProfileForm(request.POST)
            if profile_form.is_valid():
                services.user_update_profile(
                    user=request.user, name=profile_form.cleaned_data["name"]
                )
                messages.success(request, "Your profile was saved.")
                return redirect("accounts:profile")
    return render(
        request,
        "accounts/profile.html",
        {
            "profile_form": profile_form,
            "password_form": password_form,
            **_mfa_context(request.user, mfa_forms),
        },
    )


def _mfa_action(request, action: str, ctx: dict):
    """Run one 2FA action of the profile page; a response, or None to show the page."""
    user, workspace = request.user, hooks.request_workspace(request)
    again = reverse("accounts:profile")
    if ctx["next_url"]:
        again += "?" + urlencode({"next": ctx["next_url"]})
    try:
        if action == "mfa-start":
            mfa.mfa_start(user=user)
        elif action == "mfa-cancel":
            mfa.mfa_cancel(user=user)
        elif action == "mfa-confirm":
            form = ctx["code_form"] = MfaCodeForm(request.POST)
            if form.is_valid():
                device, ctx["recovery_codes"] = mfa.mfa_confirm(
                    user=user, code=form.cleaned_data["code"], workspace=workspace
                )
                request.session.cycle_key()
                django_otp.login(request, device)  # this session just proved the factor
                messages.success(request, "Two-factor authentication is on.")
        elif action == "mfa-regenerate":
            form = ctx["regenerate_form"] = MfaReauthForm(request.POST, prefix="regenerate")
            if form.is_valid():
                ctx["recovery_codes"] = mfa.recovery_codes_regenerate(
                    user=user, secret=form.cleaned_data["secret"], workspace=workspace
                )
                messages.success(request, "New recovery codes replace the old ones.")
        elif action == "mfa-disable":
            form = ctx["disable_form"] = MfaReauthForm(request.POST, prefix="disable")
            if form.is_valid():
                mfa.mfa_disable(user=user, secret=form.cleaned_data["secret"], workspace=workspace)
                messages.success(request, "Two-factor authentication is off.")
                return redirect(again + "#mfa")
        else:
            messages.error(request, "Unknown action.")
            return redirect(again)
    except ApplicationError as exc:
        form = ctx.get("code_form") or ctx.get("regenerate_form") or ctx.get("disable_form")
        if form is None:
            flash_error(request, exc)
        else:
            apply_error_to_form(form, exc)
            return None
    if action in {"mfa-start", "mfa-cancel"}:
        return redirect(again + "#mfa")
    return None


def _groups_of_four(text: str) -> str:
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def _mfa_context(user, ctx: dict) -> dict:
    """What the 2FA card shows: codes just made, the device, or the set-up in progress."""
    device = mfa.totp_device(user)
    setup = None if device else mfa.totp_device(user, confirmed=False)
    ctx.setdefault("code_form", MfaCodeForm())
    ctx.setdefault("regenerate_form", MfaReauthForm(prefix="regenerate"))
    ctx.setdefault("disable_form", MfaReauthForm(prefix="disable"))
    return {
        "mfa": {
            "device": device,
            "setup": setup,
            "qr_svg": mfa.qr_svg(setup) if setup else "",
            "secret": _groups_of_four(mfa.secret_base32(setup)) if setup else "",
            "codes_left": mfa.recovery_codes_left(user) if device else 0,
            **ctx,
        }
    }
