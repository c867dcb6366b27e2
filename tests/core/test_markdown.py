"""The one markdown renderer (project instructions; comments later): markdown becomes HTML,
and whatever could run script or break the page's policy is removed."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.utils.safestring import SafeString

from labelhub.core.markdown import render_markdown


def test_markdown_becomes_html():
    html = render_markdown("# Boxes\n\nDraw **tight** boxes, see [the guide](https://x.test/g).")
    assert isinstance(html, SafeString)
    # the page has its h1 and the card its h2: a writer's headings start at h3
    assert "<h3>Boxes</h3>" in html
    assert "<strong>tight</strong>" in html
    assert 'href="https://x.test/g"' in html
    assert 'rel="noopener noreferrer"' in html


def test_lists_tables_and_code_survive():
    text = "- one\n- two\n\n| a | b |\n|---|--:|\n| 1 | 2 |\n\n`x < y`\n"
    html = render_markdown(text)
    assert "<ul>\n<li>one</li>" in html
    assert "<table>" in html and "<td>2</td>" in html or '<td align="right">2</td>' in html
    assert "<code>x &lt; y</code>" in html
    # table alignment would be a style attribute, which the Content-Security-Policy refuses
    assert "style=" not in html


@pytest.mark.parametrize(
    ("text", "gone"),
    [
        ("<script>alert(1)</script>", ["<script", "alert(1)"]),
        ("[click](javascript:alert(1))", ['href="javascript:']),
        ('<a href="javascript:alert(1)">x</a>', ["javascript:"]),
        ('<a href="https://x.test" onclick="alert(1)">x</a>', ["onclick"]),
        ('<img src="x" onerror="alert(1)">', ["onerror"]),
        ('<p style="color:red">x</p>', ["style="]),
        ("<iframe src=https://x.test></iframe>", ["<iframe"]),
        ('<svg onload="alert(1)"></svg>', ["onload", "<svg"]),
        ("[x](data:text/html;base64,PHNjcmlwdD4=)", ['href="data:']),
    ],
)
def test_what_could_run_script_is_removed(text, gone):
    html = render_markdown(text)
    for piece in gone:
        assert piece not in html


def test_empty_and_none_give_nothing():
    assert render_markdown("") == ""
    assert render_markdown(None) == ""


def test_template_filter_uses_the_renderer():
    out = Template("{% load console %}{{ text|markdown }}").render(
        Context({"text": "**bold** <script>x()</script>"})
    )
    assert "<strong>bold</strong>" in out
    assert "<script" not in out


def test_headings_start_at_h3_and_stop_at_h6():
    html = render_markdown("# One\n\n## Two\n\n##### Five\n\n###### Six")
    assert html == "<h3>One</h3>\n<h4>Two</h4>\n<h6>Five</h6>\n<h6>Six</h6>\n"
