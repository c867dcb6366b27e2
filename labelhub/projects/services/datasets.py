"""Every write to datasets, data rows, data row jobs and the metadata schema.

Decisions (also in the README):

* **Row input** (Labelbox-like): ``{"row_data": str, "media_type": str, "global_key": str?,
  "external_id": str?, "metadata": [{"name", "value"}] | {name: value}, "attachments":
  [{"type", "value", "name"?}]}``. ``row_data`` is an http(s) URL or inline text; image,
  video, audio and document rows need a URL, and a URL whose file extension names another
  media family (``.mp4`` on an image row) is refused. ``media_type`` may be left out when
  the upload gives a default (``?media_type=`` on the API, a select in the console).
  Unknown keys are refused. Strings with NUL or unpaired surrogates are refused (no
  database stores them).
* **Metadata** is typed by the workspace's schema (``MetadataField`` rows plus the reserved
  ``tag``/``split``/``captureDateTime``) and stored normalised as ``{name: value}``:
  numbers as JSON numbers, datetimes as UTC ISO 8601 with ``Z``. An unknown field or a
  wrong type is a per-row error naming the field (``metadata.camera: Choose one of …``).
  A field that still holds values on data rows cannot be deleted (409).
* **Bulk create** validates each row on its own: valid rows are stored, the others are
  reported as ``{"line", "global_key", "message"}`` (line: 1-based position in a JSON
  list, physical line of an NDJSON or CSV file). A row is never partly written.
* **Upsert by global key**: a key already held by a row *of the same dataset* updates that
  row (row data, metadata, attachments, external id; the media type cannot change). A key
  held by a row of *another* dataset is a per-row error (global keys are unique per
  workspace). The same key twice in one upload: the later lines are errors.
* **Sync or job**: up to ``DATA_ROWS_SYNC_LIMIT`` rows (1,000) are written during the
  request; more (up to ``DATA_ROWS_MAX_PER_REQUEST``, 500,000) become a ``DataRowJob``
  run by ``projects.run_data_row_job`` after commit.
* **Writes** go in chunks of ``DATA_ROWS_CHUNK_SIZE`` (2,000), one transaction per chunk:
  new rows with ``COPY`` on PostgreSQL (one ``executemany`` INSERT elsewhere), updates with
  one ``executemany`` UPDATE by primary key — no model instance or compiled statement per
  row (``bulk_create``/``bulk_update`` spent most of the time there). A new global key
  another upload committed meanwhile fails the chunk's savepoint on the unique constraint;
  the chunk is retried and the row becomes an update. ``Dataset.row_count`` and the job's
  counters move with ``F()`` in the chunk's transaction. A job re-reads its ``processed``
  offset under a row lock before each chunk, so a re-run (or a redelivered task)
  continues where the last committed chunk ended and never writes a chunk twice.
* **Audit**: dataset create/rename/delete and schema changes; one row per bulk create
  (counts), none per data row.
"""

from __future__ import annotations

import itertools
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import orjson
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from labelhub.access.authz import actor_user
from labelhub.access.permissions import Permission
from labelhub.access.services import require
from labelhub.core.audit import audit_record
from labelhub.core.bulk import insert_rows, update_rows
from labelhub.core.errors import ApplicationError, Conflict, NotFound, ValidationFailed
from labelhub.core.ids import new_id
from labelhub.core.jobs import engine_for
from labelhub.core.validation import clean_text
from labelhub.projects.metadata import clean_metadata_value, text_problem
from labelhub.projects.models import (
    DataRow,
    DataRowJob,
    DataRowPayloadChunk,
    Dataset,
    MediaType,
    MetadataField,
)
from labelhub.projects.selectors.datasets import (
    RESERVED_FIELDS,
    FieldSpec,
    metadata_schema,
)
from labelhub.workspaces.models import Workspace

Kind = MetadataField.Kind


class PayloadTooLarge(ApplicationError):
    """The upload has more rows (or bytes) than one request may carry."""

    status_code = 413
    code = "too_large"
    default_message = "The upload is too large."


# --- limits (settings, with defaults) -----------------------------------------------------


def sync_limit() -> int:
    """Uploads of at most this many rows are written during the request."""
    return int(getattr(settings, "DATA_ROWS_SYNC_LIMIT", 1000))


def max_rows_per_request() -> int:
    """Uploads above this many rows are refused (413)."""
    return int(getattr(settings, "DATA_ROWS_MAX_PER_REQUEST", 500_000))


def max_body_bytes() -> int:
    """Upload bodies and files above this size are refused (413) before parsing."""
    return int(getattr(settings, "DATA_ROWS_MAX_BODY_BYTES", 256 * 1024 * 1024))


