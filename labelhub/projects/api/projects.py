"""API views: projects, tags, settings, instructions, members."""

from __future__ import annotations

from django.db.models import QuerySet
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from labelhub.access import services as access_services
from labelhub.access.api_base import WorkspaceScopedView
from labelhub.access.authz import actor_user, project_permissions_for
from labelhub.access.models import Group, ProjectGrant
from labelhub.access.permissions import Permission
from labelhub.core.errors import ValidationFailed
from labelhub.core.parsers import JSONParser
from labelhub.projects.api_base import ProjectScopedView
from labelhub.projects.models import Project, Tag
from labelhub.projects.selectors import projects as selectors
from labelhub.projects.serializers.projects import (
    InstructionsSerializer,
    ProjectCreateSerializer,
    ProjectDeleteSerializer,
    ProjectMemberSerializer,
    ProjectMemberWriteSerializer,
    ProjectSerializer,
    ProjectSettingsSerializer,
    ProjectUpdateSerializer,
    TagCreateSerializer,
    TagSerializer,
    TagWriteSerializer,
    instructions_payload,
    settings_payload,
)
from labelhub.projects.services import projects as services


class ProjectListView(WorkspaceScopedView):
    """Projects you may see (``?tag=`` repeatable, ``?search=``, ``?sort=``); create one."""

    queryset = Project.objects.all()
    required_permissions = {"GET": Permission.VIEW_WORKSPACE, "POST": Permission.CREATE_PROJECTS}

    @extend_schema(
        operation_id="projects_list",
        parameters=[
            OpenApiParameter("tag", OpenApiTypes.UUID, many=True),
            OpenApiParameter("search", OpenApiTypes.STR),
            OpenApiParameter("sort", OpenApiTypes.STR, enum=list(selectors.SORTS)),
        ],
        responses=ProjectSerializer(many=True),
    )
    def get(self, request):
        qs = selectors.project_list(
            actor=self.actor,
            workspace=self.workspace,
            tags=request.query_params.getlist("tag"),
            search=request.query_params.get("search", ""),
            sort=request.query_params.get("sort", "name"),
        ).select_related("ontology")
        # The cursor follows the chosen sort (its fields end with the unique id).
        self.paginator.ordering = selectors.SORTS[request.query_params.get("sort", "name")]
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(ProjectSerializer(page, many=True).data)

    @extend_schema(request=ProjectCreateSerializer, responses=ProjectSerializer)
    def post(self, request):
        data = ProjectCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = services.project_create(
            workspace=self.workspace, actor=self.actor, **data.validated_data
        )
        return Response(ProjectSerializer(project).data, status=status.HTTP_201_CREATED)


class ProjectDetailView(ProjectScopedView):
    """One project: read, update, delete (``{"confirm": "<project name>"}``)."""

    required_permissions = {
        "GET": Permission.VIEW_PROJECT,
        "PATCH": Permission.MANAGE_PROJECT_SETTINGS,
        "DELETE": Permission.MANAGE_PROJECT_SETTINGS,
    }

    @extend_schema(responses=ProjectSerializer)
    def get(self, request, project_id):
        body = ProjectSerializer(self.project).data
        body["permissions"] = sorted(
            p.value for p in project_permissions_for(self.actor, self.project)
        )
        return Response(body)

    @extend_schema(request=ProjectUpdateSerializer, responses=ProjectSerializer)
    def patch(self, request, project_id):
        data = ProjectUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        ontology = changes.pop("ontology", ...)
        project = services.project_update(
            project=self.project, actor=self.actor, ontology=ontology, **changes
        )
        return Response(ProjectSerializer(project).data)

    @extend_schema(request=ProjectDeleteSerializer, responses={204: None, 202: None})
    def delete(self, request, project_id):
        data = ProjectDeleteSerializer(data=request.data or {})
        data.is_valid(raise_exception=True)
        done = services.project_delete(
            project=self.project, actor=self.actor, confirm=data.validated_data["confirm"]
        )
        # 202: a large project is hidden now and deleted by a background job.
        return Response(status=status.HTTP_204_NO_CONTENT if done else status.HTTP_202_ACCEPTED)


class ProjectDuplicateView(ProjectScopedView):
    """Duplicate a project's setup (not its data)."""

    required_permissions = {"POST": Permission.CREATE_PROJECTS}

    @extend_schema(request=None, responses=ProjectSerializer)
    def post(self, request, project_id):
        copy = services.project_duplicate(project=self.project, actor=self.actor)
        return Response(ProjectSerializer(copy).data, status=status.HTTP_201_CREATED)


class ProjectSettingsView(ProjectScopedView):
    """Quality and advanced settings."""

    required_permissions = {
        "GET": Permission.VIEW_PROJECT,
        "PATCH": Permission.MANAGE_PROJECT_SETTINGS,
    }

    @extend_schema(responses=ProjectSettingsSerializer)
    def get(self, request, project_id):
        return Response(settings_payload(self.project))

    @extend_schema(request=ProjectSettingsSerializer, responses=ProjectSettingsSerializer)
    def patch(self, request, project_id):
        data = ProjectSettingsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = services.project_settings_update(
            project=self.project, actor=self.actor, **data.validated_data
        )
        return Response(settings_payload(project))


class InstructionsView(ProjectScopedView):
    """Instructions: read; replace (JSON, or multipart with a PDF/HTML ``file``)."""

    parser_classes = [JSONParser, MultiPartParser, FormParser]
    required_permissions = {
        "GET": Permission.VIEW_PROJECT,
        "PUT": Permission.MANAGE_PROJECT_SETTINGS,
    }

    def _payload(self, project):
        ok = services.instructions_acknowledged(project=project, user=actor_user(self.actor))
        return instructions_payload(project, ok)

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, project_id):
        return Response(self._payload(self.project))

    @extend_schema(request=InstructionsSerializer, responses=OpenApiTypes.OBJECT)
    def put(self, request, project_id):
        data = InstructionsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = services.instructions_update(
            project=self.project, actor=self.actor, **data.validated_data
        )
        return Response(self._payload(project))


