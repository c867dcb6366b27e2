"""API shapes for workspaces, members and the current user."""

from rest_framework import serializers

from labelhub.core.api import StrictSerializer
from labelhub.workspaces.models import Membership, Role, Workspace


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
