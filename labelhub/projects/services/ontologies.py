"""Every write to ontologies and their feature schemas.

Decision (ADR style)
--------------------
*Context.* Ontologies are workspace-level: several projects share one, so no project
permission can guard them, and the catalogue has no ontology permission.
*Decision.* Creating, changing and deleting an ontology needs ``create_projects`` (whoever
may set up projects may define what they label); reading needs ``view_workspace`` (every
member, so labelers and the import validator see the schema of their projects).
*Consequences.* Admins and Team Managers edit ontologies; a custom workspace role gets
the right by holding ``create_projects``. A dedicated ``manage_ontologies`` permission can
replace this later without touching callers (they go through ``require``).

Shape
-----
Input and storage follow the JSON of Labelbox's ontology builder (``OntologyBuilder.asdict``)::

    {"tools": [{"tool", "name", "color", "required", "featureSchemaId", "schemaNodeId",
                "classifications": [<classification>]}],
     "classifications": [{"type", "name", "instructions", "required", "scope",
                          "featureSchemaId", "schemaNodeId",
                          "options": [{"value", "label", "featureSchemaId", "schemaNodeId",
                                       "options": [<classification>]}]}]}

``normalize_ontology`` checks the structure and returns that shape with every key present
and in a fixed order (``Ontology.normalized``, rendered unchanged by the API). Problems are
collected, each as ``"<path>: <problem>"`` with the exact path of the bad element, e.g.
``tools[1].classifications[0].options: must not be empty``; nothing is written then.

Keys Labelbox writes that LabelHub does not use (``attributes``, ``archived``, ``position``,
``uiMode``, ``isLikertScale``, ``kind``, ``hint``, and ``scope`` on nested classifications)
are accepted and dropped, so an export from Labelbox loads unchanged; any other key is an
error. Colours are ``#RRGGBB`` (stored upper case); a tool without one keeps its previous
colour or gets the next unused palette colour.

Feature schema ids
------------------
Every tool, classification and option has a ``featureSchemaId``, unique in the workspace
(``FeatureSchema`` rows, one per feature, written in the same transaction). Given ids are
kept (a team migrating from Labelbox keeps its NDJSON files valid); missing ones are
matched to the existing feature with the same kind, type and name under the same parent
(so the console's form editor and a JSON edit without ids keep them), or generated: 25
lower-case base-36 characters like Labelbox's cuids.
"""

from __future__ import annotations

import re
import secrets
import string
import time
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from labelhub.access.permissions import Permission
from labelhub.access.services import require
from labelhub.core.audit import audit_record
from labelhub.core.errors import Conflict, NotFound, ValidationFailed
from labelhub.core.validation import clean_text
from labelhub.projects.hooks import labeled_project_ids
from labelhub.projects.models import FeatureSchema, MediaType, Ontology, Project
from labelhub.projects.selectors.ontologies import iter_features, ontology_version
from labelhub.workspaces.models import Workspace

TOOL_TYPES: dict[str, str] = {
    "rectangle": "Bounding box",
    "polygon": "Polygon",
    "line": "Polyline",
    "point": "Point",
    "raster-segmentation": "Segmentation mask",
    "named-entity": "Entity",
    "edge": "Relationship",
}
CLASSIFICATION_TYPES: dict[str, str] = {
    "radio": "Radio (one answer)",
    "checklist": "Checklist (several answers)",
    "text": "Free text",
}
SCOPES = ("global", "index")
#: distinct, readable on images and on white; used in order for tools without a colour
PALETTE = (
    "#FF6B6B",
    "#4C6EF5",
    "#40C057",
    "#FAB005",
    "#BE4BDB",
    "#15AABF",
    "#FD7E14",
    "#82C91E",
    "#E64980",
    "#7950F2",
    "#12B886",
    "#868E96",
)
MAX_NAME = 200
MAX_DESCRIPTION = 2000
#: classification levels: a top-level classification or one under a tool is level 1
MAX_DEPTH = 8
MAX_FEATURES = 5000
#: errors reported at most (a pasted file full of mistakes still gets a readable answer)
MAX_ERRORS = 50

