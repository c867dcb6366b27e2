"""Ontology services: feature schema rows, kept ids, compatible changes, deletion, lookup,
and the Labelbox SDK's NDJSON conformance files resolved against ontologies built for them.
"""

import copy
import json
from pathlib import Path

import pytest

from labelhub.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from labelhub.core.models import AuditLogEntry
from labelhub.labeling.models import Batch, Task
from labelhub.projects.models import DataRow, Dataset, FeatureSchema, Ontology, Project
from labelhub.projects.selectors.ontologies import (
    access_ontology,
    feature_lookup,
    iter_features,
    ontology_has_labels,
    ontology_list,
    ontology_version,
)
from labelhub.projects.services.ontologies import (
    ontology_create,
    ontology_delete,
    ontology_update,
)
from labelhub.workspaces.models import Role
from tests.factories import make_member, make_workspace
from tests.imports.helpers import answers_of, ontology_for_import

pytestmark = pytest.mark.django_db

CONFORMANCE = Path(__file__).resolve().parents[1] / "fixtures" / "labelbox-sdk-ndjson"


def street(**ids):
    """A small tree: Car (rectangle) > Occluded (radio: yes/no), Road, global Weather."""
    return {
        "tools": [
            {
                "tool": "rectangle",
                "name": "Car",
                "color": "#FF0000",
                "featureSchemaId": ids.get("car"),
                "classifications": [
                    {
                        "type": "radio",
                        "name": "Occluded",
                        "featureSchemaId": ids.get("occluded"),
                        "options": [
                            {"value": "yes", "featureSchemaId": ids.get("yes")},
                            {"value": "no", "featureSchemaId": ids.get("no")},
                        ],
                    }
                ],
            },
            {"tool": "polygon", "name": "Road", "featureSchemaId": ids.get("road")},
        ],
        "classifications": [
            {
                "type": "checklist",
                "name": "Weather",
                "featureSchemaId": ids.get("weather"),
                "options": [{"value": "rain", "featureSchemaId": ids.get("rain")}],
            }
        ],
    }


IDS = {
    "car": "ckcar",
    "occluded": "ckoccluded",
    "yes": "ckyes",
    "no": "ckno",
    "road": "ckroad",
    "weather": "ckweather",
    "rain": "ckrain",
}


def rows(ontology):
    """Feature rows as (path, kind, type, name, schema id, parent's schema id), by path."""
    return sorted(
        (f.path, f.kind, f.type, f.name, f.schema_id, f.parent.schema_id if f.parent else None)
        for f in FeatureSchema.objects.filter(ontology=ontology).select_related("parent")
    )


def create(workspace, actor, name="Street objects", tree=None, **kw):
    return ontology_create(
        workspace=workspace,
        actor=actor,
        name=name,
        ontology=street(**IDS) if tree is None else tree,
        **kw,
    )


def project_using(workspace, ontology, *, labeled: bool, name="Street scenes"):
    """A project on the ontology with one task (labeled or not): dataset, row, batch, task."""
    project = Project.objects.create(workspace=workspace, name=name, ontology=ontology)
    dataset = Dataset.objects.create(workspace=workspace, name=f"{name} images")
    row = DataRow.objects.create(
        workspace=workspace, dataset=dataset, row_data="https://img.test/1.jpg", media_type="image"
    )
    batch = Batch.objects.create(workspace=workspace, project=project, name="First batch")
    Task.objects.create(
        workspace=workspace, project=project, data_row=row, batch=batch, labeled=labeled
    )
    return project


