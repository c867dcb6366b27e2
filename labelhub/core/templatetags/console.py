"""Template filters of the console."""

import json

from django import template

register = template.Library()


@register.filter
def as_json(value) -> str:
    """Render a JSON field value as compact JSON text (autoescaped by the template)."""
    if value is None:
        return ""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)