_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")
_IGNORED = frozenset({"attributes", "archived", "position", "uiMode", "isLikertScale", "kind"})
_TOOL_KEYS = frozenset(
    {"tool", "name", "color", "required", "featureSchemaId", "schemaNodeId", "classifications"}
)
_CLASSIFICATION_KEYS = frozenset(
    {
        "type",
        "name",
        "instructions",
        "required",
        "scope",
        "featureSchemaId",
        "schemaNodeId",
        "options",
    }
)
_OPTION_KEYS = frozenset({"value", "label", "featureSchemaId", "schemaNodeId", "options"})
_BASE36 = string.digits + string.ascii_lowercase


def new_feature_schema_id() -> str:
    """Return a fresh 25-character id: ``c``, 8 characters of time, 16 random (base 36)."""
    millis = time.time_ns() // 1_000_000
    stamp = ""
    while millis:
        millis, digit = divmod(millis, 36)
        stamp = _BASE36[digit] + stamp
    stamp = stamp.rjust(8, "0")[-8:]
    return "c" + stamp + "".join(secrets.choice(_BASE36) for _ in range(16))


# --- the normaliser ----------------------------------------------------------------------


@dataclass
class Node:
    """One feature of a parsed ontology, in tree order (parents before children)."""

    path: str
    kind: str  # tool / classification / option
    type: str  # tool type, classification type, or "option"
    name: str
    data: dict[str, Any]  # the normalised dict (ids and colour filled in by ``assign_ids``)
    parent: Node | None = None
    given_id: str | None = None
    given_node_id: str | None = None
    children: list[Node] = field(default_factory=list)

    @property
    def schema_id(self) -> str:
        return self.data["featureSchemaId"]


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, path: str, problem: str) -> None:
        self.items.append(f"{path}: {problem}" if path else problem)

    def raise_if_any(self) -> None:
        if self.items:
            raise ontology_invalid(self.items)


