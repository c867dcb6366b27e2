"""API shapes for the permission catalogue, roles, groups and API keys."""

from rest_framework import serializers

from labelhub.access.models import CustomRole, Group, GroupEvent
from labelhub.access.selectors import role_ref_of
from labelhub.core.api import StrictSerializer


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
