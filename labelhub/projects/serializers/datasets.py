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

import codecs
import csv
import io
import itertools
from collections.abc import Iterable, Iterator
from typing import Any

from rest_framework import serializers

from labelhub.core.errors import ValidationFailed
from labelhub.core.parsers import (
    JSONInputError,
    NotAJSONArray,
    iter_json_array,
    loads,
    read_blocks,
)
from labelhub.core.serializers import StrictSerializer
from labelhub.projects.metadata import FieldSpec
from labelhub.projects.models import DataRow, DataRowJob, Dataset, MediaType, MetadataField
from labelhub.projects.selectors.datasets import data_row_job_error_count
from labelhub.projects.services.datasets import ATTACHMENT_TYPES, InputRow

# --- upload readers ---------------------------------------------------------------------
#
# Every reader streams: it takes the body or file as blocks of bytes and yields rows one by
# one, so an upload of 200 MB holds one block and one row (the service decides between
# writing now and a job after the first ``DATA_ROWS_SYNC_LIMIT`` + 1 rows). A refusal of
# the whole input (not UTF-8, not a list, a broken CSV) is raised when the reader gets
# there, as ``ValidationFailed`` (or the API's ``ParseError``).


def _json_problem(exc: JSONInputError) -> str:
    """A row's or file's message for JSON that was refused."""
    where = f" (column {exc.colno})" if exc.colno is not None else ""
    return f"Not valid JSON: {exc.msg}{where}."


def not_a_list() -> ValidationFailed:
    """The refusal of a JSON body that is not a list."""
    return ValidationFailed("Send a JSON list of rows, or NDJSON (one row per line).", field="rows")


def rows_from_json(data: Any) -> list[InputRow]:
    """Rows of a parsed JSON body: it must be a list."""
    if not isinstance(data, list):
        raise not_a_list()
    return [InputRow(i, item) for i, item in enumerate(data, start=1)]


def json_rows(blocks: Iterable[bytes]) -> Iterator[InputRow]:
    """Rows of a JSON list read in blocks (``core.parsers.iter_json_array``); raises
    ``JSONInputError`` for text the strict reader refuses, ``NotAJSONArray`` for another
    value."""
    for number, item in enumerate(iter_json_array(blocks), start=1):
        yield InputRow(number, item)


def utf8_checked(blocks: Iterable[bytes]) -> Iterator[bytes]:
    """The blocks as they are, raising ``UnicodeDecodeError`` where they stop being UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    for block in blocks:
        decoder.decode(block)
        yield block
    decoder.decode(b"", final=True)


#: characters ``str.splitlines`` ends a line at
_LINE_BREAKS = "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def text_lines(blocks: Iterable[bytes], *, encoding: str = "utf-8") -> Iterator[str]:
    """The lines of text read in blocks, as ``str.splitlines`` cuts them (``\\r\\n`` split
    over two blocks is one break); raises ``UnicodeDecodeError`` (or ``LookupError`` for an
    unknown encoding) where the text stops being ``encoding``."""
    decoder = codecs.getincrementaldecoder(encoding)()
    carry = ""
    for block in itertools.chain(blocks, [None]):
        final = block is None
        text = carry + decoder.decode(b"" if final else block, final=final)
        parts = text.splitlines(keepends=True)
        carry = ""
        if not final and parts and (parts[-1][-1] not in _LINE_BREAKS or parts[-1][-1] == "\r"):
            carry = parts.pop()  # the line goes on (or "\n" may follow "\r")
        for part in parts:
            yield part.rstrip(_LINE_BREAKS)


def ndjson_rows(lines: Iterable[str]) -> Iterator[InputRow]:
    """Rows of NDJSON lines; blank lines are skipped, unreadable ones become row errors."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield InputRow(number, loads(line))
        except JSONInputError as exc:
            yield InputRow(number, None, _json_problem(exc))


def rows_from_ndjson(text: str) -> list[InputRow]:
    """Rows of NDJSON text (see ``ndjson_rows``)."""
    return list(ndjson_rows(text.splitlines()))


