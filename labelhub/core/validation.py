"""Small input cleaners every service uses (one place for the same rules and messages)."""

from __future__ import annotations

import re
from typing import Any

from labelhub.core.errors import ValidationFailed

_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")


def clean_text(
    value: Any, *, field: str, max_length: int, required: bool = True, collapse: bool = True
) -> str:
    """Validate text input: trimmed; inner whitespace collapsed unless ``collapse=False``."""
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise ValidationFailed("Enter text.", field=field)
    value = " ".join(value.split()) if collapse else value.strip()
    if required and not value:
        raise ValidationFailed("This field is required.", field=field)
    if len(value) > max_length:
        raise ValidationFailed(f"At most {max_length} characters.", field=field)
    return value


def clean_colour(value: Any, *, field: str = "colour") -> str:
    """Validate a ``#RRGGBB`` colour and return it upper-cased."""
    if not isinstance(value, str) or not _COLOUR.match(value):
        raise ValidationFailed("Give a colour as #RRGGBB.", field=field)
    return value.upper()