class TestCreate:
    def test_writes_the_tree_and_one_row_per_feature(self, workspace, admin):
        ontology = create(workspace, admin, description="Street scenes", media_type="image")
        assert (ontology.name, ontology.description, ontology.media_type) == (
            "Street objects",
            "Street scenes",
            "image",
        )
        assert ontology.normalized["tools"][0]["featureSchemaId"] == "ckcar"
        # fmt: off
        assert rows(ontology) == [
            ("classifications[0]", "classification", "checklist", "Weather", "ckweather", None),
            ("classifications[0].options[0]", "option", "option", "rain", "ckrain", "ckweather"),
            ("tools[0]", "tool", "rectangle", "Car", "ckcar", None),
            ("tools[0].classifications[0]", "classification", "radio", "Occluded", "ckoccluded", "ckcar"),  # noqa: E501
            ("tools[0].classifications[0].options[0]", "option", "option", "yes", "ckyes", "ckoccluded"),  # noqa: E501
            ("tools[0].classifications[0].options[1]", "option", "option", "no", "ckno", "ckoccluded"),  # noqa: E501
            ("tools[1]", "tool", "polygon", "Road", "ckroad", None),
        ]
        # fmt: on
        assert set(FeatureSchema.objects.values_list("workspace", flat=True)) == {workspace.pk}
        entry = AuditLogEntry.objects.get(verb="ontology.created")
        assert (entry.target_id, entry.target_type, entry.actor) == (
            str(ontology.pk),
            "ontology",
            admin,
        )
        assert entry.after == {
            "name": "Street objects",
            "description": "Street scenes",
            "media_type": "image",
            "features": 7,
        }

    def test_empty_ontology(self, workspace, admin):
        ontology = ontology_create(workspace=workspace, actor=admin, name="Empty")
        assert ontology.normalized == {"tools": [], "classifications": []}
        assert FeatureSchema.objects.count() == 0

    def test_given_ids_must_be_unique_in_the_workspace(
        self, workspace, admin, other_workspace, other_admin
    ):
        create(workspace, admin)
        tree = street(road="ckroad")  # only the road keeps a given id, which is taken
        tree["tools"][1]["name"] = "Lane"
        with pytest.raises(ValidationFailed) as exc:
            create(workspace, admin, name="Other", tree=tree)
        assert exc.value.details == {
            "ontology": [
                'tools[1].featureSchemaId: "ckroad" is already used in the ontology '
                '"Street objects"'
            ]
        }
        assert Ontology.objects.count() == 1
        assert FeatureSchema.objects.count() == 7
        # Another workspace may carry the same ids (a team migrating twice, a sandbox).
        create(other_workspace, other_admin)
        assert FeatureSchema.objects.filter(schema_id="ckroad").count() == 2

    def test_invalid_tree_writes_nothing(self, workspace, admin):
        tree = street()
        tree["tools"][0]["classifications"][0]["options"] = []
        with pytest.raises(ValidationFailed) as exc:
            create(workspace, admin, tree=tree)
        assert exc.value.message == "tools[0].classifications[0].options: must not be empty"
        assert (
            Ontology.objects.count(),
            FeatureSchema.objects.count(),
            AuditLogEntry.objects.count(),
        ) == (0, 0, 0)

    # fmt: off
    @pytest.mark.parametrize(
        ("fields", "details"),
        [
            ({"name": "  "}, {"name": ["This field is required."]}),
            ({"name": "x" * 201}, {"name": ["At most 200 characters."]}),
            (
                {"name": "A", "media_type": "hologram"},
                {
                    "media_type": [
                        'Unknown media type "hologram"; use one of image, video, text, audio, '
                        "document, html, conversational, geospatial, llm_chat."
                    ]
                },
            ),
            ({"name": "A", "description": "d" * 2001}, {"description": ["At most 2000 characters."]}),  # noqa: E501
        ],
    )
    # fmt: on
    def test_bad_details(self, workspace, admin, fields, details):
        with pytest.raises(ValidationFailed) as exc:
            ontology_create(workspace=workspace, actor=admin, **fields)
        assert exc.value.details == details
        assert Ontology.objects.count() == 0

    def test_names_unique_per_workspace_case_insensitive(self, workspace, admin):
        create(workspace, admin, tree={})
        with pytest.raises(Conflict) as exc:
            create(workspace, admin, name="STREET objects", tree={})
        assert exc.value.details == {
            "name": ["An ontology with this name already exists in the workspace."]
        }

    def test_needs_create_projects(self, workspace, admin, labeler):
        manager = make_member(workspace, Role.TEAM_MANAGER)
        assert create(workspace, manager).name == "Street objects"
        with pytest.raises(PermissionDenied):
            create(workspace, labeler, name="Mine")
        assert Ontology.objects.count() == 1


