"""The ontology normaliser: Labelbox's ontology-builder JSON in, checked and completed.

Every rule has a case with the exact message, which names the path of the bad element.
"""

import copy
import re

import pytest

from labelhub.core.errors import ValidationFailed
from labelhub.projects.services.ontologies import (
    MAX_DEPTH,
    PALETTE,
    new_feature_schema_id,
    normalize_ontology,
)

ID = re.compile(r"^c[0-9a-z]{24}$")


def problems(payload) -> list[str]:
    with pytest.raises(ValidationFailed) as exc:
        normalize_ontology(payload)
    assert exc.value.message.startswith(exc.value.details["ontology"][0])
    return exc.value.details["ontology"]


def radio(name="Q", options=("a", "b"), **extra):
    return {"type": "radio", "name": name, "options": [{"value": v} for v in options], **extra}


# A tree in normal form that nests three classification levels deep:
# tool > classification > option > classification > option > classification.
FULL = {
    "tools": [
        {
            "tool": "rectangle",
            "name": "Car",
            "color": "#FF0000",
            "required": True,
            "featureSchemaId": "ckcar000000000000000000001",
            "schemaNodeId": "cknode00000000000000000001",
            "classifications": [
                {
                    "type": "radio",
                    "name": "Occluded",
                    "instructions": "Is the car occluded?",
                    "required": False,
                    "featureSchemaId": "ckocc000000000000000000001",
                    "schemaNodeId": "cknode00000000000000000002",
                    "options": [
                        {
                            "value": "yes",
                            "label": "Yes",
                            "featureSchemaId": "ckyes000000000000000000001",
                            "schemaNodeId": "cknode00000000000000000003",
                            "options": [
                                {
                                    "type": "checklist",
                                    "name": "By what",
                                    "instructions": "By what",
                                    "required": True,
                                    "featureSchemaId": "ckbywhat0000000000000000001",
                                    "schemaNodeId": "cknode00000000000000000004",
                                    "options": [
                                        {
                                            "value": "other car",
                                            "label": "Other car",
                                            "featureSchemaId": "ckother00000000000000000001",
                                            "schemaNodeId": "cknode00000000000000000005",
                                            "options": [
                                                {
                                                    "type": "text",
                                                    "name": "Plate",
                                                    "instructions": "Plate of the other car",
                                                    "required": False,
                                                    "featureSchemaId": "ckplate0000000000000000001",
                                                    "schemaNodeId": "cknode00000000000000000006",
                                                    "options": [],
                                                }
                                            ],
                                        }
                                    ],
                                }
                            ],
                        },
                        {
                            "value": "no",
                            "label": "No",
                            "featureSchemaId": "ckno00000000000000000000001",
                            "schemaNodeId": "cknode00000000000000000007",
                            "options": [],
                        },
                    ],
                }
            ],
        },
        {
            "tool": "edge",
            "name": "Follows",
            "color": "#00FF00",
            "required": False,
            "featureSchemaId": "ckedge000000000000000000001",
            "schemaNodeId": "cknode00000000000000000008",
            "classifications": [],
        },
    ],
    "classifications": [
        {
            "type": "checklist",
            "name": "Weather",
            "instructions": "Weather",
            "required": False,
            "scope": "index",
            "featureSchemaId": "ckweather000000000000000001",
            "schemaNodeId": "cknode00000000000000000009",
            "options": [
                {
                    "value": "rain",
                    "label": "rain",
                    "featureSchemaId": "ckrain000000000000000000001",
                    "schemaNodeId": "cknode00000000000000000010",
                    "options": [],
                }
            ],
        }
    ],
}


