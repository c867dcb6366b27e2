"""The Labelbox SDK's NDJSON files import as ``shared/conformance/README.md`` expects."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labelhub.imports.models import ImportJob
from labelhub.labeling.models import Annotation
from labelhub.labeling.services.annotations import annotations_write
from labelhub.labeling.validation import (
    validate_line,
)
from labelhub.workspaces.models import Role
from tests.factories import make_member, make_workspace
from tests.imports.helpers import context_for, make_import_project, ontology_for_import

CONFORMANCE = Path(__file__).resolve().parents[1] / "fixtures" / "labelbox-sdk-ndjson"


def checklist_answered_with_text(name):
    return (
        "KindMismatch",
        f'"{name}" is a checklist classification; answer it with a list of options.',
    )


def radio_answered_with(name):
    return (
        "KindMismatch",
        f'"{name}" is a radio classification; answer it with one option '
        '({"name": ...} or {"schemaId": ...}).',
    )


METRIC = (
    "NotAnAnnotation",
    'This is a model-run metric line ("metricValue"), not an annotation; '
    "metrics are imported into a model run, not into a project.",
)
MMC = (
    "UnsupportedForMediaType",
    "LLM chat evaluation lines (messageEvaluationTask) cannot be imported yet: "
    "ontologies have no message-evaluation tools.",
)

# filename -> (media type, {line index: (error name, message)}); other lines are valid.
# Deviations from "all accepted" are the SDK files reusing one schemaId for features of
# different types (a serialisation test, not a real ontology): those lines are refused with
# the error a user would get, since one feature cannot be both.
EXPECTED = {
    "image_import.json": ("image", {}),
    "image_import_name_only.json": ("image", {}),
    "rectangle_import.json": ("image", {}),
    "polyline_import.json": ("image", {}),
    "polyline_without_confidence_import.json": ("image", {}),
    "classification_import.json": (
        "image",
        {2: checklist_answered_with_text("ckrb1sfkn099c0y910wbo0p1a")},
    ),
    "classification_import_name_only.json": ("image", {}),
    "nested_import.json": (
        "image",
        {
            2: radio_answered_with("ckrb1sfkn099c0y910wbo0p1a"),
            3: radio_answered_with("ckrb1sfkn099c0y910wbo0p1a"),
        },
    ),
    "nested_import_name_only.json": ("image", {}),
    "relationship_import.json": ("image", {}),
    "text_entity_import.json": ("text", {}),
    "text_entity_without_confidence_import.json": ("text", {}),
    "conversation_entity_import.json": ("conversational", {}),
    "conversation_entity_without_confidence_import.json": ("conversational", {}),
    "pdf_import.json": (
        "document",
        {
            6: (
                "KindMismatch",
                '"boxy" is a rectangle tool; this line gives textSelections. '
                "Give a named-entity tool or change the geometry.",
            )
        },
    ),
    "pdf_import_name_only.json": ("document", {}),
    "video_import.json": ("video", {2: checklist_answered_with_text("ckrb1sfkn099c0y910wbo0p1a")}),
    "video_import_name_only.json": ("video", {}),
    "mmc_import.json": ("llm_chat", {0: MMC, 1: MMC, 2: MMC}),
    "metric_import.json": ("image", {0: METRIC}),
    "custom_scalar_import.json": ("image", {0: METRIC, 1: METRIC, 2: METRIC}),
    "custom_confusion_matrix_import.json": ("image", {0: METRIC, 1: METRIC, 2: METRIC}),
}


def test_every_corpus_file_has_an_expectation():
    assert sorted(p.name for p in CONFORMANCE.glob("*.json")) == sorted(EXPECTED)


@pytest.mark.parametrize("filename", sorted(EXPECTED))
def test_sdk_file_imports_as_expected(filename, admin):
    # given a workspace of its own (the files reuse ids across kinds), rows whose global keys
    # are the file's data row ids, in a batch of a project of the file's media type
    media_type, expected_errors = EXPECTED[filename]
    lines = json.loads((CONFORMANCE / filename).read_text())
    workspace = make_workspace()
    make_member(workspace, Role.ADMIN, user=admin)
    keys = sorted({line["dataRow"]["id"] for line in lines})
    project, _ = make_import_project(
        workspace, admin, ontology_for_import(lines), media_type=media_type, keys=keys
    )
    job = ImportJob.objects.create(
        workspace=workspace, project=project, name=filename, kind=ImportJob.Kind.PRELABELS
    )
    context = context_for(project)

    # when its lines are validated (as NDJSON text) and the valid ones written
    results = [validate_line(x, context=context) for x in context.prepare(map(json.dumps, lines))]
    written = annotations_write(
        project=project, job=job, normalized_lines=[n for n, _ in results if n is not None]
    )

    # then exactly the expected lines fail, each with one named error, and the rest are stored
    errors = {
        i: [(e["name"], e["message"]) for e in errs] for i, (_, errs) in enumerate(results) if errs
    }
    assert errors == {i: [e] for i, e in expected_errors.items()}
    assert written == len(lines) - len(expected_errors)
    assert Annotation.objects.filter(project=project, job=job).count() == written
    assert set(Annotation.objects.values_list("source", flat=True)) <= {"prelabel"}


JUNK = [None, 5, -1, "x", "", [], {}, [1], [{}], {"a": 1}, float("inf"), True]


def _mutations(value):
    """Yield ``value`` with each nested entry replaced, in turn, by each junk value."""
    if isinstance(value, dict):
        for key, item in value.items():
            for junk in JUNK:
                yield {**value, key: junk}
            for mutated in _mutations(item):
                yield {**value, key: mutated}
    elif isinstance(value, list):
        for i, item in enumerate(value):
            for junk in JUNK:
                yield [*value[:i], junk, *value[i + 1 :]]
            for mutated in _mutations(item):
                yield [*value[:i], mutated, *value[i + 1 :]]


@pytest.mark.parametrize(
    ("filename", "media_type"),
    [
        ("nested_import_name_only.json", "image"),
        ("video_import_name_only.json", "video"),
        ("pdf_import_name_only.json", "document"),
        ("relationship_import.json", "image"),
        ("conversation_entity_import.json", "conversational"),
    ],
)
def test_malformed_lines_give_errors_never_exceptions(filename, media_type, admin, workspace):
    lines = json.loads((CONFORMANCE / filename).read_text())
    keys = sorted({line["dataRow"]["id"] for line in lines})
    project, _ = make_import_project(
        workspace, admin, ontology_for_import(lines), media_type=media_type, keys=keys
    )
    context = context_for(project)
    context.prepare(lines)
    checked = 0
    for original in lines:
        for mutated in _mutations(original):
            context.seen.clear()
            context.added.clear()
            normalized, errors = validate_line(mutated, context=context)
            assert (normalized is None) == bool(errors)
            assert all(set(e) == {"name", "message", "additionalInfo"} for e in errors)
            checked += 1
    assert checked > 100