def chunk_size() -> int:
    """Rows written per transaction."""
    return int(getattr(settings, "DATA_ROWS_CHUNK_SIZE", 2000))


def max_stored_errors() -> int:
    """Per-row errors a job keeps (the count of errors is always exact)."""
    return int(getattr(settings, "DATA_ROW_JOB_MAX_ERRORS", 10_000))


# --- shapes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class InputRow:
    """One uploaded row as parsed: its line, its JSON value, or why it could not be read."""

    line: int
    data: Any
    problem: str | None = None


@dataclass
class CleanRow:
    """A validated row, ready to be written."""

    line: int
    row_data: str
    media_type: str
    global_key: str | None
    external_id: str
    metadata: dict[str, Any]
    attachments: list[dict[str, str]]


@dataclass(frozen=True)
class RowError:
    line: int
    global_key: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "global_key": self.global_key, "message": self.message}


@dataclass
class BulkResult:
    """Outcome of a synchronous bulk create; ``ids`` are the stored rows in input order."""

    created: int = 0
    updated: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    ids: list[Any] = field(default_factory=list)


# --- validation -------------------------------------------------------------------------

ROW_FIELDS = frozenset(
    {"row_data", "media_type", "global_key", "external_id", "metadata", "attachments"}
)
MEDIA_TYPES = tuple(MediaType.values)
URL_ONLY_MEDIA = frozenset({MediaType.IMAGE, MediaType.VIDEO, MediaType.AUDIO, MediaType.DOCUMENT})
# File extensions that name a media family; a URL row of another (checked) type is refused.
_EXTENSION_FAMILY = {
    **dict.fromkeys(
        ("jpg", "jpeg", "png", "gif", "bmp", "webp", "tif", "tiff", "svg", "heic", "avif"),
        MediaType.IMAGE,
    ),
    **dict.fromkeys(("mp4", "mov", "avi", "mkv", "webm", "m4v", "mpeg", "mpg"), MediaType.VIDEO),
    **dict.fromkeys(("mp3", "wav", "flac", "oga", "m4a", "aac", "opus"), MediaType.AUDIO),
    "pdf": MediaType.DOCUMENT,
}
_EXTENSION_CHECKED = frozenset(
    {
        MediaType.IMAGE,
        MediaType.VIDEO,
        MediaType.AUDIO,
        MediaType.DOCUMENT,
        MediaType.TEXT,
        MediaType.HTML,
    }
)
ATTACHMENT_TYPES = (
    "IMAGE",
    "VIDEO",
    "TEXT",
    "HTML",
    "RAW_TEXT",
    "IMAGE_OVERLAY",
    "PDF_URL",
    "CSV_URL",
)
_URL_ONLY_ATTACHMENTS = frozenset({"IMAGE", "VIDEO", "IMAGE_OVERLAY", "PDF_URL", "CSV_URL"})
_ATTACHMENT_FIELDS = frozenset({"type", "value", "name"})
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_validate_url = URLValidator(schemes=["http", "https"])
MAX_ROW_DATA = 1_000_000
MAX_KEY = 200
MAX_ATTACHMENTS = 100


def _url_problem(value: str) -> str | None:
    """Why a URL-looking string is not a usable http(s) URL, or None."""
    scheme = value.split("://", 1)[0].lower()
    if scheme not in ("http", "https"):
        return "Only http and https URLs are supported."
    try:
        _validate_url(value)
    except DjangoValidationError:
        return "Enter a valid http(s) URL."
    return None


def _extension_family(url: str) -> tuple[str, str] | None:
    path = urlsplit(url).path
    name = path.rsplit("/", 1)[-1]
    if "." not in name:
        return None
    ext = name.rsplit(".", 1)[-1].lower()
    family = _EXTENSION_FAMILY.get(ext)
    return (ext, family) if family else None


def _metadata_pairs(value: Any) -> tuple[list[tuple[Any, Any]] | None, str | None]:
    if isinstance(value, dict):
        return list(value.items()), None
    if isinstance(value, list):
        pairs = []
        for item in value:
            if not isinstance(item, dict) or "name" not in item or set(item) - {"name", "value"}:
                return None, "Each entry needs a name and a value (and nothing else)."
            pairs.append((item["name"], item.get("value")))
        return pairs, None
    return None, "Give a list of {name, value} or an object of name: value."


