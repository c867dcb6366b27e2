"""API shapes for the permission catalogue, roles, groups and API keys."""

from rest_framework import serializers

from labelhub.access.models import CustomRole, Group, GroupEvent, Invitation
from labelhub.access.selectors import role_ref_of
from labelhub.core.serializers import StrictSerializer
from labelhub.workspaces.models import Membership, Role, Workspace


class PermissionSerializer(serializers.Serializer):
    codename = serializers.CharField()
    scope = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField()


class SystemRoleSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()
    scope = serializers.CharField()
    permissions = serializers.ListField(child=serializers.CharField())


class CustomRoleSerializer(serializers.ModelSerializer):
    kind = serializers.SerializerMethodField()

    class Meta:
        model = CustomRole
        fields = [
            "id",
            "name",
            "kind",
            "scope",
            "description",
            "permissions",
            "created_at",
            "updated_at",
        ]

    def get_kind(self, obj: CustomRole) -> str:
        return "custom"


class CustomRoleCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=80)
    scope = serializers.ChoiceField(choices=["workspace", "project"])
    permissions = serializers.ListField(child=serializers.CharField(max_length=64), max_length=100)
    description = serializers.CharField(max_length=300, required=False, allow_blank=True)


class CustomRoleUpdateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=80, required=False)
    permissions = serializers.ListField(
        child=serializers.CharField(max_length=64), max_length=100, required=False
    )
    description = serializers.CharField(max_length=300, required=False, allow_blank=True)


class RoleDeleteSerializer(StrictSerializer):
    replacement = serializers.CharField(max_length=64, required=False, allow_blank=True)


class GroupSerializer(serializers.ModelSerializer):
    default_role = serializers.SerializerMethodField()
    default_role_label = serializers.SerializerMethodField()
    members = serializers.SerializerMethodField()

    class Meta:
        model = Group
        fields = [
            "id",
            "name",
            "description",
            "colour",
            "default_role",
            "default_role_label",
            "members",
            "created_at",
        ]

    def get_default_role(self, obj: Group) -> str:
        return role_ref_of(obj, "default_").key

    def get_default_role_label(self, obj: Group) -> str:
        return role_ref_of(obj, "default_").label

    def get_members(self, obj: Group) -> list[dict]:
        return [
            {"id": str(u.pk), "email": u.email, "name": u.name}
            for u in sorted(obj.auth_group.user_set.all(), key=lambda u: u.email)
        ]


class GroupCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=80)
    default_role = serializers.CharField(max_length=64)
    description = serializers.CharField(max_length=300, required=False, allow_blank=True)
    colour = serializers.CharField(max_length=7, required=False)


class GroupUpdateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=80, required=False)
    default_role = serializers.CharField(max_length=64, required=False)
    description = serializers.CharField(max_length=300, required=False, allow_blank=True)
    colour = serializers.CharField(max_length=7, required=False)


class GroupMemberSerializer(StrictSerializer):
    user = serializers.UUIDField()


class GroupEventSerializer(serializers.ModelSerializer):
    group = serializers.CharField(source="group_name")
    actor = serializers.CharField(source="actor_label")

    class Meta:
        model = GroupEvent
        fields = ["created_at", "group", "actor", "verb", "detail"]


class ApiKeySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    prefix = serializers.CharField()
    owner = serializers.EmailField(source="owner.email")
    permissions = serializers.ListField(child=serializers.CharField(), allow_null=True)
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    rate_limit_per_minute = serializers.IntegerField(
        allow_null=True, help_text="Requests per minute; null: the installation's default."
    )


class ApiKeyCreatedSerializer(ApiKeySerializer):
    secret = serializers.SerializerMethodField(help_text="Shown once; store it now.")

    def get_secret(self, obj) -> str:
        return self.context["secret"]


class ApiKeyCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=100)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)
    permissions = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, allow_null=True, max_length=100
    )
    rate_limit_per_minute = serializers.IntegerField(required=False, allow_null=True)


# --- workspaces, members, me ---------------------------------------------------------


class WorkspaceSerializer(serializers.ModelSerializer):
    tenant = serializers.SerializerMethodField()

    class Meta:
        model = Workspace
        fields = ["id", "name", "tenant", "created_at"]

    def get_tenant(self, obj: Workspace) -> dict:
        return {"id": str(obj.tenant_id), "name": obj.tenant.name}


class MyWorkspaceSerializer(WorkspaceSerializer):
    role = serializers.SerializerMethodField()
    is_current = serializers.SerializerMethodField()

    class Meta(WorkspaceSerializer.Meta):
        fields = [*WorkspaceSerializer.Meta.fields, "role", "is_current"]

    def get_role(self, obj: Workspace) -> str:
        return self.context["roles"].get(obj.pk, Role.ADMIN)

    def get_is_current(self, obj: Workspace) -> bool:
        current = self.context.get("current")
        return current is not None and current.pk == obj.pk


class MemberSerializer(serializers.ModelSerializer):
    user = serializers.SerializerMethodField()
    role_label = serializers.CharField(read_only=True)
    custom_role = serializers.UUIDField(source="custom_role_id", read_only=True, allow_null=True)

    class Meta:
        model = Membership
        fields = ["id", "user", "role", "role_label", "custom_role", "created_at"]

    def get_user(self, obj: Membership) -> dict:
        return {"id": str(obj.user_id), "email": obj.user.email, "name": obj.user.name}


class MemberUpdateSerializer(StrictSerializer):
    role = serializers.CharField(
        max_length=64, help_text="A system role code or the id of a workspace-scoped custom role."
    )


class WorkspaceCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=120)
    tenant = serializers.UUIDField(required=False)


class SwitchWorkspaceSerializer(StrictSerializer):
    workspace = serializers.UUIDField()


class MeSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()
    name = serializers.CharField()
    is_tenant_admin = serializers.BooleanField()
    current_workspace = serializers.DictField(allow_null=True)


class MeUpdateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=150, allow_blank=True)


# --- invitations ---------------------------------------------------------------------


class InvitationSerializer(serializers.ModelSerializer):
    status = serializers.CharField(source="effective_status")
    role_label = serializers.SerializerMethodField()
    invited_by = serializers.SerializerMethodField()

    class Meta:
        model = Invitation
        fields = [
            "id",
            "email",
            "role",
            "role_label",
            "status",
            "invited_by",
            "created_at",
            "expires_at",
        ]

    def get_role_label(self, obj: Invitation) -> str:
        return obj.custom_role.name if obj.custom_role_id else obj.get_role_display()

    def get_invited_by(self, obj: Invitation) -> str | None:
        return obj.invited_by.email if obj.invited_by else None


class InvitationCreateSerializer(StrictSerializer):
    email = serializers.EmailField(max_length=254)
    role = serializers.CharField(
        max_length=64, help_text="A system role code or the id of a workspace-scoped custom role."
    )


class InvitationAcceptSerializer(StrictSerializer):
    token = serializers.CharField(max_length=200)
    name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    password = serializers.CharField(max_length=128, required=False, write_only=True)
