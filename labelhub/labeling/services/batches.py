"""Every write to batches and their tasks.

A batch sends data rows to a project; each row becomes one task in "To label". Rules:
media types must match the project; a row is in at most one batch per project (a database
constraint on tasks); rows already labeled in the project are excluded and reported; up to
100,000 rows per request. Only the name and the priority change afterwards.
"""

from __future__ import annotations

import random
from typing import Any

from django.db import IntegrityError, transaction

from labelhub.access.authz import project_permissions_for
from labelhub.access.permissions import Permission
from labelhub.access.services import require
from labelhub.core.audit import actor_identity, audit_record
from labelhub.core.errors import Conflict, ValidationFailed
from labelhub.core.ids import parse_id
from labelhub.labeling.models import Batch, BatchEvent, Task
from labelhub.labeling.services.workflow import workflow_of
from labelhub.projects.models import DataRow, Dataset, Project
from labelhub.workspaces.models import Membership

MAX_ROWS_PER_REQUEST = 100_000
_CHUNK = 5_000


def _int(value: Any, *, field: str, low: int, high: int, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed(f"Give a whole number from {low} to {high}.", field=field)
    if not low <= value <= high:
        raise ValidationFailed(f"Give a whole number from {low} to {high}.", field=field)
    return value


def _select_rows(project: Project, *, data_row_ids, global_keys, dataset_filter) -> list:
    """Resolve the request's rows to (id, media_type) pairs inside the workspace."""
    given = [x is not None for x in (data_row_ids, global_keys, dataset_filter)]
    if sum(given) != 1:
        raise ValidationFailed(
            "Give exactly one of data_row_ids, global_keys or dataset.", field="data_row_ids"
        )
    rows = DataRow.objects.filter(workspace=project.workspace)
    if data_row_ids is not None:
        field, values = "data_row_ids", data_row_ids
        if not isinstance(values, list) or not values:
            raise ValidationFailed("Give a non-empty list of data row ids.", field=field)
        if len(values) > MAX_ROWS_PER_REQUEST:
            raise ValidationFailed(
                f"At most {MAX_ROWS_PER_REQUEST:,} rows per request.", field=field
            )
        ids = [parse_id(v) for v in values]
        found = _fetch(rows, "pk", [i for i in ids if i])
        missing = [str(v) for v, i in zip(values, ids, strict=True) if i is None or i not in found]
        if missing:
            raise ValidationFailed(
                f"Unknown data rows: {', '.join(missing[:10])}"
                + (f" and {len(missing) - 10} more." if len(missing) > 10 else "."),
                field=field,
            )
        return [found[i] for i in dict.fromkeys(ids)]
    if global_keys is not None:
        field, values = "global_keys", global_keys
        if (
            not isinstance(values, list)
            or not values
            or not all(isinstance(v, str) for v in values)
        ):
            raise ValidationFailed("Give a non-empty list of global keys.", field=field)
        if len(values) > MAX_ROWS_PER_REQUEST:
            raise ValidationFailed(
                f"At most {MAX_ROWS_PER_REQUEST:,} rows per request.", field=field
            )
        found = _fetch(rows, "global_key", values)
        missing = [v for v in values if v not in found]
        if missing:
            raise ValidationFailed(
                f"Unknown global keys: {', '.join(missing[:10])}"
                + (f" and {len(missing) - 10} more." if len(missing) > 10 else "."),
                field=field,
            )
        return [found[k] for k in dict.fromkeys(values)]
    return _sample(project, rows, dataset_filter)


def _fetch(rows, field: str, values: list) -> dict:
    """Look rows up by a field in chunks (SQLite caps the number of query parameters)."""
    out: dict = {}
    values = list(dict.fromkeys(values))
    for start in range(0, len(values), _CHUNK):
        chunk = values[start : start + _CHUNK]
        for row in rows.filter(**{f"{field}__in": chunk}).values("pk", "media_type", field):
            out[row[field]] = (row["pk"], row["media_type"])
    return out


def _sample(project: Project, rows, spec: Any) -> list:
    if not isinstance(spec, dict):
        raise ValidationFailed("Give {dataset, sample, count}.", field="dataset")
    unknown = sorted(set(spec) - {"dataset", "sample", "count"})
    if unknown:
        raise ValidationFailed(f"Unknown keys: {', '.join(unknown)}.", field="dataset")
    dataset = Dataset.objects.filter(
        workspace=project.workspace, pk=parse_id(spec.get("dataset"))
    ).first()
    if dataset is None:
        raise ValidationFailed("Unknown dataset.", field="dataset")
    sample = spec.get("sample", "all")
    if sample not in {"all", "random", "first", "last"}:
        raise ValidationFailed("sample is one of all, random, first, last.", field="dataset")
    count = spec.get("count")
    if sample != "all":
        count = _int(count, field="dataset", low=1, high=MAX_ROWS_PER_REQUEST, default=0)
        if count == 0:
            raise ValidationFailed("Give the number of rows to sample.", field="dataset")
    rows = rows.filter(dataset=dataset, media_type=project.media_type)
    # Rows already in this project are not candidates for a sample.
    rows = rows.exclude(pk__in=Task.objects.filter(project=project).values("data_row_id"))
    if sample == "first":
        rows = rows.order_by("created_at", "id")[:count]
    elif sample == "last":
        rows = rows.order_by("-created_at", "-id")[:count]
    pairs = [
        (r["pk"], r["media_type"])
        for r in rows.values("pk", "media_type")[: MAX_ROWS_PER_REQUEST + 1]
    ]
    if sample == "random":
        pairs = random.sample(pairs, min(count, len(pairs)))
    if len(pairs) > MAX_ROWS_PER_REQUEST:
        raise ValidationFailed(
            f"At most {MAX_ROWS_PER_REQUEST:,} rows per request.", field="dataset"
        )
    if not pairs:
        raise ValidationFailed("The dataset has no rows to send to this project.", field="dataset")
    return pairs


def project_labeler_count(project: Project) -> int:
    """How many people may label in the project (workspace roles and grants)."""
    members = Membership.objects.filter(workspace=project.workspace).select_related(
        "user", "custom_role"
    )
    return sum(1 for m in members if Permission.LABEL in project_permissions_for(m.user, project))


def _consensus_rows(batch: Batch, ids: list[Any], coverage: int) -> set[Any]:
    """The rows of a new batch that get several labels: ``coverage`` % of them, drawn
    with the batch's id as the seed (the same batch always picks the same rows)."""
    if coverage <= 0:
        return set()
    count = round(len(ids) * coverage / 100) or 1
    return set(random.Random(str(batch.pk)).sample(ids, min(count, len(ids))))  # noqa: S311


def batch_create(
    *,
    project: Project,
    actor: Any,
    name: Any,
    data_row_ids: Any = None,
    global_keys: Any = None,
    dataset: Any = None,
    priority: Any = None,
    consensus_coverage: Any = None,
    consensus_labels: Any = None,
) -> tuple[Batch, dict[str, Any]]:
    """Send rows to the project as a batch; returns it and a report (added, excluded)."""
    require(actor, Permission.MANAGE_BATCHES, project)
    if not isinstance(name, str) or not name.strip():
        raise ValidationFailed("This field is required.", field="name")
    name = name.strip()[:200]
    priority = _int(priority, field="priority", low=1, high=5, default=5)
    coverage = _int(consensus_coverage, field="consensus_coverage", low=0, high=100, default=0)
    labels = _int(consensus_labels, field="consensus_labels", low=2, high=100, default=2)
    if coverage > 0:
        available = project_labeler_count(project)
        if labels > available:
            raise ValidationFailed(
                f"Consensus asks for {labels} labels but the project has {available} labelers.",
                field="consensus_labels",
            )
    pairs = _select_rows(
        project, data_row_ids=data_row_ids, global_keys=global_keys, dataset_filter=dataset
    )
    wrong_media = [str(pk) for pk, media in pairs if media != project.media_type]
    if wrong_media:
        raise ValidationFailed(
            f"{len(wrong_media)} data rows are not of the project's media type "
            f"({project.media_type}): {', '.join(wrong_media[:5])}.",
            field="data_row_ids",
        )
    ids = [pk for pk, _ in pairs]
    existing = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        existing.update(
            Task.objects.filter(project=project, data_row_id__in=chunk).values_list(
                "data_row_id", "labeled"
            )
        )
    labeled = [pk for pk in ids if existing.get(pk) is True]
    queued_elsewhere = [pk for pk in ids if existing.get(pk) is False]
    if queued_elsewhere:
        raise Conflict(
            f"{len(queued_elsewhere)} data rows are already in another batch of this project: "
            f"{', '.join(str(pk) for pk in queued_elsewhere[:5])}.",
            details={
                "data_row_ids": ["Some data rows are already in another batch of this project."]
            },
        )
    new_ids = [pk for pk in ids if pk not in existing]
    if not new_ids:
        raise ValidationFailed(
            "Every data row is already labeled in this project.", field="data_row_ids"
        )
    user, _ = actor_identity(actor)
    try:
        with transaction.atomic():
            batch = Batch.objects.create(
                workspace=project.workspace,
                project=project,
                name=name,
                priority=priority,
                consensus_coverage=coverage,
                consensus_labels=labels,
                created_by=user,
            )
            label_step = workflow_of(project).label
            plain = label_step.max_labels_per_row
            consensus = _consensus_rows(batch, new_ids, coverage)
            for start in range(0, len(new_ids), _CHUNK):
                Task.objects.bulk_create(
                    [
                        Task(
                            workspace=project.workspace,
                            project=project,
                            data_row_id=pk,
                            batch=batch,
                            priority=priority,
                            step=label_step,
                            labels_needed=max(plain, labels) if pk in consensus else plain,
                        )
                        for pk in new_ids[start : start + _CHUNK]
                    ]
                )
            BatchEvent.objects.create(
                workspace=project.workspace,
                batch=batch,
                actor=user,
                verb="rows_added",
                count=len(new_ids),
                detail=f"{len(labeled)} already labeled rows excluded" if labeled else "",
            )
            audit_record(
                workspace=project.workspace,
                actor=actor,
                verb="batch.created",
                target=batch,
                after={
                    "project": project.name,
                    "rows": len(new_ids),
                    "excluded_labeled": len(labeled),
                },
            )
    except IntegrityError as exc:
        # Another request sent some of these rows first (the unique constraint decided).
        raise Conflict(
            "A batch with this name exists in the project, "
            "or some rows were just sent by someone else.",
            details={"name": ["Choose another name or retry."]},
        ) from exc
    return batch, {"added": len(new_ids), "excluded_labeled": [str(pk) for pk in labeled]}


def batch_update(*, batch: Batch, actor: Any, name: Any = None, priority: Any = None) -> Batch:
    """Rename a batch or change its priority (its queued tasks follow)."""
    require(actor, Permission.MANAGE_BATCHES, batch.project)
    user, _ = actor_identity(actor)
    try:
        with transaction.atomic():
            batch = Batch.objects.select_for_update(of=("self",)).get(pk=batch.pk)
            if name is not None:
                if not isinstance(name, str) or not name.strip():
                    raise ValidationFailed("This field is required.", field="name")
                if name.strip() != batch.name:
                    BatchEvent.objects.create(
                        workspace=batch.workspace,
                        batch=batch,
                        actor=user,
                        verb="renamed",
                        detail=f"{batch.name} → {name.strip()[:200]}",
                    )
                    batch.name = name.strip()[:200]
            if priority is not None:
                new = _int(priority, field="priority", low=1, high=5, default=5)
                if new != batch.priority:
                    BatchEvent.objects.create(
                        workspace=batch.workspace,
                        batch=batch,
                        actor=user,
                        verb="priority_changed",
                        detail=f"{batch.priority} → {new}",
                    )
                    batch.priority = new
                    Task.objects.filter(batch=batch).update(priority=new)
            batch.save()
    except IntegrityError as exc:
        raise Conflict(
            "A batch with this name exists in the project.", details={"name": ["taken"]}
        ) from exc
    return batch


def batch_remove_queued(*, batch: Batch, actor: Any) -> int:
    """Remove the batch's rows that are still waiting to be labeled; returns how many."""
    require(actor, Permission.MANAGE_BATCHES, batch.project)
    user, _ = actor_identity(actor)
    with transaction.atomic():
        queued = Task.objects.filter(batch=batch, labeled=False, status=Task.Status.TO_LABEL)
        removed, _ = queued.delete()
        if removed:
            BatchEvent.objects.create(
                workspace=batch.workspace,
                batch=batch,
                actor=user,
                verb="rows_removed",
                count=removed,
            )
            audit_record(
                workspace=batch.workspace,
                actor=actor,
                verb="batch.rows_removed",
                target=batch,
                after={"removed": removed},
            )
    return removed


def tasks_set_priority(*, project: Project, actor: Any, task_ids: Any, priority: Any) -> int:
    """Bulk action of the data rows tab: change the priority of some tasks."""
    require(actor, Permission.MANAGE_BATCHES, project)
    priority = _int(priority, field="priority", low=1, high=5, default=5)
    if not isinstance(task_ids, list) or not task_ids or len(task_ids) > MAX_ROWS_PER_REQUEST:
        raise ValidationFailed("Give a list of data row ids.", field="data_row_ids")
    ids = [parse_id(v) for v in task_ids]
    if None in ids:
        raise ValidationFailed("Unknown data rows.", field="data_row_ids")
    changed = 0
    with transaction.atomic():
        for start in range(0, len(ids), _CHUNK):
            changed += Task.objects.filter(
                project=project, data_row_id__in=ids[start : start + _CHUNK]
            ).update(priority=priority)
        audit_record(
            workspace=project.workspace,
            actor=actor,
            verb="tasks.priority_changed",
            target=project,
            after={"rows": changed, "priority": priority},
        )
    return changed
