"""Reads of the task page: what a person working on a task sees of it."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from labelhub.labeling.models import (
    Annotation,
    Draft,
    Label,
    LabelVersion,
    Reservation,
    Task,
    WorkSession,
)
from labelhub.labeling.selectors.annotations import row_annotations

Mode = Reservation.Mode


def annotation_line(annotation: Annotation) -> dict[str, Any]:
    """An annotation in the shape submit and import take (feature by id and name)."""
    return {
        "uuid": annotation.uuid,
        "schemaId": annotation.feature.schema_id,
        "name": annotation.feature.name,
        **(annotation.value if isinstance(annotation.value, dict) else {}),
    }


def version_json(version: LabelVersion) -> dict[str, Any]:
    """One version of a label: who stored what, in which mode, when."""
    author = version.author
    return {
        "number": version.number,
        "mode": version.mode,
        "author": {"id": str(author.pk), "email": author.email} if author else None,
        "created_at": version.created_at.isoformat(),
        "annotations": version.annotations,
    }


def labels_of(task: Task) -> list[dict[str, Any]]:
    """The row's labels with their annotations and their versions, oldest first (what a
    reviewer or a reworker sees); three queries whatever the number of labels."""
    labels = list(
        Label.objects.filter(project_id=task.project_id, data_row_id=task.data_row_id)
        .select_related("author")
        .order_by("submitted_at", "id")
    )
    annotations: dict[Any, list] = {label.pk: [] for label in labels}
    rows = (
        Annotation.objects.filter(label_id__in=list(annotations))
        .select_related("feature")
        # one submission's annotations share a timestamp and ids made in one millisecond
        # have no order: the ontology's order (the feature's path) makes it stable
        .order_by("created_at", "feature__path", "id")
    )
    for annotation in rows:
        annotations[annotation.label_id].append(annotation_line(annotation))
    versions: dict[Any, list] = {label.pk: [] for label in labels}
    for version in (
        LabelVersion.objects.filter(label_id__in=list(versions))
        .select_related("author")
        .order_by("number")
    ):
        versions[version.label_id].append(version_json(version))
    return [
        {
            "id": str(label.pk),
            "author": {"id": str(label.author_id), "email": label.author.email}
            if label.author
            else None,
            "status": label.status,
            "origin": label.origin,
            "score": label.score,
            "rework_count": label.rework_count,
            "is_benchmark_reference": label.is_benchmark_reference,
            "seconds": {
                "labeling": round(label.seconds_labeling, 1),
                "review": round(label.seconds_review, 1),
                "rework": round(label.seconds_rework, 1),
            },
            "submitted_at": label.submitted_at.isoformat(),
            "annotations": annotations[label.pk],
            "versions": versions[label.pk],
        }
        for label in labels
    ]


def task_view(task: Task, user: Any) -> dict[str, Any]:
    """The task page's data for one person: the row, where the task is, their reservation,
    the pre-labels they may see, the labels (review and rework), their draft, their clock."""
    project = task.project
    row = task.data_row
    reservation = Reservation.objects.filter(
        task=task, user=user, expires_at__gt=timezone.now()
    ).first()
    seen = row_annotations(project=project, data_row=row, actor=user)
    # a pre-label carries the model's confidence: the editor shows it beside the object
    prelabels = [
        {**annotation_line(a), "confidence": a.confidence}
        for a in seen.objects + seen.classifications
        if a.source == Annotation.Source.PRELABEL and not getattr(a, "below_threshold", False)
    ]
    draft = Draft.objects.filter(task=task, user=user).first()
    mode = reservation.mode if reservation else None
    session = WorkSession.objects.filter(task=task, user=user, mode=mode).first() if mode else None
    shows_labels = mode in (Mode.REVIEW, Mode.REWORK) or reservation is None
    return {
        "data_row": {
            "id": str(row.pk),
            "global_key": row.global_key,
            "external_id": row.external_id,
            "row_data": row.row_data,
            "media_type": row.media_type,
            "metadata": row.metadata,
        },
        "project": str(project.pk),
        "step": {"id": str(task.step_id), "kind": task.step.kind, "name": task.step.name}
        if task.step_id
        else None,
        "status": task.status,
        "is_benchmark": task.is_benchmark,
        "labels_needed": task.labels_needed,
        "labels_done": task.labels_done,
        "skip_count": task.skip_count,
        "reservation": {"mode": reservation.mode, "expires_at": reservation.expires_at}
        if reservation
        else None,
        "prelabels": prelabels,
        "labels": labels_of(task) if shows_labels else [],
        "draft": draft.payload if draft else None,
        "seconds": round(session.seconds, 1) if session else 0.0,
    }