class TestUpdate:
    def test_details_only(self, workspace, admin):
        ontology = create(workspace, admin)
        ontology_update(
            workspace=workspace,
            actor=admin,
            ontology=ontology,
            name="Streets",
            description="Cars and roads",
            media_type="video",
        )
        ontology.refresh_from_db()
        assert (ontology.name, ontology.description, ontology.media_type) == (
            "Streets",
            "Cars and roads",
            "video",
        )
        entry = AuditLogEntry.objects.get(verb="ontology.updated")
        assert entry.before == {
            "name": "Street objects",
            "description": "",
            "media_type": "",
            "features": 7,
        }
        assert entry.after == {
            "name": "Streets",
            "description": "Cars and roads",
            "media_type": "video",
            "features": 7,
        }

    def test_unchanged_details_write_no_audit_row(self, workspace, admin):
        ontology = create(workspace, admin)
        ontology_update(workspace=workspace, actor=admin, ontology=ontology, name="Street objects")
        assert AuditLogEntry.objects.filter(verb="ontology.updated").count() == 0

    def test_features_without_ids_keep_theirs_by_kind_type_name_and_parent(self, workspace, admin):
        ontology = create(workspace, admin)
        nodes_before = {
            d["featureSchemaId"]: d["schemaNodeId"] for d in iter_features(ontology.normalized)
        }  # noqa: E501
        road_colour = ontology.normalized["tools"][1]["color"]
        # The same tree without any id, tools reordered and a new answer: ids are kept.
        tree = street()
        tree["tools"].reverse()
        tree["tools"][1]["classifications"][0]["options"].append({"value": "partly"})
        ontology = ontology_update(workspace=workspace, actor=admin, ontology=ontology, tree=tree)
        after = rows(ontology)
        partly = next(r for r in after if r[3] == "partly")
        assert (partly[0], partly[5]) == ("tools[1].classifications[0].options[2]", "ckoccluded")
        assert partly[4] not in IDS.values()
        assert sorted(r[4] for r in after if r is not partly) == sorted(IDS.values())
        assert [r[:5] for r in after if r[0].startswith("tools[")] == [
            ("tools[0]", "tool", "polygon", "Road", "ckroad"),
            ("tools[1]", "tool", "rectangle", "Car", "ckcar"),
            ("tools[1].classifications[0]", "classification", "radio", "Occluded", "ckoccluded"),
            ("tools[1].classifications[0].options[0]", "option", "option", "yes", "ckyes"),
            ("tools[1].classifications[0].options[1]", "option", "option", "no", "ckno"),
            ("tools[1].classifications[0].options[2]", "option", "option", "partly", partly[4]),
        ]
        tools = ontology.normalized["tools"]
        assert [(t["name"], t["featureSchemaId"], t["color"]) for t in tools] == [
            ("Road", "ckroad", road_colour),
            ("Car", "ckcar", "#FF0000"),
        ]
        # The node ids stay as well.
        nodes_after = {
            d["featureSchemaId"]: d["schemaNodeId"] for d in iter_features(ontology.normalized)
        }  # noqa: E501
        assert {k: nodes_after[k] for k in nodes_before} == nodes_before

    def test_a_colour_left_out_is_kept(self, workspace, admin):
        ontology = create(workspace, admin)
        road_colour = ontology.normalized["tools"][1]["color"]
        tree = street()
        del tree["tools"][0]["color"]
        ontology_update(workspace=workspace, actor=admin, ontology=ontology, tree=tree)
        ontology.refresh_from_db()
        assert [t["color"] for t in ontology.normalized["tools"]] == ["#FF0000", road_colour]

    def test_moving_a_feature_with_its_id_reparents_its_row(self, workspace, admin):
        ontology = create(workspace, admin)
        tree = street(**IDS)
        rain = tree["classifications"][0]["options"].pop()
        tree["classifications"][0]["options"].append({"value": "snow"})
        tree["tools"][0]["classifications"][0]["options"].append(rain)
        ontology_update(workspace=workspace, actor=admin, ontology=ontology, tree=tree)
        row = FeatureSchema.objects.get(schema_id="ckrain")
        assert (row.path, row.parent.schema_id) == (
            "tools[0].classifications[0].options[2]",
            "ckoccluded",
        )

    def test_removing_and_adding_without_labels(self, workspace, admin):
        ontology = create(workspace, admin)
        project_using(workspace, ontology, labeled=False)
        tree = street(**IDS)
        del tree["tools"][0]  # Car and everything under it
        tree["tools"].append({"tool": "point", "name": "Pedestrian"})
        ontology_update(workspace=workspace, actor=admin, ontology=ontology, tree=tree)
        assert [r[3] for r in rows(ontology)] == ["Weather", "rain", "Road", "Pedestrian"]
        entry = AuditLogEntry.objects.get(verb="ontology.updated")
        assert entry.after["removed"] == [
            "tools[0] Car",
            "tools[0].classifications[0] Occluded",
            "tools[0].classifications[0].options[0] yes",
            "tools[0].classifications[0].options[1] no",
        ]
        assert entry.after["added"] == ["tools[1] Pedestrian"]
        assert (entry.before["features"], entry.after["features"]) == (7, 4)

    def test_removal_refused_while_a_project_using_it_has_labels(self, workspace, admin):
        ontology = create(workspace, admin)
        project_using(workspace, ontology, labeled=False, name="Unlabeled")
        project_using(workspace, ontology, labeled=True, name="Street scenes")
        assert ontology_has_labels(ontology=ontology) is True
        before = (rows(ontology), copy.deepcopy(ontology.normalized))
        tree = street(**IDS)
        tree["tools"][0]["classifications"][0]["options"].pop()  # "no"
        tree["classifications"] = []  # Weather and rain
        tree["tools"].append({"tool": "point", "name": "Pedestrian"})  # adding alone is fine
        with pytest.raises(Conflict) as exc:
            ontology_update(workspace=workspace, actor=admin, ontology=ontology, tree=tree)
        message = (
            "These features cannot be removed while projects using this ontology have labels "
            '("Street scenes"): classifications[0] "Weather" (checklist), '
            'classifications[0].options[0] "rain" (option), '
            'tools[0].classifications[0].options[1] "no" (option).'
        )
        assert exc.value.message == message
        assert exc.value.details == {"ontology": [message]}
        ontology.refresh_from_db()
        assert (rows(ontology), ontology.normalized) == before
        assert AuditLogEntry.objects.filter(verb="ontology.updated").count() == 0

    def test_adding_and_renaming_are_fine_with_labels(self, workspace, admin):
        ontology = create(workspace, admin)
        project_using(workspace, ontology, labeled=True)
        tree = street(**IDS)
        tree["tools"][0]["name"] = "Vehicle"
        tree["tools"].append({"tool": "point", "name": "Pedestrian"})
        tree["classifications"][0]["options"].append({"value": "fog"})
        ontology_update(workspace=workspace, actor=admin, ontology=ontology, tree=tree)
        assert FeatureSchema.objects.get(schema_id="ckcar").name == "Vehicle"
        assert FeatureSchema.objects.filter(ontology=ontology).count() == 9

    def test_type_change_refused_with_labels(self, workspace, admin):
        ontology = create(workspace, admin)
        project_using(workspace, ontology, labeled=True)
        tree = street(**IDS)
        tree["tools"][1]["tool"] = "line"
        with pytest.raises(Conflict) as exc:
            ontology_update(workspace=workspace, actor=admin, ontology=ontology, tree=tree)
        assert exc.value.details == {
            "ontology": [
                'tools[1]: cannot change "Road" from tool polygon to tool line while projects '
                'using this ontology have labels ("Street scenes").'
            ]
        }
        assert FeatureSchema.objects.get(schema_id="ckroad").type == "polygon"

    def test_labels_elsewhere_do_not_count(self, workspace, admin):
        ontology = create(workspace, admin)
        other = create(workspace, admin, name="Other", tree={})
        project_using(workspace, other, labeled=True)
        ontology_update(workspace=workspace, actor=admin, ontology=ontology, tree={})
        assert FeatureSchema.objects.filter(ontology=ontology).count() == 0

    def test_ids_of_another_ontology_refused(self, workspace, admin):
        create(workspace, admin)
        mine = create(workspace, admin, name="Mine", tree={})
        tree = {"classifications": [{"type": "text", "name": "N", "featureSchemaId": "ckrain"}]}
        with pytest.raises(ValidationFailed) as exc:
            ontology_update(workspace=workspace, actor=admin, ontology=mine, tree=tree)
        assert exc.value.details == {
            "ontology": [
                'classifications[0].featureSchemaId: "ckrain" is already used in the ontology '
                '"Street objects"'
            ]
        }

    def test_a_save_made_after_the_editor_opened_is_not_overwritten(self, workspace, admin):
        ontology = create(workspace, admin)
        opened = ontology_version(ontology)
        ontology_update(workspace=workspace, actor=admin, ontology=ontology, name="Streets")
        with pytest.raises(Conflict) as exc:
            ontology_update(
                workspace=workspace, actor=admin, ontology=ontology, tree={}, version=opened
            )
        assert exc.value.message == (
            "Someone saved this ontology after you opened it; reload it and make your change again."
        )
        assert FeatureSchema.objects.filter(ontology=ontology).count() == 7
        ontology.refresh_from_db()
        ontology_update(
            workspace=workspace,
            actor=admin,
            ontology=ontology,
            tree={},
            version=ontology_version(ontology),
        )
        assert FeatureSchema.objects.filter(ontology=ontology).count() == 0

    def test_saving_the_same_tree_again_changes_nothing(self, workspace, admin):
        ontology = create(workspace, admin)
        tree = copy.deepcopy(ontology.normalized)
        ontology_update(workspace=workspace, actor=admin, ontology=ontology, tree=tree)
        ontology_update(workspace=workspace, actor=admin, ontology=ontology, tree=street())
        ontology.refresh_from_db()
        assert ontology.normalized == tree
        assert AuditLogEntry.objects.filter(verb="ontology.updated").count() == 0

    def test_rename_to_a_taken_name(self, workspace, admin):
        create(workspace, admin)
        other = create(workspace, admin, name="Other", tree={})
        with pytest.raises(Conflict):
            ontology_update(workspace=workspace, actor=admin, ontology=other, name="street OBJECTS")
        other.refresh_from_db()
        assert other.name == "Other"

    def test_needs_create_projects(self, workspace, admin, labeler):
        ontology = create(workspace, admin)
        with pytest.raises(PermissionDenied):
            ontology_update(workspace=workspace, actor=labeler, ontology=ontology, name="Mine")
        with pytest.raises(PermissionDenied):
            ontology_delete(workspace=workspace, actor=labeler, ontology=ontology)
        assert Ontology.objects.get().name == "Street objects"

    def test_another_workspace_cannot_be_reached(self, workspace, admin, other_workspace):
        ontology = create(workspace, admin)
        outsider = make_member(other_workspace, Role.ADMIN)
        with pytest.raises(NotFound):
            ontology_update(workspace=other_workspace, actor=outsider, ontology=ontology, tree={})
        assert FeatureSchema.objects.count() == 7


