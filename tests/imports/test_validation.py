"""Per-line validation of annotation imports: every rule, exact error names and messages."""

from __future__ import annotations

import copy
import json

import pytest
from django.db import connection

from labelhub.labeling.models import Annotation
from labelhub.labeling.services.annotations import annotations_write
from labelhub.labeling.validation import GROUND_TRUTH, validate_line
from labelhub.projects.models import DataRow, Dataset
from tests.factories import make_workspace
from tests.imports.helpers import context_for, make_import_project

TREE = {
    "tools": [
        {
            "tool": "rectangle",
            "name": "Car",
            "featureSchemaId": "ckcar",
            "classifications": [
                {
                    "type": "radio",
                    "name": "Occluded",
                    "featureSchemaId": "ckoccluded",
                    "options": [
                        {"value": "yes", "featureSchemaId": "ckyes"},
                        {"value": "no", "featureSchemaId": "ckno"},
                    ],
                }
            ],
        },
        {"tool": "polygon", "name": "Road", "featureSchemaId": "ckroad"},
        {"tool": "line", "name": "Lane", "featureSchemaId": "cklane"},
        {"tool": "point", "name": "Sign", "featureSchemaId": "cksign"},
        {"tool": "raster-segmentation", "name": "Sky", "featureSchemaId": "cksky"},
        {"tool": "edge", "name": "Follows", "featureSchemaId": "ckfollows"},
    ],
    "classifications": [
        {
            "type": "checklist",
            "name": "Weather",
            "featureSchemaId": "ckweather",
            "options": [
                {"value": "rain", "featureSchemaId": "ckrain"},
                {"value": "fog", "featureSchemaId": "ckfog"},
            ],
        },
        {"type": "text", "name": "Notes", "featureSchemaId": "cknotes"},
    ],
}

BOX = {
    "uuid": "u1",
    "dataRow": {"globalKey": "row-1"},
    "name": "Car",
    "bbox": {"top": 1, "left": 2, "height": 3, "width": 4},
}


@pytest.fixture
def setup(workspace, admin):
    return make_import_project(workspace, admin, TREE, keys=["row-1", "row-2"], outside=["row-x"])


@pytest.fixture
def ctx(setup):
    return context_for(setup[0])


def line(**changes):
    out = copy.deepcopy(BOX)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def errors_of(raw, ctx):
    normalized, errors = validate_line(raw, context=ctx)
    assert normalized is None
    return [(e["name"], e["message"]) for e in errors]


def test_a_valid_box_normalizes(ctx, setup):
    normalized, errors = validate_line(json.dumps(BOX), context=ctx)
    assert errors == []
    assert normalized["data_row"].pk == str(setup[1]["row-1"].pk)
    assert normalized["feature"].schema_id == "ckcar"
    assert normalized["kind"] == "bbox"
    assert normalized["value"] == {"bbox": {"top": 1, "left": 2, "height": 3, "width": 4}}
    assert normalized["confidence"] == 1.0
    assert normalized["custom_metrics"] == []
    assert normalized["uuid"] == "u1"


def test_invalid_json(ctx):
    assert errors_of('{"uuid": ', ctx) == [
        (
            "InvalidJson",
            "The line is not valid JSON (unexpected end of data at column 10); "
            "write one JSON object per line.",
        )
    ]
    assert errors_of("[1]", ctx) == [("InvalidJson", "Each line must be a JSON object ({...}).")]


@pytest.mark.parametrize(
    ("ref", "name", "message"),
    [
        (
            {},
            "InvalidDataRow",
            'Give "dataRow" as {"id": ...} or {"globalKey": ...} (exactly one of them).',
        ),  # noqa: E501
        (
            {"id": "a", "globalKey": "b"},
            "InvalidDataRow",
            'Give "dataRow" as {"id": ...} or {"globalKey": ...} (exactly one of them).',
        ),  # noqa: E501
        (
            {"globalKey": "nope"},
            "DataRowNotFound",
            'No data row with globalKey "nope" in this workspace; check the id or global key.',
        ),  # noqa: E501
        (
            {"globalKey": "row-x"},
            "DataRowNotInProject",
            'Data row "row-x" is not in a batch of this project; send it to the project in a batch first.',
        ),  # noqa: E501
    ],
)
def test_data_row_reference(ctx, ref, name, message):
    assert errors_of(line(dataRow=ref), ctx) == [(name, message)]


