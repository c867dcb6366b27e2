"""Console page of one data row of a project: the asset with its imported annotations
drawn over it (image), highlighted in it (text) or tabled (other media), and a side
panel of objects and classifications."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.shortcuts import render
from django.urls import path
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.views import View

from labelhub.core.ids import parse_id
from labelhub.labeling.models import Annotation, Task
from labelhub.labeling.selectors.annotations import row_annotations
from labelhub.labeling.selectors.input_events import (
    input_event_text,
    input_events_of,
    text_features,
)
from labelhub.projects.console import ProjectPage
from labelhub.projects.metadata import metadata_lines
from labelhub.projects.models import DataRow, MediaType, Project
from labelhub.projects.selectors.ontologies import iter_features

#: stroke of a feature whose ontology gives no colour
DEFAULT_COLOUR = "#3B5BDB"
#: viewBox when neither the image size nor any drawable annotation is known
DEFAULT_SIZE = (640.0, 480.0)
#: kinds drawn on an image
DRAWN_KINDS = frozenset({"bbox", "polygon", "polyline", "point"})


def _num(value: Any) -> str:
    """A coordinate as SVG text: at most two decimals, no trailing zeros."""
    text = f"{float(value):.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _confidence(value: Any) -> str:
    return f"{float(value):.2f}"


def feature_colours(project: Project) -> dict[str, str]:
    """Colour of each tool of the project's ontology, by feature schema id."""
    tree = project.ontology.normalized if project.ontology_id else {}
    return {
        data["featureSchemaId"]: data["color"]
        for data in iter_features(tree or {})
        if data.get("featureSchemaId") and data.get("color")
    }


def image_size(row: DataRow) -> tuple[float, float] | None:
    """The image's pixel size when the row's metadata gives it (``width``/``height`` at the
    top level or under ``mediaAttributes``/``media_attributes``)."""
    meta = row.metadata if isinstance(row.metadata, dict) else {}
    for source in (meta.get("mediaAttributes"), meta.get("media_attributes"), meta):
        if not isinstance(source, dict):
            continue
        try:
            width, height = float(source["width"]), float(source["height"])
        except (KeyError, TypeError, ValueError):
            continue
        if width > 0 and height > 0:
            return width, height
    return None


def _points(raw: Any) -> list[tuple[float, float]]:
    if not isinstance(raw, list):
        return []
    out = []
    for p in raw:
        try:
            out.append((float(p["x"]), float(p["y"])))
        except (KeyError, TypeError, ValueError):
            continue
    return out


@dataclass
class Shape:
    """One SVG element of the overlay."""

    tag: str
    attrs: dict[str, str]
    title: str
    classes: str
    uuid: str = ""
    #: centre, for relationship lines
    centre: tuple[float, float] = (0.0, 0.0)
    #: bounding extent (max x, max y), for the default viewBox
    extent: tuple[float, float] = (0.0, 0.0)

    @property
    def attributes(self) -> SafeString:
        return format_html_join(" ", '{}="{}"', self.attrs.items())


def _title(annotation: Annotation) -> str:
    text = f"{annotation.feature.name} · confidence {_confidence(annotation.confidence)}"
    if getattr(annotation, "below_threshold", False):
        text += " · below threshold"
    return text


def _style(annotation: Annotation, colour: str, *, filled: bool) -> tuple[dict[str, str], str]:
    attrs = {
        "stroke": colour,
        "fill": colour if filled else "none",
        "fill-opacity": "0.15" if filled else "0",
    }
    classes = ["shape", f"shape-{annotation.kind}", f"source-{annotation.source}"]
    if annotation.source == Annotation.Source.PRELABEL:
        attrs["stroke-dasharray"] = "6 4"
    if getattr(annotation, "below_threshold", False):
        attrs["opacity"] = "0.4"
        classes.append("shape-below")
    return attrs, " ".join(classes)