class InstructionsAcknowledgeView(ProjectScopedView):
    """Acknowledge the current instructions."""

    required_permissions = {"POST": Permission.VIEW_PROJECT}

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request, project_id):
        ack = services.instructions_acknowledge(project=self.project, actor=self.actor)
        return Response(
            {"version": ack.version, "acknowledged_at": ack.created_at},
            status=status.HTTP_201_CREATED,
        )


class ProjectMemberListView(ProjectScopedView):
    """Members and groups with a role on the project; add one."""

    queryset = ProjectGrant.objects.all()
    pagination_class = None
    required_permissions = {
        "GET": Permission.VIEW_PROJECT,
        "POST": Permission.MANAGE_PROJECT_MEMBERS,
    }

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("user", "group", "custom_role").order_by("created_at")

    @extend_schema(
        operation_id="project_members_list", responses=ProjectMemberSerializer(many=True)
    )
    def get(self, request, project_id):
        return Response({"results": ProjectMemberSerializer(self.get_queryset(), many=True).data})

    @extend_schema(request=ProjectMemberWriteSerializer, responses=ProjectMemberSerializer)
    def post(self, request, project_id):
        data = ProjectMemberWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        group = None
        if v.get("group"):
            group = Group.objects.filter(workspace=self.workspace, pk=v["group"]).first()
            if group is None:
                raise ValidationFailed("Unknown group.", field="group")
        grant = access_services.project_grant_set(
            workspace=self.workspace,
            actor=self.actor,
            project=self.project,
            user_id=v.get("user"),
            group=group,
            role=v.get("role"),
        )
        return Response(ProjectMemberSerializer(grant).data, status=status.HTTP_201_CREATED)


class ProjectMemberDetailView(ProjectScopedView):
    """Change or remove a member's (or group's) project role."""

    queryset = ProjectGrant.objects.all()
    required_permissions = {
        "PATCH": Permission.MANAGE_PROJECT_MEMBERS,
        "DELETE": Permission.MANAGE_PROJECT_MEMBERS,
    }

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("user", "group", "custom_role")

    @extend_schema(request=ProjectMemberWriteSerializer, responses=ProjectMemberSerializer)
    def patch(self, request, project_id, id):
        grant = self.get_object()
        data = ProjectMemberWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        grant = access_services.project_grant_set(
            workspace=self.workspace,
            actor=self.actor,
            project=self.project,
            user_id=grant.user_id,
            group=grant.group,
            role=data.validated_data.get("role"),
        )
        return Response(ProjectMemberSerializer(grant).data)

    @extend_schema(responses={204: None})
    def delete(self, request, project_id, id):
        access_services.project_grant_remove(
            workspace=self.workspace, actor=self.actor, grant=self.get_object()
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class TagListView(WorkspaceScopedView):
    """Workspace tags; create one."""

    queryset = Tag.objects.all()
    pagination_class = None
    required_permissions = {"GET": Permission.VIEW_WORKSPACE, "POST": Permission.CREATE_PROJECTS}

    @extend_schema(operation_id="tags_list", responses=TagSerializer(many=True))
    def get(self, request):
        return Response({"results": TagSerializer(self.get_queryset(), many=True).data})

    @extend_schema(request=TagCreateSerializer, responses=TagSerializer)
    def post(self, request):
        data = TagCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tag = services.tag_create(workspace=self.workspace, actor=self.actor, **data.validated_data)
        return Response(TagSerializer(tag).data, status=status.HTTP_201_CREATED)


class TagDetailView(WorkspaceScopedView):
    """Rename/recolour a tag everywhere, or delete it everywhere."""

    queryset = Tag.objects.all()
    required_permissions = {
        "PATCH": Permission.CREATE_PROJECTS,
        "DELETE": Permission.CREATE_PROJECTS,
    }

    @extend_schema(request=TagWriteSerializer, responses=TagSerializer)
    def patch(self, request, id):
        data = TagWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tag = services.tag_update(
            workspace=self.workspace, actor=self.actor, tag=self.get_object(), **data.validated_data
        )
        return Response(TagSerializer(tag).data)

    @extend_schema(responses={204: None})
    def delete(self, request, id):
        services.tag_delete(workspace=self.workspace, actor=self.actor, tag=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("projects/", ProjectListView.as_view(), name="projects"),
    path("projects/<str:project_id>/", ProjectDetailView.as_view(), name="project"),
    path(
        "projects/<str:project_id>/duplicate/",
        ProjectDuplicateView.as_view(),
        name="project-duplicate",
    ),
    path(
        "projects/<str:project_id>/settings/",
        ProjectSettingsView.as_view(),
        name="project-settings",
    ),
    path(
        "projects/<str:project_id>/instructions/",
        InstructionsView.as_view(),
        name="project-instructions",
    ),
    path(
        "projects/<str:project_id>/instructions/acknowledge/",
        InstructionsAcknowledgeView.as_view(),
        name="project-instructions-ack",
    ),
    path(
        "projects/<str:project_id>/members/",
        ProjectMemberListView.as_view(),
        name="project-members",
    ),
    path(
        "projects/<str:project_id>/members/<str:id>/",
        ProjectMemberDetailView.as_view(),
        name="project-member",
    ),
    path("tags/", TagListView.as_view(), name="tags"),
    path("tags/<str:id>/", TagDetailView.as_view(), name="tag"),
]