def test_data_row_by_id_and_not_in_another_workspace(ctx, setup, admin):
    row = setup[1]["row-2"]
    normalized, errors = validate_line(line(dataRow={"id": str(row.pk)}), context=ctx)
    assert (errors, normalized["data_row"].pk) == ([], str(row.pk))
    other = make_workspace()
    foreign = DataRow.objects.create(
        workspace=other,
        dataset=Dataset.objects.create(workspace=other, name="d"),
        row_data="x",
        media_type="image",
        global_key="row-f",
    )
    assert errors_of(line(dataRow={"id": str(foreign.pk)}), ctx) == [
        (
            "DataRowNotFound",
            f'No data row with id "{foreign.pk}" in this workspace; check the id or global key.',
        )
    ]
    # a global key that exists only in another workspace is not found either
    assert errors_of(line(dataRow={"globalKey": "row-f"}), ctx) == [
        (
            "DataRowNotFound",
            'No data row with globalKey "row-f" in this workspace; check the id or global key.',
        )
    ]


def test_rows_of_a_chunk_resolve_in_few_queries(ctx, django_assert_num_queries):
    lines = [line(uuid=f"u{i}", dataRow={"globalKey": f"row-{1 + i % 2}"}) for i in range(200)]
    # rows, tasks, stored annotations (PostgreSQL: inside a savepoint that switches
    # sequential scans off, see validation._index_lookups)
    with django_assert_num_queries(3 if connection.vendor == "sqlite" else 6):
        parsed = ctx.prepare(lines)
    with django_assert_num_queries(0):
        results = [validate_line(x, context=ctx) for x in parsed]
    assert [e for _, e in results if e] == []


def test_feature_not_found_suggests_a_near_miss(ctx):
    assert errors_of(line(name="Cra"), ctx) == [
        ("FeatureNotFound", 'Ontology does not contain name "Cra". Did you mean "Car"?')
    ]
    assert errors_of(line(name=None, schemaId="zzz"), ctx) == [
        ("FeatureNotFound", 'Ontology does not contain schemaId "zzz".')
    ]


def test_kind_mismatch(ctx):
    assert errors_of(line(name="Road"), ctx) == [
        (
            "KindMismatch",
            '"Road" is a polygon tool; this line gives bbox. Give a rectangle tool or change '
            "the geometry.",
        )
    ]
    assert errors_of(line(name="Weather"), ctx) == [
        (
            "KindMismatch",
            '"Weather" is a classification in the ontology, not a tool; give a feature of the right kind.',
        )  # noqa: E501
    ]
    assert errors_of(line(bbox=None, name="Weather", answer="sunny"), ctx) == [
        (
            "KindMismatch",
            '"Weather" is a checklist classification; answer it with a list of options.',
        )  # noqa: E501
    ]
    assert errors_of(line(bbox=None, name="Notes", answer={"name": "x"}), ctx) == [
        ("KindMismatch", '"Notes" is a free-text classification; answer it with a string.')
    ]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"bbox": {"top": 1, "left": 2, "height": -3, "width": 4}},
            "A bbox's width and height must be 0 or more.",
        ),  # noqa: E501
        (
            {"bbox": {"top": float("nan"), "left": 2, "height": 3, "width": 4}},
            'A bbox needs finite numbers "top", "left", "height" and "width".',
        ),  # noqa: E501
        (
            {"bbox": None, "name": "Road", "polygon": [{"x": 1, "y": 1}, {"x": 2, "y": 2}]},
            "A polygon needs at least 3 points.",
        ),  # noqa: E501
        (
            {"bbox": None, "name": "Lane", "line": [{"x": 1, "y": 1}]},
            "A polyline needs at least 2 points.",
        ),  # noqa: E501
        (
            {"bbox": None, "name": "Lane", "line": [{"x": 1, "y": 1}, {"x": "2", "y": 2}]},
            'Each polyline point needs finite numbers "x" and "y".',
        ),  # noqa: E501
        (
            {"bbox": None, "name": "Sign", "point": {"x": 1}},
            'A point needs finite numbers "x" and "y".',
        ),  # noqa: E501
        (
            {"bbox": None, "name": "Sky", "mask": {}},
            'A mask needs "instanceURI" (a URL) or "png" (base64).',
        ),  # noqa: E501
        ({"polygon": []}, "The line gives bbox and polygon; give exactly one geometry."),
    ],
)
def test_invalid_geometry(ctx, changes, message):
    assert errors_of(line(**changes), ctx) == [("InvalidGeometry", message)]


