"""Console forms of the access app."""

from django import forms

from labelhub.access.permissions import Permission, Scope
from labelhub.workspaces.models import Role


def permission_choices(perms=None) -> list[tuple[str, str]]:
    """Checkbox options for permissions (all of them, or a given subset), catalogue order."""
    return [(p.value, p.label) for p in Permission if perms is None or p in perms]


class CustomRoleForm(forms.Form):
    name = forms.CharField(max_length=80)
    scope = forms.ChoiceField(choices=[(s.value, s.value.title()) for s in Scope])
    description = forms.CharField(max_length=300, required=False)
    permissions = forms.MultipleChoiceField(
        choices=permission_choices(), widget=forms.CheckboxSelectMultiple, required=False
    )

    def __init__(self, *args, lock_scope: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if lock_scope:  # a role's scope is fixed once created
            self.fields["scope"].disabled = True
            self.fields["scope"].help_text = "Fixed once the role exists."


class RoleDeleteForm(forms.Form):
    replacement = forms.ChoiceField(required=False, label="Give its holders this role")

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["replacement"].choices = [("", "— none (role unused) —"), *choices]


class GroupForm(forms.Form):
    name = forms.CharField(max_length=80)
    description = forms.CharField(max_length=300, required=False)
    colour = forms.CharField(
        max_length=7, initial="#4C6EF5", widget=forms.TextInput(attrs={"type": "color"})
    )
    default_role = forms.ChoiceField(
        label="Default role", error_messages={"required": "Choose the group's default role."}
    )

    def __init__(self, *args, role_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        # No role is preselected: the default role is a deliberate choice.
        self.fields["default_role"].choices = [("", "Choose a role"), *role_choices]


class GroupMemberForm(forms.Form):
    user = forms.ChoiceField(label="Member")

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [(str(u.pk), u.email) for u in members]


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100)
    expires_at = forms.DateTimeField(
        required=False,
        label="Expires (optional)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
    )
    rate_limit_per_minute = forms.IntegerField(
        required=False,
        min_value=1,
        label="Requests per minute (optional)",
        help_text="Empty: the installation's default.",
    )
    restrict = forms.BooleanField(required=False, label="Restrict the key to these permissions")
    permissions = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, required=False)

    def __init__(self, *args, held=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["permissions"].choices = permission_choices(held)


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


class InviteForm(forms.Form):
    email = forms.EmailField(label="E-mail")
    role = forms.ChoiceField(initial=Role.LABELER)

    def __init__(self, *args, roles=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = list(roles)
