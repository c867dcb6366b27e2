"""Every project gets the default workflow (Initial labeling → Initial review → Done, with
Rework), and every task the step its status stands for."""

import uuid

from django.db import migrations

STEPS = [
    ("label", "Initial labeling", 0),
    ("review", "Initial review", 1),
    ("rework", "Rework", 900),
    ("done", "Done", 1000),
]
STATUS_TO_KIND = {
    "to_label": "label",
    "in_review": "review",
    "in_rework": "rework",
    "done": "done",
    "skipped": "done",
}


def create_workflows(apps, schema_editor):
    """Default steps for each project; tasks put on the step of their status."""
    Project = apps.get_model("projects", "Project")
    Step = apps.get_model("labeling", "WorkflowStep")
    Task = apps.get_model("labeling", "Task")
    for project in Project.objects.all().iterator():
        steps = {}
        for kind, name, position in STEPS:
            steps[kind] = Step.objects.create(
                id=uuid.uuid4(),
                workspace_id=project.workspace_id,
                project=project,
                kind=kind,
                name=name,
                position=position,
            )
        for status, kind in STATUS_TO_KIND.items():
            Task.objects.filter(project=project, status=status).update(step=steps[kind])


def drop_workflows(apps, schema_editor):
    """Undo: tasks leave their steps, the steps go."""
    apps.get_model("labeling", "Task").objects.update(step=None)
    apps.get_model("labeling", "WorkflowStep").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("labeling", "0004_labeling_loop"),
        ("projects", "0006_review_score_threshold"),
    ]

    operations = [migrations.RunPython(create_workflows, drop_workflows)]