def test_no_value(ctx):
    assert errors_of(line(bbox=None), ctx) == [
        (
            "MissingValue",
            "The line has no annotation: give one of bbox, polygon, line, point, mask, location, "
            "textSelections, relationship, segments, or an answer.",
        )
    ]


def test_answers_belong_to_the_classification(ctx):
    assert errors_of(line(bbox=None, name="Weather", answer=[{"name": "rian"}]), ctx) == [
        ("InvalidAnswer", 'name "rian" is not an option of "Weather". Did you mean "rain"?')
    ]
    assert errors_of(line(bbox=None, name="Weather", answer=[{"schemaId": "ckyes"}]), ctx) == [
        ("InvalidAnswer", 'schemaId "ckyes" is not an option of "Weather".')
    ]
    normalized, errors = validate_line(
        line(bbox=None, name="Weather", answers=[{"name": "rain"}, {"schemaId": "ckfog"}]),
        context=ctx,
    )
    assert errors == []
    assert (normalized["kind"], normalized["value"]) == (
        "checklist",
        {"answers": [{"schemaId": "ckrain", "name": "rain"}, {"schemaId": "ckfog", "name": "fog"}]},
    )


def test_nesting_matches_the_ontology(ctx):
    nested = [{"name": "Occluded", "answer": {"name": "yes", "confidence": 0.5}}]
    normalized, errors = validate_line(line(classifications=nested), context=ctx)
    assert errors == []
    assert normalized["value"]["classifications"] == [
        {
            "schemaId": "ckoccluded",
            "name": "Occluded",
            "answer": {"schemaId": "ckyes", "name": "yes", "confidence": 0.5},
        }
    ]
    assert errors_of(line(uuid="u2", classifications=[{"name": "Weather", "answer": []}]), ctx) == [
        (
            "InvalidNesting",
            '"Weather" is not directly under "Car" in the ontology; nest it as the ontology does.',
        )  # noqa: E501
    ]
    assert errors_of(line(uuid="u3", classifications=[{"name": "Ocluded", "answer": {}}]), ctx) == [
        ("FeatureNotFound", '"Car" does not contain name "Ocluded". Did you mean "Occluded"?')
    ]


def test_unsupported_for_media_type(workspace, admin):
    project, _ = make_import_project(workspace, admin, TREE, media_type="text", keys=["t"])
    assert errors_of(line(dataRow={"globalKey": "t"}), context_for(project)) == [
        ("UnsupportedForMediaType", "Bounding boxes cannot be imported into a text project.")
    ]


@pytest.mark.parametrize("value", [1.5, -0.1, "0.5", True])
def test_confidence_in_0_1(ctx, value):
    assert errors_of(line(confidence=value), ctx) == [
        ("InvalidConfidence", f'"confidence" must be a number from 0 to 1, not {value!r}.')
    ]


def test_relationships(ctx, workspace, admin, setup):
    cat = line(uuid="cat")
    dog = line(uuid="dog")
    rel = line(
        uuid="rel", bbox=None, name="Follows", relationship={"source": "dog", "target": "cat"}
    )
    parsed = ctx.prepare([rel, cat, dog])
    assert [validate_line(x, context=ctx)[1] for x in parsed] == [[], [], []]
    stray = line(
        uuid="rel2", bbox=None, name="Follows", relationship={"source": "dog", "target": "cow"}
    )  # noqa: E501
    assert errors_of(stray, ctx) == [
        (
            "RelationshipTargetNotFound",
            'The relationship\'s target "cow" is not an object on this data row, in this import or already imported.',
        )  # noqa: E501
    ]
    gt = context_for(setup[0], kind=GROUND_TRUTH)
    assert errors_of(rel, gt) == [
        (
            "RelationshipNotAllowed",
            "Relationships cannot be imported as ground truth; import them as pre-labels.",
        )  # noqa: E501
    ]