class TestRoundTrip:
    def test_normal_form_comes_back_unchanged(self):
        parsed = normalize_ontology(copy.deepcopy(FULL))
        assert parsed.tree == FULL
        # fmt: off
        assert [(n.path, n.kind, n.type, n.name, n.schema_id) for n in parsed.nodes] == [
            ("tools[0]", "tool", "rectangle", "Car", "ckcar000000000000000000001"),
            ("tools[0].classifications[0]", "classification", "radio", "Occluded", "ckocc000000000000000000001"),  # noqa: E501
            ("tools[0].classifications[0].options[0]", "option", "option", "yes", "ckyes000000000000000000001"),  # noqa: E501
            ("tools[0].classifications[0].options[0].options[0]", "classification", "checklist", "By what", "ckbywhat0000000000000000001"),  # noqa: E501
            ("tools[0].classifications[0].options[0].options[0].options[0]", "option", "option", "other car", "ckother00000000000000000001"),  # noqa: E501
            ("tools[0].classifications[0].options[0].options[0].options[0].options[0]", "classification", "text", "Plate", "ckplate0000000000000000001"),  # noqa: E501
            ("tools[0].classifications[0].options[1]", "option", "option", "no", "ckno00000000000000000000001"),  # noqa: E501
            ("tools[1]", "tool", "edge", "Follows", "ckedge000000000000000000001"),
            ("classifications[0]", "classification", "checklist", "Weather", "ckweather000000000000000001"),  # noqa: E501
            ("classifications[0].options[0]", "option", "option", "rain", "ckrain000000000000000000001"),  # noqa: E501
        ]
        # fmt: on

    def test_minimal_input_is_completed_and_then_stable(self):
        parsed = normalize_ontology(
            {
                "tools": [{"tool": "polygon", "name": " Road  surface "}],
                "classifications": [
                    {"type": "radio", "instructions": "Daytime?", "options": [{"value": 1}]},
                    {"type": "text", "name": "Notes", "options": []},
                ],
            }
        )
        tree = parsed.tree
        ids = [n.schema_id for n in parsed.nodes]
        assert all(ID.match(i) for i in ids) and len(set(ids)) == 4
        assert all(ID.match(n.data["schemaNodeId"]) for n in parsed.nodes)
        road, daytime, notes = tree["tools"][0], *tree["classifications"]
        assert road == {
            "tool": "polygon",
            "name": "Road surface",
            "color": PALETTE[0],
            "required": False,
            "featureSchemaId": ids[0],
            "schemaNodeId": road["schemaNodeId"],
            "classifications": [],
        }
        assert daytime == {
            "type": "radio",
            "name": "Daytime?",
            "instructions": "Daytime?",
            "required": False,
            "scope": "global",
            "featureSchemaId": ids[1],
            "schemaNodeId": daytime["schemaNodeId"],
            "options": [
                {
                    "value": "1",
                    "label": "1",
                    "featureSchemaId": ids[2],
                    "schemaNodeId": daytime["options"][0]["schemaNodeId"],
                    "options": [],
                }
            ],
        }
        assert list(notes) == [
            "type",
            "name",
            "instructions",
            "required",
            "scope",
            "featureSchemaId",
            "schemaNodeId",
            "options",
        ]
        assert normalize_ontology(copy.deepcopy(tree)).tree == tree

    def test_empty_ontology(self):
        assert normalize_ontology({}).tree == {"tools": [], "classifications": []}
        assert normalize_ontology({"tools": None, "classifications": []}).tree == {
            "tools": [],
            "classifications": [],
        }

    def test_labelbox_sdk_output_with_unused_keys_loads(self):
        # What OntologyBuilder.asdict() writes: null ids, null attributes, uiMode, position.
        sdk = {
            "tools": [
                {
                    "tool": "rectangle",
                    "name": "jellyfish",
                    "required": False,
                    "color": "#ff0000",
                    "classifications": [],
                    "schemaNodeId": None,
                    "featureSchemaId": None,
                    "attributes": None,
                }
            ],
            "classifications": [
                {
                    "type": "radio",
                    "instructions": "radio_question",
                    "name": "radio_question",
                    "required": False,
                    "options": [
                        {
                            "schemaNodeId": None,
                            "featureSchemaId": None,
                            "label": "first_radio_answer",
                            "value": "first_radio_answer",
                            "options": [],
                            "position": 0,
                        }
                    ],
                    "schemaNodeId": None,
                    "featureSchemaId": None,
                    "attributes": None,
                    "uiMode": "hotkey",
                    "scope": "global",
                }
            ],
        }
        tree = normalize_ontology(sdk).tree
        assert tree["tools"][0]["color"] == "#FF0000"
        assert "attributes" not in tree["tools"][0]
        assert set(tree["classifications"][0]) == {
            "type",
            "name",
            "instructions",
            "required",
            "scope",
            "featureSchemaId",
            "schemaNodeId",
            "options",
        }
        assert set(tree["classifications"][0]["options"][0]) == {
            "value",
            "label",
            "featureSchemaId",
            "schemaNodeId",
            "options",
        }