class TestDelete:
    def test_refused_while_projects_use_it(self, workspace, admin):
        ontology = create(workspace, admin)
        project_using(workspace, ontology, labeled=False, name="Street scenes")
        Project.objects.create(workspace=workspace, name="Night drives", ontology=ontology)
        with pytest.raises(Conflict) as exc:
            ontology_delete(workspace=workspace, actor=admin, ontology=ontology)
        assert exc.value.message == (
            'The ontology "Street objects" is used by 2 projects ("Night drives", '
            '"Street scenes"); give them another ontology first.'
        )
        assert (Ontology.objects.count(), FeatureSchema.objects.count()) == (1, 7)
        assert AuditLogEntry.objects.filter(verb="ontology.deleted").count() == 0

    def test_deletes_features_and_audits(self, workspace, admin):
        ontology = create(workspace, admin)
        ontology_delete(workspace=workspace, actor=admin, ontology=ontology)
        assert (Ontology.objects.count(), FeatureSchema.objects.count()) == (0, 0)
        entry = AuditLogEntry.objects.get(verb="ontology.deleted")
        assert (entry.target_label, entry.before) == (
            "Street objects",
            {"name": "Street objects", "description": "", "media_type": "", "features": 7},
        )
        # Its ids are free again.
        create(workspace, admin, name="Again")


