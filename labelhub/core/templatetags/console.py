"""Template filters of the console."""

from django import template
from django.utils.safestring import SafeString

from labelhub.core.audit import Change, audit_changes
from labelhub.core.markdown import render_markdown

register = template.Library()


@register.filter
def markdown(value) -> SafeString:
    """Render markdown as sanitised HTML (``labelhub.core.markdown``, the one renderer)."""
    return render_markdown(value if isinstance(value, str) else "")


@register.filter
def changes(entry) -> list[Change]:
    """An audit entry's before/after as readable field lines."""
    return audit_changes(entry.before, entry.after)
