"""API views: datasets, data rows (bulk create, list, detail), data row jobs, metadata schema.

``POST /datasets/<id>/data-rows/`` takes a JSON list or an NDJSON body
(``Content-Type: application/x-ndjson``) and an optional default ``?media_type=``:

* up to ``DATA_ROWS_SYNC_LIMIT`` rows (1,000): written now; ``201 {"created", "updated",
  "errors": [{"line", "global_key", "message"}]}`` when at least one row was stored
  (the valid rows are stored even when others fail: 207-like, reported as 201), else
  ``400`` with the same errors in ``error.details.rows``;
* more rows (up to 500,000): ``202 {"job": id}``; ``GET /data-row-jobs/<id>/`` reports
  state, progress and per-row errors;
* above 500,000 rows or 256 MB: ``413``.
"""

from __future__ import annotations

import codecs
import itertools
from collections.abc import Iterable, Iterator

from django.urls import path, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser
from rest_framework.response import Response

from labelhub.access.api_base import WorkspaceScopedView
from labelhub.access.permissions import Permission
from labelhub.core.errors import ValidationFailed
from labelhub.core.parsers import JSONInputError, JSONParser, parse_body, read_blocks
from labelhub.projects.models import DataRow, DataRowJob, Dataset, MediaType, MetadataField
from labelhub.projects.selectors import datasets as selectors
from labelhub.projects.serializers.datasets import (
    BulkResultSerializer,
    DataRowInputSerializer,
    DataRowJobSerializer,
    DataRowSerializer,
    DataRowUpdateSerializer,
    DatasetCreateSerializer,
    DatasetDeleteSerializer,
    DatasetSerializer,
    DatasetUpdateSerializer,
    JobAcceptedSerializer,
    MetadataFieldCreateSerializer,
    MetadataFieldSerializer,
    field_spec_data,
    json_rows,
    ndjson_rows,
    not_a_list,
    rows_from_json,
    text_lines,
)
from labelhub.projects.services import datasets as services
from labelhub.projects.services.datasets import InputRow

READ = Permission.VIEW_WORKSPACE
WRITE = Permission.MANAGE_DATASETS


class JSONRowsParser(JSONParser):
    """``application/json`` for uploads, read from the stream.

    Reading the stream, not ``request.body`` (capped by Django at
    ``DATA_UPLOAD_MAX_MEMORY_SIZE``, 2.5 MB: about 10,000 rows), lets uploads be capped by
    ``DATA_ROWS_MAX_BODY_BYTES`` instead (checked before parsing). The core parser refuses
    NaN/Infinity, lone surrogates and deep nesting.
    """


class RowStream:
    """The rows of an upload body, read while they are consumed (once)."""

    def __init__(self, rows: Iterator[InputRow]) -> None:
        self._rows = rows

    def __iter__(self) -> Iterator[InputRow]:
        return self._rows


#: a body that is not a list is parsed whole (for its message) up to this size
_WHOLE_UP_TO = 10 * 1024 * 1024