class TestSelectors:
    def test_list_counts_features_and_projects(self, workspace, admin, other_workspace):
        street_ = create(workspace, admin)
        create(workspace, admin, name="Empty", tree={})
        create(other_workspace, make_member(other_workspace, Role.ADMIN), name="Theirs", tree={})
        Project.objects.create(workspace=workspace, name="B", ontology=street_)
        Project.objects.create(workspace=workspace, name="A", ontology=street_)
        listed = [
            (o.name, o.feature_count, o.project_count, [p.name for p in o.projects.all()])
            for o in ontology_list(workspace=workspace)
        ]
        assert listed == [("Empty", 0, 0, []), ("Street objects", 7, 2, ["A", "B"])]

    def test_access_ontology_is_workspace_scoped(self, workspace, admin, other_workspace):
        ontology = create(workspace, admin)
        assert access_ontology(workspace=workspace, id=str(ontology.pk)) == ontology
        for ws, value in ((other_workspace, ontology.pk), (workspace, "nope"), (workspace, None)):
            with pytest.raises(NotFound) as exc:
                access_ontology(workspace=ws, id=value)
            assert exc.value.message == "Ontology not found."


class TestFeatureLookup:
    def test_by_schema_id_and_by_name_within_the_parent(
        self, workspace, admin, django_assert_num_queries
    ):
        tree = street(**IDS)
        tree["tools"][0]["classifications"][0]["options"][0]["label"] = "Yes, partly"
        tree["classifications"].append({"type": "text", "name": "Car"})  # same name, other kind
        ontology = create(workspace, admin, tree=tree)
        with django_assert_num_queries(1):
            lookup = feature_lookup(ontology)
        car = lookup.tool(schema_id="ckcar")
        assert (car.kind, car.type, car.name, car.parent_id) == ("tool", "rectangle", "Car", None)
        assert lookup.tool(name="Car") == car
        assert lookup.classification(name="Car").type == "text"
        occluded = lookup.classification(name="Occluded", parent=car)
        assert (occluded.schema_id, lookup.parent_of(occluded)) == ("ckoccluded", car)
        assert lookup.option(parent=occluded, name="yes").schema_id == "ckyes"
        assert lookup.option(parent=occluded, name="Yes, partly").schema_id == "ckyes"
        assert lookup.option(parent=occluded, schema_id="ckno").name == "no"
        assert [f.name for f in lookup.children(occluded)] == ["yes", "no"]
        assert [f.name for f in lookup.children(None)] == ["Car", "Road", "Weather", "Car"]
        # Wrong kind, wrong place, unknown: None.
        assert lookup.tool(schema_id="ckweather") is None
        assert lookup.classification(name="Occluded") is None  # not at the top
        weather = lookup.classification(name="Weather")
        assert lookup.option(parent=weather, schema_id="ckyes") is None
        assert lookup.tool(name="Truck") is None
        assert lookup.resolve(kind="tool") is None
        notes = ontology.normalized["classifications"][1]["featureSchemaId"]
        assert set(lookup.by_schema_id) == {*IDS.values(), notes}