def ontology_invalid(problems: list[str]) -> ValidationFailed:
    """The error for an invalid ontology: every problem under ``details["ontology"]``."""
    shown = problems[:MAX_ERRORS]
    message = shown[0]
    if len(problems) > 1:
        message += f" (and {len(problems) - 1} more)"
    return ValidationFailed(message, details={"ontology": shown})


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _q(value: Any) -> str:
    """Quote user text in a message (JSON-style, shortened)."""
    text = str(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return '"' + text.replace('"', '\\"') + '"'


class _Parser:
    def __init__(self) -> None:
        self.problems = _Problems()
        self.nodes: list[Node] = []

    # --- helpers ---------------------------------------------------------------------------
    def _keys(self, raw: dict, path: str, allowed: frozenset[str]) -> None:
        for key in raw:
            if key not in allowed and key not in _IGNORED:
                self.problems.add(_join(path, key), "unknown field")

    def _text(self, raw: dict, key: str, path: str, *, required: bool = False) -> str | None:
        """Read a name-like text; a blank or missing one is None (an error if required)."""
        value = raw.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and key in {"value", "label"}:
            value = str(value)  # Labelbox allows numeric option values
        if value is not None and not isinstance(value, str):
            self.problems.add(_join(path, key), "must be text")
            return None
        value = " ".join((value or "").split())
        if not value:
            if required:
                problem = "required" if raw.get(key) is None else "must not be empty"
                self.problems.add(_join(path, key), problem)
            return None
        if len(value) > MAX_NAME:
            self.problems.add(_join(path, key), f"at most {MAX_NAME} characters")
            return None
        return value

    def _either(self, raw: dict, path: str, first: str, second: str) -> tuple[str, str]:
        """Read two keys of which one is enough (name/instructions, value/label)."""
        before = len(self.problems.items)
        a = self._text(raw, first, path)
        b = self._text(raw, second, path)
        if a is None and b is None and len(self.problems.items) == before:
            problem = "required" if raw.get(first) is None else "must not be empty"
            if raw.get(second) is None:
                problem += f" (give {first} or {second})"
            self.problems.add(_join(path, first), problem)
        return a or b or "", b or a or ""

    def _bool(self, raw: dict, key: str, path: str) -> bool:
        value = raw.get(key, False)
        if value is None:
            return False
        if not isinstance(value, bool):
            self.problems.add(_join(path, key), "must be true or false")
            return False
        return value

    def _id(self, raw: dict, key: str, path: str) -> str | None:
        value = raw.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str) or not _ID.match(value):
            self.problems.add(_join(path, key), "use 1-64 letters, digits or - _ . :")
            return None
        return value

    def _list(self, raw: dict, key: str, path: str) -> list | None:
        value = raw.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problems.add(_join(path, key), "must be a list")
            return None
        return value

    def _unique(self, nodes: list[Node], what: str, attr: str) -> None:
        """Refuse two siblings with the same name (options: the same value)."""
        seen: dict[str, Node] = {}
        for node in nodes:
            if node.name in seen:
                self.problems.add(
                    f"{node.path}.{attr}",
                    f"duplicate {what} {_q(node.name)} (same as {seen[node.name].path})",
                )
            else:
                seen[node.name] = node

    def _add(self, node: Node) -> Node:
        self.nodes.append(node)
        if node.parent is not None:
            node.parent.children.append(node)
        return node

    # --- the tree --------------------------------------------------------------------------
    def parse(self, payload: Any) -> dict[str, Any]:
        if not isinstance(payload, dict):
            self.problems.add("", 'Give a JSON object with "tools" and "classifications" lists.')
            return {}
        for key in payload:
            if key not in {"tools", "classifications"}:
                self.problems.add(key, "unknown field")
        tools: list[dict] = []
        raw_tools = self._list(payload, "tools", "")
        for i, raw in enumerate(raw_tools or []):
            node = self._tool(raw, f"tools[{i}]")
            if node is not None:
                tools.append(node.data)
        self._unique([n for n in self.nodes if n.kind == "tool"], "name", "name")
        classifications: list[dict] = []
        top: list[Node] = []
        for i, raw in enumerate(self._list(payload, "classifications", "") or []):
            node = self._classification(raw, f"classifications[{i}]", None, depth=1)
            if node is not None:
                classifications.append(node.data)
                top.append(node)
        self._unique(top, "name", "name")
        if len(self.nodes) > MAX_FEATURES:
            self.problems.add(
                "", f"The ontology has {len(self.nodes)} features; at most {MAX_FEATURES}."
            )
        return {"tools": tools, "classifications": classifications}

    def _tool(self, raw: Any, path: str) -> Node | None:
        if not isinstance(raw, dict):
            self.problems.add(path, "must be an object")
            return None
        self._keys(raw, path, _TOOL_KEYS)
        kind = raw.get("tool")
        if kind is None:
            self.problems.add(f"{path}.tool", "required")
        elif kind not in TOOL_TYPES:
            self.problems.add(
                f"{path}.tool",
                f"unknown tool type {_q(kind)}; use one of {', '.join(TOOL_TYPES)}",
            )
            kind = None
        name = self._text(raw, "name", path, required=True)
        colour = raw.get("color")
        if colour in (None, ""):
            colour = None
        elif not isinstance(colour, str) or not _COLOUR.match(colour):
            self.problems.add(f"{path}.color", "use #RRGGBB, e.g. #FF0000")
            colour = None
        else:
            colour = colour.upper()
        data = {
            "tool": kind,
            "name": name,
            "color": colour,
            "required": self._bool(raw, "required", path),
            "featureSchemaId": None,
            "schemaNodeId": None,
            "classifications": [],
        }
        node = self._add(
            Node(
                path=path,
                kind=FeatureSchema.Kind.TOOL,
                type=kind or "",
                name=name or "",
                data=data,
                given_id=self._id(raw, "featureSchemaId", path),
                given_node_id=self._id(raw, "schemaNodeId", path),
            )
        )
        nested = []
        for i, child in enumerate(self._list(raw, "classifications", path) or []):
            c = self._classification(child, f"{path}.classifications[{i}]", node, depth=1)
            if c is not None:
                data["classifications"].append(c.data)
                nested.append(c)
        self._unique(nested, "name", "name")
        return node

    def _classification(
        self, raw: Any, path: str, parent: Node | None, *, depth: int
    ) -> Node | None:
        if not isinstance(raw, dict):
            self.problems.add(path, "must be an object")
            return None
        if depth > MAX_DEPTH:
            self.problems.add(
                path, f"nesting deeper than {MAX_DEPTH} classification levels is not supported"
            )
            return None
        self._keys(raw, path, _CLASSIFICATION_KEYS)
        kind = raw.get("type")
        if kind is None:
            self.problems.add(f"{path}.type", "required")
        elif kind not in CLASSIFICATION_TYPES:
            self.problems.add(
                f"{path}.type",
                f"unknown classification type {_q(kind)}; use one of "
                f"{', '.join(CLASSIFICATION_TYPES)}",
            )
            kind = None
        name, instructions = self._either(raw, path, "name", "instructions")
        scope = raw.get("scope")
        if scope is not None and scope not in SCOPES:
            self.problems.add(f"{path}.scope", 'use "global" or "index"')
        data: dict[str, Any] = {
            "type": kind,
            "name": name,
            "instructions": instructions,
            "required": self._bool(raw, "required", path),
        }
        if parent is None:  # only top-level classifications have a scope
            data["scope"] = scope if scope in SCOPES else "global"
        data.update({"featureSchemaId": None, "schemaNodeId": None, "options": []})
        node = self._add(
            Node(
                path=path,
                kind=FeatureSchema.Kind.CLASSIFICATION,
                type=kind or "",
                name=name,
                data=data,
                parent=parent,
                given_id=self._id(raw, "featureSchemaId", path),
                given_node_id=self._id(raw, "schemaNodeId", path),
            )
        )
        options = self._list(raw, "options", path)
        if options is None:
            return node
        if kind == "text":
            if options:
                self.problems.add(f"{path}.options", "a text classification has no options")
            return node
        if kind in {"radio", "checklist"} and not options:
            self.problems.add(f"{path}.options", "must not be empty")
            return node
        parsed = []
        for i, raw_option in enumerate(options):
            option = self._option(raw_option, f"{path}.options[{i}]", node, depth=depth)
            if option is not None:
                data["options"].append(option.data)
                parsed.append(option)
        self._unique(parsed, "value", "value")
        return node

    def _option(self, raw: Any, path: str, parent: Node, *, depth: int) -> Node | None:
        if not isinstance(raw, dict):
            self.problems.add(path, "must be an object")
            return None
        self._keys(raw, path, _OPTION_KEYS)
        value, label = self._either(raw, path, "value", "label")
        data = {
            "value": value,
            "label": label,
            "featureSchemaId": None,
            "schemaNodeId": None,
            "options": [],
        }
        node = self._add(
            Node(
                path=path,
                kind=FeatureSchema.Kind.OPTION,
                type="option",
                name=value,
                data=data,
                parent=parent,
                given_id=self._id(raw, "featureSchemaId", path),
                given_node_id=self._id(raw, "schemaNodeId", path),
            )
        )
        nested = []
        for i, child in enumerate(self._list(raw, "options", path) or []):
            c = self._classification(child, f"{path}.options[{i}]", node, depth=depth + 1)
            if c is not None:
                data["options"].append(c.data)
                nested.append(c)
        self._unique(nested, "name", "name")
        return node


