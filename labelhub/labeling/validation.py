"""Validation of NDJSON annotation import lines against a project, its ontology and its rows.

``validate_line`` is pure apart from what ``ImportContext.prepare`` loaded for the chunk
(data rows, batch membership, stored annotation counts and object uuids: four queries per
chunk, whatever its size). Each error is ``{"name", "message", "additionalInfo"}``; the
message says what to change.
"""

from __future__ import annotations

import contextlib
import difflib
import math
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson
from django.db import connection, transaction
from django.db.models import Q

from labelhub.core.ids import parse_id
from labelhub.core.parsers import MAX_JSON_DEPTH, too_deep
from labelhub.labeling.selectors.annotations import stored_annotation_keys
from labelhub.labeling.selectors.tasks import rows_in_project
from labelhub.projects.models import DataRow, FeatureSchema, MediaType, Project
from labelhub.projects.selectors.ontologies import FeatureLookup

MAX_ANNOTATIONS_PER_ROW = 5000
#: the longest free-text answer (a paragraph or a rewritten response, not a document)
MAX_TEXT_ANSWER_CHARS = 65_535
MAX_METRIC_NAME_CHARS = 100
PRELABELS, GROUND_TRUTH = "prelabels", "ground_truth"

#: line key -> (annotation kind, ontology tool type)
GEOMETRIES: dict[str, tuple[str, str]] = {
    "bbox": ("bbox", "rectangle"),
    "polygon": ("polygon", "polygon"),
    "line": ("polyline", "line"),
    "point": ("point", "point"),
    "mask": ("mask", "raster-segmentation"),
    "location": ("entity", "named-entity"),
    "textSelections": ("document_text", "named-entity"),
    "relationship": ("relationship", "edge"),
    "segments": ("video_segments", ""),
}
_GEOMETRY_KEYS = frozenset(GEOMETRIES)
KEYFRAME_GEOMETRIES = {"bbox": "rectangle", "point": "point", "line": "line"}
CLASSIFICATION_KINDS = {"radio", "checklist", "text"}
NOT_OBJECTS = CLASSIFICATION_KINDS | {"relationship"}
METRIC_KEYS = ("metricValue", "metricName", "aggregation")

_CLS = {"radio", "checklist", "text"}
#: media type -> annotation kinds importable (reference 002's matrix, widened where the
#: SDK conformance corpus expects acceptance: video polylines and free text, conversational
#: entities, document text selections; conversations take whole-row classifications too)
SUPPORTED: dict[str, set[str]] = {
    MediaType.IMAGE: {"bbox", "polygon", "polyline", "point", "mask", "relationship"} | _CLS,
    MediaType.VIDEO: {"video_segments"} | _CLS,
    MediaType.TEXT: {"entity", "relationship"} | _CLS,
    MediaType.DOCUMENT: {"document_bbox", "document_text"} | _CLS,
    MediaType.GEOSPATIAL: {"bbox", "polygon", "polyline", "point"} | _CLS,
    MediaType.AUDIO: set(_CLS),
    MediaType.CONVERSATIONAL: {"entity"} | _CLS,
    MediaType.HTML: set(),
    MediaType.LLM_CHAT: set(_CLS),
}
#: video keyframes: which tools a segment may carry
VIDEO_SEGMENT_TOOLS = {"rectangle", "point", "line"}

KIND_LABELS = {
    "bbox": "bounding boxes",
    "document_bbox": "bounding boxes",
    "polygon": "polygons",
    "polyline": "polylines",
    "point": "points",
    "mask": "segmentation masks",
    "entity": "text entities",
    "document_text": "text selections",
    "relationship": "relationships",
    "video_segments": "keyframed segments",
    "radio": "radio classifications",
    "checklist": "checklist classifications",
    "text": "free-text classifications",
}


def error(name: str, message: str, **info: Any) -> dict[str, Any]:
    return {"name": name, "message": message, "additionalInfo": info or None}


class LineInvalid(Exception):
    def __init__(self, *errors: dict[str, Any]):
        super().__init__(errors[0]["message"])
        self.errors = list(errors)


class RowInfo(NamedTuple):
    """What validating needs of a data row (no model instances: chunks load thousands)."""

    pk: str
    global_key: str | None
    media_type: str
    #: length of inline text (text rows only; None when the text is behind a URL)
    text_length: int | None