# --- the Labelbox SDK's NDJSON conformance files --------------------------------------------

GEOMETRY = {
    "bbox": "rectangle",
    "polygon": "polygon",
    "line": "line",
    "point": "point",
    "mask": "raster-segmentation",
    "location": "named-entity",
}


def _ref(obj: dict) -> dict:
    return {"schema_id": obj["schemaId"]} if "schemaId" in obj else {"name": obj["name"]}


def resolve_line(lookup, entry: dict, parent=None) -> list[tuple[str, str]]:
    """Resolve every feature a line references; return (kind, type) of each, in order."""
    geometry = next((k for k in GEOMETRY if k in entry), None)
    if geometry:
        feature = lookup.tool(**_ref(entry))
        assert feature is not None, entry
        assert feature.type == GEOMETRY[geometry]
    else:
        feature = lookup.classification(parent=parent, **_ref(entry))
        assert feature is not None, entry
    found = [(feature.kind, feature.type)]
    for answer in answers_of(entry):
        option = lookup.option(parent=feature, **_ref(answer))
        assert option is not None, answer
        found.append((option.kind, option.type))
    for nested in entry.get("classifications") or []:
        found += resolve_line(lookup, nested, parent=feature)
    return found


def _schema_ids(value):
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "schemaId":
                yield item
            else:
                yield from _schema_ids(item)
    elif isinstance(value, list):
        for item in value:
            yield from _schema_ids(item)


