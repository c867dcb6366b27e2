"""Stored JSON values as people read them (audit changes, metadata): no quotes, brackets
or Python reprs."""

from __future__ import annotations

from typing import Any


def readable_value(value: Any) -> str:
    """``None`` as —, booleans as yes/no, objects as ``key: value, …``, lists joined."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {readable_value(v)}" for k, v in value.items()) or "none"
    if isinstance(value, list | tuple):
        return ", ".join(readable_value(v) for v in value) or "none"
    return str(value)
