"""API views: annotation imports of a project (create, list, detail, per-line report).

``POST /projects/<project_id>/imports/`` takes JSON ``{"name", "kind", "dry_run",
"lines": [...]}`` or an NDJSON body (``Content-Type: application/x-ndjson``, one
annotation per line) with ``?name=&kind=&dry_run=`` in the query string; it answers
``202`` with the queued job. A multipart form with an NDJSON ``file`` and ``name``,
``kind``, ``dry_run`` fields works too. ``GET .../imports/<id>/report.ndjson`` downloads one status
per line.
"""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import UnsupportedMediaType
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from labelhub.access.permissions import Permission
from labelhub.core.errors import ValidationFailed
from labelhub.core.parsers import parse_body
from labelhub.core.serializers import StrictSerializer
from labelhub.imports import services
from labelhub.imports.models import ImportJob
from labelhub.imports.services import import_max_json_bytes
from labelhub.projects.api.datasets import JSONRowsParser, NDJSONParser
from labelhub.projects.api_base import ProjectScopedView
from labelhub.projects.services.datasets import PayloadTooLarge

READ = Permission.VIEW_PROJECT
WRITE = Permission.IMPORT_LABELS


class ImportJobSerializer(serializers.ModelSerializer):
    project = serializers.UUIDField(source="project_id", read_only=True)
    created_by = serializers.CharField(source="created_by_id", read_only=True, allow_null=True)

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "project",
            "name",
            "kind",
            "dry_run",
            "state",
            "total",
            "processed",
            "lines_read",
            "lines_valid",
            "lines_invalid",
            "lines_written",
            "warnings",
            "error_summary",
            "message",
            "created_by",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields


class ImportJobCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=ImportJob.Kind.choices)
    dry_run = serializers.BooleanField(default=False)
    lines = serializers.ListField(child=serializers.JSONField(), allow_empty=False)


class ImportJobUploadSerializer(StrictSerializer):
    """Multipart form: an NDJSON ``file`` and the job's fields."""

    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=ImportJob.Kind.choices)
    dry_run = serializers.BooleanField(default=False)
    file = serializers.FileField()


_FLAGS = {"true": True, "1": True, "false": False, "0": False, "": False}


class ImportJobListView(ProjectScopedView):
    """A project's imports, newest first; start one (JSON or NDJSON)."""

    queryset = ImportJob.objects.all()
    required_permissions = {"GET": READ, "POST": WRITE}
    parser_classes = [JSONRowsParser, NDJSONParser, MultiPartParser]

    @extend_schema(operation_id="imports_list", responses=ImportJobSerializer(many=True))
    def get(self, request, project_id):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ImportJobSerializer(page, many=True).data)

    @extend_schema(
        operation_id="imports_create",
        parameters=[
            OpenApiParameter("name", OpenApiTypes.STR, description="NDJSON bodies only."),
            OpenApiParameter("kind", OpenApiTypes.STR, description="NDJSON bodies only."),
            OpenApiParameter("dry_run", OpenApiTypes.BOOL, description="NDJSON bodies only."),
        ],
        request={
            "application/json": ImportJobCreateSerializer,
            "application/x-ndjson": OpenApiTypes.STR,
            "multipart/form-data": ImportJobUploadSerializer,
        },
        responses={
            202: ImportJobSerializer,
            409: OpenApiResponse(description="An import of this name exists in the project."),
            413: OpenApiResponse(description="Too many lines or bytes."),
        },
    )
    def post(self, request, project_id):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = services.import_max_bytes()
        if length > limit:
            raise PayloadTooLarge(f"At most {limit // (1024 * 1024)} MB per import.")
        if request.content_type.startswith(NDJSONParser.media_type):
            # streamed from the request body line by line: never parsed as a whole
            params = request.query_params
            dry_run = params.get("dry_run", "").strip().lower()
            if dry_run not in _FLAGS:
                raise ValidationFailed("Give true or false.", field="dry_run")
            fields = {
                "name": params.get("name"),
                "kind": params.get("kind"),
                "dry_run": _FLAGS[dry_run],
                "payload": request._request,
            }
        elif request.content_type.startswith("multipart/form-data"):
            form = ImportJobUploadSerializer(data=request.data)
            form.is_valid(raise_exception=True)
            fields = dict(form.validated_data)
            fields["payload"] = fields.pop("file")
        else:
            body = ImportJobCreateSerializer(data=_json_body(request))
            body.is_valid(raise_exception=True)
            fields = dict(body.validated_data)
            fields["payload"] = fields.pop("lines")
        job = services.import_job_create(project=self.project, actor=self.actor, **fields)
        url = reverse("api:import-job", kwargs={"project_id": self.project.pk, "id": job.pk})
        return Response(
            ImportJobSerializer(job).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": url},
        )


def _json_body(request) -> object:
    """A JSON import body, read up to ``IMPORTS_MAX_JSON_BODY_BYTES`` (16 MB) and no further.

    A JSON body is parsed as a whole (the lines sit inside an object), so its size is what
    the request holds; a larger one is refused before it is parsed, whatever its headers
    claim, and NDJSON (or a file) carries large imports, streamed.
    """
    media = request.content_type.split(";")[0].strip()
    if media not in {"", "application/json"}:
        raise UnsupportedMediaType(request.content_type)
    limit = import_max_json_bytes()
    size = f"{limit // 2**20} MB" if limit >= 2**20 else f"{limit // 1024} KB"
    too_large = PayloadTooLarge(
        f"At most {size} as a JSON body; send larger imports as NDJSON "
        "(Content-Type: application/x-ndjson) or as a file.",
        details={"lines": [f"At most {size} as a JSON body."]},
    )
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise too_large
    raw = request.stream.read(limit + 1) if request.stream is not None else b""
    if len(raw) > limit:
        raise too_large
    return parse_body(raw) if raw else {}


class ImportJobDetailView(ProjectScopedView):
    """One import: state and line counters."""

    queryset = ImportJob.objects.all()
    required_permissions = {"GET": READ}

    @extend_schema(responses=ImportJobSerializer)
    def get(self, request, project_id, id):
        return Response(ImportJobSerializer(self.get_object()).data)


class ImportJobReportView(ProjectScopedView):
    """One status per line handled so far, as NDJSON."""

    queryset = ImportJob.objects.all()
    required_permissions = {"GET": READ}

    @extend_schema(responses={(200, "application/x-ndjson"): OpenApiTypes.STR})
    def get(self, request, project_id, id):
        job = self.get_object()
        lines = services.import_job_report(job)
        response = StreamingHttpResponse(lines, content_type="application/x-ndjson; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-report.ndjson"'
        return response