@dataclass
class ParsedOntology:
    """A structurally valid ontology: the normalised tree and its features in tree order."""

    tree: dict[str, Any]
    nodes: list[Node]


def parse_ontology(payload: Any) -> ParsedOntology:
    """Check the structure of a Labelbox-shaped ontology; raise ValidationFailed with paths.

    Ids and missing colours are not filled in yet (``assign_ids`` does, knowing the
    ontology's current features).
    """
    parser = _Parser()
    tree = parser.parse(payload)
    problems = parser.problems
    # Given ids must be unique inside the payload (the workspace check comes later).
    for attr, key in (("given_id", "featureSchemaId"), ("given_node_id", "schemaNodeId")):
        seen: dict[str, Node] = {}
        for node in parser.nodes:
            value = getattr(node, attr)
            if value is None:
                continue
            if value in seen:
                problems.add(
                    f"{node.path}.{key}", f"{_q(value)} is already used by {seen[value].path}"
                )
            else:
                seen[value] = node
    problems.raise_if_any()
    return ParsedOntology(tree=tree, nodes=parser.nodes)


@dataclass
class _Existing:
    """What an ontology holds now: its feature rows and its stored node ids and colours."""

    rows: dict[str, FeatureSchema]
    node_ids: dict[str, str]
    colours: dict[str, str]

    @classmethod
    def of(cls, ontology: Ontology | None) -> _Existing:
        if ontology is None:
            return cls({}, {}, {})
        rows = {f.schema_id: f for f in FeatureSchema.objects.filter(ontology=ontology)}
        node_ids: dict[str, str] = {}
        colours: dict[str, str] = {}
        for data in iter_features(ontology.normalized or {}):
            sid = data.get("featureSchemaId")
            if sid and data.get("schemaNodeId"):
                node_ids[sid] = data["schemaNodeId"]
            if sid and data.get("color"):
                colours[sid] = data["color"]
        return cls(rows, node_ids, colours)


