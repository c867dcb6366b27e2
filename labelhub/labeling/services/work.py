"""A person's work on a reserved task: the draft, submitting a label, skipping.

Submitting takes the annotations in the shape the import takes (a list of NDJSON lines
without ``dataRow``: the task names the row), checked by the same validator
(``labeling.validation``). The person's label on the row is created or replaced; its
annotations are stored with fresh uuids (so consensus labels, pre-labels and imports on
the row never collide), relationships following them; pre-labels kept on the page become
the person's annotations this way, edited or not. Required features must be answered.
The seconds stored are those the server measured (``services.sessions``). The task moves
on when it has the labels it needs (consensus: several), to the first review step whose
filters match, else Done; a rework goes back through review.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from labelhub.access.authz import actor_user
from labelhub.core.errors import Conflict, ValidationFailed
from labelhub.core.validation import clean_text
from labelhub.labeling.models import (
    Annotation,
    Draft,
    Label,
    LabelingEvent,
    LabelVersion,
    Skip,
    Task,
)
from labelhub.labeling.selectors.work import annotation_line
from labelhub.labeling.services.annotations import annotations_write
from labelhub.labeling.services.queue import Mode, reservation_of
from labelhub.labeling.services.sessions import session_close
from labelhub.labeling.services.transitions import (
    record,
    release,
    reservation_consume,
    task_move,
)
from labelhub.labeling.services.workflow import next_step, workflow_of
from labelhub.labeling.validation import PRELABELS, ImportContext, validate_line
from labelhub.projects.selectors.ontologies import feature_lookup

MAX_ANNOTATIONS = 5000
MAX_DRAFT_BYTES = 2 * 1024 * 1024
EventKind = LabelingEvent.Kind
SECONDS_FIELD = {
    Mode.LABEL: "seconds_labeling",
    Mode.REVIEW: "seconds_review",
    Mode.REWORK: "seconds_rework",
}


def draft_save(*, task: Task, actor: Any, payload: Any) -> Draft:
    """Keep what the page holds so far (any JSON object up to 2 MB) for the person."""
    reservation = reservation_of(task=task, actor=actor)
    if not isinstance(payload, dict):
        raise ValidationFailed("Give the draft as a JSON object.", field="draft")
    if len(orjson.dumps(payload)) > MAX_DRAFT_BYTES:
        raise ValidationFailed("A draft holds at most 2 MB.", field="draft")
    draft, _ = Draft.objects.update_or_create(
        task=task,
        user=actor_user(actor),
        defaults={"mode": reservation.mode, "payload": payload},
    )
    return draft


def draft_of(*, task: Task, user: Any) -> Draft | None:
    """The person's saved draft of the task, if any."""
    return Draft.objects.filter(task=task, user=user).first()


def _validated(task: Task, annotations: Any) -> list[dict[str, Any]]:
    """The annotations checked as import lines on the task's row; errors by index."""
    if not isinstance(annotations, list):
        raise ValidationFailed("Give the annotations as a list.", field="annotations")
    if len(annotations) > MAX_ANNOTATIONS:
        raise ValidationFailed(
            f"At most {MAX_ANNOTATIONS} annotations per label.", field="annotations"
        )
    project = task.project
    if project.ontology is None:
        raise Conflict("The project has no ontology to label with.")
    ctx = ImportContext(
        project=project, lookup=feature_lookup(project.ontology), kind=PRELABELS, dry_run=True
    )
    lines = []
    for n, line in enumerate(annotations):
        if not isinstance(line, dict):
            raise ValidationFailed(
                "Each annotation is an object.", details={f"annotations[{n}]": ["Not an object."]}
            )
        # The page names an object only when a relationship points at it; the stored
        # annotations get fresh uuids either way (``_store``).
        line = {"uuid": f"submitted-{n}", **line, "dataRow": {"id": str(task.data_row_id)}}
        lines.append(orjson.dumps(line).decode())
    ctx.start_chunk()
    parsed = ctx.prepare(lines)
    valid, problems = [], {}
    for n, line in enumerate(parsed):
        normalized, errors = validate_line(line, context=ctx)
        if errors:
            problems[f"annotations[{n}]"] = [f"{e['name']}: {e['message']}" for e in errors]
        else:
            valid.append(normalized)
    if problems:
        raise ValidationFailed("Some annotations are not valid.", details=problems)
    return valid


