"""Markdown that people write (project instructions; comments later) as safe HTML.

One renderer for the whole site: markdown-it-py turns CommonMark (with tables and
strikethrough) into HTML, then nh3 (the ammonia sanitiser) keeps only the tags and
attributes below. Raw HTML in the text is allowed through the parser on purpose, so the
sanitiser is what decides: no script, no event handler attributes, no ``style`` (the
Content-Security-Policy refuses inline styles), links and images only over http(s) or mailto.
"""

from __future__ import annotations

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

_PARSER = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "code", "del", "details", "em", "h1", "h2",
        "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s",
        "strong", "sub", "summary", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
    "th": {"colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})


#: a writer's "# Title" sits inside a page that has its h1 and a card's h2: it becomes h3
HEADING_OFFSET = 2


def render_markdown(text: str | None) -> SafeString:
    """Markdown as sanitised HTML, safe to put in a page as it is; headings start at h3."""
    if not text:
        return mark_safe("")  # noqa: S308 -- empty
    env: dict = {}
    tokens = _PARSER.parse(text, env)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(6, int(token.tag[1]) + HEADING_OFFSET)}"
    html = _PARSER.renderer.render(tokens, _PARSER.options, env)
    clean = nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        # Instructions sit beside work in progress: a link opens beside it, and the page
        # it opens learns nothing about ours.
        link_rel="noopener noreferrer",
        set_tag_attribute_values={"a": {"target": "_blank"}},
    )
    return mark_safe(clean)  # noqa: S308 -- sanitised by nh3 just above