def test_relationship_to_a_stored_object(ctx, setup):
    normalized, _ = validate_line(line(uuid="cat"), context=ctx)
    annotations_write(project=setup[0], job=None, normalized_lines=[normalized])
    later = context_for(setup[0])
    rel = line(
        uuid="rel", bbox=None, name="Follows", relationship={"source": "cat", "target": "cat"}
    )  # noqa: E501
    assert validate_line(rel, context=later)[1] == []


def test_duplicate_uuid_in_one_import(ctx):
    assert validate_line(BOX, context=ctx)[1] == []
    assert errors_of(BOX, ctx) == [
        (
            "DuplicateUuid",
            'uuid "u1" is used twice for this data row in this import; give each annotation its own uuid.',
        )  # noqa: E501
    ]
    assert validate_line(line(dataRow={"globalKey": "row-2"}), context=ctx)[1] == []


def test_at_most_n_annotations_per_row(setup):
    ctx = context_for(setup[0], max_per_row=2)
    assert validate_line(line(uuid="a"), context=ctx)[1] == []
    assert validate_line(line(uuid="b"), context=ctx)[1] == []
    assert errors_of(line(uuid="c"), ctx) == [
        (
            "TooManyAnnotations",
            "The data row would hold more than 2 annotations; split them over fewer objects or remove some.",
        )  # noqa: E501
    ]


def test_stored_annotations_count_unless_replaced(setup):
    ctx = context_for(setup[0])
    stored = [validate_line(line(uuid=u), context=ctx)[0] for u in ("a", "b")]
    annotations_write(project=setup[0], job=None, normalized_lines=stored)
    ctx = context_for(setup[0], max_per_row=2)
    assert validate_line(line(uuid="a"), context=ctx)[1] == []
    assert errors_of(line(uuid="c"), ctx)[0][0] == "TooManyAnnotations"


def test_metric_lines_are_not_annotations(ctx):
    metric = {"uuid": "m", "dataRow": {"globalKey": "row-1"}, "metricValue": 0.1}
    assert errors_of(metric, ctx) == [
        (
            "NotAnAnnotation",
            'This is a model-run metric line ("metricValue"), not an annotation; metrics are imported into a model run, not into a project.',
        )  # noqa: E501
    ]


def test_missing_uuid(ctx):
    assert errors_of(line(uuid=None), ctx) == [
        ("MissingUuid", 'Give each line a "uuid" (a string of at most 100 characters).')
    ]


def test_invalid_lines_never_write(ctx, setup):
    results = [validate_line(x, context=ctx) for x in (BOX, line(uuid="bad", confidence=3))]
    annotations_write(project=setup[0], job=None, normalized_lines=[n for n, _ in results if n])
    assert list(Annotation.objects.values_list("uuid", flat=True)) == ["u1"]


ENTITY_TREE = {"tools": [{"tool": "named-entity", "name": "Person", "featureSchemaId": "ckp"}]}


def test_text_entity_within_the_text_when_inline(workspace, admin):
    project, rows = make_import_project(
        workspace, admin, ENTITY_TREE, media_type="text", keys=["inline", "url"]
    )
    DataRow.objects.filter(pk=rows["inline"].pk).update(row_data="Ada Lovelace")
    ctx = context_for(project)
    entity = {"uuid": "e", "dataRow": {"globalKey": "inline"}, "name": "Person"}
    assert validate_line({**entity, "location": {"start": 0, "end": 12}}, context=ctx)[1] == []
    assert errors_of({**entity, "uuid": "f", "location": {"start": 4, "end": 13}}, ctx) == [
        (
            "InvalidGeometry",
            "A text entity must end within the text (12 characters); this one ends at 13.",
        )
    ]
    assert errors_of({**entity, "uuid": "g", "location": {"start": 4, "end": 3}}, ctx) == [
        ("InvalidGeometry", "A text entity's start must be 0 or more and end at least start.")
    ]
    at_url = {**entity, "dataRow": {"globalKey": "url"}, "location": {"start": 0, "end": 999}}
    assert validate_line(at_url, context=ctx)[1] == []


VIDEO_TREE = {
    "classifications": [
        {
            "type": "radio",
            "name": "Scene",
            "options": [{"value": "day"}, {"value": "night"}],
        }
    ]
}


