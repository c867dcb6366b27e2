"""API shapes of datasets, data rows, jobs and metadata fields, and the upload readers.

Uploads arrive as a JSON list, NDJSON (one JSON object per line) or, in the console, a CSV
file. Each reader turns its input into ``InputRow``s numbered the way a person finds them:
the 1-based position in a JSON list, the physical line of an NDJSON or CSV file (the CSV
header is line 1). A line that cannot be read becomes a per-row error, not a failure of
the whole upload; a body that is not a list at all is refused.

CSV: a header row with ``row_data`` and optionally ``global_key``, ``external_id``,
``media_type``, ``metadata.<name>`` columns; empty cells are "no value"; cells of number
fields are read as numbers. Unknown columns refuse the file.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from rest_framework import serializers

from labelhub.core.errors import ValidationFailed
from labelhub.core.parsers import JSONInputError, loads
from labelhub.core.serializers import StrictSerializer
from labelhub.projects.metadata import FieldSpec
from labelhub.projects.models import DataRow, DataRowJob, Dataset, MediaType, MetadataField
from labelhub.projects.selectors.datasets import data_row_job_error_count
from labelhub.projects.services.datasets import ATTACHMENT_TYPES, InputRow

# --- upload readers ---------------------------------------------------------------------


def _json_problem(exc: JSONInputError) -> str:
    """A row's or file's message for JSON that was refused."""
    where = f" (column {exc.colno})" if exc.colno is not None else ""
    return f"Not valid JSON: {exc.msg}{where}."


def rows_from_json(data: Any) -> list[InputRow]:
    """Rows of a parsed JSON body: it must be a list."""
    if not isinstance(data, list):
        raise ValidationFailed(
            "Send a JSON list of rows, or NDJSON (one row per line).", field="rows"
        )
    return [InputRow(i, item) for i, item in enumerate(data, start=1)]


def rows_from_ndjson(text: str) -> list[InputRow]:
    """Rows of NDJSON text; blank lines are skipped, unreadable ones become row errors."""
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(InputRow(number, loads(line)))
        except JSONInputError as exc:
            rows.append(InputRow(number, None, _json_problem(exc)))
    return rows


CSV_COLUMNS = ("row_data", "global_key", "external_id", "media_type")


def rows_from_csv(text: str, *, schema: dict[str, FieldSpec]) -> list[InputRow]:
    """Rows of CSV text with a header row (see the module docstring)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ValidationFailed("The file is empty.", field="file")
    except csv.Error as exc:
        raise ValidationFailed(f"Not a readable CSV file: {exc}.", field="file")
    header = [h.strip() for h in header]
    unknown = [
        h
        for h in header
        if h not in CSV_COLUMNS
        and not (h.startswith("metadata.") and h.removeprefix("metadata.") in schema)
    ]
    if unknown:
        raise ValidationFailed(
            f"Unknown column{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}. Columns: "
            f"{', '.join(CSV_COLUMNS)} and metadata.<field name>.",
            field="file",
        )
    if "row_data" not in header:
        raise ValidationFailed("The header needs a row_data column.", field="file")
    if len(set(header)) != len(header):
        raise ValidationFailed("A column is given twice in the header.", field="file")
    rows = []
    try:
        for cells in reader:
            number = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                rows.append(
                    InputRow(
                        number,
                        None,
                        f"Expected {len(header)} cells as in the header, found {len(cells)}.",
                    )
                )
                continue
            rows.append(InputRow(number, _csv_row(dict(zip(header, cells, strict=True)), schema)))
    except csv.Error as exc:
        raise ValidationFailed(
            f"Not a readable CSV file (line {reader.line_num}): {exc}.", field="file"
        )
    return rows


def _csv_row(cells: dict[str, str], schema: dict[str, FieldSpec]) -> dict[str, Any]:
    row: dict[str, Any] = {"row_data": cells["row_data"]}
    for name in CSV_COLUMNS[1:]:
        if cells.get(name, "").strip():
            row[name] = cells[name].strip()
    metadata: dict[str, Any] = {}
    for column, value in cells.items():
        if not column.startswith("metadata.") or not value.strip():
            continue
        name = column.removeprefix("metadata.")
        value = value.strip()
        if schema[name].kind == MetadataField.Kind.NUMBER:
            try:
                number = float(value)
                value = int(number) if number.is_integer() and abs(number) < 2**53 else number
            except ValueError:
                pass  # the validator names the field and says "Enter a number."
        metadata[name] = value
    if metadata:
        row["metadata"] = metadata
    return row


