"""A reviewer's decision on a task in a review step, and what scores do to contributors.

Approving sends the task to the next review step whose filters match, else Done; rejecting
(with a reason) sends it to Rework, its labels marked rejected and their authors told. A
score (0-100) per label is optional; each label keeps the average of its scores, each
contributor the average over all their scored labels. When the project has a review score
threshold and a contributor's average falls below it, they are taken out of the project's
queue at once: their reservations released, an audit row and a notification written. A
project manager puts them back (``contributor_restore``).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Avg, F
from django.utils import timezone

from labelhub.access.authz import actor_user
from labelhub.access.permissions import Permission
from labelhub.access.services import require
from labelhub.core.audit import audit_record
from labelhub.core.errors import Conflict, ValidationFailed
from labelhub.core.ids import parse_id
from labelhub.core.validation import clean_text
from labelhub.labeling.models import Contributor, Label, LabelingEvent, Review, Task
from labelhub.labeling.services.queue import Mode, contributor_of, reservation_of
from labelhub.labeling.services.queue import reservations_drop as _drop
from labelhub.labeling.services.sessions import session_close
from labelhub.labeling.services.transitions import record, reservation_consume, task_move
from labelhub.labeling.services.work import annotations_checked, annotations_replace
from labelhub.labeling.services.workflow import next_step, workflow_of
from labelhub.notifications.models import Notification
from labelhub.notifications.services import notification_create
from labelhub.projects.models import Project

Decision = Review.Decision
EventKind = LabelingEvent.Kind


def _clean_scores(labels: list[Label], score: Any, scores: Any) -> dict[Any, int]:
    """Scores by label id: ``scores`` per label, ``score`` for every label, or none."""

    def whole(value: Any, field: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
            raise ValidationFailed("A score is a whole number from 0 to 100.", field=field)
        return value

    out: dict[Any, int] = {}
    if score is not None:
        value = whole(score, "score")
        out = {label.pk: value for label in labels}
    if scores is not None:
        if not isinstance(scores, dict):
            raise ValidationFailed("Give {label id: score}.", field="scores")
        known = {str(label.pk): label.pk for label in labels}
        for key, value in scores.items():
            if str(key) not in known:
                raise ValidationFailed(f"{key} is not a label of this task.", field="scores")
            out[known[str(key)]] = whole(value, "scores")
    return out


def _edited_label(labels: list[Label], label: Any) -> Label:
    """The label a review edit replaces: the one named, else the row's only label."""
    if label in (None, ""):
        if len(labels) == 1:
            return labels[0]
        raise ValidationFailed("Say which of the row's labels you edited.", field="label")
    found = next((lb for lb in labels if str(lb.pk) == str(parse_id(label))), None)
    if found is None:
        raise ValidationFailed("Not a label of this task.", field="label")
    return found