@dataclass
class ImportContext:
    """What validating one import's lines needs; ``prepare`` loads a chunk's rows in bulk.

    A running job calls ``start_chunk`` before each chunk: what was loaded for earlier
    chunks is dropped (memory stays bounded by the chunk size), and what earlier chunks
    wrote is read back from the database. A dry run writes nothing, so it keeps the uuids
    and per-row counts it has seen across chunks instead (memory grows with the import).
    """

    project: Project
    lookup: FeatureLookup
    kind: str = PRELABELS
    max_per_row: int = MAX_ANNOTATIONS_PER_ROW
    #: the running job (its own stored annotations are duplicates, not replacements)
    job_id: Any = None
    dry_run: bool = False
    #: ("id", value) / ("globalKey", value) -> RowInfo
    rows: dict[tuple[str, str], RowInfo] = field(default_factory=dict)
    in_project: set[Any] = field(default_factory=set)
    #: row pk -> annotations stored in the project, and their uuids
    stored_counts: dict[Any, int] = field(default_factory=dict)
    stored_uuids: dict[Any, set[str]] = field(default_factory=dict)
    stored_objects: dict[Any, set[str]] = field(default_factory=dict)
    #: row pk -> uuids this job already stored (in earlier chunks)
    own_uuids: dict[Any, set[str]] = field(default_factory=dict)
    #: rows holding pre-labels written by another import
    other_prelabels: dict[Any, set[str]] = field(default_factory=dict)
    #: row pk -> uuids of stored ground-truth annotations (pre-labels may not replace them)
    stored_truth: dict[Any, set[str]] = field(default_factory=dict)
    #: per-import state
    seen: set[Any] = field(default_factory=set)
    object_uuids: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    #: object uuids of the current chunk's lines (relationships may name them)
    chunk_objects: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    added: dict[Any, int] = field(default_factory=dict)
    #: (seen, added) of the last two chunks (see ``start_chunk``)
    history: deque[tuple[set[Any], dict[Any, int]]] = field(default_factory=lambda: deque(maxlen=2))
    _loaded: set[tuple[str, str]] = field(default_factory=set)
    #: memo of resolved features: (kind, parent pk, (key, value)) -> feature
    features: dict[tuple[Any, ...], FeatureSchema] = field(default_factory=dict)
    #: memo of valid nested classifications: (parent pk, their JSON) -> normalized
    nested: dict[tuple[Any, bytes], list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def media_type(self) -> str:
        return self.project.media_type

    def start_chunk(self) -> None:
        """Forget what the previous chunk loaded (a dry run keeps ``seen`` and ``added``)."""
        self.rows.clear()
        self.in_project.clear()
        self.stored_counts.clear()
        self.stored_uuids.clear()
        self.stored_objects.clear()
        self.own_uuids.clear()
        self.other_prelabels.clear()
        self.stored_truth.clear()
        self.chunk_objects.clear()
        self._loaded.clear()
        if not self.dry_run:
            # the previous two chunks may not be committed yet (a writer thread commits
            # chunk k while chunk k+1 is checked): remember their uuids and counts
            self.history.append((self.seen, self.added))
            self.seen, self.added = set(), {}

    def prepare(self, lines: Iterable[Any]) -> list[Any]:
        """Parse a chunk, load its data rows and their stored annotations; return the lines.

        A data row ``id`` that is not a LabelHub id is also looked up as a global key, so
        files exported elsewhere import unchanged onto rows created with those keys.
        """
        loads, parse = orjson.loads, parse_line
        parsed = []
        refs: set[tuple[str, str]] = set()
        relationships = False
        for raw in lines:
            try:
                line = loads(raw) if type(raw) is str and "\\u0000" not in raw else parse(raw)
            except orjson.JSONDecodeError:
                line = parse(raw)  # the error, worded
            else:
                if type(raw) is str and too_deep(line, raw):
                    line = parse(raw)  # the error, worded
            parsed.append(line)
            if type(line) is not dict:
                continue
            ref = line.get("dataRow")
            if type(ref) is dict and len(ref) == 1 and type(key := ref.get("globalKey")) is str:
                refs.add(("globalKey", key))  # the common case, without a call
            elif ref := _row_ref(line):
                refs.add(ref)
            relationships = relationships or "relationship" in line
        self.load_rows(refs)
        if relationships:
            objects = [line for line in parsed if isinstance(line, dict)]
            self.note_objects(objects, into=self.chunk_objects)
        return parsed

    def load_rows(self, refs: set[tuple[str, str]]) -> None:
        """Load the data rows named by ``refs`` (and their stored annotations) once."""
        new = refs - self._loaded
        self._loaded |= new
        if not new:
            return
        ids = {parse_id(v) for k, v in new if k == "id"} - {None}
        keys = {v for k, v in new if k == "globalKey"} | {v for k, v in new if k == "id"}
        text = self.media_type == MediaType.TEXT
        # one indexed lookup per kind of reference (an OR of both defeats the indexes)
        match = Q(global_key__in=keys) if not ids else Q(pk__in=ids) | Q(global_key__in=keys)
        pks_query = DataRow.objects.filter(workspace_id=self.project.workspace_id).filter(match)
        with _index_lookups():
            found = list(
                pks_query.values_list(
                    "pk", "global_key", "media_type", "row_data" if text else "pk"
                )
            )
            pks = [pk for pk, *_ in found]
            tasks = rows_in_project(project=self.project, data_row_ids=pks)
            stored = stored_annotation_keys(data_row_ids=pks)
        by_pk: dict[str, RowInfo] = {}
        for pk, global_key, media_type, data in found:
            length = None
            if text and media_type == MediaType.TEXT and not data.startswith(_URL_PREFIXES):
                length = len(data)
            # row keys are strings throughout: hashing a uuid.UUID runs Python code
            by_pk[str(pk)] = RowInfo(str(pk), global_key, media_type, length)
        by_key = {r.global_key: r for r in by_pk.values() if r.global_key}
        for k, v in new:
            row = by_key.get(v) if k == "globalKey" else None
            if k == "id":
                pk = parse_id(v)
                row = by_pk.get(str(pk)) if pk else None
                row = row or by_key.get(v)
            if row is not None:
                self.rows[(k, v)] = row
        self.in_project.update(str(pk) for pk in tasks)
        recent = [seen for seen, _ in self.history]
        project_id = self.project.pk
        for row_pk, uuid, kind, job_id, source, project in stored:
            if project != project_id:
                continue
            row_pk = str(row_pk)
            if (
                recent
                and self.job_id is not None
                and job_id == self.job_id
                and any((row_pk, uuid) in seen for seen in recent)
            ):
                continue  # a recent chunk's line: counted in ``history`` already
            self.stored_counts[row_pk] = self.stored_counts.get(row_pk, 0) + 1
            self.stored_uuids.setdefault(row_pk, set()).add(uuid)
            if kind not in NOT_OBJECTS:
                self.stored_objects.setdefault(row_pk, set()).add(uuid)
            if self.job_id is not None and job_id == self.job_id:
                self.own_uuids.setdefault(row_pk, set()).add(uuid)
            elif source == PRELABEL_SOURCE:
                self.other_prelabels.setdefault(row_pk, set()).add(uuid)
            if source == GROUND_TRUTH_SOURCE:
                self.stored_truth.setdefault(row_pk, set()).add(uuid)

    def note_objects(
        self,
        lines: Iterable[Any],
        *,
        only: set[str] | None = None,
        into: dict[tuple[str, str], set[str]] | None = None,
    ) -> None:
        """Register the object uuids the lines give (so that a relationship may name an
        object of a later chunk of the same import); ``only`` keeps just those uuids."""
        target = self.object_uuids if into is None else into
        for line in lines:
            line = parse_line(line)
            if isinstance(line, dict):
                ref = _row_ref(line)
                uuid = line.get("uuid")
                if (
                    ref is not None
                    and _geometry_key(line) not in (None, "relationship")
                    and _is_str(uuid)
                    and (only is None or uuid in only)
                ):
                    target.setdefault(ref, set()).add(uuid)


_URL_PREFIXES = ("http://", "https://")


@contextlib.contextmanager
def _index_lookups() -> Iterator[None]:
    """Key lookups of a chunk's rows. On PostgreSQL sequential scans are switched off for
    them: an import grows the annotation table faster than autovacuum refreshes its
    statistics, and with stale statistics the planner scans the whole table per chunk
    (measured: 150 ms per chunk at a million rows, against 3 ms by index)."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        yield


PRELABEL_SOURCE = "prelabel"
GROUND_TRUTH_SOURCE = "ground_truth"


_TOO_DEEP = object()


def parse_line(line: Any) -> Any:
    """A line's JSON value (text or bytes parsed; a ``LineInvalid`` when not JSON)."""
    if isinstance(line, (str, bytes, bytearray)):
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            if "depth limit" not in exc.msg:
                return LineInvalid(
                    error(
                        "InvalidJson",
                        f"The line is not valid JSON ({exc.msg} at column {exc.colno}); "
                        "write one JSON object per line.",
                    )
                )
            value = _TOO_DEEP  # deeper than orjson's own limit: the message below
        if value is _TOO_DEEP or too_deep(value, line):
            # validators and renderers of the annotation recurse into it
            return LineInvalid(
                error(
                    "InvalidJson",
                    f"The line nests arrays and objects deeper than {MAX_JSON_DEPTH} levels.",
                )
            )
        # JSON can only carry NUL escaped, so the raw text tells cheaply when to look.
        nul = b"\\u0000" if not isinstance(line, str) else "\\u0000"
        return _refuse_nul(value) if nul in line else value
    return line  # already parsed (and checked) by ImportContext.prepare


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


def _refuse_nul(value: Any) -> Any:
    """The value, or a ``LineInvalid`` when a string in it holds a NUL character.

    PostgreSQL's text and jsonb columns cannot store NUL, so such a line would fail the
    whole chunk's write instead of just itself.
    """
    if _holds_nul(value):
        return LineInvalid(error("InvalidText", "Text may not contain NUL characters (\\u0000)."))
    return value


def _is_str(value: Any) -> bool:
    return isinstance(value, str) and value != ""


def _row_ref(line: dict) -> tuple[str, str] | None:
    ref = line.get("dataRow")
    if not isinstance(ref, dict):
        return None
    given = [k for k in ("id", "globalKey") if ref.get(k) is not None]
    if len(given) != 1 or not _is_str(ref[given[0]]):
        return None
    return (given[0], ref[given[0]])


def _geometry_key(line: dict) -> str | None:
    keys = [k for k in GEOMETRIES if k in line]
    return keys[0] if len(keys) == 1 else None


def validate_line(
    raw: Any, *, context: ImportContext
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """Validate one line (text, bytes or an already parsed dict): (normalized, errors)."""
    line = parse_line(raw)
    if type(line) is dict and "bbox" in line:
        normalized = fast_box(line, context)
        if normalized is not None:
            return normalized, []
    try:
        if isinstance(line, LineInvalid):
            raise line
        normalized = _validate(line, context)
    except LineInvalid as exc:
        return None, exc.errors
    return normalized, []


_FAST_KEYS = frozenset(
    {"uuid", "dataRow", "name", "schemaId", "bbox", "confidence", "classifications"}
)
_NUMBERS = (int, float)
_FAST_MEDIA = frozenset({MediaType.IMAGE, MediaType.GEOSPATIAL})


def fast_box(line: dict, ctx: ImportContext) -> dict[str, Any] | None:
    """The common line (a box with optional confidence and nested answers seen before)
    checked without the general path's bookkeeping; ``None`` sends the line to the
    general path, which gives the same result or the error. Keep the two in step: the
    tests run every rule through both (``test_fast_path_agrees``)."""
    if not line.keys() <= _FAST_KEYS or ctx.media_type not in _FAST_MEDIA:
        return None
    uuid, ref = line.get("uuid"), line.get("dataRow")
    if type(uuid) is not str or not 0 < len(uuid) <= 100 or type(ref) is not dict or len(ref) != 1:
        return None
    key = ("globalKey", ref.get("globalKey")) if "globalKey" in ref else ("id", ref.get("id"))
    if type(key[1]) is not str:
        return None
    row = ctx.rows.get(key)
    if row is None or row.pk not in ctx.in_project:
        return None
    schema_id = line.get("schemaId")
    fref = ("schemaId", schema_id) if type(schema_id) is str and schema_id else None
    if fref is None:
        name = line.get("name")
        if type(name) is not str or not name:
            return None
        fref = ("name", name)
    feature = ctx.features.get((FeatureSchema.Kind.TOOL, None, fref))
    if feature is None or feature.type != "rectangle":
        return None
    box = line["bbox"]
    if not _plain_box(box):
        return None
    confidence = line.get("confidence", 1.0)
    if type(confidence) not in _NUMBERS or not 0 <= confidence <= 1:
        return None
    value: dict[str, Any] = {"bbox": box}
    items = line.get("classifications")
    if items:
        nested = ctx.nested.get((feature.pk, orjson.dumps(items)))
        if nested is None:
            return None
        value["classifications"] = nested
    elif items is not None and items != []:
        return None
    seen_key = (row.pk, uuid) if not ctx.dry_run else hash((row.pk, uuid))
    if seen_key in ctx.seen or uuid in ctx.own_uuids.get(row.pk, ()):
        return None
    if ctx.history and any(seen_key in seen for seen, _ in ctx.history):
        return None
    replaces = uuid in ctx.stored_uuids.get(row.pk, ())
    if replaces and ctx.kind == PRELABELS and uuid in ctx.stored_truth.get(row.pk, ()):
        return None
    total = ctx.stored_counts.get(row.pk, 0) + ctx.added.get(row.pk, 0) + (0 if replaces else 1)
    for _, added in ctx.history:
        total += added.get(row.pk, 0)
    if total > ctx.max_per_row:
        return None
    ctx.seen.add(seen_key)
    if not replaces:
        ctx.added[row.pk] = ctx.added.get(row.pk, 0) + 1
    return {
        "data_row": row,
        "feature": feature,
        "kind": "bbox",
        "value": value,
        "confidence": float(confidence),
        "custom_metrics": [],
        "uuid": uuid,
        "replaces": replaces,
        "benchmark": False,
    }


def _validate(line: Any, ctx: ImportContext) -> dict[str, Any]:
    if not isinstance(line, dict):
        raise LineInvalid(error("InvalidJson", "Each line must be a JSON object ({...})."))
    metric = [k for k in METRIC_KEYS if k in line] if not line.keys().isdisjoint(METRIC_KEYS) else 0
    if metric:
        raise LineInvalid(
            error(
                "NotAnAnnotation",
                f'This is a model-run metric line ("{metric[0]}"), not an annotation; '
                "metrics are imported into a model run, not into a project.",
            )
        )
    if "messageEvaluationTask" in line:
        raise LineInvalid(
            error(
                "UnsupportedForMediaType",
                "LLM chat evaluation lines (messageEvaluationTask) cannot be imported yet: "
                "ontologies have no message-evaluation tools.",
            )
        )
    uuid = line.get("uuid")
    if not _is_str(uuid) or len(uuid) > 100:
        raise LineInvalid(
            error("MissingUuid", 'Give each line a "uuid" (a string of at most 100 characters).')
        )
    row = _resolve_row(line, ctx)

    geometry_keys = ["bbox"] if "bbox" in line else []  # the common case, checked first
    if not geometry_keys or len(line.keys() & _GEOMETRY_KEYS) > 1:
        geometry_keys = [k for k in GEOMETRIES if k in line]
    has_answer = "answer" in line or "answers" in line
    if len(geometry_keys) > 1:
        raise LineInvalid(
            error(
                "InvalidGeometry",
                f"The line gives {' and '.join(geometry_keys)}; give exactly one geometry.",
            )
        )
    if not geometry_keys and not has_answer:
        raise LineInvalid(
            error(
                "MissingValue",
                f"The line has no annotation: give one of {', '.join(GEOMETRIES)}, or an answer.",
            )
        )
    errors: list[dict[str, Any]] = []
    if geometry_keys:
        key = geometry_keys[0]
        feature = _resolve_tool(line, ctx)
        kind, value = _object_value(key, line, feature, ctx, errors)
        nested = _nested_cached(line.get("classifications"), feature, ctx, errors)
        if nested:
            value["classifications"] = nested
    else:
        feature = _resolve_feature(line, ctx, kind=FeatureSchema.Kind.CLASSIFICATION)
        kind = feature.type
        value = _classification_value(line, feature, ctx, errors, video=True)

    if kind not in SUPPORTED.get(ctx.media_type, set()):
        errors.append(
            error(
                "UnsupportedForMediaType",
                f"{KIND_LABELS.get(kind, kind).capitalize()} cannot be imported into a "
                f"{MediaType(ctx.media_type).label.lower()} project.",
                kind=kind,
                mediaType=ctx.media_type,
            )
        )
    confidence = _confidence(line, errors)
    metrics = _custom_metrics(line, errors)

    seen_key = (row.pk, uuid) if not ctx.dry_run else hash((row.pk, uuid))
    if (
        seen_key in ctx.seen
        or uuid in ctx.own_uuids.get(row.pk, ())
        or any(seen_key in seen for seen, _ in ctx.history)
    ):
        errors.append(
            error(
                "DuplicateUuid",
                f'uuid "{uuid}" is used twice for this data row in this import; '
                "give each annotation its own uuid.",
            )
        )
    benchmark = line.get("isBenchmarkReferenceLabel", False)
    if not isinstance(benchmark, bool):
        errors.append(
            error("InvalidBenchmarkFlag", '"isBenchmarkReferenceLabel" must be true or false.')
        )
    if ctx.kind == PRELABELS and uuid in ctx.stored_truth.get(row.pk, ()):
        errors.append(
            error(
                "ReplacesGroundTruth",
                f'uuid "{uuid}" is a ground-truth annotation of this data row; a pre-label '
                "cannot replace it. Give the pre-label its own uuid.",
            )
        )
    if errors:
        raise LineInvalid(*errors)
    ctx.seen.add(seen_key)
    replaces = uuid in ctx.stored_uuids.get(row.pk, ())
    total = ctx.stored_counts.get(row.pk, 0) + ctx.added.get(row.pk, 0) + (0 if replaces else 1)
    for _, added in ctx.history:
        total += added.get(row.pk, 0)
    if total > ctx.max_per_row:
        raise LineInvalid(
            error(
                "TooManyAnnotations",
                f"The data row would hold more than {ctx.max_per_row} annotations; "
                "split them over fewer objects or remove some.",
                limit=ctx.max_per_row,
            )
        )
    if not replaces:
        ctx.added[row.pk] = ctx.added.get(row.pk, 0) + 1
    return {
        "data_row": row,
        "feature": feature,
        "kind": kind,
        "value": value,
        "confidence": confidence,
        "custom_metrics": metrics,
        "uuid": uuid,
        "replaces": replaces,
        "benchmark": benchmark,
    }


def line_warnings(normalized: dict[str, Any], ctx: ImportContext) -> list[dict[str, Any]]:
    """Warnings of a valid line (it is imported all the same)."""
    others = ctx.other_prelabels.get(normalized["data_row"].pk) if ctx.kind == PRELABELS else None
    if others and normalized["uuid"] not in others:  # replacing one of them warns of nothing
        return [
            error(
                "RowHasOtherPrelabels",
                "The data row already holds pre-labels from another import; they are kept "
                "and this line adds to them (delete them first to replace them).",
            )
        ]
    return []


def _resolve_row(line: dict, ctx: ImportContext) -> RowInfo:
    ref = line.get("dataRow")
    if type(ref) is dict and len(ref) == 1:  # the common case
        key = ("globalKey", ref.get("globalKey")) if "globalKey" in ref else ("id", ref.get("id"))
        row = ctx.rows.get(key) if type(key[1]) is str else None
        if row is not None and row.pk in ctx.in_project:
            return row
    given = [k for k in ("id", "globalKey") if isinstance(ref, dict) and ref.get(k) is not None]
    if not isinstance(ref, dict) or len(given) != 1 or not _is_str(ref[given[0]]):
        raise LineInvalid(
            error(
                "InvalidDataRow",
                'Give "dataRow" as {"id": ...} or {"globalKey": ...} (exactly one of them).',
            )
        )
    key = (given[0], ref[given[0]])
    if key not in ctx._loaded:
        ctx.prepare([line])
    row = ctx.rows.get(key)
    if row is None:
        raise LineInvalid(
            error(
                "DataRowNotFound",
                f'No data row with {key[0]} "{key[1]}" in this workspace; '
                "check the id or global key.",
            )
        )
    if row.pk not in ctx.in_project:
        raise LineInvalid(
            error(
                "DataRowNotInProject",
                f'Data row "{key[1]}" is not in a batch of this project; '
                "send it to the project in a batch first.",
            )
        )
    return row


def _feature_ref(obj: dict) -> tuple[str, str] | None:
    if _is_str(obj.get("schemaId")):
        return ("schemaId", obj["schemaId"])
    if _is_str(obj.get("name")):
        return ("name", obj["name"])
    return None


def _not_found(
    ref: tuple[str, str] | None, candidates: list[FeatureSchema], where: str = "Ontology"
) -> LineInvalid:
    if ref is None:
        return LineInvalid(error("FeatureNotFound", 'Give the feature by "name" or "schemaId".'))
    attr = "schema_id" if ref[0] == "schemaId" else "name"
    names = [getattr(c, attr) for c in candidates]
    close = difflib.get_close_matches(ref[1], names, n=1, cutoff=0.6)
    hint = f' Did you mean "{close[0]}"?' if close else ""
    return LineInvalid(
        error(
            "FeatureNotFound",
            f'{where} does not contain {ref[0]} "{ref[1]}".{hint}',
            suggestion=close[0] if close else None,
        )
    )


def _resolve_feature(
    obj: dict, ctx: ImportContext, *, kind: str, parent: FeatureSchema | None = None
) -> FeatureSchema:
    ref = _feature_ref(obj)
    found = None
    if ref is not None:
        memo = (kind, parent.pk if parent is not None else None, ref)
        found = ctx.features.get(memo)
        if found is not None:
            return found
        arg = {"schema_id": ref[1]} if ref[0] == "schemaId" else {"name": ref[1]}
        found = ctx.lookup.resolve(kind=kind, parent=parent, **arg)
        if found is not None:
            ctx.features[memo] = found
    if found is not None:
        return found
    siblings = ctx.lookup.children(parent)
    if ref is not None:
        other = (
            ctx.lookup.by_schema_id.get(ref[1])
            if ref[0] == "schemaId"
            else next((f for f in siblings if f.name == ref[1]), None)
            or next(
                (f for f in ctx.lookup.by_pk.values() if f.name == ref[1] and f.kind == kind),
                None,
            )
        )
        if (
            other is not None
            and other.kind != kind
            and other.parent_id == (parent.pk if parent else None)
        ):
            raise LineInvalid(
                error(
                    "KindMismatch",
                    f'"{other.name}" is {_a(other.kind)} in the ontology, not {_a(kind)}; '
                    "give a feature of the right kind.",
                )
            )
        if other is not None and other.parent_id != (parent.pk if parent else None):
            where = f'directly under "{parent.name}"' if parent else "at the top level"
            raise LineInvalid(
                error(
                    "InvalidNesting",
                    f'"{other.name}" is not {where} in the ontology; nest it as the ontology does.',
                )
            )
    same_kind = [f for f in siblings if f.kind == kind]
    where = "Ontology" if parent is None else f'"{parent.name}"'
    raise _not_found(ref, same_kind, where)


def _a(word: str) -> str:
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"


def _resolve_tool(line: dict, ctx: ImportContext) -> FeatureSchema:
    return _resolve_feature(line, ctx, kind=FeatureSchema.Kind.TOOL)


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _geometry_error(message: str) -> dict[str, Any]:
    return error("InvalidGeometry", message)


def _check_point(p: Any, what: str, errors: list) -> bool:
    if not isinstance(p, dict) or not (_finite(p.get("x")) and _finite(p.get("y"))):
        errors.append(_geometry_error(f'{what} needs finite numbers "x" and "y".'))
        return False
    return True


def _check_points(points: Any, minimum: int, what: str, errors: list) -> None:
    if not isinstance(points, list) or len(points) < minimum:
        errors.append(_geometry_error(f"A {what} needs at least {minimum} points."))
        return
    for p in points:
        if not _check_point(p, f"Each {what} point", errors):
            return


def _plain_box(box: Any) -> bool:
    """A valid box with exactly its four keys (the common case, checked without calls)."""
    if type(box) is not dict or len(box) != 4:
        return False
    top, left, height, width = box.get("top"), box.get("left"), box.get("height"), box.get("width")
    return (
        type(top) in _NUMBERS
        and type(left) in _NUMBERS
        and type(height) in _NUMBERS
        and type(width) in _NUMBERS
        and -1e308 < top < 1e308  # NaN and infinity fail these
        and -1e308 < left < 1e308
        and 0 <= height < 1e308
        and 0 <= width < 1e308
    )


def _check_bbox(box: Any, errors: list) -> None:
    keys = ("top", "left", "height", "width")
    if _plain_box(box):
        return
    if not isinstance(box, dict) or not all(_finite(box.get(k)) for k in keys):
        errors.append(
            _geometry_error('A bbox needs finite numbers "top", "left", "height" and "width".')
        )
    elif box["height"] < 0 or box["width"] < 0:
        errors.append(_geometry_error("A bbox's width and height must be 0 or more."))


def _check_page(line: dict, errors: list, required: bool = False) -> None:
    page = line.get("page")
    if page is None and not required:
        return
    if not isinstance(page, int) or isinstance(page, bool) or page < 1:
        errors.append(_geometry_error('"page" must be a whole number, 1 or more.'))


def _object_value(
    key: str, line: dict, feature: FeatureSchema, ctx: ImportContext, errors: list
) -> tuple[str, dict]:
    kind, tool_type = GEOMETRIES[key]
    raw = line[key]
    if key == "segments":
        tool_type = _check_segments(raw, feature, errors)
    if tool_type and feature.type != tool_type:
        raise LineInvalid(
            error(
                "KindMismatch",
                f'"{feature.name}" is a {feature.type} tool; this line gives {key}. '
                f"Give a {tool_type} tool or change the geometry.",
                featureType=feature.type,
            )
        )
    value: dict[str, Any] = {key: raw}
    if key == "bbox":
        _check_bbox(raw, errors)
        if ctx.media_type == MediaType.DOCUMENT:
            kind = "document_bbox"
            _check_page(line, errors, required=True)
            unit = line.get("unit", "POINTS")
            if unit not in ("POINTS", "PIXELS", "PERCENT"):
                errors.append(_geometry_error('"unit" must be POINTS, PIXELS or PERCENT.'))
            value.update(page=line.get("page"), unit=unit)
    elif key == "polygon":
        _check_points(raw, 3, "polygon", errors)
    elif key == "line":
        _check_points(raw, 2, "polyline", errors)
    elif key == "point":
        _check_point(raw, "A point", errors)
    elif key == "mask":
        if not isinstance(raw, dict) or not (
            _is_str(raw.get("instanceURI")) or _is_str(raw.get("png"))
        ):
            errors.append(_geometry_error('A mask needs "instanceURI" (a URL) or "png" (base64).'))
    elif key == "location":
        if not isinstance(raw, dict) or not all(
            isinstance(raw.get(k), int) and not isinstance(raw.get(k), bool)
            for k in ("start", "end")
        ):
            errors.append(_geometry_error('A text entity needs whole numbers "start" and "end".'))
        elif raw["start"] < 0 or raw["end"] < raw["start"]:
            errors.append(
                _geometry_error("A text entity's start must be 0 or more and end at least start.")
            )
        elif (length := ctx.rows[_row_ref(line)].text_length) is not None and raw["end"] > length:
            errors.append(
                _geometry_error(
                    f"A text entity must end within the text ({length} characters); "
                    f"this one ends at {raw['end']}."
                )
            )
        if "messageId" in line:
            if not _is_str(line["messageId"]):
                errors.append(_geometry_error('"messageId" must be a non-empty string.'))
            value["messageId"] = line["messageId"]
    elif key == "textSelections":
        if not isinstance(raw, list) or not raw:
            errors.append(_geometry_error('"textSelections" must be a non-empty list.'))
        else:
            for sel in raw:
                if (
                    not isinstance(sel, dict)
                    or not isinstance(sel.get("tokenIds"), list)
                    or not sel["tokenIds"]
                    or not _is_str(sel.get("groupId"))
                ):
                    errors.append(
                        _geometry_error(
                            'Each text selection needs "groupId" and a non-empty "tokenIds" list.'
                        )
                    )
                    break
                _check_page(sel, errors, required=True)
    elif key == "relationship":
        _check_relationship(raw, line, ctx, errors)
    return kind, value


def _check_segments(raw: Any, feature: FeatureSchema, errors: list) -> str:
    if not isinstance(raw, list) or not raw:
        errors.append(
            _geometry_error('"segments" must be a non-empty list of {"keyframes": [...]}.')
        )
        return ""
    found: set[str] = set()
    for segment in raw:
        frames = segment.get("keyframes") if isinstance(segment, dict) else None
        if not isinstance(frames, list) or not frames:
            errors.append(_geometry_error('Each segment needs a non-empty "keyframes" list.'))
            return ""
        for kf in frames:
            frame = kf.get("frame") if isinstance(kf, dict) else None
            if not isinstance(frame, int) or isinstance(frame, bool) or frame < 0:
                errors.append(_geometry_error('Each keyframe needs "frame", a whole number ≥ 0.'))
                return ""
            keys = [k for k in KEYFRAME_GEOMETRIES if k in kf]
            if len(keys) != 1:
                errors.append(
                    _geometry_error("Each keyframe needs exactly one of bbox, point, line.")
                )
                return ""
            found.add(KEYFRAME_GEOMETRIES[keys[0]])
            {
                "bbox": _check_bbox,
                "point": lambda p, e: _check_point(p, "A point", e),
                "line": lambda p, e: _check_points(p, 2, "polyline", e),
            }[keys[0]](kf[keys[0]], errors)
    if len(found) > 1:
        errors.append(_geometry_error("All keyframes of a line must use the same geometry."))
        return ""
    return found.pop()


def _check_relationship(raw: Any, line: dict, ctx: ImportContext, errors: list) -> None:
    if ctx.kind == GROUND_TRUTH:
        raise LineInvalid(
            error(
                "RelationshipNotAllowed",
                "Relationships cannot be imported as ground truth; import them as pre-labels.",
            )
        )
    if (
        not isinstance(raw, dict)
        or not _is_str(raw.get("source"))
        or not _is_str(raw.get("target"))
    ):
        errors.append(_geometry_error('A relationship needs "source" and "target" object uuids.'))
        return
    ref = _row_ref(line)
    row = ctx.rows[ref]
    known = (
        ctx.object_uuids.get(ref, set())
        | ctx.chunk_objects.get(ref, set())
        | ctx.stored_objects.get(row.pk, set())
    )
    for end in ("source", "target"):
        if raw[end] not in known:
            errors.append(
                error(
                    "RelationshipTargetNotFound",
                    f'The relationship\'s {end} "{raw[end]}" is not an object on this data '
                    "row, in this import or already imported.",
                )
            )


def _answers(line: dict) -> Any:
    return line["answers"] if "answers" in line else line.get("answer")


def _classification_value(
    line: dict, feature: FeatureSchema, ctx: ImportContext, errors: list, *, video: bool = False
) -> dict:
    answer = _answers(line)
    value: dict[str, Any] = {}
    ftype = feature.type
    if ftype == "text":
        if not isinstance(answer, str):
            raise LineInvalid(
                error(
                    "KindMismatch",
                    f'"{feature.name}" is a free-text classification; answer it with a string.',
                )
            )
        if len(answer) > MAX_TEXT_ANSWER_CHARS:
            raise LineInvalid(
                error(
                    "InvalidText",
                    f'The answer to "{feature.name}" has {len(answer):,} characters; '
                    f"at most {MAX_TEXT_ANSWER_CHARS:,} are allowed.",
                )
            )
        value["answer"] = answer
    elif (
        ftype == "radio"
        and video
        and ctx.media_type == MediaType.VIDEO
        and isinstance(answer, list)
    ):
        # video: one radio line may give each option with the frames it holds for
        if not answer or not all(isinstance(a, dict) and "frames" in a for a in answer):
            raise LineInvalid(
                error(
                    "KindMismatch",
                    f'"{feature.name}" is a radio classification; in a video give one option, '
                    'or a list of options each with its "frames".',
                )
            )
        value["answers"] = [_option(a, feature, ctx, errors) for a in answer]
    elif ftype == "radio":
        if not isinstance(answer, dict):
            raise LineInvalid(
                error(
                    "KindMismatch",
                    f'"{feature.name}" is a radio classification; answer it with one option '
                    '({"name": ...} or {"schemaId": ...}).',
                )
            )
        value["answer"] = _option(answer, feature, ctx, errors)
    else:
        if not isinstance(answer, list) or not answer:
            raise LineInvalid(
                error(
                    "KindMismatch",
                    f'"{feature.name}" is a checklist classification; answer it with a list '
                    "of options.",
                )
            )
        value["answers"] = [_option(a, feature, ctx, errors) for a in answer]
    if video and "frames" in line:
        value["frames"] = line["frames"]
        _check_frames(line["frames"], errors)
    return value


def _check_frames(frames: Any, errors: list) -> None:
    ok = isinstance(frames, list) and all(
        isinstance(f, dict)
        and all(
            isinstance(f.get(k), int) and not isinstance(f.get(k), bool) for k in ("start", "end")
        )
        and 0 <= f["start"] <= f["end"]
        for f in frames
    )
    if not ok:
        errors.append(
            _geometry_error('"frames" must be a list of {"start", "end"} with 0 ≤ start ≤ end.')
        )


def _option(answer: Any, classification: FeatureSchema, ctx: ImportContext, errors: list) -> dict:
    if not isinstance(answer, dict):
        raise LineInvalid(
            error(
                "InvalidAnswer",
                f'Each answer of "{classification.name}" must be an object naming an option.',
            )
        )
    ref = _feature_ref(answer)
    arg = ({"schema_id": ref[1]} if ref[0] == "schemaId" else {"name": ref[1]}) if ref else {}
    option = ctx.lookup.option(parent=classification, **arg) if ref else None
    if option is None:
        names = [o.name for o in ctx.lookup.children(classification)]
        close = difflib.get_close_matches(ref[1], names, n=1, cutoff=0.6) if ref else []
        hint = f' Did you mean "{close[0]}"?' if close else ""
        label = f'{ref[0]} "{ref[1]}"' if ref else "The answer"
        raise LineInvalid(
            error(
                "InvalidAnswer",
                f'{label} is not an option of "{classification.name}".{hint}',
                suggestion=close[0] if close else None,
            )
        )
    out: dict[str, Any] = {"schemaId": option.schema_id, "name": option.name}
    if "confidence" in answer:
        out["confidence"] = _confidence(answer, errors)
    if "customMetrics" in answer:
        out["customMetrics"] = _custom_metrics(answer, errors)
    if "frames" in answer:
        out["frames"] = answer["frames"]
        _check_frames(answer["frames"], errors)
    nested = _nested(answer.get("classifications"), option, ctx, errors)
    if nested:
        out["classifications"] = nested
    return out


_NESTED_MEMO_SIZE = 10_000


def _nested_cached(
    items: Any, parent: FeatureSchema, ctx: ImportContext, errors: list
) -> list[dict]:
    """``_nested`` remembered per (parent, JSON of the items): model outputs repeat the
    same nested answers on thousands of lines. Only results without errors are kept."""
    if not items:
        return _nested(items, parent, ctx, errors)
    key = (parent.pk, orjson.dumps(items))
    found = ctx.nested.get(key)
    if found is not None:
        return found
    before = len(errors)
    result = _nested(items, parent, ctx, errors)
    if len(errors) == before:
        if len(ctx.nested) >= _NESTED_MEMO_SIZE:
            ctx.nested.clear()
        ctx.nested[key] = result
    return result


def _nested(items: Any, parent: FeatureSchema, ctx: ImportContext, errors: list) -> list[dict]:
    if items in (None, []):
        return []
    if not isinstance(items, list):
        raise LineInvalid(error("InvalidNesting", '"classifications" must be a list.'))
    out = []
    for item in items:
        if not isinstance(item, dict):
            raise LineInvalid(
                error("InvalidNesting", "Each nested classification must be an object.")
            )
        feature = _resolve_feature(item, ctx, kind=FeatureSchema.Kind.CLASSIFICATION, parent=parent)
        value = _classification_value(item, feature, ctx, errors)
        out.append({"schemaId": feature.schema_id, "name": feature.name, **value})
    return out


def _confidence(obj: dict, errors: list) -> float:
    value = obj.get("confidence", 1.0)
    if not _finite(value) or not 0 <= value <= 1:
        errors.append(
            error("InvalidConfidence", f'"confidence" must be a number from 0 to 1, not {value!r}.')
        )
        return 1.0
    return float(value)


def _custom_metrics(obj: dict, errors: list) -> list:
    metrics = obj.get("customMetrics", [])
    ok = isinstance(metrics, list) and all(
        isinstance(m, dict)
        and _is_str(m.get("name"))
        and len(m["name"]) <= MAX_METRIC_NAME_CHARS
        and _finite(m.get("value"))
        for m in metrics
    )
    if not ok:
        errors.append(
            error(
                "InvalidCustomMetrics",
                '"customMetrics" must be a list of {"name": string, "value": number}, '
                f"each name at most {MAX_METRIC_NAME_CHARS} characters.",
            )
        )
        return []
    return metrics
