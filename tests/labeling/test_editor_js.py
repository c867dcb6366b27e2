"""The editor's JavaScript unit tests (tests/js/: geometry and the state model), run with
Node's own test runner (`node --test`, no npm package) as part of the suite. Without
Node.js they are skipped here; `.ci/run` installs it, so CI always runs them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(
    shutil.which("node") is None, reason="Node.js not found (apt-get install nodejs)"
)
def test_editor_javascript_unit_tests_pass():
    files = sorted(str(p) for p in (ROOT / "tests" / "js").glob("*.test.js"))
    assert len(files) == 2  # geometry and model: a lost file would pass silently
    done = subprocess.run(
        ["node", "--test", *files], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout
    assert "# pass 15" in done.stdout  # every test ran (update when tests are added)
