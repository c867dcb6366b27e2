"""Set-up shared by the labeling loop tests: a project with an ontology (a required radio,
a box tool with a nested radio), rows sent as a batch, and people of each role."""

from __future__ import annotations

from labelhub.labeling.models import Task
from labelhub.labeling.services import batches
from labelhub.labeling.services.workflow import workflow_of
from labelhub.projects.models import DataRow, Dataset
from labelhub.projects.services.ontologies import ontology_create
from labelhub.projects.services.projects import project_create
from labelhub.workspaces.models import Role
from tests.factories import make_member

TREE = {
    "tools": [
        {
            "tool": "rectangle",
            "name": "Car",
            "classifications": [
                {
                    "type": "radio",
                    "name": "occluded",
                    "required": True,
                    "options": [{"label": "yes"}, {"label": "no"}],
                }
            ],
        }
    ],
    "classifications": [
        {
            "type": "radio",
            "name": "weather",
            "required": True,
            "options": [{"label": "sunny"}, {"label": "rainy"}],
        },
        {"type": "text", "name": "notes"},
    ],
}


def make_loop_project(workspace, admin, *, rows=6, name="Loop", tree=None, **batch_options):
    """A project labeling ``rows`` image rows (one batch, ``batch_options`` passed on),
    with the ontology ``TREE`` unless another ``tree`` is given."""
    ontology = ontology_create(
        workspace=workspace, actor=admin, name=f"{name} ontology", ontology=tree or TREE
    )
    project = project_create(
        workspace=workspace, actor=admin, name=name, media_type="image", ontology=str(ontology.pk)
    )
    dataset = Dataset.objects.create(workspace=workspace, name=f"{name} rows")
    made = [
        DataRow.objects.create(
            workspace=workspace,
            dataset=dataset,
            row_data=f"https://x.test/{name}/{i}.jpg",
            media_type="image",
            global_key=f"{name}-{i}",
            metadata={"city": "Paris" if i % 2 else "Lyon"},
        )
        for i in range(rows)
    ]
    batches.batch_create(
        project=project,
        actor=admin,
        name="Batch 1",
        data_row_ids=[str(r.pk) for r in made],
        **batch_options,
    )
    return project, made


def task_of(project, row) -> Task:
    return Task.objects.select_related("project", "step").get(project=project, data_row=row)


def people(workspace, n_labelers=3, n_reviewers=1):
    labelers = [
        make_member(workspace, Role.LABELER, email=f"l{i}@alpha.test") for i in range(n_labelers)
    ]
    reviewers = [
        make_member(workspace, Role.REVIEWER, email=f"r{i}@alpha.test") for i in range(n_reviewers)
    ]
    return labelers, reviewers


def weather(answer="sunny"):
    """A valid submission: the required radio answered."""
    return [{"name": "weather", "answer": {"name": answer}}]


def steps(project):
    wf = workflow_of(project)
    return wf


def schema_id(project, *names: str) -> str:
    """The ``featureSchemaId`` of a feature of the project's ontology, by the names on its
    path (``"Car", "occluded", "no"``)."""
    from labelhub.projects.models import FeatureSchema

    parent = None
    for name in names:
        feature = FeatureSchema.objects.get(ontology=project.ontology, parent=parent, name=name)
        parent = feature
    return parent.schema_id


def grant_review_only(workspace, admin, project, user):
    """Give ``user`` a custom project role that may review but not rework ("Checker")."""
    from labelhub.access import services as access

    role = access.custom_role_create(
        workspace=workspace,
        actor=admin,
        name="Checker",
        scope="project",
        permissions=["view_project", "review"],
    )
    access.project_grant_set(
        workspace=workspace, actor=admin, project=project, user_id=user.pk, role=str(role.pk)
    )
    return role
