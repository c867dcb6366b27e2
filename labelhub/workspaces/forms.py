"""Console forms of the workspaces app."""

from django import forms

from labelhub.workspaces.models import Role


class WorkspaceForm(forms.Form):
    name = forms.CharField(max_length=120, label="Workspace name")


class TenantInviteForm(forms.Form):
    workspace = forms.ChoiceField(label="Workspace")
    email = forms.EmailField(label="E-mail")
    # System roles only: custom roles belong to one workspace, this form spans several.
    role = forms.ChoiceField(
        choices=[(r.value, r.label) for r in Role if r != Role.CUSTOM], initial=Role.LABELER
    )

    def __init__(self, *args, workspaces=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["workspace"].choices = [(str(w.pk), w.name) for w in workspaces]


class AuditFilterForm(forms.Form):
    actor = forms.UUIDField(required=False, widget=forms.Select)
    verb = forms.CharField(required=False, max_length=64)
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))


class WorkspaceSettingsForm(forms.Form):
    name = forms.CharField(max_length=120, label="Workspace name")
    require_mfa_for_admins = forms.BooleanField(
        required=False,
        label="Require two-factor authentication for admins",
        help_text=(
            "Members who can manage members or roles must enrol an authenticator and sign in "
            "with its code before they reach admin pages or the admin API. API keys are exempt."
        ),
    )