class TestColours:
    def test_missing_colours_take_unused_palette_colours_in_order(self):
        tree = normalize_ontology(
            {
                "tools": [
                    {"tool": "point", "name": "A"},
                    {"tool": "point", "name": "B", "color": PALETTE[1]},
                    {"tool": "point", "name": "C"},
                ]
            }
        ).tree
        assert [t["color"] for t in tree["tools"]] == [PALETTE[0], PALETTE[1], PALETTE[2]]

    def test_more_tools_than_palette_colours_reuse_them(self):
        tools = [{"tool": "point", "name": f"T{i}"} for i in range(len(PALETTE) + 2)]
        colours = [t["color"] for t in normalize_ontology({"tools": tools}).tree["tools"]]
        assert colours == [*PALETTE, PALETTE[len(PALETTE) % len(PALETTE)], PALETTE[1]]


def test_generated_ids_look_like_cuids_and_differ():
    ids = {new_feature_schema_id() for _ in range(500)}
    assert len(ids) == 500
    assert all(ID.match(i) for i in ids)


# fmt: off
RULES = [
    # --- the root
    ([], ['Give a JSON object with "tools" and "classifications" lists.']),
    ("tools", ['Give a JSON object with "tools" and "classifications" lists.']),
    ({"tools": {}, "classifications": "x"}, ["tools: must be a list", "classifications: must be a list"]),  # noqa: E501
    ({"tools": [], "relationships": []}, ["relationships: unknown field"]),
    # --- tools
    ({"tools": ["rectangle"]}, ["tools[0]: must be an object"]),
    ({"tools": [{"name": "Car"}]}, ["tools[0].tool: required"]),
    (
        {"tools": [{"tool": "circle", "name": "Car"}]},
        ['tools[0].tool: unknown tool type "circle"; use one of rectangle, polygon, line, point, raster-segmentation, named-entity, edge'],  # noqa: E501
    ),
    ({"tools": [{"tool": "point"}]}, ["tools[0].name: required"]),
    ({"tools": [{"tool": "point", "name": "  "}]}, ["tools[0].name: must not be empty"]),
    ({"tools": [{"tool": "point", "name": 7}]}, ["tools[0].name: must be text"]),
    ({"tools": [{"tool": "point", "name": "x" * 201}]}, ["tools[0].name: at most 200 characters"]),
    ({"tools": [{"tool": "point", "name": "A", "color": "red"}]}, ["tools[0].color: use #RRGGBB, e.g. #FF0000"]),  # noqa: E501
    ({"tools": [{"tool": "point", "name": "A", "color": "#FFF"}]}, ["tools[0].color: use #RRGGBB, e.g. #FF0000"]),  # noqa: E501
    ({"tools": [{"tool": "point", "name": "A", "required": "yes"}]}, ["tools[0].required: must be true or false"]),  # noqa: E501
    ({"tools": [{"tool": "point", "name": "A", "hotkey": "1"}]}, ["tools[0].hotkey: unknown field"]),  # noqa: E501
    ({"tools": [{"tool": "point", "name": "A", "classifications": {}}]}, ["tools[0].classifications: must be a list"]),  # noqa: E501
    (
        {"tools": [{"tool": "point", "name": "A"}, {"tool": "point", "name": "B"}, {"tool": "line", "name": "A"}]},  # noqa: E501
        ['tools[2].name: duplicate name "A" (same as tools[0])'],
    ),
    # --- ids
    (
        {"tools": [{"tool": "point", "name": "A", "featureSchemaId": "has space"}]},
        ["tools[0].featureSchemaId: use 1-64 letters, digits or - _ . :"],
    ),
    (
        {"tools": [{"tool": "point", "name": "A", "schemaNodeId": 12}]},
        ["tools[0].schemaNodeId: use 1-64 letters, digits or - _ . :"],
    ),
    (
        {"tools": [{"tool": "point", "name": "A", "featureSchemaId": "x" * 65}]},
        ["tools[0].featureSchemaId: use 1-64 letters, digits or - _ . :"],
    ),
    (
        {
            "tools": [{"tool": "point", "name": "A", "featureSchemaId": "same"}],
            "classifications": [radio(options=[]) | {"options": [{"value": "a", "featureSchemaId": "same"}]}],  # noqa: E501
        },
        ['classifications[0].options[0].featureSchemaId: "same" is already used by tools[0]'],
    ),
    (
        {"tools": [{"tool": "point", "name": "A", "schemaNodeId": "n1"}, {"tool": "point", "name": "B", "schemaNodeId": "n1"}]},  # noqa: E501
        ['tools[1].schemaNodeId: "n1" is already used by tools[0]'],
    ),
    # --- classifications
    ({"classifications": [{"name": "Q"}]}, ["classifications[0].type: required"]),
    (
        {"classifications": [{"type": "dropdown", "name": "Q"}]},
        ['classifications[0].type: unknown classification type "dropdown"; use one of radio, checklist, text'],  # noqa: E501
    ),
    ({"classifications": [{"type": "text"}]}, ["classifications[0].name: required (give name or instructions)"]),  # noqa: E501
    ({"classifications": [{"type": "text", "name": "", "instructions": ""}]}, ["classifications[0].name: must not be empty"]),  # noqa: E501
    ({"classifications": [{"type": "text", "name": ["Q"]}]}, ["classifications[0].name: must be text"]),  # noqa: E501
    ({"classifications": [{"type": "radio", "name": "Q"}]}, ["classifications[0].options: must not be empty"]),  # noqa: E501
    ({"classifications": [radio(options=[])]}, ["classifications[0].options: must not be empty"]),
    ({"classifications": [{"type": "checklist", "name": "Q", "options": []}]}, ["classifications[0].options: must not be empty"]),  # noqa: E501
    (
        {"classifications": [{"type": "text", "name": "Q", "options": [{"value": "a"}]}]},
        ["classifications[0].options: a text classification has no options"],
    ),
    ({"classifications": [radio(scope="frame")]}, ['classifications[0].scope: use "global" or "index"']),  # noqa: E501
    ({"classifications": [radio(required=1)]}, ["classifications[0].required: must be true or false"]),  # noqa: E501
    ({"classifications": [radio(), radio()]}, ['classifications[1].name: duplicate name "Q" (same as classifications[0])']),  # noqa: E501
    (
        {"tools": [{"tool": "rectangle", "name": "Car", "classifications": [radio(), radio(options=["x"])]}]},  # noqa: E501
        ['tools[0].classifications[1].name: duplicate name "Q" (same as tools[0].classifications[0])'],  # noqa: E501
    ),
    # the example of the issue: the path of the empty options of a nested classification
    (
        {"tools": [{"tool": "point", "name": "P"}, {"tool": "rectangle", "name": "Car", "classifications": [radio(options=[])]}]},  # noqa: E501
        ["tools[1].classifications[0].options: must not be empty"],
    ),
    # --- options
    ({"classifications": [radio() | {"options": ["a"]}]}, ["classifications[0].options[0]: must be an object"]),  # noqa: E501
    ({"classifications": [radio() | {"options": [{}]}]}, ["classifications[0].options[0].value: required (give value or label)"]),  # noqa: E501
    ({"classifications": [radio() | {"options": [{"value": " "}]}]}, ["classifications[0].options[0].value: must not be empty (give value or label)"]),  # noqa: E501
    ({"classifications": [radio() | {"options": [{"value": True}]}]}, ["classifications[0].options[0].value: must be text"]),  # noqa: E501
    ({"classifications": [radio(options=["a", "b", "a"])]}, ['classifications[0].options[2].value: duplicate value "a" (same as classifications[0].options[0])']),  # noqa: E501
    ({"classifications": [radio() | {"options": [{"value": "a", "colour": "red"}]}]}, ["classifications[0].options[0].colour: unknown field"]),  # noqa: E501
    (
        {"classifications": [radio() | {"options": [{"value": "a", "options": [{"type": "text", "name": "N"}, {"type": "text", "name": "N"}]}]}]},  # noqa: E501
        ['classifications[0].options[0].options[1].name: duplicate name "N" (same as classifications[0].options[0].options[0])'],  # noqa: E501
    ),
    (
        {"classifications": [radio() | {"options": [{"value": "a", "options": [radio(options=[])]}]}]},  # noqa: E501
        ["classifications[0].options[0].options[0].options: must not be empty"],
    ),
]
# fmt: on