def test_video_radio_gives_frame_ranges_per_option(workspace, admin):
    project, _ = make_import_project(workspace, admin, VIDEO_TREE, media_type="video", keys=["v"])
    ctx = context_for(project)
    scene = {"uuid": "s", "dataRow": {"globalKey": "v"}, "name": "Scene"}
    answer = [
        {"name": "day", "frames": [{"start": 0, "end": 9}]},
        {"name": "night", "frames": [{"start": 10, "end": 20}]},
    ]
    normalized, errors = validate_line({**scene, "answer": answer}, context=ctx)
    assert errors == []
    assert normalized["kind"] == "radio"
    assert [a["frames"] for a in normalized["value"]["answers"]] == [
        [{"start": 0, "end": 9}],
        [{"start": 10, "end": 20}],
    ]
    bad = [{"name": "day", "frames": [{"start": 5, "end": 1}]}]
    assert errors_of({**scene, "uuid": "t", "answer": bad}, ctx) == [
        ("InvalidGeometry", '"frames" must be a list of {"start", "end"} with 0 ≤ start ≤ end.')
    ]


def test_document_boxes_need_a_page(workspace, admin):
    tree = {"tools": [{"tool": "rectangle", "name": "Box"}]}
    project, _ = make_import_project(workspace, admin, tree, media_type="document", keys=["d"])
    ctx = context_for(project)
    box = {**line(name="Box", dataRow={"globalKey": "d"}), "unit": "POINTS"}
    normalized, errors = validate_line({**box, "page": 2}, context=ctx)
    assert (errors, normalized["kind"], normalized["value"]["page"]) == ([], "document_bbox", 2)
    assert errors_of({**box, "uuid": "p0", "page": 0}, ctx) == [
        ("InvalidGeometry", '"page" must be a whole number, 1 or more.')
    ]


@pytest.mark.parametrize(
    "raw",
    [
        json.dumps(line(uuid="u\u0000x")),
        json.dumps(line(dataRow={"globalKey": "row-1\u0000"})),
        json.dumps({**BOX, "classifications": [{"name": "Notes", "answer": "a\u0000b"}]}),
        json.dumps(
            {"uuid": "t1", "dataRow": {"globalKey": "row-1"}, "name": "Notes", "answer": "\u0000"}
        ),
    ],
)
def test_nul_characters_are_refused_anywhere(ctx, raw):
    # PostgreSQL cannot store NUL in text or jsonb: the line fails alone, with a name.
    assert "\\u0000" in raw
    (parsed,) = ctx.prepare([raw])
    assert errors_of(parsed, ctx) == [
        ("InvalidText", "Text may not contain NUL characters (\\u0000).")
    ]


def test_a_backslash_before_u0000_is_not_a_nul(ctx):
    raw = json.dumps(
        {"uuid": "t2", "dataRow": {"globalKey": "row-1"}, "name": "Notes", "answer": "\\u0000"}
    )
    (parsed,) = ctx.prepare([raw])
    normalized, errors = validate_line(parsed, context=ctx)
    assert (errors, normalized["value"]) == ([], {"answer": "\\u0000"})


def test_free_text_answers_and_metric_names_are_bounded(ctx):
    from labelhub.labeling.validation import MAX_METRIC_NAME_CHARS, MAX_TEXT_ANSWER_CHARS

    text = {"uuid": "t3", "dataRow": {"globalKey": "row-1"}, "name": "Notes"}
    ok, errors = validate_line(
        json.dumps({**text, "answer": "x" * MAX_TEXT_ANSWER_CHARS}), context=ctx
    )
    assert errors == [] and len(ok["value"]["answer"]) == 65_535
    long_answer = json.dumps({**text, "uuid": "t4", "answer": "x" * 2_000_000})
    assert errors_of(long_answer, ctx) == [
        (
            "InvalidText",
            'The answer to "Notes" has 2,000,000 characters; at most 65,535 are allowed.',
        )
    ]
    metric = [{"name": "m" * (MAX_METRIC_NAME_CHARS + 1), "value": 1}]
    assert errors_of(json.dumps(line(uuid="t5", customMetrics=metric)), ctx) == [
        (
            "InvalidCustomMetrics",
            '"customMetrics" must be a list of {"name": string, "value": number}, '
            "each name at most 100 characters.",
        )
    ]
    ok, errors = validate_line(
        json.dumps(line(uuid="t6", customMetrics=[{"name": "m" * 100, "value": 1}])), context=ctx
    )
    assert errors == []