def _clean_metadata(value: Any, schema: dict[str, FieldSpec], problems: list) -> dict[str, Any]:
    if value is None:
        return {}
    pairs, problem = _metadata_pairs(value)
    if problem:
        problems.append(("metadata", problem))
        return {}
    clean: dict[str, Any] = {}
    seen: set[str] = set()
    for name, raw in pairs:
        if not isinstance(name, str) or not name:
            problems.append(("metadata", "Each entry needs a name."))
            continue
        where = f"metadata.{name}"
        if name in seen:
            problems.append((where, "Given twice."))
            continue
        seen.add(name)
        spec = schema.get(name)
        if spec is None:
            problems.append((where, "Unknown metadata field."))
            continue
        if raw is None:
            continue  # no value
        normalised, problem = clean_metadata_value(spec, raw)
        if problem:
            problems.append((where, problem))
        else:
            clean[name] = normalised
    return clean


def _clean_attachments(value: Any, problems: list) -> list[dict[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(("attachments", "Give a list of {type, value}."))
        return []
    if len(value) > MAX_ATTACHMENTS:
        problems.append(("attachments", f"At most {MAX_ATTACHMENTS} attachments."))
        return []
    clean = []
    for i, item in enumerate(value):
        where = f"attachments[{i}]"
        if not isinstance(item, dict) or "type" not in item or "value" not in item:
            problems.append((where, "Give a type and a value."))
            continue
        unknown = sorted(set(item) - _ATTACHMENT_FIELDS)
        if unknown:
            problems.append((where, f"Unknown field: {', '.join(unknown)}."))
            continue
        kind, text, name = item["type"], item["value"], item.get("name")
        if not isinstance(kind, str) or kind.upper() not in ATTACHMENT_TYPES:
            problems.append(
                (
                    f"{where}.type",
                    f"Unknown type {kind!r}; choose one of {', '.join(ATTACHMENT_TYPES)}.",
                )
            )
            continue
        kind = kind.upper()
        if not isinstance(text, str) or not text.strip():
            problems.append((f"{where}.value", "Enter text or an http(s) URL."))
            continue
        problem = text_problem(text)
        if problem is None and kind in _URL_ONLY_ATTACHMENTS:
            problem = "Enter an http(s) URL." if not _SCHEME.match(text) else _url_problem(text)
        elif problem is None and _SCHEME.match(text) and kind != "RAW_TEXT":
            problem = _url_problem(text)
        if problem:
            problems.append((f"{where}.value", problem))
            continue
        entry = {"type": kind, "value": text}
        if name not in (None, ""):
            if not isinstance(name, str) or len(name) > MAX_KEY or text_problem(name):
                problems.append((f"{where}.name", f"Enter text of at most {MAX_KEY} characters."))
                continue
            entry["name"] = name
        clean.append(entry)
    return clean


def _clean_key(value: Any, where: str, problems: list) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        problems.append((where, "Enter text."))
        return None
    value = value.strip()
    if len(value) > MAX_KEY:
        problems.append((where, f"At most {MAX_KEY} characters."))
        return None
    problem = text_problem(value)
    if problem:
        problems.append((where, problem))
        return None
    return value or None


def clean_row(
    data: Any,
    *,
    schema: dict[str, FieldSpec],
    default_media_type: str | None = None,
    line: int = 0,
) -> tuple[CleanRow | None, list[tuple[str, str]]]:
    """Validate one row: ``(clean row, [])`` or ``(None, [(field, problem), ...])``."""
    if not isinstance(data, dict):
        return None, [("row", "Each row must be a JSON object.")]
    problems: list[tuple[str, str]] = []
    unknown = sorted(str(k) for k in data if k not in ROW_FIELDS)
    if unknown:
        plural = "s" if len(unknown) > 1 else ""
        problems.append(("row", f"Unknown field{plural}: {', '.join(unknown)}."))

    media_type = data.get("media_type")
    if media_type in (None, ""):
        media_type = default_media_type
    if media_type is None:
        problems.append(("media_type", "This field is required (or give a default media type)."))
    elif not isinstance(media_type, str) or media_type.strip().lower() not in MEDIA_TYPES:
        problems.append(
            (
                "media_type",
                f"Unknown media type {media_type!r}; choose one of {', '.join(MEDIA_TYPES)}.",
            )
        )
        media_type = None
    else:
        media_type = media_type.strip().lower()

    row_data = data.get("row_data")
    if row_data is None or (isinstance(row_data, str) and not row_data.strip()):
        problems.append(("row_data", "This field is required."))
        row_data = None
    elif not isinstance(row_data, str):
        problems.append(("row_data", "Enter text or an http(s) URL."))
        row_data = None
    elif len(row_data) > MAX_ROW_DATA:
        problems.append(("row_data", f"At most {MAX_ROW_DATA:,} characters."))
        row_data = None
    else:
        problem = text_problem(row_data)
        is_url = bool(_SCHEME.match(row_data.strip()))
        if problem is None and is_url:
            row_data = row_data.strip()
            problem = _url_problem(row_data)
        if problem:
            problems.append(("row_data", problem))
        elif media_type in URL_ONLY_MEDIA and not is_url:
            problems.append(("row_data", f"{media_type.capitalize()} rows need an http(s) URL."))
        elif is_url and media_type in _EXTENSION_CHECKED:
            found = _extension_family(row_data)
            if found and found[1] != media_type:
                ext, family = found
                problems.append(
                    (
                        "row_data",
                        f"The URL points to a file of media type {family} (.{ext}), "
                        f"but media_type is {media_type}.",
                    )
                )

    global_key = _clean_key(data.get("global_key"), "global_key", problems)
    external_id = _clean_key(data.get("external_id"), "external_id", problems) or ""
    metadata = _clean_metadata(data.get("metadata"), schema, problems)
    attachments = _clean_attachments(data.get("attachments"), problems)
    if problems:
        return None, problems
    return (
        CleanRow(line, row_data, media_type, global_key, external_id, metadata, attachments),
        [],
    )


def format_problems(problems: Iterable[tuple[str, str]]) -> str:
    """One message for a row's problems: ``field: problem; field: problem``."""
    return "; ".join(msg if where == "row" else f"{where}: {msg}" for where, msg in problems)


def clean_default_media_type(value: Any) -> str | None:
    """The upload's default media type (None when not given)."""
    if value in (None, ""):
        return None
    if not isinstance(value, str) or value.strip().lower() not in MEDIA_TYPES:
        raise ValidationFailed(
            f"Unknown media type {value!r}; choose one of {', '.join(MEDIA_TYPES)}.",
            field="media_type",
        )
    return value.strip().lower()


def _raw_global_key(data: Any) -> str | None:
    key = data.get("global_key") if isinstance(data, dict) else None
    return key.strip() or None if isinstance(key, str) else None


def duplicate_key_lines(rows: Sequence[InputRow]) -> dict[int, tuple[str, int]]:
    """Lines whose global key an earlier line of the same upload already gave: line → (key,
    first line). Deterministic, so a re-run of a job finds the same duplicates."""
    first: dict[str, int] = {}
    duplicates: dict[int, tuple[str, int]] = {}
    for row in rows:
        if row.problem is not None:
            continue
        key = _raw_global_key(row.data)
        if key is None:
            continue
        if key in first:
            duplicates[row.line] = (key, first[key])
        else:
            first[key] = row.line
    return duplicates


# --- writing rows -----------------------------------------------------------------------


@dataclass
class _ChunkOutcome:
    created_ids: list[Any] = field(default_factory=list)
    updated_ids: list[Any] = field(default_factory=list)
    ids: list[Any] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def _validate_chunk(
    rows: Sequence[InputRow],
    *,
    schema: dict[str, FieldSpec],
    default_media_type: str | None,
    duplicates: dict[int, tuple[str, int]],
) -> tuple[list[CleanRow], list[RowError]]:
    clean: list[CleanRow] = []
    errors: list[RowError] = []
    for row in rows:
        key = _raw_global_key(row.data)
        if row.problem is not None:
            errors.append(RowError(row.line, None, row.problem))
            continue
        result, problems = clean_row(
            row.data,
            schema=schema,
            default_media_type=default_media_type,
            line=row.line,
        )
        if row.line in duplicates:
            dup_key, first_line = duplicates[row.line]
            problems.append(
                (
                    "global_key",
                    f"{dup_key!r} is given twice in this upload (first on line {first_line}).",
                )
            )
        if problems:
            errors.append(RowError(row.line, key, format_problems(problems)))
        else:
            clean.append(result)
    return clean, errors


# Columns written by the bulk writers (``core.bulk``), in the order rows give them.
_INSERT_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "workspace",
    "dataset",
    "row_data",
    "media_type",
    "global_key",
    "external_id",
    "metadata",
    "attachments",
)
_UPDATE_COLUMNS = ("row_data", "external_id", "metadata", "attachments", "updated_at")


def _insert_rows(rows: list[tuple]) -> None:
    """Insert new rows (values in ``_INSERT_COLUMNS`` order)."""
    insert_rows(DataRow, _INSERT_COLUMNS, rows)


def _update_rows(workspace: Workspace, rows: list[tuple]) -> None:
    """Update rows found by global key (``_UPDATE_COLUMNS`` then the id) by primary key."""
    update_rows(
        DataRow, _UPDATE_COLUMNS, [(*row, workspace.pk) for row in rows], where=("id", "workspace")
    )


def _existing_keys(workspace: Workspace, keys: list[str]) -> dict[str, tuple[Any, Any, str]]:
    """Rows of the workspace holding these global keys: key → (id, dataset id, media type)."""
    if not keys:
        return {}
    found = DataRow.objects.filter(workspace=workspace, global_key__in=keys).values_list(
        "global_key", "pk", "dataset_id", "media_type"
    )
    return {key: (pk, ds, media) for key, pk, ds, media in found}


def _write_chunk_once(*, workspace: Workspace, dataset: Dataset, rows: list[CleanRow]):
    outcome = _ChunkOutcome()
    existing = _existing_keys(workspace, [r.global_key for r in rows if r.global_key])
    new: list[tuple] = []
    changed: list[tuple] = []
    for r in rows:
        hit = existing.get(r.global_key) if r.global_key else None
        if hit is None:
            pk, now = new_id(), timezone.now()
            new.append(
                (
                    pk,
                    now,
                    now,
                    workspace.pk,
                    dataset.pk,
                    r.row_data,
                    r.media_type,
                    r.global_key,
                    r.external_id,
                    r.metadata,
                    r.attachments,
                )
            )
            outcome.created_ids.append(pk)
            outcome.ids.append(pk)
            continue
        pk, dataset_id, media_type = hit
        if dataset_id != dataset.pk:
            message = (
                f"global_key: {r.global_key!r} is already used by a data row in another dataset."
            )
            outcome.errors.append(RowError(r.line, r.global_key, message))
        elif media_type != r.media_type:
            message = (
                f"media_type: the existing data row {r.global_key!r} is {media_type}; "
                f"it cannot become {r.media_type}."
            )
            outcome.errors.append(RowError(r.line, r.global_key, message))
        else:
            changed.append(
                (r.row_data, r.external_id, r.metadata, r.attachments, timezone.now(), pk)
            )
            outcome.updated_ids.append(pk)
            outcome.ids.append(pk)
    if new:
        _insert_rows(new)
        Dataset.objects.filter(pk=dataset.pk).update(row_count=F("row_count") + len(new))
    if changed:
        _update_rows(workspace, changed)
    return outcome


def _write_chunk(*, workspace: Workspace, dataset: Dataset, rows: list[CleanRow]) -> _ChunkOutcome:
    """Insert new rows and update rows found by global key; call inside a transaction."""
    if not rows:
        return _ChunkOutcome()
    for attempt in range(3):
        try:
            with transaction.atomic():  # a savepoint: a lost race on a new key retries
                return _write_chunk_once(workspace=workspace, dataset=dataset, rows=rows)
        except IntegrityError:
            # Another upload inserted one of these global keys since we looked: look again,
            # so those rows become updates (or errors when that dataset is another one).
            if attempt == 2:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def process_rows(
    rows: Sequence[InputRow],
    *,
    workspace: Workspace,
    dataset: Dataset,
    schema: dict[str, FieldSpec],
    default_media_type: str | None,
    duplicates: dict[int, tuple[str, int]],
) -> _ChunkOutcome:
    """Validate and write one chunk of rows (inside a transaction); errors by line."""
    clean, errors = _validate_chunk(
        rows, schema=schema, default_media_type=default_media_type, duplicates=duplicates
    )
    outcome = _write_chunk(workspace=workspace, dataset=dataset, rows=clean)
    outcome.errors = sorted(errors + outcome.errors, key=lambda e: e.line)
    return outcome


def data_rows_create(
    *,
    workspace: Workspace,
    actor: Any,
    dataset: Dataset,
    rows: Sequence[InputRow],
    media_type: Any = None,
) -> BulkResult:
    """Validate and write rows now (chunked, one transaction per chunk); return the counts,
    the per-row errors and the ids of the stored rows in input order."""
    require(actor, Permission.MANAGE_DATASETS, workspace)
    if dataset.workspace_id != workspace.pk:
        raise NotFound("Dataset not found.")
    default = clean_default_media_type(media_type)
    schema = metadata_schema(workspace=workspace)
    duplicates = duplicate_key_lines(rows)
    result = BulkResult()
    size = chunk_size()
    for start in range(0, len(rows), size):
        with transaction.atomic():
            outcome = process_rows(
                rows[start : start + size],
                workspace=workspace,
                dataset=dataset,
                schema=schema,
                default_media_type=default,
                duplicates=duplicates,
            )
        result.created += len(outcome.created_ids)
        result.updated += len(outcome.updated_ids)
        result.ids.extend(outcome.ids)
        result.errors.extend(e.as_dict() for e in outcome.errors)
    with transaction.atomic():
        audit_record(
            workspace=workspace,
            actor=actor,
            verb="data_rows.bulk_created",
            target=dataset,
            target_type="dataset",
            after={
                "rows": len(rows),
                "created": result.created,
                "updated": result.updated,
                "errors": len(result.errors),
            },
        )
    return result


def data_row_job_create(
    *,
    workspace: Workspace,
    actor: Any,
    dataset: Dataset,
    rows: Iterable[InputRow],
    media_type: Any = None,
) -> DataRowJob:
    """Store the rows in a job's payload chunks and run it in the background once this
    commits. ``rows`` is consumed one by one into a temporary file first, outside any
    transaction: reading a large body takes seconds, and on SQLite a transaction holds
    the database's one write lock from its start (``IMMEDIATE``), so only the short
    copy of the stored lines into chunk rows keeps other writers waiting."""
    require(actor, Permission.MANAGE_DATASETS, workspace)
    if dataset.workspace_id != workspace.pk:
        raise NotFound("Dataset not found.")
    default = clean_default_media_type(media_type)
    size, limit = chunk_size(), max_rows_per_request()
    with tempfile.TemporaryFile() as spool:
        total = 0
        rows = iter(rows)
        for row in rows:
            total += 1
            if total > limit:
                # Read on (nothing kept) to say how many rows the upload has.
                raise _too_many_rows(limit, total + sum(1 for _ in rows))
            spool.write(_payload_line(row, default).encode())
            spool.write(b"\n")
        spool.seek(0)
        with transaction.atomic():
            job = DataRowJob.objects.create(
                workspace=workspace, dataset=dataset, created_by=actor_user(actor), total=total
            )
            lines = (raw.rstrip(b"\n").decode() for raw in spool)
            first = 1
            for seq, chunk in enumerate(iter(lambda: list(itertools.islice(lines, size)), [])):
                insert_rows(
                    DataRowPayloadChunk,
                    ("job_id", "seq", "first_line", "count", "text"),
                    [(job.pk, seq, first, len(chunk), "\n".join(chunk))],
                )
                first += len(chunk)
            engine_for(DATA_ROW_JOB).enqueue_on_commit(job)
    return job


def _payload_line(row: InputRow, default: str | None) -> str:
    """One stored row: ``[line, data]`` (the default media type filled in), or ``[line,
    null, problem]`` for a row that could not be read."""
    if row.problem is not None:
        return orjson.dumps([row.line, None, row.problem]).decode()
    data = row.data
    if default and isinstance(data, dict) and data.get("media_type") in (None, ""):
        data = {**data, "media_type": default}
    return orjson.dumps([row.line, data]).decode()


def _too_many_rows(limit: int, count: int | None = None) -> PayloadTooLarge:
    said = f"; this one has {count:,}" if count is not None else ""
    return PayloadTooLarge(
        f"At most {limit:,} rows per upload{said}.",
        details={"rows": [f"At most {limit:,} rows per upload."]},
    )


def data_rows_upload(
    *,
    workspace: Workspace,
    actor: Any,
    dataset: Dataset,
    rows: Iterable[InputRow],
    media_type: Any = None,
) -> BulkResult | DataRowJob:
    """Write a small upload now, or hand a large one to a background job.

    ``rows`` may be a stream (the API's and the console's readers are): at most
    ``DATA_ROWS_SYNC_LIMIT`` + 1 rows are read before deciding, and a job takes the rest
    one by one, so memory does not grow with the upload.
    """
    require(actor, Permission.MANAGE_DATASETS, workspace)
    stream = iter(rows)
    head = list(itertools.islice(stream, sync_limit() + 1))
    if not head:
        raise ValidationFailed("Give at least one row.", field="rows")
    limit = max_rows_per_request()
    if len(head) > limit:
        raise _too_many_rows(limit, len(head) + sum(1 for _ in stream))
    kwargs = {"workspace": workspace, "actor": actor, "dataset": dataset, "media_type": media_type}
    if len(head) <= sync_limit():
        return data_rows_create(rows=head, **kwargs)
    return data_row_job_create(rows=itertools.chain(head, stream), **kwargs)


# --- jobs -------------------------------------------------------------------------------

#: the engine (``projects.jobs.DataRowJobEngine``) that runs upload jobs
DATA_ROW_JOB = "projects.run_data_row_job"


# --- single data rows -------------------------------------------------------------------


def data_row_update(*, workspace: Workspace, actor: Any, data_row: DataRow, **changes) -> DataRow:
    """Change a data row's row data, keys, metadata or attachments (not its media type)."""
    require(actor, Permission.MANAGE_DATASETS, workspace)
    unknown = sorted(set(changes) - (ROW_FIELDS - {"media_type"}))
    if unknown:
        raise ValidationFailed(
            "Unknown fields.", details={name: ["Unknown field."] for name in unknown}
        )
    with transaction.atomic():
        row = (
            DataRow.objects.select_for_update().filter(pk=data_row.pk, workspace=workspace).first()
        )
        if row is None:
            raise NotFound("Data row not found.")
        raw = {
            "row_data": row.row_data,
            "media_type": row.media_type,
            "global_key": row.global_key,
            "external_id": row.external_id,
            "metadata": row.metadata,
            "attachments": row.attachments,
            **changes,
        }
        clean, problems = clean_row(raw, schema=metadata_schema(workspace=workspace))
        if problems:
            details: dict[str, list[str]] = {}
            for where, msg in problems:
                details.setdefault(re.split(r"[.\[]", where, maxsplit=1)[0], []).append(
                    msg if where == "row" else f"{where}: {msg}"
                )
            raise ValidationFailed(format_problems(problems), details=details)
        if clean.global_key and clean.global_key != row.global_key:
            if DataRow.objects.filter(workspace=workspace, global_key=clean.global_key).exists():
                raise _key_taken(clean.global_key)
        row.row_data, row.global_key, row.external_id = (
            clean.row_data,
            clean.global_key,
            clean.external_id,
        )
        row.metadata, row.attachments = clean.metadata, clean.attachments
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:
            raise _key_taken(clean.global_key)
    return row


def _key_taken(key: str) -> Conflict:
    message = f"The global key {key!r} is already used by another data row of the workspace."
    return Conflict(message, details={"global_key": [message]})


def data_row_delete(*, workspace: Workspace, actor: Any, data_row: DataRow) -> None:
    """Delete one data row (its tasks go with it)."""
    require(actor, Permission.MANAGE_DATASETS, workspace)
    with transaction.atomic():
        deleted, _ = DataRow.objects.filter(pk=data_row.pk, workspace=workspace).delete()
        if deleted:
            Dataset.objects.filter(pk=data_row.dataset_id).update(row_count=F("row_count") - 1)


# --- datasets ---------------------------------------------------------------------------


def _clean_text(value: Any, *, field: str, max_length: int, required: bool = True, **kw) -> str:
    """``core.validation.clean_text``, refusing what no database stores (NUL, lone surrogates)."""
    if isinstance(value, str) and text_problem(value):
        raise ValidationFailed(text_problem(value), field=field)
    return clean_text(value, field=field, max_length=max_length, required=required, **kw)


def _dataset_name_taken() -> Conflict:
    message = "A dataset with this name already exists in the workspace."
    return Conflict(message, details={"name": [message]})


def dataset_create(
    *, workspace: Workspace, actor: Any, name: Any, description: Any = ""
) -> Dataset:
    """Create an empty dataset (names are unique per workspace, ignoring case)."""
    require(actor, Permission.MANAGE_DATASETS, workspace)
    name = _clean_text(name, field="name", max_length=200)
    description = _clean_text(
        description, field="description", max_length=2000, required=False, collapse=False
    )
    try:
        with transaction.atomic():
            dataset = Dataset.objects.create(
                workspace=workspace,
                name=name,
                description=description,
                created_by=actor_user(actor),
            )
            audit_record(
                workspace=workspace,
                actor=actor,
                verb="dataset.created",
                target=dataset,
                target_type="dataset",
                after={"name": name},
            )
    except IntegrityError:
        raise _dataset_name_taken()
    return dataset


def dataset_update(
    *,
    workspace: Workspace,
    actor: Any,
    dataset: Dataset,
    name: Any = None,
    description: Any = None,
) -> Dataset:
    """Rename a dataset and/or change its description."""
    require(actor, Permission.MANAGE_DATASETS, workspace)
    try:
        with transaction.atomic():
            ds = (
                Dataset.objects.select_for_update()
                .filter(pk=dataset.pk, workspace=workspace)
                .first()
            )
            if ds is None:
                raise NotFound("Dataset not found.")
            before = {"name": ds.name, "description": ds.description}
            if name is not None:
                ds.name = _clean_text(name, field="name", max_length=200)
            if description is not None:
                ds.description = _clean_text(
                    description,
                    field="description",
                    max_length=2000,
                    required=False,
                    collapse=False,
                )
            after = {"name": ds.name, "description": ds.description}
            if after != before:
                ds.save(update_fields=["name", "description"])
                verb = "dataset.renamed" if after["name"] != before["name"] else "dataset.updated"
                audit_record(
                    workspace=workspace,
                    actor=actor,
                    verb=verb,
                    target=ds,
                    target_type="dataset",
                    before=before,
                    after=after,
                )
    except IntegrityError:
        raise _dataset_name_taken()
    return ds


def dataset_delete(*, workspace: Workspace, actor: Any, dataset: Dataset, confirm: Any) -> int:
    """Delete a dataset with its rows and jobs, once its name was typed; return the rows."""
    require(actor, Permission.MANAGE_DATASETS, workspace)
    if not isinstance(confirm, str) or confirm.strip() != dataset.name:
        raise ValidationFailed(
            f"Type the dataset's name ({dataset.name}) to delete it.", field="confirm"
        )
    with transaction.atomic():
        ds = Dataset.objects.select_for_update().filter(pk=dataset.pk, workspace=workspace).first()
        if ds is None:
            raise NotFound("Dataset not found.")
        deleted = 0
        while True:  # in slices: Django's cascade collector holds each slice in memory
            ids = list(DataRow.objects.filter(dataset=ds).values_list("pk", flat=True)[:5000])
            if not ids:
                break
            DataRow.objects.filter(pk__in=ids).delete()
            deleted += len(ids)
        audit_record(
            workspace=workspace,
            actor=actor,
            verb="dataset.deleted",
            target=ds,
            target_type="dataset",
            before={"name": ds.name, "rows": deleted},
        )
        ds.delete()
    return deleted


# --- metadata schema --------------------------------------------------------------------

_FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,99}$")