@pytest.mark.parametrize(("payload", "expected"), RULES, ids=range(len(RULES)))
def test_each_rule_names_the_path(payload, expected):
    assert problems(payload) == expected


def test_every_problem_is_reported_at_once():
    found = problems(
        {
            "tools": [
                {"tool": "circle", "name": ""},
                {"tool": "point", "name": "P", "color": "blue", "x": 1},
            ],
            "classifications": [{"type": "radio", "name": "Q", "options": []}],
        }
    )
    assert found == [
        'tools[0].tool: unknown tool type "circle"; use one of rectangle, polygon, line, point, '
        "raster-segmentation, named-entity, edge",
        "tools[0].name: must not be empty",
        "tools[1].x: unknown field",
        "tools[1].color: use #RRGGBB, e.g. #FF0000",
        "classifications[0].options: must not be empty",
    ]
    with pytest.raises(ValidationFailed) as exc:
        normalize_ontology({"tools": [{"tool": "x", "name": "A"}, {"tool": "y", "name": "B"}]})
    assert exc.value.message.endswith("(and 1 more)")


def test_names_or_instructions_either_will_do():
    tree = normalize_ontology(
        {
            "classifications": [
                {"type": "text", "name": "notes"},
                {"type": "text", "instructions": "Anything else?"},
                {"type": "text", "name": "id", "instructions": "Receipt number"},
            ]
        }
    ).tree
    assert [(c["name"], c["instructions"]) for c in tree["classifications"]] == [
        ("notes", "notes"),
        ("Anything else?", "Anything else?"),
        ("id", "Receipt number"),
    ]