class JSONRowsStreamParser(JSONParser):
    """``application/json`` data rows: a list read element by element
    (``core.parsers.iter_json_array``, each element under the strict reader's rules), so
    the body is never in memory; anything but a list is parsed whole and refused."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = ((parser_context or {}).get("encoding") or "utf-8").lower().replace("_", "-")
        blocks = read_blocks(stream)
        if encoding not in {"utf-8", "utf8"}:
            blocks = _as_utf8(blocks, encoding)
        seen: list[bytes] = []
        for block in blocks:
            seen.append(block)
            if head := block.lstrip()[:1]:
                break
        else:
            head = b""
        if head != b"[":  # the old answers: a parse error, or "send a list"
            size = 0
            for block in blocks:
                seen.append(block)
                size += len(block)
                if size > _WHOLE_UP_TO:
                    raise not_a_list()
            return parse_body(b"".join(seen))
        return RowStream(_api_refusals(json_rows(itertools.chain(seen, blocks))))


def _as_utf8(blocks: Iterator[bytes], encoding: str) -> Iterator[bytes]:
    """Blocks of text in another declared charset, as UTF-8 (what orjson reads)."""
    try:
        decoder = codecs.getincrementaldecoder(encoding)()
        for block in blocks:
            yield decoder.decode(block).encode("utf-8", "surrogatepass")
        yield decoder.decode(b"", final=True).encode("utf-8", "surrogatepass")
    except (UnicodeDecodeError, LookupError) as exc:
        raise ParseError(f"JSON parse error - the body is not {encoding} text: {exc}")


def _api_refusals(rows: Iterator[InputRow]) -> Iterator[InputRow]:
    """Rows of a JSON body, with a refusal of the body said as the core parser says it."""
    try:
        yield from rows
    except JSONInputError as exc:
        raise ParseError(f"JSON parse error - {exc}.") from None


class NDJSONParser(BaseParser):
    """``application/x-ndjson``: one JSON object per line, read line by line; bad lines
    become row errors, text that is not in the declared charset refuses the body."""

    media_type = "application/x-ndjson"

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", "utf-8")
        lines = text_lines(read_blocks(stream), encoding=encoding)
        return RowStream(_ndjson_refusals(ndjson_rows(lines)))


def _ndjson_refusals(rows: Iterator[InputRow]) -> Iterator[InputRow]:
    try:
        yield from rows
    except (UnicodeDecodeError, LookupError) as exc:
        raise ParseError(f"NDJSON must be UTF-8 text: {exc}") from None


def _row_filter_parameters() -> list[OpenApiParameter]:
    return [
        OpenApiParameter("global_key", OpenApiTypes.STR),
        OpenApiParameter("external_id", OpenApiTypes.STR),
        OpenApiParameter("media_type", OpenApiTypes.STR, enum=MediaType.values),
        OpenApiParameter(
            "metadata.<name>",
            OpenApiTypes.STR,
            description="Rows whose metadata field <name> has this value (typed by the field).",
        ),
    ]


class DatasetListView(WorkspaceScopedView):
    """Datasets of the workspace; create one."""

    queryset = Dataset.objects.select_related("created_by")
    required_permissions = {"GET": READ, "POST": WRITE}

    @extend_schema(operation_id="datasets_list", responses=DatasetSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(DatasetSerializer(page, many=True).data)

    @extend_schema(request=DatasetCreateSerializer, responses={201: DatasetSerializer})
    def post(self, request):
        data = DatasetCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        dataset = services.dataset_create(
            workspace=self.workspace, actor=self.actor, **data.validated_data
        )
        return Response(DatasetSerializer(dataset).data, status=status.HTTP_201_CREATED)


class DatasetDetailView(WorkspaceScopedView):
    """One dataset: read, rename, delete (``{"confirm": "<dataset name>"}``)."""

    queryset = Dataset.objects.select_related("created_by")
    required_permissions = {"GET": READ, "PATCH": WRITE, "DELETE": WRITE}

    @extend_schema(responses=DatasetSerializer)
    def get(self, request, id):
        return Response(DatasetSerializer(self.get_object()).data)

    @extend_schema(request=DatasetUpdateSerializer, responses=DatasetSerializer)
    def patch(self, request, id):
        dataset = self.get_object()
        data = DatasetUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        dataset = services.dataset_update(
            workspace=self.workspace, actor=self.actor, dataset=dataset, **data.validated_data
        )
        return Response(DatasetSerializer(dataset).data)

    @extend_schema(request=DatasetDeleteSerializer, responses={204: None})
    def delete(self, request, id):
        dataset = self.get_object()
        data = DatasetDeleteSerializer(data=request.data or {})
        data.is_valid(raise_exception=True)
        services.dataset_delete(
            workspace=self.workspace,
            actor=self.actor,
            dataset=dataset,
            confirm=data.validated_data["confirm"],
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class DatasetDataRowsView(WorkspaceScopedView):
    """A dataset's data rows: list with filters; bulk create (JSON list or NDJSON)."""

    queryset = Dataset.objects.all()
    required_permissions = {"GET": READ, "POST": WRITE}
    parser_classes = [JSONRowsStreamParser, NDJSONParser]

    @extend_schema(
        operation_id="dataset_data_rows_list",
        parameters=_row_filter_parameters(),
        responses=DataRowSerializer(many=True),
    )
    def get(self, request, id):
        dataset = self.get_object()
        filters = selectors.data_row_filters(workspace=self.workspace, params=request.query_params)
        rows = selectors.data_row_list(workspace=self.workspace, dataset=dataset, filters=filters)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(DataRowSerializer(page, many=True).data)

    @extend_schema(
        operation_id="dataset_data_rows_create",
        parameters=[
            OpenApiParameter(
                "media_type",
                OpenApiTypes.STR,
                enum=MediaType.values,
                description="Media type of rows that do not give one.",
            )
        ],
        request={
            "application/json": DataRowInputSerializer(many=True),
            "application/x-ndjson": OpenApiTypes.STR,
        },
        responses={
            201: BulkResultSerializer,
            202: JobAcceptedSerializer,
            400: OpenApiResponse(description="No row stored; errors in error.details.rows."),
            413: OpenApiResponse(description="More than 500,000 rows or 256 MB."),
        },
    )
    def post(self, request, id):
        dataset = self.get_object()
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = services.max_body_bytes()
        if length > limit:
            raise services.PayloadTooLarge(f"At most {limit // (1024 * 1024)} MB per upload.")
        data = request.data
        if isinstance(data, RowStream):
            rows: Iterable[InputRow] = data  # read while the service consumes it
        elif not data and request.content_type.startswith(NDJSONParser.media_type):
            rows = []  # an empty body never reaches the parser
        else:
            rows = rows_from_json(data)
        outcome = services.data_rows_upload(
            workspace=self.workspace,
            actor=self.actor,
            dataset=dataset,
            rows=rows,
            media_type=request.query_params.get("media_type"),
        )
        if isinstance(outcome, DataRowJob):
            url = reverse("api:data-row-job", kwargs={"id": outcome.pk})
            return Response(
                {"job": str(outcome.pk)}, status=status.HTTP_202_ACCEPTED, headers={"Location": url}
            )
        if outcome.created + outcome.updated == 0:
            raise ValidationFailed("No row was stored.", details={"rows": outcome.errors})
        body = {"created": outcome.created, "updated": outcome.updated, "errors": outcome.errors}
        return Response(body, status=status.HTTP_201_CREATED)


