"""API views: batches and the project's data rows tab (tasks)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response

from labelhub.access.permissions import Permission
from labelhub.core.pagination import CursorPagination
from labelhub.labeling.models import Batch, BatchEvent, Task
from labelhub.labeling.selectors import tasks as selectors
from labelhub.labeling.serializers import (
    BatchCreateSerializer,
    BatchSerializer,
    BatchUpdateSerializer,
    PriorityActionSerializer,
    TaskRowSerializer,
)
from labelhub.labeling.services import batches as services
from labelhub.projects.api_base import ProjectScopedView


class BatchListView(ProjectScopedView):
    """Batches of a project with counts; send rows as a new batch."""

    queryset = Batch.objects.all()
    required_permissions = {"GET": Permission.VIEW_PROJECT, "POST": Permission.MANAGE_BATCHES}

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return selectors.batches_with_counts(queryset)

    @extend_schema(operation_id="batches_list", responses=BatchSerializer(many=True))
    def get(self, request, project_id):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(BatchSerializer(page, many=True).data)

    @extend_schema(request=BatchCreateSerializer, responses=BatchSerializer)
    def post(self, request, project_id):
        data = BatchCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        batch, report = services.batch_create(
            project=self.project, actor=self.actor, **data.validated_data
        )
        body = BatchSerializer(batch).data
        body.update(report)
        return Response(body, status=status.HTTP_201_CREATED)


class BatchDetailView(ProjectScopedView):
    """One batch: read (with history), rename, change priority."""

    queryset = Batch.objects.all()
    required_permissions = {"GET": Permission.VIEW_PROJECT, "PATCH": Permission.MANAGE_BATCHES}

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return selectors.batches_with_counts(queryset)

    @extend_schema(responses=BatchSerializer)
    def get(self, request, project_id, id):
        batch = self.get_object()
        body = BatchSerializer(batch).data
        body["history"] = [
            {"time": e.created_at, "verb": e.verb, "count": e.count, "detail": e.detail}
            for e in BatchEvent.objects.filter(batch=batch).order_by("created_at", "id")
        ]
        return Response(body)

    @extend_schema(request=BatchUpdateSerializer, responses=BatchSerializer)
    def patch(self, request, project_id, id):
        data = BatchUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        batch = services.batch_update(
            batch=self.get_object(), actor=self.actor, **data.validated_data
        )
        return Response(
            BatchSerializer(selectors.batch_list(project=self.project).get(pk=batch.pk)).data
        )


class BatchRemoveQueuedView(ProjectScopedView):
    """Remove the batch's rows still waiting to be labeled."""

    queryset = Batch.objects.all()
    required_permissions = {"POST": Permission.MANAGE_BATCHES}

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request, project_id, id):
        removed = services.batch_remove_queued(batch=self.get_object(), actor=self.actor)
        return Response({"removed": removed})


class TaskCursorPagination(CursorPagination):
    ordering = ("created_at", "id")


class ProjectDataRowsView(ProjectScopedView):
    """The data rows tab: filters (dataset, batch, status, global_key, data_row,
    ``metadata.<name>``; repeatable) combined with ``match=all`` (AND) or ``match=any`` (OR)."""

    queryset = Task.objects.all()
    pagination_class = TaskCursorPagination
    required_permissions = {"GET": Permission.VIEW_PROJECT}

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        conditions = selectors.conditions_from_query(self.request.query_params)
        match = self.request.query_params.get("match", "all")
        return selectors.task_filter(
            project=self.project, conditions=conditions, match=match, queryset=queryset
        )

    @extend_schema(
        operation_id="project_data_rows",
        parameters=[
            OpenApiParameter("match", OpenApiTypes.STR, enum=["all", "any"]),
            OpenApiParameter("dataset", OpenApiTypes.UUID, many=True),
            OpenApiParameter("batch", OpenApiTypes.UUID, many=True),
            OpenApiParameter("status", OpenApiTypes.STR, many=True, enum=Task.Status.values),
            OpenApiParameter("global_key", OpenApiTypes.STR, many=True),
        ],
        responses=TaskRowSerializer(many=True),
    )
    def get(self, request, project_id):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(TaskRowSerializer(page, many=True).data)


class ProjectPriorityActionView(ProjectScopedView):
    """Bulk action: change the priority of chosen data rows in the project."""

    required_permissions = {"POST": Permission.MANAGE_BATCHES}

    @extend_schema(request=PriorityActionSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request, project_id):
        data = PriorityActionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changed = services.tasks_set_priority(
            project=self.project,
            actor=self.actor,
            task_ids=data.validated_data["data_row_ids"],
            priority=data.validated_data["priority"],
        )
        return Response({"changed": changed})


urlpatterns = [
    path("projects/<str:project_id>/batches/", BatchListView.as_view(), name="batches"),
    path("projects/<str:project_id>/batches/<str:id>/", BatchDetailView.as_view(), name="batch"),
    path(
        "projects/<str:project_id>/batches/<str:id>/remove-queued/",
        BatchRemoveQueuedView.as_view(),
        name="batch-remove-queued",
    ),
    path(
        "projects/<str:project_id>/data-rows/",
        ProjectDataRowsView.as_view(),
        name="project-data-rows",
    ),
    path(
        "projects/<str:project_id>/data-rows/priority/",
        ProjectPriorityActionView.as_view(),
        name="project-data-rows-priority",
    ),
]
