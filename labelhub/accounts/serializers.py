"""API shapes for invitations."""

from rest_framework import serializers

from labelhub.accounts.models import Invitation
from labelhub.core.api import StrictSerializer


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