def _clean_options(kind: str, options: Any) -> list[str]:
    if kind != Kind.ENUM:
        if options not in (None, [], ()):
            raise ValidationFailed("Only enum fields have options.", field="options")
        return []
    options = [] if options is None else options
    if not isinstance(options, list | tuple) or not all(isinstance(o, str) for o in options):
        raise ValidationFailed("Give the options as a list of text values.", field="options")
    clean: list[str] = []
    for option in options:
        option = option.strip()
        if not option or len(option) > 100 or text_problem(option):
            raise ValidationFailed("Each option is 1 to 100 characters.", field="options")
        if option in clean:
            raise ValidationFailed(f"The option {option!r} is given twice.", field="options")
        clean.append(option)
    if not clean:
        raise ValidationFailed("An enum field needs at least one option.", field="options")
    if len(clean) > 100:
        raise ValidationFailed("At most 100 options.", field="options")
    return clean


def metadata_field_create(
    *, workspace: Workspace, actor: Any, name: Any, kind: Any, options: Any = None
) -> MetadataField:
    """Add a typed field to the workspace's metadata schema."""
    require(actor, Permission.MANAGE_DATASETS, workspace)
    if not isinstance(name, str) or not _FIELD_NAME.match(name.strip()):
        raise ValidationFailed(
            "Use up to 100 letters, digits and underscores, starting with a letter.", field="name"
        )
    name = name.strip()
    if name.lower() in {r.lower() for r in RESERVED_FIELDS}:
        raise ValidationFailed(f"{name} is a reserved field; it always exists.", field="name")
    if kind not in Kind.values:
        raise ValidationFailed(f"Choose the kind: {', '.join(Kind.values)}.", field="kind")
    options = _clean_options(kind, options)
    message = "A metadata field with this name already exists."
    if MetadataField.objects.filter(workspace=workspace, name__iexact=name).exists():
        raise Conflict(message, details={"name": [message]})
    try:
        with transaction.atomic():
            created = MetadataField.objects.create(
                workspace=workspace, name=name, kind=kind, options=options
            )
            audit_record(
                workspace=workspace,
                actor=actor,
                verb="metadata_field.created",
                target=created,
                target_type="metadata_field",
                after={"name": name, "kind": kind, "options": options},
            )
    except IntegrityError:
        raise Conflict(message, details={"name": [message]})
    return created


def metadata_field_delete(
    *, workspace: Workspace, actor: Any, metadata_field: MetadataField
) -> None:
    """Remove a field from the schema; refused while data rows hold values for it."""
    require(actor, Permission.MANAGE_DATASETS, workspace)
    with transaction.atomic():
        found = (
            MetadataField.objects.select_for_update()
            .filter(pk=metadata_field.pk, workspace=workspace)
            .first()
        )
        if found is None:
            raise NotFound("Metadata field not found.")
        if DataRow.objects.filter(workspace=workspace, metadata__has_key=found.name).exists():
            raise Conflict(
                f"Data rows hold values for {found.name}; remove them before deleting the field."
            )
        audit_record(
            workspace=workspace,
            actor=actor,
            verb="metadata_field.deleted",
            target=found,
            target_type="metadata_field",
            before={"name": found.name, "kind": found.kind, "options": found.options},
        )
        found.delete()