def review_decide(
    *,
    task: Task,
    actor: Any,
    decision: Any,
    reason: Any = "",
    score: Any = None,
    scores: Any = None,
    annotations: Any = None,
    label: Any = None,
) -> Review:
    """Approve or reject a task the actor holds for review; returns the first Review row.

    With ``annotations`` the reviewer corrects a label first (``label``: which one, needed
    when the row has several): it needs the rework permission, the annotations are checked
    like a submission, and the label keeps the correction as a version of mode review.
    """
    if decision not in Decision.values:
        raise ValidationFailed("Choose approve or reject.", field="decision")
    reason = clean_text(reason or "", field="reason", max_length=1000, required=False)
    if decision == Decision.REJECT and not reason:
        raise ValidationFailed("Say why the label is rejected.", field="reason")
    edit = None
    if annotations is not None:
        # ADR 0011: a reviewer whose role may rework labels may correct a label in review
        require(actor, Permission.REWORK, task.project)
        edit = annotations_checked(task, annotations)
    user = actor_user(actor)
    with transaction.atomic():
        task = (
            Task.objects.select_for_update(of=("self",))
            .select_related("project", "step", "data_row")
            .get(pk=task.pk)
        )
        reservation = reservation_of(task=task, actor=actor, mode=Mode.REVIEW)
        project = task.project
        labels = list(
            Label.objects.select_for_update()
            .filter(project=project, data_row_id=task.data_row_id)
            .order_by("submitted_at", "id")
        )
        if not labels:
            raise Conflict("This task has no label to review.")
        given = _clean_scores(labels, score, scores)
        edited = _edited_label(labels, label) if edit is not None or label else None
        if edit is not None and edited is not None:
            annotations_replace(task, edited, edit, mode=Mode.REVIEW, author=user)
            record(
                EventKind.EDITED_IN_REVIEW,
                task,
                actor_id=user.pk,
                mode=Mode.REVIEW,
                label_id=edited.pk,
                annotations=len(edit),
            )
        seconds = session_close(task=task, user=user, mode=Mode.REVIEW)
        share = seconds / len(labels)
        status = Label.Status.APPROVED if decision == Decision.APPROVE else Label.Status.REJECTED
        reviews = []
        for label in labels:
            reviews.append(
                Review(
                    workspace_id=project.workspace_id,
                    project=project,
                    task=task,
                    label=label,
                    reviewer=user,
                    step=task.step,
                    decision=decision,
                    score=given.get(label.pk),
                    reason=reason,
                )
            )
        Review.objects.bulk_create(reviews)
        for label in labels:
            label.status = status
            label.seconds_review += share
            if label.pk in given:
                label.score = Review.objects.filter(label=label, score__isnull=False).aggregate(
                    n=Avg("score")
                )["n"]
            label.save(update_fields=["status", "seconds_review", "score", "updated_at"])
        Task.objects.filter(pk=task.pk).update(seconds_review=F("seconds_review") + seconds)
        task.seconds_review += seconds
        reservation_consume(reservation)
        record(
            EventKind.APPROVED if decision == Decision.APPROVE else EventKind.REJECTED,
            task,
            actor_id=user.pk,
            mode=Mode.REVIEW,
            label_id=labels[0].pk if len(labels) == 1 else None,
            seconds=seconds,
        )
        workflow = workflow_of(project)
        if decision == Decision.APPROVE:
            to = next_step(workflow, task, task.step)
            task_move(task=task, to=to, actor=user, kind="")
        else:
            task_move(task=task, to=workflow.rework, actor=user, kind="", reason=reason)
            for label in labels:
                if label.author_id is not None:
                    _tell_rejected(project, task, label, reason)
        for label in labels:
            if label.pk in given and label.author_id is not None:
                _score_contributor(project, label.author, given[label.pk], actor)
    return reviews[0]


def _tell_rejected(project: Project, task: Task, label: Label, reason: str) -> None:
    notification_create(
        user_id=label.author_id,
        workspace_id=project.workspace_id,
        kind=Notification.Kind.LABEL_REJECTED,
        subject=f"label:{label.pk}",
        title=f"Your label in {project.name} was rejected",
        body=reason,
        url=f"/projects/{project.pk}/data-rows/{task.data_row_id}/",
    )


def _score_contributor(project: Project, author: Any, score: int, actor: Any) -> None:
    contributor = contributor_of(project, author)
    Contributor.objects.filter(pk=contributor.pk).update(
        score_sum=F("score_sum") + score, score_count=F("score_count") + 1
    )
    contributor.refresh_from_db()
    threshold = project.review_score_threshold
    average = contributor.average_score
    if threshold is None or contributor.removed_at is not None or average is None:
        return
    if average < threshold:
        contributor_remove(
            project=project,
            contributor=contributor,
            actor=actor,
            reason=f"average review score {average:.1f} is below the threshold {threshold}",
        )


def contributor_remove(
    *, project: Project, contributor: Contributor, actor: Any, reason: str
) -> Contributor:
    """Take a person out of the project's queue: reservations go, they are told."""
    contributor.removed_at = timezone.now()
    contributor.removed_reason = reason[:300]
    contributor.save(update_fields=["removed_at", "removed_reason"])
    dropped = _drop(project=project, user=contributor.user)
    audit_record(
        workspace=project.workspace,
        actor=actor,
        verb="queue.contributor_removed",
        target=project,
        after={"user": contributor.user.email, "reason": reason, "reservations": dropped},
    )
    notification_create(
        user_id=contributor.user_id,
        workspace_id=project.workspace_id,
        kind=Notification.Kind.QUEUE_REMOVED,
        subject=f"queue:{project.pk}",
        title=f"You were taken out of the queue of {project.name}",
        body=reason,
        url=f"/projects/{project.pk}/",
    )
    return contributor


def contributor_restore(*, project: Project, actor: Any, user: Any) -> Contributor:
    """Put a person back in the project's queue (their scores start over)."""
    require(actor, Permission.MANAGE_PROJECT_MEMBERS, project)
    contributor = contributor_of(project, user)
    if contributor.removed_at is None:
        raise Conflict("This person is in the queue.")
    contributor.removed_at, contributor.removed_reason = None, ""
    contributor.score_sum, contributor.score_count = 0, 0
    contributor.save()
    audit_record(
        workspace=project.workspace,
        actor=actor,
        verb="queue.contributor_restored",
        target=project,
        after={"user": user.email},
    )
    return contributor