def test_options_take_a_label_alone():
    option = normalize_ontology({"classifications": [radio() | {"options": [{"label": "Yes"}]}]})
    assert option.tree["classifications"][0]["options"][0]["value"] == "Yes"


def test_scope_belongs_to_top_level_classifications_only():
    tree = normalize_ontology(
        {
            "tools": [
                {
                    "tool": "point",
                    "name": "P",
                    "classifications": [{"type": "text", "name": "N", "scope": "index"}],
                }
            ]
        }
    ).tree
    assert "scope" not in tree["tools"][0]["classifications"][0]


def test_nesting_is_limited_in_depth():
    def level(n):
        if n == 0:
            return {"type": "text", "name": "leaf"}
        option = {"value": "a", "options": [level(n - 1)]}
        return {"type": "radio", "name": f"L{n}", "options": [option]}

    normalize_ontology({"classifications": [level(MAX_DEPTH - 1)]})  # MAX_DEPTH levels: fine
    path = "classifications[0]" + ".options[0].options[0]" * MAX_DEPTH
    assert problems({"classifications": [level(MAX_DEPTH)]}) == [
        f"{path}: nesting deeper than {MAX_DEPTH} classification levels is not supported"
    ]


def test_too_many_features():
    options = [{"value": str(i)} for i in range(5000)]
    payload = {"classifications": [{"type": "checklist", "name": "Q", "options": options}]}
    assert problems(payload) == ["The ontology has 5001 features; at most 5000."]
