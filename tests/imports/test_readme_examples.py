"""The README's import examples do what the README says, on the demo data as seeded.

Each example is a code block after a ``<!-- readme-example: NAME -->`` marker; the test
reads the blocks from README.md itself, so an edit there is checked here.
"""

from __future__ import annotations

import ast
import io
import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command

from labelhub.accounts.models import User
from labelhub.imports.services import import_job_create, import_job_report, import_job_run
from labelhub.labeling.models import Annotation
from labelhub.projects.models import Project

pytestmark = pytest.mark.django_db

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def example(name: str) -> str:
    """The code block printed after the README's marker ``name``."""
    m = re.search(rf"<!-- readme-example: {name} -->\n```[a-z]*\n(.*?)\n```", README, re.DOTALL)
    assert m, f"README.md has no example {name!r}"
    return m.group(1)


def run(project_name: str, name: str, payload, *, kind="prelabels", dry_run=False):
    project = Project.objects.get(name=project_name, workspace__name="Vision")
    admin = User.objects.get(email="admin@demo.labelhub.local")
    job = import_job_create(
        project=project, actor=admin, name=name, kind=kind, payload=payload, dry_run=dry_run
    )
    return import_job_run(workspace_id=project.workspace_id, job_id=job.pk)


def report(job) -> list[dict]:
    return [json.loads(line) for text in import_job_report(job) for line in text.splitlines()]


def counts(job) -> tuple:
    return (job.state, job.lines_valid, job.lines_invalid, job.lines_written, job.warnings)


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=io.StringIO())


def test_readme_import_examples_import_as_printed(demo):
    clean = run("Street scenes", "README street-cam-020", example("street-clean"))
    assert report(clean) and all(s["status"] == "SUCCESS" for s in report(clean))
    assert counts(clean) == ("finished", 6, 0, 6, 0)
    stored = Annotation.objects.filter(job=clean).order_by("uuid")
    assert [(a.feature.name, a.kind) for a in stored] == [
        ("Car", "bbox"),
        ("Car", "bbox"),
        ("Car", "bbox"),
        ("Road", "polygon"),
        ("Pedestrian", "point"),
        ("Weather", "checklist"),
    ]

    errors = run("Street scenes", "README mistakes", example("street-errors"))
    assert counts(errors) == ("finished_with_errors", 1, 4, 1, 0)
    assert errors.error_summary == {
        "FeatureNotFound": 1,
        "InvalidAnswer": 1,
        "KindMismatch": 1,
        "DataRowNotFound": 1,
    }
    printed = [json.loads(line) for line in example("street-errors-report").splitlines()]
    assert report(errors) == printed

    receipts = run("Receipts", "README receipts", example("receipts"))
    assert counts(receipts) == ("finished", 2, 0, 2, 0)


def test_readme_code_samples_import_cleanly(demo):
    """The ground-truth lines of the curl sample and the Python sample's lines."""
    curl = re.search(r"-d '(\{\"name\": \"gold-[^']*)'", README)
    assert curl, "README.md has no curl ground-truth sample"
    body = json.loads(curl.group(1))
    job = run("Street scenes", "README curl", body["lines"], kind=body["kind"], dry_run=True)
    assert counts(job) == ("finished", len(body["lines"]), 0, 0, 0)

    python = re.search(r"\nlines = (\[\n.*?\n\])\n", README, re.DOTALL)
    assert python, "README.md has no Python sample"
    lines = ast.literal_eval(python.group(1))
    job = run("Street scenes", "README python", lines, dry_run=True)
    assert counts(job) == ("finished", len(lines), 0, 0, 0)
