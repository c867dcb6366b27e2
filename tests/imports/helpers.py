"""Set-up shared by the imports tests: a project with an ontology, rows and a batch."""

from __future__ import annotations

from labelhub.imports.validation import PRELABELS, ImportContext
from labelhub.projects.models import Batch, DataRow, Dataset, Project, Task
from labelhub.projects.selectors.ontologies import feature_lookup
from labelhub.projects.services.ontologies import ontology_create


def make_import_project(workspace, actor, tree, *, media_type="image", keys=(), outside=()):
    """Project of ``media_type`` using ``tree``; rows with global ``keys`` in a batch of it,
    rows with global keys ``outside`` in the workspace but not in the project."""
    ontology = ontology_create(
        workspace=workspace, actor=actor, name="Import ontology", ontology=tree
    )
    project = Project.objects.create(
        workspace=workspace, name="Import project", media_type=media_type, ontology=ontology
    )
    dataset = Dataset.objects.create(workspace=workspace, name="Import rows")
    batch = Batch.objects.create(workspace=workspace, project=project, name="Batch 1")
    rows = {}
    for key in [*keys, *outside]:
        rows[key] = DataRow.objects.create(
            workspace=workspace,
            dataset=dataset,
            row_data=f"https://example.com/{key}",
            media_type=media_type,
            global_key=key,
        )
    Task.objects.bulk_create(
        Task(workspace=workspace, project=project, data_row=rows[k], batch=batch) for k in keys
    )
    return project, rows


def context_for(project, kind=PRELABELS, **kw):
    return ImportContext(project=project, lookup=feature_lookup(project.ontology), kind=kind, **kw)
