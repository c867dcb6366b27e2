"""Checking metadata values against their field (used by uploads and by filters)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from labelhub.core.readable import readable_value
from labelhub.projects.models import MetadataField

Kind = MetadataField.Kind
MAX_METADATA_STRING = 4096


@dataclass(frozen=True)
class FieldSpec:
    """One field of the metadata schema (reserved fields have no row, hence no id)."""

    name: str
    kind: str
    options: tuple[str, ...] = ()
    reserved: bool = False
    id: Any = None
    created_at: Any = field(default=None, compare=False)


RESERVED_FIELDS: dict[str, FieldSpec] = {
    "tag": FieldSpec("tag", Kind.STRING, reserved=True),
    "split": FieldSpec("split", Kind.ENUM, ("train", "valid", "test"), reserved=True),
    "captureDateTime": FieldSpec("captureDateTime", Kind.DATETIME, reserved=True),
}


def text_problem(value: str) -> str | None:
    """Why a string cannot be stored (NUL, unpaired surrogates), or None."""
    if "\x00" in value:
        return "Contains a NUL character."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "Contains characters that are not valid Unicode."
    return None


def _normalise_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


def clean_metadata_value(spec: FieldSpec, value: Any, *, from_text: bool = False) -> tuple:
    """Check one metadata value against its field: ``(normalised value, problem or None)``.

    ``from_text``: the value comes from a CSV cell or a query string, so a number field
    reads numbers written as text.
    """
    kind = spec.kind
    if kind == Kind.NUMBER:
        if from_text and isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                return None, "Enter a number."
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None, "Enter a number."
        if isinstance(value, float):
            if not math.isfinite(value):
                return None, "Enter a number."
            if value.is_integer() and abs(value) < 2**53:
                value = int(value)
        return value, None
    if not isinstance(value, str):
        return None, {
            Kind.DATETIME: "Enter an ISO 8601 date-time.",
            Kind.ENUM: f"Choose one of {', '.join(spec.options)}.",
        }.get(kind, "Enter text.")
    problem = text_problem(value)
    if problem:
        return None, problem
    if kind == Kind.DATETIME:
        try:
            return _normalise_datetime(datetime.fromisoformat(value.strip())), None
        except ValueError:
            return None, "Enter an ISO 8601 date-time."
    if kind == Kind.ENUM:
        if value not in spec.options:
            return None, f"Choose one of {', '.join(spec.options)}."
        return value, None
    if len(value) > MAX_METADATA_STRING:
        return None, f"At most {MAX_METADATA_STRING} characters."
    return value, None


@dataclass(frozen=True)
class MetadataLine:
    """One name of a row's metadata with its value, or with lines of its own (an object
    such as ``mediaAttributes``)."""

    name: str
    value: str = ""
    lines: tuple[MetadataLine, ...] = ()


def metadata_lines(metadata: Any, *, by_name: bool = True) -> list[MetadataLine]:
    """A row's metadata as name/value lines, by name; objects nest (in their own order:
    width before height), lists are joined."""
    if not isinstance(metadata, dict):
        return []
    out = []
    for name in sorted(metadata, key=str) if by_name else metadata:
        value = metadata[name]
        if isinstance(value, dict) and value:
            nested = tuple(metadata_lines(value, by_name=False))
            out.append(MetadataLine(str(name), lines=nested))
        else:
            out.append(MetadataLine(str(name), readable_value(value)))
    return out
