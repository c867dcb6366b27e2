"""Set-up shared by the imports tests: a project with an ontology, rows and a batch."""

from __future__ import annotations

from labelhub.labeling.models import Batch, Task
from labelhub.labeling.validation import GEOMETRIES, KEYFRAME_GEOMETRIES, PRELABELS, ImportContext
from labelhub.projects.models import DataRow, Dataset, Project
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


def _tool_type(line: dict) -> str | None:
    if "segments" in line:
        keyframe = line["segments"][0]["keyframes"][0]
        return next(t for k, t in KEYFRAME_GEOMETRIES.items() if k in keyframe)
    return next((t for k, (_, t) in GEOMETRIES.items() if k in line), None)


def answers_of(entry: dict) -> list[dict]:
    """The answer objects of a classification line (radio object or checklist list)."""
    answer = entry.get("answer", entry.get("answers"))
    if isinstance(answer, dict):
        return [answer]
    return answer if isinstance(answer, list) else []


def ontology_for_import(lines: list[dict]) -> dict:
    """The ontology a migrating team writes for these lines: every feature they reference,
    under the same schema id (or name), first use deciding the type."""
    tools: dict = {}
    top: dict = {}

    def feature(siblings: dict, obj: dict, make) -> dict:
        key = obj.get("schemaId") or obj["name"]
        if key not in siblings:
            siblings[key] = make()
            if "schemaId" in obj:
                siblings[key]["featureSchemaId"] = obj["schemaId"]
            siblings[key]["name"] = obj.get("name") or obj["schemaId"]
        return siblings[key]

    def classification(siblings: dict, entry: dict) -> None:
        answer = entry.get("answer", entry.get("answers"))
        kind = {dict: "radio", list: "checklist"}.get(type(answer), "text")
        c = feature(siblings, entry, lambda: {"type": kind, "_options": {}})
        if c["type"] != "text":
            for a in answers_of(entry):
                feature(c["_options"], a, dict)

    for line in lines:
        if "metricValue" in line or "messageEvaluationTask" in line:
            continue
        tool_type = _tool_type(line)
        if tool_type:
            tool = feature(tools, line, lambda t=tool_type: {"tool": t, "_nested": {}})
            for nested in line.get("classifications") or []:
                classification(tool["_nested"], nested)
        else:
            classification(top, line)

    def finish(c: dict) -> dict:
        options = c.pop("_options", {})
        c["options"] = [{"value": o.pop("name"), **o} for o in options.values()]
        return c

    for tool in tools.values():
        tool["classifications"] = [finish(c) for c in tool.pop("_nested").values()]
    return {
        "tools": list(tools.values()),
        "classifications": [finish(c) for c in top.values()],
    }
