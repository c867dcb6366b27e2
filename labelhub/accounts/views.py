"""Console pages: sign-in/out, password reset, profile, invitation acceptance, first-run setup."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_http_methods

from labelhub.accounts import services
from labelhub.accounts.forms import AcceptInvitationForm, ProfileForm, SetupForm, SignInForm
from labelhub.core.errors import ApplicationError, NotFound
from labelhub.core.views import apply_error_to_form
from labelhub.workspaces.models import Tenant
from labelhub.workspaces.selectors import SESSION_WORKSPACE_KEY
from labelhub.workspaces.services import tenant_create

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


class SignInView(auth_views.LoginView):
    """E-mail + password sign-in (django-axes throttles failures; the session key rotates)."""

    form_class = SignInForm
    template_name = "accounts/sign_in.html"
    redirect_authenticated_user = True

    def dispatch(self, request, *args, **kwargs):
        if not Tenant.objects.exists():
            return redirect("console:setup")
        return super().dispatch(request, *args, **kwargs)


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
    """Name and password change."""
    profile_form = ProfileForm(initial={"name": request.user.name})
    password_form = PasswordChangeForm(request.user)
    if request.method == "POST":
        if request.POST.get("action") == "password":
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
        {"profile_form": profile_form, "password_form": password_form},
    )


@require_http_methods(["GET", "POST"])
def accept_invitation(request, token: str):
    """Join a workspace from an invitation link; create the account if needed."""
    try:
        invitation = services.invitation_by_token(token)
    except NotFound as exc:
        return render(
            request, "accounts/invitation_invalid.html", {"message": exc.message}, status=404
        )
    except ApplicationError as exc:
        return render(
            request, "accounts/invitation_invalid.html", {"message": exc.message}, status=409
        )
    from labelhub.accounts.models import User

    has_account = User.objects.filter(email=invitation.email).exists()
    signed_in = request.user.is_authenticated
    form = AcceptInvitationForm()
    if request.method == "POST":
        try:
            if signed_in:
                user, membership = services.invitation_accept(token=token, user=request.user)
            else:
                form = AcceptInvitationForm(request.POST)
                if not form.is_valid():
                    raise _FormInvalid
                user, membership = services.invitation_accept(
                    token=token,
                    name=form.cleaned_data["name"],
                    password=form.cleaned_data["password1"],
                )
                login(request, user, backend=MODEL_BACKEND)
            request.session[SESSION_WORKSPACE_KEY] = str(membership.workspace_id)
            messages.success(request, f"Welcome to {membership.workspace.name}.")
            return redirect("console:home")
        except _FormInvalid:
            pass
        except ApplicationError as exc:
            if "password" in exc.details:
                exc.details = {"password1": exc.details["password"]}
            apply_error_to_form(form, exc)
    return render(
        request,
        "accounts/accept_invitation.html",
        {
            "invitation": invitation,
            "form": form,
            "has_account": has_account,
            "signed_in": signed_in,
        },
    )


class _FormInvalid(Exception):
    pass


@require_http_methods(["GET", "POST"])
def setup(request):
    """First run: create the tenant, its first workspace and the tenant admin."""
    if Tenant.objects.exists():
        raise Http404
    form = SetupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            with transaction.atomic():
                user = services.user_create(
                    email=d["email"], password=d["password1"], name=d["name"]
                )
                _, workspace = tenant_create(
                    name=d["tenant"], workspace_name=d["workspace"], admin=user
                )
        except ApplicationError as exc:
            if "password" in exc.details:
                exc.details = {"password1": exc.details["password"]}
            apply_error_to_form(form, exc)
        else:
            login(request, user, backend=MODEL_BACKEND)
            request.session[SESSION_WORKSPACE_KEY] = str(workspace.pk)
            messages.success(request, "LabelHub is ready. Invite your team from Members.")
            return redirect("console:home")
    return render(request, "accounts/setup.html", {"form": form})
