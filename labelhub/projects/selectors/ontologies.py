"""Reads of ontologies: lists, single ontologies, usage, and feature resolution for imports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce

from labelhub.core.errors import NotFound
from labelhub.core.ids import parse_id
from labelhub.projects.hooks import labeled_project_ids
from labelhub.projects.models import FeatureSchema, Ontology, Project
from labelhub.workspaces.models import Workspace


def _count(queryset: QuerySet, by: str) -> Coalesce:
    counted = queryset.filter(**{by: OuterRef("pk")}).order_by().values(by).annotate(n=Count("pk"))
    return Coalesce(Subquery(counted.values("n")[:1], output_field=IntegerField()), 0)


def with_counts(queryset: QuerySet[Ontology]) -> QuerySet[Ontology]:
    """Annotate ``feature_count`` and ``project_count`` (subqueries: no join fan-out)."""
    return queryset.annotate(
        feature_count=_count(FeatureSchema.objects.all(), "ontology"),
        project_count=_count(Project.objects.all(), "ontology"),
    )


def ontology_list(*, workspace: Workspace) -> QuerySet[Ontology]:
    """Ontologies of the workspace by name, with counts and the projects using each."""
    return with_counts(Ontology.objects.filter(workspace=workspace)).prefetch_related(
        Prefetch(
            "projects",
            queryset=Project.objects.filter(workspace=workspace)
            .order_by("name", "id")
            .only("id", "name", "ontology_id"),
        )
    )


def access_ontology(*, workspace: Workspace, id: Any) -> Ontology:
    """Return an ontology of this workspace, or raise NotFound (missing and foreign alike)."""
    ontology = (
        with_counts(Ontology.objects.filter(workspace=workspace)).filter(pk=parse_id(id)).first()
    )
    if ontology is None:
        raise NotFound("Ontology not found.")
    return ontology


def ontology_version(ontology: Ontology) -> str:
    """A token that changes with every save (for "it changed since you opened it" checks)."""
    return ontology.updated_at.isoformat()


def ontology_projects(*, ontology: Ontology) -> QuerySet[Project]:
    """Projects using the ontology, by name."""
    return Project.objects.filter(workspace=ontology.workspace_id, ontology=ontology).order_by(
        "name", "id"
    )


def ontology_has_labels(*, ontology: Ontology) -> bool:
    """Whether a project using the ontology has labeled data rows (changes must stay compatible)."""
    projects = Project.objects.filter(workspace=ontology.workspace_id, ontology=ontology)
    return bool(labeled_project_ids(projects.values_list("pk", flat=True)))


def ontology_labeled_projects(*, ontology: Ontology) -> list[Project]:
    """Projects using the ontology that have labeled data rows, by name (they fix its features)."""
    projects = list(ontology_projects(ontology=ontology))
    labeled = labeled_project_ids([p.pk for p in projects])
    return [p for p in projects if p.pk in labeled]


def iter_features(tree: dict[str, Any]):
    """Yield every tool, classification and option dict of a normalised tree (tree order)."""

    def classification(c):
        yield c
        for option in c.get("options") or []:
            yield option
            for nested in option.get("options") or []:
                yield from classification(nested)

    for tool in tree.get("tools") or []:
        yield tool
        for c in tool.get("classifications") or []:
            yield from classification(c)
    for c in tree.get("classifications") or []:
        yield from classification(c)


@dataclass
class FeatureLookup:
    """Features of one ontology, resolvable by ``schemaId`` or by name within their parent.

    Names follow the NDJSON import: a top-level object is found by tool name, a top-level
    classification by classification name, a nested classification by its name under the
    tool or option above it, an answer by its option ``value`` (or ``label``) under its
    classification. Each ``FeatureSchema`` carries ``kind``, ``type`` and ``parent_id``.
    """

    by_schema_id: dict[str, FeatureSchema] = field(default_factory=dict)
    #: (schema id of the parent or None at the top, kind, name) -> feature
    by_name: dict[tuple[str | None, str, str], FeatureSchema] = field(default_factory=dict)
    by_pk: dict[Any, FeatureSchema] = field(default_factory=dict)
    by_parent: dict[Any, list[FeatureSchema]] = field(default_factory=dict)

    def parent_of(self, feature: FeatureSchema) -> FeatureSchema | None:
        return self.by_pk.get(feature.parent_id)

    def children(self, feature: FeatureSchema | None) -> list[FeatureSchema]:
        """Features directly under ``feature`` (``None``: the top level), in ontology order."""
        return list(self.by_parent.get(feature.pk if feature is not None else None, []))

    def resolve(
        self,
        *,
        kind: str,
        schema_id: str | None = None,
        name: str | None = None,
        parent: FeatureSchema | None = None,
    ) -> FeatureSchema | None:
        """The feature of this kind with the schema id (else the name) under ``parent``.

        ``None`` when there is none, or when the schema id names a feature of another kind
        or another place in the tree (an answer of another question, say).
        """
        if schema_id is not None:
            found = self.by_schema_id.get(schema_id)
        elif name is not None:
            up = parent.schema_id if parent is not None else None
            found = self.by_name.get((up, kind, name))
        else:
            return None
        if found is None or found.kind != kind:
            return None
        if found.parent_id != (parent.pk if parent is not None else None):
            return None
        return found

    def tool(self, *, schema_id: str | None = None, name: str | None = None):
        """A top-level tool (an object line)."""
        return self.resolve(kind=FeatureSchema.Kind.TOOL, schema_id=schema_id, name=name)

    def classification(
        self,
        *,
        schema_id: str | None = None,
        name: str | None = None,
        parent: FeatureSchema | None = None,
    ):
        """A classification at the top (``parent=None``), under a tool, or under an option."""
        return self.resolve(
            kind=FeatureSchema.Kind.CLASSIFICATION, schema_id=schema_id, name=name, parent=parent
        )

    def option(
        self, *, parent: FeatureSchema, schema_id: str | None = None, name: str | None = None
    ):
        """An answer of the classification ``parent``."""
        return self.resolve(
            kind=FeatureSchema.Kind.OPTION, schema_id=schema_id, name=name, parent=parent
        )


def feature_lookup(ontology: Ontology) -> FeatureLookup:
    """Index an ontology's features for resolving import lines (one query)."""
    rows = sorted(FeatureSchema.objects.filter(ontology=ontology), key=lambda r: _order(r.path))
    lookup = FeatureLookup()
    for row in rows:
        lookup.by_pk[row.pk] = row
        lookup.by_schema_id[row.schema_id] = row
        lookup.by_parent.setdefault(row.parent_id, []).append(row)
    labels: dict[str, str] = {}
    for data in iter_features(ontology.normalized or {}):
        if "label" in data and data.get("featureSchemaId"):
            labels[data["featureSchemaId"]] = data["label"]
    for row in rows:
        parent = lookup.by_pk.get(row.parent_id)
        up = parent.schema_id if parent is not None else None
        lookup.by_name[(up, row.kind, row.name)] = row
    # Option labels answer too, unless a sibling's value already means something else.
    for row in rows:
        label = labels.get(row.schema_id)
        if row.kind == FeatureSchema.Kind.OPTION and label and label != row.name:
            parent = lookup.by_pk.get(row.parent_id)
            key = (parent.schema_id if parent else None, row.kind, label)
            lookup.by_name.setdefault(key, row)
    return lookup


def _order(path: str) -> list:
    """Sort key keeping ontology order: tools before classifications, then by index."""
    parts: list = []
    for piece in path.split("."):
        name, _, index = piece.partition("[")
        parts.append((0 if name == "tools" else 1, int(index.rstrip("]") or 0)))
    return parts