class DataRowDetailView(WorkspaceScopedView):
    """One data row: read, change (not its media type), delete."""

    queryset = DataRow.objects.all()
    required_permissions = {"GET": READ, "PATCH": WRITE, "DELETE": WRITE}

    @extend_schema(responses=DataRowSerializer)
    def get(self, request, id):
        return Response(DataRowSerializer(self.get_object()).data)

    @extend_schema(request=DataRowUpdateSerializer, responses=DataRowSerializer)
    def patch(self, request, id):
        row = self.get_object()
        data = DataRowUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = services.data_row_update(
            workspace=self.workspace, actor=self.actor, data_row=row, **data.validated_data
        )
        return Response(DataRowSerializer(row).data)

    @extend_schema(responses={204: None})
    def delete(self, request, id):
        services.data_row_delete(
            workspace=self.workspace, actor=self.actor, data_row=self.get_object()
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class DataRowJobDetailView(WorkspaceScopedView):
    """A bulk-creation job: state, progress, per-row errors."""

    queryset = DataRowJob.objects.all()
    required_permissions = {"GET": READ}

    @extend_schema(responses=DataRowJobSerializer)
    def get(self, request, id):
        return Response(DataRowJobSerializer(self.get_object()).data)


class MetadataFieldListView(WorkspaceScopedView):
    """The workspace's metadata schema (reserved fields first); add a field."""

    queryset = MetadataField.objects.all()
    pagination_class = None
    required_permissions = {"GET": READ, "POST": WRITE}

    @extend_schema(
        operation_id="metadata_fields_list", responses=MetadataFieldSerializer(many=True)
    )
    def get(self, request):
        schema = selectors.metadata_schema(workspace=self.workspace)
        return Response({"results": [field_spec_data(spec) for spec in schema.values()]})

    @extend_schema(request=MetadataFieldCreateSerializer, responses={201: MetadataFieldSerializer})
    def post(self, request):
        data = MetadataFieldCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        created = services.metadata_field_create(
            workspace=self.workspace, actor=self.actor, **data.validated_data
        )
        spec = selectors.FieldSpec(
            created.name, created.kind, tuple(created.options), id=created.pk
        )
        return Response(field_spec_data(spec), status=status.HTTP_201_CREATED)


class MetadataFieldDetailView(WorkspaceScopedView):
    """Delete a custom metadata field (refused while data rows hold values for it)."""

    queryset = MetadataField.objects.all()
    required_permissions = {"DELETE": WRITE}

    @extend_schema(responses={204: None})
    def delete(self, request, id):
        services.metadata_field_delete(
            workspace=self.workspace, actor=self.actor, metadata_field=self.get_object()
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("datasets/", DatasetListView.as_view(), name="datasets"),
    path("datasets/<str:id>/", DatasetDetailView.as_view(), name="dataset"),
    path("datasets/<str:id>/data-rows/", DatasetDataRowsView.as_view(), name="dataset-data-rows"),
    path("data-rows/<str:id>/", DataRowDetailView.as_view(), name="data-row"),
    path("data-row-jobs/<str:id>/", DataRowJobDetailView.as_view(), name="data-row-job"),
    path("metadata-fields/", MetadataFieldListView.as_view(), name="metadata-fields"),
    path("metadata-fields/<str:id>/", MetadataFieldDetailView.as_view(), name="metadata-field"),
]
