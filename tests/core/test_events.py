"""Every live-event builder (each app's ``events.py``) makes a dict that survives a JSON
round trip unchanged: the channel layer and the browser receive exactly what was built."""

import importlib
import inspect
import json
import pkgutil

import pytest

import labelhub
from labelhub.access import events as access_events
from labelhub.core.jobs import JobState
from labelhub.imports import events as import_events
from labelhub.imports.models import ImportJob
from labelhub.labeling import events as labeling_events
from labelhub.labeling.models import Batch, Task
from labelhub.labeling.services.workflow import workflow_of
from labelhub.notifications import events as notification_events
from labelhub.notifications.models import Notification
from labelhub.projects import events as project_events
from labelhub.projects.models import DataRow, DataRowJob, Dataset, ProjectDeletion
from labelhub.workspaces.models import Membership, Role
from tests.factories import make_member, make_project, make_workspace

pytestmark = pytest.mark.django_db


def _builders():
    """Every public function of every app's events module."""
    found = {}
    for app in pkgutil.iter_modules(labelhub.__path__):
        try:
            module = importlib.import_module(f"labelhub.{app.name}.events")
        except ModuleNotFoundError:
            continue
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == module.__name__ and not name.startswith("_"):
                found[f"{app.name}.{name}"] = fn
    return found


@pytest.fixture
def calls(db):
    """One real call of each builder, on real rows (messages with quotes and accents)."""
    ws = make_workspace('Vision "Ünïcode"')
    user = make_member(ws, Role.REVIEWER, email="r@x.test")
    membership = Membership.objects.get(user=user)
    project = make_project(ws, "Street « scenes »")
    dataset = Dataset.objects.create(workspace=ws, name="Cams")
    job = ImportJob.objects.create(
        workspace=ws, project=project, name="model-v3", kind="prelabels", total=10, processed=4
    )
    upload = DataRowJob.objects.create(workspace=ws, dataset=dataset, total=5, processed=5)
    deletion = ProjectDeletion.objects.create(
        workspace=ws, project=project, project_name=project.name, state=JobState.RUNNING
    )
    row = DataRow.objects.create(
        workspace=ws, dataset=dataset, row_data="https://x.test/1.jpg", media_type="image"
    )
    batch = Batch.objects.create(workspace=ws, project=project, name="Batch « 1 »")
    task = Task.objects.create(
        workspace=ws, project=project, data_row=row, batch=batch, step=workflow_of(project).label
    )
    entry = Notification.objects.create(
        user=user,
        workspace=ws,
        kind="import.finished",
        subject="import_job:1",
        title="Import model-v3 finished",
        url="/projects/x/imports/y/",
    )
    return {
        "access.role_changed": lambda: access_events.role_changed(
            workspace=ws, membership=membership
        ),
        "access.membership_removed": lambda: access_events.membership_removed(workspace=ws),
        "imports.import_job_event": lambda: import_events.import_job_event(job, message="½ done"),
        "imports.import_job_created": lambda: import_events.import_job_created(job),
        "labeling.task_changed": lambda: labeling_events.task_changed(
            task, from_step=task.step_id, reason="skip limit « 5 »"
        ),
        "labeling.queue_changed": lambda: labeling_events.queue_changed(
            project.pk, {str(task.step_id): 1}
        ),
        "labeling.timer_tick": lambda: labeling_events.timer_tick(
            task,
            mode="label",
            timer={"seconds": 12.5, "counting": True, "state": "ok", "target": 60, "cutoff": None},
        ),
        "notifications.notification_created": lambda: notification_events.notification_created(
            entry, unread=3
        ),
        "notifications.notification_read": lambda: notification_events.notification_read(unread=0),
        "projects.data_row_job_event": lambda: project_events.data_row_job_event(
            upload, message="Upload finished."
        ),
        "projects.project_deletion_event": lambda: project_events.project_deletion_event(
            deletion, message="Project deleted."
        ),
    }


def test_every_builder_is_exercised(calls):
    assert sorted(calls) == sorted(_builders())


def test_every_event_survives_a_json_round_trip(calls):
    for name, call in calls.items():
        event = call()
        # No default= hook: a UUID, datetime or model instance in the dict would raise here.
        assert json.loads(json.dumps(event)) == event, name
        assert isinstance(event["type"], str) and "." in event["type"], name


def test_role_change_names_custom_roles_by_their_name(calls, db):
    from labelhub.access.models import CustomRole

    membership = Membership.objects.get(user__email="r@x.test")
    role = CustomRole.objects.create(
        workspace=membership.workspace, name="Ops", scope="workspace", permissions=["view_usage"]
    )
    membership.role, membership.custom_role = Role.CUSTOM, role
    event = access_events.role_changed(workspace=membership.workspace, membership=membership)
    assert (event["role"], event["role_label"]) == (str(role.pk), "Ops")
    assert event["message"] == 'Your role in Vision "Ünïcode" is now Ops.'
