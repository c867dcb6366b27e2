"""API shapes for projects, tags, settings, instructions, members, batches and tasks."""

from rest_framework import serializers

from labelhub.access.selectors import role_ref_of
from labelhub.core.serializers import StrictSerializer
from labelhub.projects.models import Project, Tag
from labelhub.projects.services.projects import BOOLEAN_SETTINGS, NULLABLE_SETTINGS, SETTING_BOUNDS


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "name", "colour"]


class TagWriteSerializer(StrictSerializer):
    """A tag's changes (PATCH): each field optional."""

    name = serializers.CharField(max_length=60, required=False)
    colour = serializers.CharField(max_length=7, required=False)


class TagCreateSerializer(TagWriteSerializer):
    """A new tag: the name is required (``tag_create`` takes no default for it)."""

    name = serializers.CharField(max_length=60)


class ProjectSerializer(serializers.ModelSerializer):
    tags = TagSerializer(many=True, read_only=True)
    ontology = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = ["id", "name", "description", "media_type", "ontology", "tags", "created_at"]

    def get_ontology(self, obj: Project) -> dict | None:
        return {"id": str(obj.ontology_id), "name": obj.ontology.name} if obj.ontology_id else None


class ProjectCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    media_type = serializers.CharField(max_length=20)
    ontology = serializers.CharField(
        max_length=64, required=False, allow_null=True, allow_blank=True
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, max_length=50
    )


class ProjectUpdateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    ontology = serializers.CharField(
        max_length=64, required=False, allow_null=True, allow_blank=True
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, max_length=50
    )


class ProjectDeleteSerializer(StrictSerializer):
    confirm = serializers.CharField(max_length=200)


def _settings_fields() -> dict:
    fields = {name: serializers.BooleanField(required=False) for name in BOOLEAN_SETTINGS}
    for name, (low, _high) in SETTING_BOUNDS.items():
        fields[name] = (
            serializers.FloatField(required=False)
            if isinstance(low, float)
            else serializers.IntegerField(required=False, allow_null=name in NULLABLE_SETTINGS)
        )
    return fields


ProjectSettingsSerializer = type(
    "ProjectSettingsSerializer", (StrictSerializer,), _settings_fields()
)


def settings_payload(project: Project) -> dict:
    """Current quality and advanced settings of a project."""
    return {name: getattr(project, name) for name in (*BOOLEAN_SETTINGS, *SETTING_BOUNDS)}


class InstructionsSerializer(StrictSerializer):
    kind = serializers.ChoiceField(choices=[c for c, _ in Project.InstructionsKind.choices])
    text = serializers.CharField(required=False, allow_blank=True, max_length=100_000)
    url = serializers.CharField(required=False, allow_blank=True, max_length=500)
    file = serializers.FileField(required=False)


def instructions_payload(project: Project, acknowledged: bool) -> dict:
    """The project's instructions as the API shows them."""
    return {
        "kind": project.instructions_kind,
        "text": project.instructions_text,
        "url": project.instructions_url,
        "file": (
            f"/projects/{project.pk}/instructions/file" if project.instructions_file else None
        ),
        "version": project.instructions_version,
        "enforce_acknowledgement": project.enforce_instructions,
        "acknowledged": acknowledged,
    }


class ProjectMemberSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.SerializerMethodField()
    member = serializers.SerializerMethodField()
    role = serializers.SerializerMethodField()
    role_label = serializers.SerializerMethodField()

    def get_kind(self, obj) -> str:
        return "user" if obj.user_id else "group"

    def get_member(self, obj) -> dict:
        if obj.user_id:
            return {"id": str(obj.user_id), "email": obj.user.email}
        return {"id": str(obj.group_id), "name": obj.group.name}

    def get_role(self, obj) -> str:
        return role_ref_of(obj).key

    def get_role_label(self, obj) -> str:
        return role_ref_of(obj).label


class ProjectMemberWriteSerializer(StrictSerializer):
    user = serializers.UUIDField(required=False)
    group = serializers.UUIDField(required=False)
    role = serializers.CharField(max_length=64, required=False, allow_blank=True)
