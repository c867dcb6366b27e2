"""``manage.py seed_demo``: demo tenant, workspaces, people and history (idempotent)."""

from django.core.management.base import BaseCommand
from django.db import transaction

from labelhub.accounts.models import User
from labelhub.accounts.services import invitation_create, user_create
from labelhub.workspaces.models import Membership, Role, Tenant
from labelhub.workspaces.services import (
    membership_add,
    membership_change_role,
    tenant_create,
    workspace_create,
)

DEMO_PASSWORD = "labelhub-demo-2026"
PEOPLE = [
    ("admin@demo.labelhub.local", "Ada Admin", Role.ADMIN),
    ("manager@demo.labelhub.local", "Max Manager", Role.TEAM_MANAGER),
    ("labeler1@demo.labelhub.local", "Lea Labeler", Role.LABELER),
    ("labeler2@demo.labelhub.local", "Leo Labeler", Role.LABELER),
]


class Command(BaseCommand):
    help = "Load demo data: a tenant, two workspaces, an admin, a manager, two labelers."

    def handle(self, *args, **opts):
        if Tenant.objects.filter(name="Demo Labs").exists():
            self.stdout.write("Demo data already present.")
        else:
            with transaction.atomic():
                self._seed()
                self._seed_projects()
        self.stdout.write(self.style.SUCCESS(f"Demo accounts (password: {DEMO_PASSWORD}):"))
        for email, name, role in PEOPLE:
            self.stdout.write(f"  {email:32} {name:14} {Role(role).label}")

    def _seed(self) -> None:
        users = {
            email: user_create(email=email, password=DEMO_PASSWORD, name=name)
            for email, name, _ in PEOPLE
        }
        admin = users[PEOPLE[0][0]]
        _, vision = tenant_create(name="Demo Labs", workspace_name="Vision", admin=admin)
        text = workspace_create(tenant=vision.tenant, actor=admin, name="Text & Documents")
        for email, _, role in PEOPLE[1:]:
            membership_add(workspace=vision, user=users[email], role=role, actor=admin)
        # The second workspace has a smaller team, so switching shows a difference.
        membership_add(workspace=text, user=users[PEOPLE[1][0]], role=Role.ADMIN, actor=admin)
        membership_add(workspace=text, user=users[PEOPLE[2][0]], role=Role.REVIEWER, actor=admin)
        # Some history for the audit log and the invitations page.
        m = Membership.objects.get(workspace=vision, user=users[PEOPLE[3][0]])
        membership_change_role(workspace=vision, actor=admin, membership=m, role=Role.REVIEWER)
        membership_change_role(workspace=vision, actor=admin, membership=m, role=Role.LABELER)
        invitation_create(
            workspace=vision,
            actor=admin,
            email="new.labeler@demo.labelhub.local",
            role=Role.LABELER,
        )
        self._seed_access(vision, admin, users)
        self._seed_ontologies(vision, admin)
        invitation_create(
            workspace=text, actor=admin, email="reviewer@demo.labelhub.local", role=Role.REVIEWER
        )
        self._seed_datasets(vision, text, admin)

    def _seed_access(self, vision, admin, users) -> None:
        """Custom roles, a group working on a project, an API key."""
        from labelhub.access import services as access
        from labelhub.accounts.services import api_key_create

        access.custom_role_create(
            workspace=vision,
            actor=admin,
            name="Ops Analyst",
            scope="workspace",
            permissions=["view_audit_log", "view_usage", "view_monitor"],
            description="Reads usage, Monitor and the audit log; changes nothing.",
        )
        senior = access.custom_role_create(
            workspace=vision,
            actor=admin,
            name="Senior Reviewer",
            scope="project",
            permissions=["view_project", "review", "view_quality_scores", "comment_on_issues"],
        )
        vendors = access.group_create(
            workspace=vision,
            actor=admin,
            name="Vendors",
            default_role=str(senior.pk),
            description="External labeling team",
            colour="#F76707",
        )
        for email, _, _ in PEOPLE[2:]:
            access.group_add_member(
                workspace=vision, actor=admin, group=vendors, user_id=users[email].pk
            )
        api_key_create(workspace=vision, actor=admin, name="Demo CI pipeline")

    def _seed_ontologies(self, vision, admin) -> None:
        """Two ontologies: street objects (nested, 3 levels) and receipt fields (text)."""
        from labelhub.projects.models import Ontology
        from labelhub.projects.services.ontologies import ontology_create

        def yes_no():
            return [{"value": "yes", "label": "Yes"}, {"value": "no", "label": "No"}]

        demo = {
            "Street objects": {
                "description": "Vehicles, roads and people in street scenes.",
                "media_type": "image",
                "ontology": {
                    "tools": [
                        {
                            "tool": "rectangle",
                            "name": "Car",
                            "color": "#FF6B6B",
                            "classifications": [
                                {"type": "radio", "name": "Occluded", "options": yes_no()}
                            ],
                        },
                        {"tool": "polygon", "name": "Road", "color": "#4C6EF5"},
                        {"tool": "point", "name": "Pedestrian", "color": "#40C057"},
                    ],
                    "classifications": [
                        {
                            "type": "checklist",
                            "name": "Weather",
                            "scope": "global",
                            "options": [{"value": v} for v in ("sunny", "rain", "fog", "snow")],
                        }
                    ],
                },
            },
            "Receipt fields": {
                "description": "Entities to mark on scanned receipts' text.",
                "media_type": "text",
                "ontology": {
                    "tools": [
                        {"tool": "named-entity", "name": "Total", "color": "#FAB005"},
                        {"tool": "named-entity", "name": "Date", "color": "#BE4BDB"},
                    ],
                    "classifications": [{"type": "text", "name": "Notes"}],
                },
            },
        }
        for name, spec in demo.items():
            if not Ontology.objects.filter(workspace=vision, name=name).exists():
                ontology_create(workspace=vision, actor=admin, name=name, **spec)

    def _seed_projects(self) -> None:
        """Projects with tags, instructions, a group, batches from the demo datasets, and
        tasks spread over the statuses so the overview has something to show."""
        from labelhub.access import services as access
        from labelhub.access.models import Group
        from labelhub.projects.models import Dataset, Ontology, Task
        from labelhub.projects.services import batches, projects
        from labelhub.workspaces.models import Workspace

        vision = Workspace.objects.get(name="Vision", tenant__name="Demo Labs")
        admin = User.objects.get(email=PEOPLE[0][0])
        cars = projects.tag_create(workspace=vision, actor=admin, name="cars", colour="#1C7ED6")
        urgent = projects.tag_create(workspace=vision, actor=admin, name="urgent", colour="#E03131")
        ontologies = {o.name: o for o in Ontology.objects.filter(workspace=vision)}
        streets = projects.project_create(
            workspace=vision,
            actor=admin,
            name="Street scenes",
            media_type="image",
            description="Boxes around cars and pedestrians in city traffic cameras.",
            ontology=str(ontologies["Street objects"].pk)
            if "Street objects" in ontologies
            else None,
            tags=[str(cars.pk), str(urgent.pk)],
        )
        receipts = projects.project_create(
            workspace=vision,
            actor=admin,
            name="Receipts",
            media_type="text",
            description="Totals and dates in scanned receipts.",
            ontology=str(ontologies["Receipt fields"].pk)
            if "Receipt fields" in ontologies
            else None,
        )
        projects.instructions_update(
            project=streets,
            actor=admin,
            kind="markdown",
            text="# Street scenes\n\nDraw tight boxes around every car; mark occluded cars.",
        )
        projects.project_settings_update(
            project=streets,
            actor=admin,
            enforce_instructions=True,
            timer_target_seconds=90,
            timer_cutoff_seconds=300,
        )
        vendors = Group.objects.filter(workspace=vision, name="Vendors").first()
        if vendors is not None:
            access.project_grant_set(
                workspace=vision, actor=admin, project=streets, group=vendors, role=None
            )
        for project, dataset_name in ((streets, "Street cams"), (receipts, "Receipts")):
            dataset = Dataset.objects.filter(workspace=vision, name=dataset_name).first()
            if dataset is None:
                continue
            total = dataset.data_rows.filter(media_type=project.media_type).count()
            first = max(1, total * 2 // 3)
            batches.batch_create(
                project=project,
                actor=admin,
                name="Week 1",
                priority=3,
                dataset={"dataset": str(dataset.pk), "sample": "first", "count": first},
            )
            if total > first:
                batches.batch_create(
                    project=project,
                    actor=admin,
                    name="Week 2",
                    priority=5,
                    dataset={"dataset": str(dataset.pk), "sample": "all"},
                )
        # Spread the first tasks over the statuses (labels arrive with the labeling work).
        spread = ["done", "done", "done", "in_review", "in_review", "in_rework", "skipped"]
        for task, status in zip(
            Task.objects.filter(project=streets).order_by("id"), spread, strict=False
        ):
            Task.objects.filter(pk=task.pk).update(status=status, labeled=status != "skipped")

    def _seed_datasets(self, vision, text, admin) -> None:
        """Vision: "Street cams" (24 image URLs, never fetched by tests) and "Receipts" (12
        inline texts), with global keys and metadata; a custom enum field "camera"."""
        from datetime import UTC, datetime, timedelta

        from labelhub.projects.models import Dataset, MetadataField
        from labelhub.projects.services import datasets as ds
        from labelhub.projects.services.datasets import InputRow

        if not MetadataField.objects.filter(workspace=vision, name="camera").exists():
            ds.metadata_field_create(
                workspace=vision,
                actor=admin,
                name="camera",
                kind="enum",
                options=["north", "south"],
            )
        splits = ["train", "train", "train", "valid", "test"]
        start = datetime(2026, 10, 1, 6, 0, tzinfo=UTC)
        demo = {
            "Street cams": (
                "Traffic camera stills from two junctions.",
                [
                    {
                        "row_data": f"https://picsum.photos/seed/{n}/640/480",
                        "media_type": "image",
                        "global_key": f"street-cam-{n:03d}",
                        "external_id": f"CAM{1 + n % 2}-{n:04d}",
                        "metadata": {
                            "split": splits[n % len(splits)],
                            "tag": "night" if n % 6 == 0 else "day",
                            "captureDateTime": (start + timedelta(hours=7 * n)).isoformat(),
                            "camera": "north" if n % 2 else "south",
                        },
                    }
                    for n in range(1, 25)
                ],
            ),
            "Receipts": (
                "Till receipts typed out as text.",
                [
                    {
                        "row_data": (
                            f"CORNER SHOP #{n:02d}\n2026-10-{n:02d}\n"
                            f"{n} x Coffee 2.40\nTOTAL {n * 2.40:.2f} EUR"
                        ),
                        "media_type": "text",
                        "global_key": f"receipt-{n:03d}",
                        "metadata": {"split": splits[n % len(splits)], "tag": "till"},
                    }
                    for n in range(1, 13)
                ],
            ),
        }
        for name, (description, rows) in demo.items():
            if Dataset.objects.filter(workspace=vision, name=name).exists():
                continue
            dataset = ds.dataset_create(
                workspace=vision, actor=admin, name=name, description=description
            )
            ds.data_rows_create(
                workspace=vision,
                actor=admin,
                dataset=dataset,
                rows=[InputRow(i, row) for i, row in enumerate(rows, start=1)],
            )
