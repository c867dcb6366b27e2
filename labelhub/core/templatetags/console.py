"""Template filters of the console."""

import json

from django import template
from django.utils.safestring import SafeString

from labelhub.core.markdown import render_markdown

register = template.Library()


@register.filter
def as_json(value) -> str:
    """Render a JSON field value as compact JSON text (autoescaped by the template)."""
    if value is None:
        return ""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


@register.filter
def markdown(value) -> SafeString:
    """Render markdown as sanitised HTML (``labelhub.core.markdown``, the one renderer)."""
    return render_markdown(value if isinstance(value, str) else "")
