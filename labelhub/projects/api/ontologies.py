"""API views: ontologies (read: any member; write: ``create_projects``)."""

from django.db.models import Prefetch, QuerySet
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from labelhub.access.api_base import WorkspaceScopedView
from labelhub.access.permissions import Permission
from labelhub.projects.models import Ontology, Project
from labelhub.projects.selectors.ontologies import access_ontology, with_counts
from labelhub.projects.serializers.ontologies import (
    OntologyCreateSerializer,
    OntologyDetailSerializer,
    OntologySerializer,
    OntologyUpdateSerializer,
)
from labelhub.projects.services import ontologies as services


def _detail(view: WorkspaceScopedView, ontology: Ontology) -> dict:
    fresh = access_ontology(workspace=view.workspace, id=ontology.pk)
    return OntologyDetailSerializer(fresh).data


class OntologyListView(WorkspaceScopedView):
    """Ontologies of the workspace (newest first); create one."""

    queryset = Ontology.objects.all()
    required_permissions = {"GET": Permission.VIEW_WORKSPACE, "POST": Permission.CREATE_PROJECTS}

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return with_counts(queryset).defer("normalized")  # the tree can be large; not listed

    @extend_schema(operation_id="ontologies_list", responses=OntologySerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(OntologySerializer(page, many=True).data)

    @extend_schema(request=OntologyCreateSerializer, responses={201: OntologyDetailSerializer})
    def post(self, request):
        data = OntologyCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ontology = services.ontology_create(
            workspace=self.workspace, actor=self.actor, **data.validated_data
        )
        return Response(_detail(self, ontology), status=status.HTTP_201_CREATED)


class OntologyDetailView(WorkspaceScopedView):
    """One ontology and its Labelbox JSON: read; change (``ontology`` replaces the tree); delete."""

    queryset = Ontology.objects.all()
    required_permissions = {
        "GET": Permission.VIEW_WORKSPACE,
        "PATCH": Permission.CREATE_PROJECTS,
        "DELETE": Permission.CREATE_PROJECTS,
    }

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return with_counts(queryset).prefetch_related(
            Prefetch("projects", queryset=Project.objects.order_by("name", "id").only("name"))
        )

    @extend_schema(responses=OntologyDetailSerializer)
    def get(self, request, id):
        return Response(OntologyDetailSerializer(self.get_object()).data)

    @extend_schema(request=OntologyUpdateSerializer, responses=OntologyDetailSerializer)
    def patch(self, request, id):
        ontology = self.get_object()
        data = OntologyUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        if "ontology" in fields:
            fields["tree"] = fields.pop("ontology")
        services.ontology_update(
            workspace=self.workspace, actor=self.actor, ontology=ontology, **fields
        )
        return Response(_detail(self, ontology))

    @extend_schema(responses={204: None})
    def delete(self, request, id):
        services.ontology_delete(
            workspace=self.workspace, actor=self.actor, ontology=self.get_object()
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("ontologies/", OntologyListView.as_view(), name="ontologies"),
    path("ontologies/<str:id>/", OntologyDetailView.as_view(), name="ontology"),
]
