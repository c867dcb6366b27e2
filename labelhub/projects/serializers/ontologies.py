"""API shapes for ontologies.

The ontology itself travels under ``"ontology"`` in the JSON of Labelbox's ontology builder
(``{"tools": [...], "classifications": [...]}``), in requests and responses alike; the
service checks it (see ``labelhub.projects.services.ontologies``).
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from labelhub.core.serializers import StrictSerializer
from labelhub.projects.models import MediaType, Ontology


class OntologyTreeSerializer(serializers.Serializer):
    """Documentation of the tree's shape (tools, classifications; nesting as in Labelbox)."""

    tools = serializers.ListField(
        child=serializers.DictField(),
        help_text='{"tool", "name", "color", "required", "featureSchemaId", "schemaNodeId", '
        '"classifications"}; tool: rectangle, polygon, line, point, raster-segmentation, '
        "named-entity, edge.",
    )
    classifications = serializers.ListField(
        child=serializers.DictField(),
        help_text='{"type", "name", "instructions", "required", "scope", "featureSchemaId", '
        '"schemaNodeId", "options": [{"value", "label", "featureSchemaId", "schemaNodeId", '
        '"options": [<nested classifications>]}]}; type: radio, checklist, text.',
    )


@extend_schema_field(OntologyTreeSerializer)
class OntologyTreeField(serializers.JSONField):
    """Any JSON on input (the service reports problems with their paths)."""


class ProjectRefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class OntologySerializer(serializers.ModelSerializer):
    feature_count = serializers.IntegerField(read_only=True)
    project_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Ontology
        fields = [
            "id",
            "name",
            "description",
            "media_type",
            "feature_count",
            "project_count",
            "created_at",
            "updated_at",
        ]


class OntologyDetailSerializer(OntologySerializer):
    projects = serializers.SerializerMethodField()
    ontology = serializers.SerializerMethodField()

    class Meta(OntologySerializer.Meta):
        fields = [*OntologySerializer.Meta.fields, "projects", "ontology"]

    @extend_schema_field(ProjectRefSerializer(many=True))
    def get_projects(self, obj: Ontology) -> list[dict]:
        return [{"id": str(p.pk), "name": p.name} for p in obj.projects.all()]

    @extend_schema_field(OntologyTreeSerializer)
    def get_ontology(self, obj: Ontology) -> dict:
        return obj.normalized or {"tools": [], "classifications": []}


class OntologyCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    media_type = serializers.ChoiceField(
        choices=MediaType.choices, required=False, allow_blank=True
    )
    ontology = OntologyTreeField(required=False)


class OntologyUpdateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    media_type = serializers.ChoiceField(
        choices=MediaType.choices, required=False, allow_blank=True
    )
    ontology = OntologyTreeField(required=False)