def decode_upload(content: bytes) -> str:
    """UTF-8 text of an upload (a byte-order mark is dropped)."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed("The file must be UTF-8 text.", field="file")


def rows_from_file(name: str, content: bytes, *, schema: dict[str, FieldSpec]) -> list[InputRow]:
    """Rows of an uploaded file: CSV, JSON (a list) or NDJSON, by extension or content."""
    text = decode_upload(content)
    lowered = name.lower()
    start = text.lstrip()[:1]
    if lowered.endswith((".ndjson", ".jsonl")):
        return rows_from_ndjson(text)
    if lowered.endswith(".json") or (not lowered.endswith(".csv") and start in "[{"):
        if start == "[":
            try:
                return rows_from_json(loads(text))
            except JSONInputError as exc:
                raise ValidationFailed(f"Not valid JSON: {exc}.", field="file")
        return rows_from_ndjson(text)
    return rows_from_csv(text, schema=schema)


# --- datasets ---------------------------------------------------------------------------


class DatasetSerializer(serializers.ModelSerializer):
    created_by = serializers.SerializerMethodField()

    class Meta:
        model = Dataset
        fields = ["id", "name", "description", "row_count", "created_by", "created_at"]

    def get_created_by(self, obj: Dataset) -> str | None:
        return obj.created_by.email if obj.created_by_id else None


class DatasetCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class DatasetUpdateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class DatasetDeleteSerializer(StrictSerializer):
    confirm = serializers.CharField(
        max_length=200, help_text="The dataset's name, typed to confirm the deletion."
    )


# --- data rows --------------------------------------------------------------------------


class MetadataEntrySerializer(serializers.Serializer):
    name = serializers.CharField()
    value = serializers.JSONField()


class AttachmentSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ATTACHMENT_TYPES)
    value = serializers.CharField()
    name = serializers.CharField(required=False)


class DataRowInputSerializer(serializers.Serializer):
    """One row of a bulk upload (documentation of the shape; the service validates)."""

    row_data = serializers.CharField(help_text="An http(s) URL or inline text.")
    media_type = serializers.ChoiceField(
        choices=MediaType.choices, required=False, help_text="Required unless ?media_type= is set."
    )
    global_key = serializers.CharField(max_length=200, required=False, allow_null=True)
    external_id = serializers.CharField(max_length=200, required=False)
    metadata = MetadataEntrySerializer(
        many=True, required=False, help_text="Or an object of name: value."
    )
    attachments = AttachmentSerializer(many=True, required=False)


class DataRowSerializer(serializers.ModelSerializer):
    dataset = serializers.UUIDField(source="dataset_id", read_only=True)
    metadata = serializers.DictField(child=serializers.JSONField())
    attachments = AttachmentSerializer(many=True)

    class Meta:
        model = DataRow
        fields = [
            "id",
            "dataset",
            "row_data",
            "media_type",
            "global_key",
            "external_id",
            "metadata",
            "attachments",
            "created_at",
            "updated_at",
        ]


class DataRowUpdateSerializer(StrictSerializer):
    """Fields a PATCH may change (the service validates their content)."""

    row_data = serializers.JSONField(required=False, allow_null=True)
    global_key = serializers.JSONField(required=False, allow_null=True)
    external_id = serializers.JSONField(required=False, allow_null=True)
    metadata = serializers.JSONField(required=False, allow_null=True)
    attachments = serializers.JSONField(required=False, allow_null=True)


class RowErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    global_key = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class BulkResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    errors = RowErrorSerializer(many=True)


class JobAcceptedSerializer(serializers.Serializer):
    job = serializers.UUIDField()


class DataRowJobSerializer(serializers.ModelSerializer):
    dataset = serializers.UUIDField(source="dataset_id", read_only=True)
    error_count = serializers.SerializerMethodField()
    errors = RowErrorSerializer(many=True)

    class Meta:
        model = DataRowJob
        fields = [
            "id",
            "dataset",
            "state",
            "total",
            "processed",
            "created",
            "updated",
            "error_count",
            "errors",
            "created_at",
            "finished_at",
        ]

    def get_error_count(self, obj: DataRowJob) -> int:
        return data_row_job_error_count(obj)


# --- metadata schema --------------------------------------------------------------------


class MetadataFieldSerializer(serializers.Serializer):
    id = serializers.UUIDField(allow_null=True, help_text="null for reserved fields")
    name = serializers.CharField()
    # Text here (the choices are documented on the create request), so the schema holds
    # one "kind" enum and no naming collision.
    kind = serializers.CharField(help_text="string, number, datetime or enum")
    options = serializers.ListField(child=serializers.CharField())
    reserved = serializers.BooleanField()


class MetadataFieldCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=100)
    kind = serializers.ChoiceField(choices=MetadataField.Kind.choices)
    options = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, max_length=100
    )


def field_spec_data(spec: FieldSpec) -> dict[str, Any]:
    """A schema field as the API shows it."""
    return {
        "id": str(spec.id) if spec.id else None,
        "name": spec.name,
        "kind": spec.kind,
        "options": list(spec.options),
        "reserved": spec.reserved,
    }
