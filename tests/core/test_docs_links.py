"""README.md and docs/ point only inside the repository, at things that exist.

A reader has the repository and nothing else: a link to another site, a path outside the
repository (``../shared/…``), a file that is not there, a heading that is not there, or a
reference to an issue tracker they cannot see ("issue 9", "the closing note") leaves them
stranded. Code blocks are examples, not references, and are not checked.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
#: top-level folders of the repository; a backticked path starting with one is a reference
REPO_DIRS = ("docs", "labelhub", "tests", "scripts", "static", "templates", "requirements", ".ci")

LINK = re.compile(r"(?<!!)\[[^\]\n]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
UNSEEN = re.compile(r"\bissues? #?\d+\b|closing note", re.IGNORECASE)


def _prose(text: str) -> str:
    """The document without its fenced code blocks (examples, not references)."""
    return re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)


def _anchors(path: Path) -> set[str]:
    """GitHub's heading anchors of a markdown file."""
    out = set()
    for line in _prose(path.read_text()).splitlines():
        if m := re.match(r"#{1,6}\s+(.*)", line):
            slug = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
            out.add(slug)
    return out


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _inside(path: Path) -> bool:
    try:
        path.resolve().relative_to(ROOT)
    except ValueError:
        return False
    return True


def link_problems(doc: Path) -> list[str]:
    """Every link of ``doc`` that leaves the repository or points at nothing."""
    problems = []
    for target in LINK.findall(_prose(doc.read_text())):
        where = f"{_rel(doc)}: ({target})"
        if re.match(r"[a-z][a-z0-9+.-]*:|//", target, re.IGNORECASE):
            problems.append(f"{where} links outside the repository")
            continue
        file_part, _, anchor = target.partition("#")
        path = (doc.parent / file_part) if file_part else doc
        if not _inside(path):
            problems.append(f"{where} points outside the repository")
        elif not path.exists():
            problems.append(f"{where} points at a missing file")
        elif anchor and path.suffix == ".md" and anchor not in _anchors(path):
            problems.append(f"{where} points at a missing heading")
    return problems


def path_problems(doc: Path) -> list[str]:
    """Backticked repository paths of ``doc`` that are missing or outside the repository."""
    problems = []
    for span in CODE_SPAN.findall(_prose(doc.read_text())):
        token = span.strip()
        if "../" in token:
            problems.append(f"{_rel(doc)}: `{token}` points outside the repository")
            continue
        if any(c in token for c in "<>*{} ,…|$=") or token.startswith("/"):
            continue  # placeholders, globs, commands and URL paths are not files
        if token.split("/", 1)[0] in REPO_DIRS and "/" in token:
            if not (ROOT / token).exists():
                problems.append(f"{_rel(doc)}: `{token}` does not exist")
    return problems


def unseen_references(doc: Path) -> list[str]:
    """Phrases naming things only an issue tracker holds."""
    return [
        f"{_rel(doc)}:{n}: {m.group(0)!r}"
        for n, line in enumerate(doc.read_text().splitlines(), start=1)
        for m in UNSEEN.finditer(line)
    ]


@pytest.mark.parametrize("doc", DOCUMENTS, ids=_rel)
def test_links_stay_inside_the_repository_and_resolve(doc):
    assert link_problems(doc) == []


@pytest.mark.parametrize("doc", DOCUMENTS, ids=_rel)
def test_repository_paths_exist(doc):
    assert path_problems(doc) == []


@pytest.mark.parametrize("doc", DOCUMENTS, ids=_rel)
def test_no_references_to_issues_a_reader_cannot_see(doc):
    assert unseen_references(doc) == []


def test_the_checks_catch_what_they_are_for(tmp_path, monkeypatch):
    """The checkers themselves: each kind of bad reference is reported."""
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "there.md").write_text("# Here it is\n")
    doc = tmp_path / "README.md"
    doc.write_text(
        "[site](https://example.com) [up](../shared/x.md) [gone](docs/gone.md) "
        "[ok](docs/there.md#here-it-is) [bad](docs/there.md#nowhere) [top](#title)\n"
        "# Title\n`docs/missing.md` `docs/there.md` `../shared/notes.md`\n"
        "See the closing note of issue 12.\n"
        "```\n[in code](https://example.com) `docs/nope.md`\n```\n"
    )
    assert link_problems(doc) == [
        "README.md: (https://example.com) links outside the repository",
        "README.md: (../shared/x.md) points outside the repository",
        "README.md: (docs/gone.md) points at a missing file",
        "README.md: (docs/there.md#nowhere) points at a missing heading",
    ]
    assert path_problems(doc) == [
        "README.md: `docs/missing.md` does not exist",
        "README.md: `../shared/notes.md` points outside the repository",
    ]
    assert unseen_references(doc) == ["README.md:4: 'closing note'", "README.md:4: 'issue 12'"]