def assign_ids(parsed: ParsedOntology, existing: _Existing) -> None:
    """Give every feature its schema id, node id and (tools) colour, in place.

    Given ids are kept; a feature without one takes the id of the current feature with the
    same kind, type and name under the same parent (by schema id), else a new id.
    """
    claimed = {n.given_id for n in parsed.nodes if n.given_id}
    by_place: dict[tuple, FeatureSchema] = {}
    parent_sid = {row.pk: row.schema_id for row in existing.rows.values()}
    for row in existing.rows.values():
        key = (parent_sid.get(row.parent_id), row.kind, row.type, row.name)
        by_place.setdefault(key, row)
    for node in parsed.nodes:  # parents come before their children
        sid = node.given_id
        if sid is None:
            up = node.parent.schema_id if node.parent else None
            match = by_place.get((up, node.kind, node.type, node.name))
            if match is not None and match.schema_id not in claimed:
                sid = match.schema_id
            else:
                sid = new_feature_schema_id()
            claimed.add(sid)
        node.data["featureSchemaId"] = sid
        node.data["schemaNodeId"] = (
            node.given_node_id or existing.node_ids.get(sid) or new_feature_schema_id()
        )
    tools = [n for n in parsed.nodes if n.kind == FeatureSchema.Kind.TOOL]
    for node in tools:
        if node.data["color"] is None and node.schema_id in existing.colours:
            node.data["color"] = existing.colours[node.schema_id]
    used = {n.data["color"] for n in tools if n.data["color"]}
    for i, node in enumerate(tools):
        if node.data["color"] is None:
            free = [c for c in PALETTE if c not in used]
            node.data["color"] = free[0] if free else PALETTE[i % len(PALETTE)]
            used.add(node.data["color"])


def normalize_ontology(payload: Any, *, current: Ontology | None = None) -> ParsedOntology:
    """Parse, check and complete an ontology (ids matched against ``current``'s features)."""
    parsed = parse_ontology(payload)
    assign_ids(parsed, _Existing.of(current))
    return parsed


# --- field cleaning ------------------------------------------------------------------------


def _clean_name(value: Any) -> str:
    return clean_text(value, field="name", max_length=MAX_NAME)


def _clean_description(value: Any) -> str:
    return clean_text(
        value, field="description", max_length=MAX_DESCRIPTION, required=False, collapse=False
    )


def _clean_media_type(value: Any) -> str:
    if value in (None, ""):
        return ""
    if value not in MediaType.values:
        raise ValidationFailed(
            f"Unknown media type {_q(value)}; use one of {', '.join(MediaType.values)}.",
            field="media_type",
        )
    return value


def _name_taken() -> Conflict:
    message = "An ontology with this name already exists in the workspace."
    return Conflict(message, details={"name": [message]})


def _check_name_free(workspace: Workspace, name: str, ontology: Ontology | None = None) -> None:
    others = Ontology.objects.filter(workspace=workspace, name__iexact=name)
    if ontology is not None:
        others = others.exclude(pk=ontology.pk)
    if others.exists():
        raise _name_taken()


def _check_ids_free(workspace: Workspace, parsed: ParsedOntology, ontology: Ontology | None):
    """Refuse schema ids that another ontology of the workspace holds (naming the path)."""
    by_sid = {n.schema_id: n for n in parsed.nodes}
    taken = FeatureSchema.objects.filter(workspace=workspace, schema_id__in=list(by_sid))
    if ontology is not None:
        taken = taken.exclude(ontology=ontology)
    problems = _Problems()
    for sid, other in sorted(
        taken.values_list("schema_id", "ontology__name"), key=lambda r: by_sid[r[0]].path
    ):
        problems.add(
            f"{by_sid[sid].path}.featureSchemaId",
            f"{_q(sid)} is already used in the ontology {_q(other)}",
        )
    problems.raise_if_any()


