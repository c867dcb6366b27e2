"""Authentic input protection (SPEC §4): the task page of a project that turned it on
blocks pastes into free-text answers and measures typing; what it saw is recorded here as
an ``InputEvent`` on the data row (issues do not exist yet: the row's page lists them).

The person reporting must hold a reservation of the task (like a draft). A page reports
at most ``RATE_LIMIT`` events per task a minute; more answer 429: a misbehaving or hostile
page cannot fill the table.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from labelhub.access.authz import actor_user
from labelhub.core.errors import Conflict, Throttled, ValidationFailed
from labelhub.labeling.models import InputEvent, Task
from labelhub.labeling.selectors.input_events import text_features
from labelhub.labeling.services.queue import reservation_of

#: events one person may report on one task within ``RATE_WINDOW``
RATE_LIMIT = 20
RATE_WINDOW = timedelta(minutes=1)
#: a detail is a small flat object: the numbers the page measured
DETAIL_KEYS = 10
DETAIL_TEXT = 200


def _clean_detail(detail: Any) -> dict[str, Any]:
    """The detail object: at most 10 keys, each a number or a short text."""
    if detail is None:
        return {}
    if not isinstance(detail, dict):
        raise ValidationFailed("Give the detail as a JSON object.", field="detail")
    if len(detail) > DETAIL_KEYS:
        raise ValidationFailed(f"A detail holds at most {DETAIL_KEYS} keys.", field="detail")
    for key, value in detail.items():
        if len(key) > 50:
            raise ValidationFailed("A detail key is at most 50 characters.", field="detail")
        # bool is an int to Python; the page has no reason to send one
        number = isinstance(value, int | float) and not isinstance(value, bool)
        text = isinstance(value, str) and len(value) <= DETAIL_TEXT
        if not (number or text):
            raise ValidationFailed(
                f"{key}: give a number or a text of at most {DETAIL_TEXT} characters.",
                field="detail",
            )
    return detail


def input_event_record(
    *, task: Task, actor: Any, kind: Any, feature: Any, detail: Any = None
) -> InputEvent:
    """Record a blocked paste or a rapid entry the actor's task page saw in a free-text
    answer of a task they hold (409 when the project does not protect input)."""
    reservation_of(task=task, actor=actor)
    project = task.project
    if not project.authentic_input_protection:
        raise Conflict("Authentic input protection is off in this project.")
    if kind not in InputEvent.Kind.values:
        raise ValidationFailed(f"Choose one of: {', '.join(InputEvent.Kind.values)}.", field="kind")
    if not isinstance(feature, str) or feature not in text_features(project):
        raise ValidationFailed(
            "Not a free-text classification of the project's ontology.", field="feature"
        )
    detail = _clean_detail(detail)
    user = actor_user(actor)
    with transaction.atomic():
        # one reporter at a time per task: the count below stays exact under concurrency
        Task.objects.select_for_update(of=("self",)).get(pk=task.pk)
        now = timezone.now()
        recent = list(
            InputEvent.objects.filter(
                project=project,
                data_row_id=task.data_row_id,
                user=user,
                created_at__gt=now - RATE_WINDOW,
            )
            .order_by("created_at")
            .values_list("created_at", flat=True)[:RATE_LIMIT]
        )
        if len(recent) >= RATE_LIMIT:
            wait = (recent[0] + RATE_WINDOW - now).total_seconds()
            raise Throttled(
                f"At most {RATE_LIMIT} input events per task a minute.",
                retry_after=math.ceil(wait),
            )
        return InputEvent.objects.create(
            workspace_id=task.workspace_id,
            project=project,
            data_row_id=task.data_row_id,
            user=user,
            kind=kind,
            feature_schema_id=feature,
            detail=detail,
        )