def _missing_required(task: Task, valid: list[dict[str, Any]]) -> list[str]:
    """Required features the annotations leave unanswered, by name."""
    tree = task.project.ontology.normalized or {}
    given = {line["feature"].schema_id for line in valid}
    nested: dict[str, set[str]] = {}
    for line in valid:
        for answer in line["value"].get("classifications") or []:
            key = answer.get("schemaId") or answer.get("featureSchemaId") or answer.get("name")
            nested.setdefault(line["feature"].schema_id, set()).add(str(key))
    missing = []
    for feature in tree.get("classifications") or []:
        if feature.get("required") and feature["featureSchemaId"] not in given:
            missing.append(feature.get("name") or feature.get("instructions") or "")
    for tool in tree.get("tools") or []:
        if tool.get("required") and tool["featureSchemaId"] not in given:
            missing.append(tool["name"])
        if tool["featureSchemaId"] not in given:
            continue
        answered = nested.get(tool["featureSchemaId"], set())
        for child in tool.get("classifications") or []:
            names = {child["featureSchemaId"], child.get("name"), child.get("instructions")}
            if child.get("required") and not (names & answered):
                missing.append(f"{tool['name']} › {child.get('name') or child.get('instructions')}")
    return missing


def _rework_target(task: Task, user: Any) -> Label:
    """The rejected label a rework edits: the person's own, else the oldest rejected."""
    rejected = Label.objects.select_for_update().filter(
        project_id=task.project_id, data_row_id=task.data_row_id, status=Label.Status.REJECTED
    )
    label = rejected.filter(author=user).first() or rejected.order_by("submitted_at").first()
    if label is None:
        raise Conflict("This task has no rejected label to rework.")
    return label


def annotations_checked(task: Task, annotations: Any) -> list[dict[str, Any]]:
    """Submitted annotations validated as import lines on the task's row, required
    features answered (400 by ``annotations[n]``, or naming each missing feature)."""
    valid = _validated(task, annotations)
    missing = _missing_required(task, valid)
    if missing:
        raise ValidationFailed(
            "Answer the required features first.",
            details={"required": [f"{name} is required." for name in missing]},
        )
    return valid


def annotations_replace(
    task: Task, label: Label, valid: list[dict[str, Any]], *, mode: str, author: Any
) -> LabelVersion:
    """Replace the label's annotations with checked ones (fresh uuids, relationships
    following) and keep what was stored as the label's next version. The caller holds
    the label's row lock (the version number is the next one)."""
    Annotation.objects.filter(label=label).delete()
    fresh = {line["uuid"]: uuid.uuid4().hex for line in valid}
    for line in valid:
        line["uuid"] = fresh[line["uuid"]]
        line["replaces"] = False
        ends = line["value"].get("relationship")
        if isinstance(ends, dict):
            line["value"]["relationship"] = {
                k: fresh.get(v, v) if k in ("source", "target") else v for k, v in ends.items()
            }
    annotations_write(
        project=task.project,
        job=None,
        source=Annotation.Source.HUMAN,
        normalized_lines=valid,
        labels={str(task.data_row_id): label.pk},
    )
    # The snapshot is built from the lines just written, in the ontology's order as the
    # label's annotations are listed (``labels_of``), without reading them back.
    stored = sorted(valid, key=lambda line: line["feature"].path)
    last = LabelVersion.objects.filter(label=label).aggregate(n=Max("number"))["n"] or 0
    return LabelVersion.objects.create(
        workspace_id=task.workspace_id,
        label=label,
        number=last + 1,
        mode=mode,
        author=author,
        annotations=[
            annotation_line(
                Annotation(uuid=line["uuid"], feature=line["feature"], value=line["value"])
            )
            for line in stored
        ],
    )


def _store(
    task: Task, label: Label, valid: list[dict[str, Any]], mode: str, seconds: float, user: Any
) -> None:
    """Put the annotations on the label (replacing what it held) and count the seconds."""
    field = SECONDS_FIELD[mode]
    label.status, label.submitted_at = Label.Status.SUBMITTED, timezone.now()
    setattr(label, field, getattr(label, field) + seconds)
    label.save()
    annotations_replace(task, label, valid, mode=mode, author=user)


def _own_label(task: Task, user: Any) -> Label:
    label, _ = Label.objects.select_for_update().get_or_create(
        project_id=task.project_id,
        data_row_id=task.data_row_id,
        author=user,
        defaults={
            "workspace_id": task.workspace_id,
            "origin": Label.Origin.HUMAN,
            "status": Label.Status.SUBMITTED,
            "submitted_at": timezone.now(),
        },
    )
    label.origin = Label.Origin.HUMAN
    return label


