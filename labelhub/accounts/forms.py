"""Console forms of the accounts app."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm


class SignInForm(AuthenticationForm):
    """E-mail + password; the field stays named ``username`` for django-axes."""

    username = forms.EmailField(
        label="E-mail", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "E-mail or password is wrong.",
    }


class ProfileForm(forms.Form):
    name = forms.CharField(max_length=150, required=False)


class AcceptInvitationForm(forms.Form):
    name = forms.CharField(max_length=150, required=False)
    password1 = forms.CharField(label="Password", widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label="Repeat password", widget=forms.PasswordInput, strip=False)

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", "The two passwords differ.")
        return data


class SetupForm(AcceptInvitationForm):
    tenant = forms.CharField(label="Organisation name", max_length=120)
    workspace = forms.CharField(label="First workspace", max_length=120)
    email = forms.EmailField(label="Your e-mail (tenant admin)")

    field_order = ["tenant", "workspace", "email", "name", "password1", "password2"]


class MfaCodeForm(forms.Form):
    """A code from the authenticator app (set-up confirmation)."""

    code = forms.CharField(
        label="Code from the app",
        max_length=32,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "size": 10}
        ),
    )


class SignInCodeForm(forms.Form):
    """The second sign-in step: an authenticator code or a recovery code."""

    code = forms.CharField(
        label="Code",
        max_length=32,
        help_text="The 6-digit code from your authenticator app, or one of your recovery codes.",
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "one-time-code", "autocapitalize": "off"}
        ),
    )


class MfaReauthForm(forms.Form):
    """A current authenticator code or the password, before turning 2FA off or new codes."""

    secret = forms.CharField(
        label="Current code or password", strip=False, widget=forms.PasswordInput
    )
