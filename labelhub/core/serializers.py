"""API shapes shared by every app: the strict base serializer and the audit log entry."""

from typing import Any

from rest_framework import serializers

from labelhub.core.models import AuditLogEntry


class AuditLogEntrySerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()
    target = serializers.SerializerMethodField()

    class Meta:
        model = AuditLogEntry
        fields = ["id", "created_at", "actor", "verb", "target", "before", "after", "ip_address"]

    def get_actor(self, obj: AuditLogEntry) -> dict:
        return {"id": str(obj.actor_id) if obj.actor_id else None, "label": obj.actor_label}

    def get_target(self, obj: AuditLogEntry) -> dict:
        return {"type": obj.target_type, "id": obj.target_id, "label": obj.target_label}


class StrictSerializer(serializers.Serializer):
    """Serializer that refuses unknown fields instead of silently ignoring them."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)