CSV_COLUMNS = ("row_data", "global_key", "external_id", "media_type")


def csv_rows(lines: Iterable[str], *, schema: dict[str, FieldSpec]) -> Iterator[InputRow]:
    """Rows of CSV lines (line breaks kept, as ``newline=""`` reads them) with a header row
    (see the module docstring)."""
    reader = csv.reader(lines)
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
    try:
        for cells in reader:
            number = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                yield InputRow(
                    number,
                    None,
                    f"Expected {len(header)} cells as in the header, found {len(cells)}.",
                )
                continue
            yield InputRow(number, _csv_row(dict(zip(header, cells, strict=True)), schema))
    except csv.Error as exc:
        raise ValidationFailed(
            f"Not a readable CSV file (line {reader.line_num}): {exc}.", field="file"
        )


def rows_from_csv(text: str, *, schema: dict[str, FieldSpec]) -> list[InputRow]:
    """Rows of CSV text with a header row (see ``csv_rows``)."""
    return list(csv_rows(io.StringIO(text, newline=""), schema=schema))


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


class _BlockStream(io.RawIOBase):
    """Blocks of bytes as a readable binary stream (for ``io.TextIOWrapper``)."""

    def __init__(self, blocks: Iterator[bytes]) -> None:
        self._blocks = blocks
        self._rest = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._rest:
            block = next(self._blocks, None)
            if block is None:
                return 0
            self._rest = block
        n = min(len(buffer), len(self._rest))
        buffer[:n] = self._rest[:n]
        self._rest = self._rest[n:]
        return n


def _first_byte(blocks: Iterator[bytes]) -> tuple[bytes, Iterator[bytes]]:
    """The first byte after a byte-order mark and white space, and all the blocks again
    (the mark left out)."""
    bom = codecs.BOM_UTF8
    data = b""
    checked = False  # whether the start was looked at for a mark
    for block in blocks:
        data += block
        if not checked:
            if len(data) < len(bom) and bom.startswith(data):
                continue  # maybe a mark cut by the block
            checked = True
            data = data.removeprefix(bom)
        if data.lstrip()[:1]:
            break
    return data.lstrip()[:1], itertools.chain([data], blocks)


def _file_refusals(rows: Iterator[InputRow]) -> Iterator[InputRow]:
    """An upload's rows, with refusals of the whole file said as the console says them."""
    try:
        yield from rows
    except UnicodeDecodeError:
        raise ValidationFailed("The file must be UTF-8 text.", field="file") from None
    except NotAJSONArray:
        raise ValidationFailed("Not valid JSON: the file must hold a JSON list.", field="file")
    except JSONInputError as exc:
        raise ValidationFailed(f"Not valid JSON: {exc}.", field="file") from None


def rows_from_upload(name: str, upload: Any, *, schema: dict[str, FieldSpec]) -> Iterator[InputRow]:
    """Rows of an uploaded file, streamed: CSV, JSON (a list) or NDJSON, by extension or
    content. ``upload`` is an ``UploadedFile``, a binary stream or bytes."""
    head, blocks = _first_byte(read_blocks(upload))
    lowered = name.lower()
    if lowered.endswith((".ndjson", ".jsonl")):
        rows = ndjson_rows(text_lines(blocks))
    elif lowered.endswith(".json") or (not lowered.endswith(".csv") and head in (b"[", b"{")):
        if head == b"[":
            rows = json_rows(utf8_checked(blocks))
        else:
            rows = ndjson_rows(text_lines(blocks))
    else:
        text = io.TextIOWrapper(io.BufferedReader(_BlockStream(blocks)), "utf-8", newline="")
        rows = csv_rows(text, schema=schema)
    return _file_refusals(rows)


def rows_from_file(name: str, content: bytes, *, schema: dict[str, FieldSpec]) -> list[InputRow]:
    """Rows of an uploaded file's bytes (see ``rows_from_upload``)."""
    return list(rows_from_upload(name, content, schema=schema))


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
