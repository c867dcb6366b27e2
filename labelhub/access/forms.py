"""Console forms of the access app."""

from django import forms

from labelhub.access.permissions import Permission, Scope


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