def _write_features(
    *, workspace: Workspace, ontology: Ontology, parsed: ParsedOntology, existing: _Existing
) -> tuple[list[FeatureSchema], list[FeatureSchema]]:
    """Make the FeatureSchema rows match the tree; return (added, removed) rows."""
    rows: dict[str, FeatureSchema] = {}
    new: list[FeatureSchema] = []
    kept: list[FeatureSchema] = []
    for node in parsed.nodes:  # parents first, so a child's parent row is known
        parent = rows[node.parent.schema_id] if node.parent else None
        row = existing.rows.get(node.schema_id)
        if row is None:
            row = FeatureSchema(workspace=workspace, ontology=ontology, schema_id=node.schema_id)
            new.append(row)
        else:
            kept.append(row)
        row.kind, row.type, row.name, row.path, row.parent = (
            node.kind,
            node.type,
            node.name,
            node.path,
            parent,
        )
        rows[node.schema_id] = row
    removed = [r for sid, r in existing.rows.items() if sid not in rows]
    FeatureSchema.objects.bulk_create(new)
    if kept:
        FeatureSchema.objects.bulk_update(kept, ["kind", "type", "name", "path", "parent"])
    if removed:
        # Children moved elsewhere were re-parented above, so the cascade takes only
        # features that left the tree.
        FeatureSchema.objects.filter(pk__in=[r.pk for r in removed]).delete()
    return new, removed


def _snapshot(ontology: Ontology, features: int) -> dict[str, Any]:
    return {
        "name": ontology.name,
        "description": ontology.description,
        "media_type": ontology.media_type,
        "features": features,
    }


def _describe(row: FeatureSchema) -> str:
    return f"{row.path} {_q(row.name)} ({row.type})"


# --- services ------------------------------------------------------------------------------


def ontology_create(
    *,
    workspace: Workspace,
    actor: Any,
    name: Any,
    description: Any = "",
    media_type: Any = "",
    ontology: Any = None,
) -> Ontology:
    """Create an ontology from Labelbox-shaped JSON (``None``: an empty one)."""
    require(actor, Permission.CREATE_PROJECTS, workspace)
    name = _clean_name(name)
    description = _clean_description(description)
    media_type = _clean_media_type(media_type)
    parsed = normalize_ontology({} if ontology is None else ontology)
    _check_name_free(workspace, name)
    _check_ids_free(workspace, parsed, None)
    try:
        with transaction.atomic():
            obj = Ontology.objects.create(
                workspace=workspace,
                name=name,
                description=description,
                media_type=media_type,
                normalized=parsed.tree,
            )
            _write_features(
                workspace=workspace, ontology=obj, parsed=parsed, existing=_Existing.of(None)
            )
            audit_record(
                workspace=workspace,
                actor=actor,
                verb="ontology.created",
                target=obj,
                target_type="ontology",
                after=_snapshot(obj, len(parsed.nodes)),
            )
    except IntegrityError as exc:
        raise _integrity_error(workspace, name, None) from exc
    return obj


def _integrity_error(workspace: Workspace, name: str, ontology: Ontology | None) -> Conflict:
    """Explain a uniqueness clash that a concurrent write caused after our checks."""
    others = Ontology.objects.filter(workspace=workspace, name__iexact=name)
    if ontology is not None:
        others = others.exclude(pk=ontology.pk)
    if others.exists():
        return _name_taken()
    message = "A featureSchemaId of this ontology was taken meanwhile; try again."
    return Conflict(message, details={"ontology": [message]})


