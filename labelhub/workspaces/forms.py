"""Console forms of the workspaces app."""

from django import forms

from labelhub.workspaces.models import Role


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class WorkspaceForm(forms.Form):
    name = forms.CharField(max_length=120, label="Workspace name")


class TenantInviteForm(forms.Form):
    workspace = forms.ChoiceField(label="Workspace")
    email = forms.EmailField(label="E-mail")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.LABELER)

    def __init__(self, *args, workspaces=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["workspace"].choices = [(str(w.pk), w.name) for w in workspaces]


class AuditFilterForm(forms.Form):
    actor = forms.UUIDField(required=False, widget=forms.Select)
    verb = forms.CharField(required=False, max_length=64)
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