R, C, A = "rectangle", "classification", "option"


# fmt: off
@pytest.mark.parametrize(
    ("filename", "features", "resolved"),
    [
        (
            "image_import.json",
            4,
            [("tool", "rectangle"), ("tool", "raster-segmentation"), ("tool", "polygon"), ("tool", "point")],  # noqa: E501
        ),
        (
            "image_import_name_only.json",
            4,
            [("tool", "rectangle"), ("tool", "raster-segmentation"), ("tool", "polygon"), ("tool", "point")],  # noqa: E501
        ),
        (
            # The SDK's file answers one checklist (…099c) with a list and with a string; the
            # lookup finds the feature, the import decides about the answer's shape.
            "classification_import.json",
            4,
            [(C, "radio"), (A, A), (C, "checklist"), (A, A), (C, "checklist")],
        ),
        (
            "classification_import_name_only.json",
            5,
            [(C, "radio"), (A, A), (C, "checklist"), (A, A), (C, "text")],
        ),
        (
            "nested_import.json",
            4,
            [("tool", R), (C, "radio"), (A, A), ("tool", R), (C, "radio"), (A, A), ("tool", R), (C, "radio"), (A, A), ("tool", R), (C, "radio")],  # noqa: E501
        ),
        (
            "nested_import_name_only.json",
            10,
            [("tool", R), (C, "radio"), (A, A), ("tool", R), (C, "radio"), (A, A), ("tool", R), (C, "checklist"), (A, A), ("tool", R), (C, "text")],  # noqa: E501
        ),
    ],
)
# fmt: on
def test_conformance_lines_resolve_against_an_ontology_built_for_them(
    filename, features, resolved, admin
):
    """Every ``schemaId``/``name`` the SDK's lines reference resolves, in its own workspace
    (the files reuse ids across kinds, e.g. …099a is a classification in one, a box in another).
    """
    lines = json.loads((CONFORMANCE / filename).read_text())
    workspace = make_workspace()
    make_member(workspace, Role.ADMIN, user=admin)
    ontology = ontology_create(
        workspace=workspace, actor=admin, name=filename, ontology=ontology_for_import(lines)
    )
    given = set(_schema_ids(lines))
    assert len(given) == {"image_import.json": 4, "classification_import.json": 4}.get(
        filename, 4 if filename == "nested_import.json" else 0
    )
    assert given <= set(FeatureSchema.objects.values_list("schema_id", flat=True))
    assert FeatureSchema.objects.filter(ontology=ontology).count() == features
    lookup = feature_lookup(ontology)
    found = [kind_type for line in lines for kind_type in resolve_line(lookup, line)]
    assert found == resolved