def label_submit(*, task: Task, actor: Any, annotations: Any) -> Label:
    """Submit the actor's label of a task they hold (labeling), or the rework of a
    rejected label (rework); the task moves on when it has what it needs."""
    valid = annotations_checked(task, annotations)
    user = actor_user(actor)
    with transaction.atomic():
        task = (
            Task.objects.select_for_update(of=("self",))
            .select_related("project", "step")
            .get(pk=task.pk)
        )
        reservation = reservation_of(task=task, actor=actor)
        mode = reservation.mode
        if mode == Mode.REVIEW:
            raise Conflict("A reviewer approves or rejects; submitting is for labeling.")
        seconds = session_close(task=task, user=user, mode=mode)
        field = SECONDS_FIELD[mode]
        if mode == Mode.REWORK:
            label = _rework_target(task, user)
            label.rework_count += 1
        else:
            label = _own_label(task, user)
        _store(task, label, valid, mode, seconds, user)
        Task.objects.filter(pk=task.pk).update(labeled=True, **{field: F(field) + seconds})
        setattr(task, field, getattr(task, field) + seconds)
        reservation_consume(reservation)
        Draft.objects.filter(task=task, user=user).delete()
        record(
            EventKind.SUBMITTED if mode == Mode.LABEL else EventKind.REWORKED,
            task,
            actor_id=user.pk,
            mode=mode,
            label_id=label.pk,
            seconds=seconds,
            annotations=len(valid),
        )
        task.labeled = True
        if task.is_benchmark:
            return label  # a benchmark row stays where it is: every labeler labels it once
        if mode == Mode.LABEL:
            if task.step_id != workflow_of(task.project).label.pk:
                return label  # moved on meanwhile (by hand): the label counts, the task stays
            Task.objects.filter(pk=task.pk).update(labels_done=F("labels_done") + 1)
            task.refresh_from_db(fields=["labels_done", "labels_needed", "reserved"])
            if task.labels_done < task.labels_needed:
                return label  # consensus: more labels to come
        elif Label.objects.filter(
            project_id=task.project_id, data_row_id=task.data_row_id, status=Label.Status.REJECTED
        ).exists():
            return label  # other rejected labels of the row wait for their rework
        workflow = workflow_of(task.project)
        task_move(task=task, to=next_step(workflow, task, workflow.label), actor=user, kind="")
    return label


def task_skip(*, task: Task, actor: Any, reason: Any = "") -> Skip:
    """Skip a task the actor holds: it is never served to them again; after the project's
    skip limit it moves on — to its next step when it has labels (a consensus row), else
    to Done counted as skipped (a review step has nothing to review)."""
    reason = clean_text(reason or "", field="reason", max_length=500, required=False)
    user = actor_user(actor)
    with transaction.atomic():
        task = (
            Task.objects.select_for_update(of=("self",))
            .select_related("project", "step")
            .get(pk=task.pk)
        )
        reservation = reservation_of(task=task, actor=actor, mode=Mode.LABEL)
        project = task.project
        if not project.allow_skip:
            raise Conflict("Skipping is turned off in this project.")
        # the time spent before skipping is labeling time too: on the task and the event
        seconds = session_close(task=task, user=user, mode=Mode.LABEL)
        skip, _ = Skip.objects.get_or_create(task=task, user=user, defaults={"reason": reason})
        release(reservation, kind=EventKind.SKIPPED, seconds=seconds)
        Task.objects.filter(pk=task.pk).update(
            skip_count=F("skip_count") + 1, seconds_labeling=F("seconds_labeling") + seconds
        )
        task.refresh_from_db(fields=["skip_count", "reserved", "seconds_labeling"])
        Draft.objects.filter(task=task, user=user).delete()
        if project.skip_limit and task.skip_count >= project.skip_limit and not task.is_benchmark:
            workflow = workflow_of(project)
            labeled = Label.objects.filter(project=project, data_row_id=task.data_row_id).exists()
            to = next_step(workflow, task, workflow.label) if labeled else workflow.done
            task_move(
                task=task,
                to=to,
                actor=user,
                reason="skip limit",
                release_all=True,
                status=Task.Status.SKIPPED if to.kind == "done" else None,
            )
    return skip