def _shape(annotation: Annotation, colour: str, point_radius: float) -> Shape | None:
    """The SVG element of a drawable annotation, or None when its value is unusable."""
    value = annotation.value if isinstance(annotation.value, dict) else {}
    kind = annotation.kind
    if kind == "bbox":
        box = value.get("bbox") or {}
        try:
            x, y = float(box["left"]), float(box["top"])
            w, h = float(box["width"]), float(box["height"])
        except (KeyError, TypeError, ValueError):
            return None
        attrs, classes = _style(annotation, colour, filled=True)
        geometry = {"x": _num(x), "y": _num(y), "width": _num(w), "height": _num(h)}
        return Shape(
            "rect",
            {**geometry, **attrs},
            _title(annotation),
            classes,
            annotation.uuid,
            (x + w / 2, y + h / 2),
            (x + w, y + h),
        )
    if kind in ("polygon", "polyline"):
        pts = _points(value.get("polygon" if kind == "polygon" else "line"))
        if len(pts) < 2:
            return None
        attrs, classes = _style(annotation, colour, filled=kind == "polygon")
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        return Shape(
            kind,
            {"points": " ".join(f"{_num(x)},{_num(y)}" for x, y in pts), **attrs},
            _title(annotation),
            classes,
            annotation.uuid,
            ((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2),
            (max(xs), max(ys)),
        )
    if kind == "point":
        pts = _points([value.get("point")])
        if not pts:
            return None
        (x, y) = pts[0]
        attrs, classes = _style(annotation, colour, filled=True)
        attrs["fill-opacity"] = "0.6"
        return Shape(
            "circle",
            {"cx": _num(x), "cy": _num(y), "r": _num(point_radius), **attrs},
            _title(annotation),
            classes,
            annotation.uuid,
            (x, y),
            (x, y),
        )
    return None


def _relationship(annotation: Annotation, drawn: dict[str, Shape], colour: str) -> Shape | None:
    ends = (annotation.value or {}).get("relationship") or {}
    source, target = drawn.get(ends.get("source")), drawn.get(ends.get("target"))
    if source is None or target is None:
        return None
    attrs, classes = _style(annotation, colour, filled=False)
    (x1, y1), (x2, y2) = source.centre, target.centre
    geometry = {"x1": _num(x1), "y1": _num(y1), "x2": _num(x2), "y2": _num(y2)}
    return Shape(
        "line", {**geometry, **attrs}, _title(annotation), classes, annotation.uuid, (x1, y1)
    )


@dataclass
class Overlay:
    """Everything drawn over an image, and the viewBox to draw it in."""

    shapes: list[Shape] = field(default_factory=list)
    width: float = DEFAULT_SIZE[0]
    height: float = DEFAULT_SIZE[1]
    size_known: bool = False

    @property
    def view_box(self) -> str:
        return f"0 0 {_num(self.width)} {_num(self.height)}"


def build_overlay(objects: list[Annotation], colours: dict[str, str], size) -> Overlay:
    """Shapes of the drawable objects, then relationship lines between drawn ones."""
    width, height = size or (0.0, 0.0)
    # a point is drawn at ~1% of the image; without a size, 1% of the annotations' extent
    # (the page script resizes points when the image tells its real size)
    provisional = [
        s
        for a in objects
        if a.kind in DRAWN_KINDS
        and (s := _shape(a, colours.get(a.feature.schema_id, DEFAULT_COLOUR), 1.0))
    ]
    if size is None:
        width = max([s.extent[0] for s in provisional] + [0.0]) * 1.05
        height = max([s.extent[1] for s in provisional] + [0.0]) * 1.05
        if width <= 0 or height <= 0:
            width, height = DEFAULT_SIZE
    radius = max(width, height) / 100
    overlay = Overlay(width=width, height=height, size_known=size is not None)
    drawn: dict[str, Shape] = {}
    for a in objects:
        colour = colours.get(a.feature.schema_id, DEFAULT_COLOUR)
        if a.kind in DRAWN_KINDS and (shape := _shape(a, colour, radius)):
            overlay.shapes.append(shape)
            drawn[a.uuid] = shape
    for a in objects:
        if a.kind == "relationship":
            colour = colours.get(a.feature.schema_id, DEFAULT_COLOUR)
            if line := _relationship(a, drawn, colour):
                overlay.shapes.append(line)
    return overlay


def highlight_text(text: str, entities: list[Annotation], colours: dict[str, str]) -> SafeString:
    """The text, escaped, with ``<mark>`` around each entity's characters; overlapping
    entities split the text at every boundary so each piece lists all that cover it."""
    spans = []
    for a in entities:
        location = (a.value or {}).get("location") or {}
        start, end = location.get("start"), location.get("end")
        if not isinstance(start, int) or not isinstance(end, int):
            continue
        start, end = max(0, start), min(len(text), end)
        if end > start:
            spans.append((start, end, a))
    spans.sort(key=lambda s: (s[0], s[1]))
    cuts = sorted({0, len(text), *(s for s, _, _ in spans), *(e for _, e, _ in spans)})
    pieces = []
    for left, right in zip(cuts, cuts[1:], strict=False):
        covering = [a for s, e, a in spans if s <= left and right <= e]
        chunk = text[left:right]
        if not covering:
            pieces.append(format_html("{}", chunk))
            continue
        first = covering[0]
        classes = ["entity", f"source-{first.source}"]
        if len(covering) > 1:
            classes.append("entity-overlap")
        if all(getattr(a, "below_threshold", False) for a in covering):
            classes.append("entity-below")
        pieces.append(
            format_html(
                '<mark class="{}" data-colour="{}" title="{}" data-uuids="{}">{}</mark>',
                " ".join(classes),
                colours.get(first.feature.schema_id, DEFAULT_COLOUR),
                "; ".join(_title(a) for a in covering),
                " ".join(a.uuid for a in covering),
                chunk,
            )
        )
    return mark_safe("".join(pieces))  # noqa: S308 -- every piece went through format_html


def classification_lines(name: str, value: Any, depth: int = 0) -> list[dict[str, Any]]:
    """``name → answer`` lines of a classification value, then its options' nested ones."""
    value = value if isinstance(value, dict) else {}
    answers: list[dict[str, Any]] = []
    nested: list[dict[str, Any]] = []
    raw = value["answers"] if "answers" in value else value.get("answer")
    for option in raw if isinstance(raw, list) else [raw]:
        if isinstance(option, str):
            answers.append({"text": option, "confidence": None})
        elif isinstance(option, dict):
            conf = option.get("confidence")
            answers.append(
                {
                    "text": option.get("name") or option.get("schemaId") or "—",
                    "confidence": _confidence(conf) if isinstance(conf, int | float) else None,
                }
            )
            for child in option.get("classifications") or []:
                nested += classification_lines(child.get("name", "—"), child, depth + 1)
    return [{"name": name, "answers": answers, "depth": depth}, *nested]


def nested_lines(annotation: Annotation) -> list[dict[str, Any]]:
    """Lines of the classifications nested under an object."""
    value = annotation.value if isinstance(annotation.value, dict) else {}
    lines = []
    for child in value.get("classifications") or []:
        if isinstance(child, dict):
            lines += classification_lines(child.get("name", "—"), child, 1)
    return lines


def value_summary(annotation: Annotation) -> str:
    """A short human reading of an annotation's value, for the table of other media."""
    value = annotation.value if isinstance(annotation.value, dict) else {}
    kind = annotation.kind
    page = f" on page {value['page']}" if value.get("page") else ""
    if kind in ("bbox", "document_bbox") and isinstance(value.get("bbox"), dict):
        b = value["bbox"]
        unit = f" {value['unit'].lower()}" if value.get("unit") else ""
        return (
            f"left {_num(b.get('left', 0))}, top {_num(b.get('top', 0))}, "
            f"{_num(b.get('width', 0))}×{_num(b.get('height', 0))}{unit}{page}"
        )
    if kind in ("polygon", "polyline"):
        return f"{len(_points(value.get('polygon') or value.get('line')))} points"
    if kind == "point" and isinstance(value.get("point"), dict):
        return f"({_num(value['point'].get('x', 0))}, {_num(value['point'].get('y', 0))})"
    if kind == "entity" and isinstance(value.get("location"), dict):
        return f"characters {value['location'].get('start')}–{value['location'].get('end')}"
    if kind == "document_text":
        selections = value.get("textSelections") or []
        tokens = sum(len(s.get("tokenIds") or []) for s in selections if isinstance(s, dict))
        return f"{tokens} tokens in {len(selections)} selections"
    if kind == "mask" and isinstance(value.get("mask"), dict):
        return value["mask"].get("instanceURI") or "inline PNG mask"
    if kind == "relationship":
        ends = value.get("relationship") or {}
        return f"{ends.get('source')} → {ends.get('target')}"
    if kind == "video_segments":
        segments = value.get("segments") or []
        frames = sum(len(s.get("keyframes") or []) for s in segments if isinstance(s, dict))
        return f"{len(segments)} segments, {frames} keyframes"
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 120 else text[:119] + "…"


def _object_row(annotation: Annotation, colours: dict[str, str]) -> dict[str, Any]:
    value = annotation.value if isinstance(annotation.value, dict) else {}
    mask = value.get("mask") if annotation.kind == "mask" else None
    mask_url = mask.get("instanceURI") if isinstance(mask, dict) else None
    return {
        "annotation": annotation,
        "colour": colours.get(annotation.feature.schema_id, DEFAULT_COLOUR),
        "confidence": _confidence(annotation.confidence),
        "below": getattr(annotation, "below_threshold", False),
        "nested": nested_lines(annotation),
        "mask_url": mask_url if isinstance(mask_url, str) else None,
        "mask_link": isinstance(mask_url, str) and _is_url(mask_url),
        "summary": value_summary(annotation),
    }


def _classification_row(annotation: Annotation) -> dict[str, Any]:
    lines = classification_lines(annotation.feature.name, annotation.value)
    return {
        "annotation": annotation,
        "confidence": _confidence(annotation.confidence),
        "below": getattr(annotation, "below_threshold", False),
        "answers": lines[0]["answers"],
        "nested": lines[1:],
    }


def _is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def _input_events(project: Project, row: DataRow) -> list[dict[str, Any]]:
    """The row's authentic input events as the page lists them (whoever opens the page
    sees the row's labels, so they see how its free-text answers were entered)."""
    features = text_features(project)
    return [
        {"event": event, "text": input_event_text(event, features)}
        for event in input_events_of(project=project, data_row=row)
    ]


class DataRowDetailView(ProjectPage, View):
    """One data row of the project and the annotations the viewer may see."""

    tab = "data-rows"

    def _row(self, row_id) -> tuple[DataRow, Task] | None:
        task = (
            Task.objects.select_related("data_row__dataset", "batch")
            .filter(
                workspace=self.workspace,
                project=self.project,
                data_row_id=parse_id(row_id),
                data_row__workspace=self.workspace,
            )
            .first()
        )
        return (task.data_row, task) if task else None

    def get(self, request, project_id, row_id):
        found = self._row(row_id)
        if found is None:
            return render(
                request, "error.html", {"status": 404, "message": "Data row not found."}, status=404
            )
        row, task = found
        seen = row_annotations(project=self.project, data_row=row, actor=request.user)
        colours = feature_colours(self.project)
        media = row.media_type or self.project.media_type
        context: dict[str, Any] = {
            "row": row,
            "task": task,
            "media": media,
            "seen": seen,
            "threshold": _confidence(seen.threshold),
            "objects": [_object_row(a, colours) for a in seen.objects],
            "classifications": [_classification_row(a) for a in seen.classifications],
            "colours": colours,
            "row_is_url": _is_url(row.row_data),
            "input_events": _input_events(self.project, row),
            "metadata": metadata_lines(row.metadata),
        }
        if media == MediaType.IMAGE:
            size = image_size(row)
            context["overlay"] = build_overlay(seen.objects, colours, size)
            context["masks"] = [o for o in context["objects"] if o["annotation"].kind == "mask"]
            context["undrawn"] = [
                o
                for o in context["objects"]
                if o["annotation"].uuid not in {s.uuid for s in context["overlay"].shapes}
            ]
        elif media == MediaType.TEXT and not context["row_is_url"]:
            entities = [a for a in seen.objects if a.kind == "entity"]
            context["highlighted"] = highlight_text(row.row_data, entities, colours)
        return self.page(request, "projects/data_row_detail.html", context)


urlpatterns = [
    path(
        "projects/<str:project_id>/data-rows/<str:row_id>/",
        DataRowDetailView.as_view(),
        name="project-data-row",
    ),
]