def ontology_update(
    *,
    workspace: Workspace,
    actor: Any,
    ontology: Ontology,
    name: Any = None,
    description: Any = None,
    media_type: Any = None,
    tree: Any = None,
    version: str | None = None,
) -> Ontology:
    """Change an ontology's details and/or replace its tree (``tree``, Labelbox JSON).

    Features keep their schema ids (given, or matched by kind, type and name under the
    same parent). While a project using the ontology has labeled data rows, removing a
    feature or changing its kind or type is refused, naming those features; adding is fine.
    ``version`` (``ontology_version`` when the editor was opened) refuses to overwrite a
    change someone else saved meanwhile.
    """
    require(actor, Permission.CREATE_PROJECTS, workspace)
    try:
        with transaction.atomic():
            obj = _locked(workspace, ontology)
            if version is not None and version != ontology_version(obj):
                raise Conflict(
                    "Someone saved this ontology after you opened it; reload it and make your "
                    "change again."
                )
            existing = _Existing.of(obj)
            before = _snapshot(obj, len(existing.rows))
            old_tree = obj.normalized
            if name is not None:
                obj.name = _clean_name(name)
                _check_name_free(workspace, obj.name, obj)
            if description is not None:
                obj.description = _clean_description(description)
            if media_type is not None:
                obj.media_type = _clean_media_type(media_type)
            added: list[FeatureSchema] = []
            removed: list[FeatureSchema] = []
            features = len(existing.rows)
            if tree is not None:
                parsed = normalize_ontology(tree, current=obj)
                _check_ids_free(workspace, parsed, obj)
                _refuse_incompatible(obj, parsed, existing)
                obj.normalized = parsed.tree
                added, removed = _write_features(
                    workspace=workspace, ontology=obj, parsed=parsed, existing=existing
                )
                features = len(parsed.nodes)
            obj.save()
            after = _snapshot(obj, features)
            if added or removed:
                after["added"] = [f"{r.path} {r.name}" for r in added][:100]
                after["removed"] = [
                    f"{r.path} {r.name}" for r in sorted(removed, key=lambda r: r.path)
                ][:100]
            if after != before or obj.normalized != old_tree:
                audit_record(
                    workspace=workspace,
                    actor=actor,
                    verb="ontology.updated",
                    target=obj,
                    target_type="ontology",
                    before=before,
                    after=after,
                )
    except IntegrityError as exc:
        raise _integrity_error(workspace, obj.name, obj) from exc
    return obj


def _refuse_incompatible(obj: Ontology, parsed: ParsedOntology, existing: _Existing) -> None:
    """Refuse removing features (or changing their kind/type) while labels depend on them."""
    kept = {n.schema_id: n for n in parsed.nodes}
    removed = [r for sid, r in existing.rows.items() if sid not in kept]
    changed = [
        (r, kept[sid])
        for sid, r in existing.rows.items()
        if sid in kept and (r.kind, r.type) != (kept[sid].kind, kept[sid].type)
    ]
    if not (removed or changed):
        return
    using = Project.objects.filter(workspace=obj.workspace_id, ontology=obj)
    labeled = list(
        using.filter(pk__in=labeled_project_ids(using.values_list("pk", flat=True)))
        .order_by("name")
        .values_list("name", flat=True)
    )
    if not labeled:
        return
    # Labels point at features through their schema ids: without the feature (or with
    # another geometry) they would no longer mean anything.
    projects = ", ".join(_q(n) for n in labeled)
    problems: list[str] = []
    removed.sort(key=lambda r: r.path)
    if removed:
        problems.append(
            f"These features cannot be removed while projects using this ontology have "
            f"labels ({projects}): {', '.join(_describe(r) for r in removed)}."
        )
    for row, node in changed:
        problems.append(
            f"{node.path}: cannot change {_q(row.name)} from {row.kind} {row.type} to "
            f"{node.kind} {node.type} while projects using this ontology have labels "
            f"({projects})."
        )
    raise Conflict(problems[0], details={"ontology": problems})


def _locked(workspace: Workspace, ontology: Ontology) -> Ontology:
    obj = Ontology.objects.select_for_update().filter(pk=ontology.pk, workspace=workspace).first()
    if obj is None:
        raise NotFound("Ontology not found.")
    return obj


def ontology_delete(*, workspace: Workspace, actor: Any, ontology: Ontology) -> None:
    """Delete an ontology and its feature schemas; refused while any project uses it."""
    require(actor, Permission.CREATE_PROJECTS, workspace)
    with transaction.atomic():
        obj = _locked(workspace, ontology)
        users = list(
            Project.objects.filter(workspace=workspace, ontology=obj)
            .order_by("name")
            .values_list("name", flat=True)
        )
        if users:
            names = ", ".join(_q(n) for n in users[:5])
            if len(users) > 5:
                names += f" and {len(users) - 5} more"
            noun = "project" if len(users) == 1 else "projects"
            raise Conflict(
                f"The ontology {_q(obj.name)} is used by {len(users)} {noun} ({names}); "
                "give them another ontology first."
            )
        features = FeatureSchema.objects.filter(ontology=obj).count()
        audit_record(
            workspace=workspace,
            actor=actor,
            verb="ontology.deleted",
            target=obj,
            target_type="ontology",
            before=_snapshot(obj, features),
        )
        try:
            obj.delete()
        except ProtectedError as exc:  # a project took it after our check
            raise Conflict(f"The ontology {_q(obj.name)} is used by a project.") from exc
