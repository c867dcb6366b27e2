"""``manage.py seed_demo``: demo tenant, workspaces, people and history (idempotent).

The "Street cams" rows show local SVG drawings (``static/demo/street/street-NN.svg``,
written once by :func:`street_scene_svg`); the demo imports draw their pre-labels on the
cars, road and pedestrians of the same layout (:func:`street_scene`).
"""

import random
import uuid

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from labelhub.access import services as access
from labelhub.access.models import Group
from labelhub.access.services.api_keys import api_key_create
from labelhub.access.services.invitations import invitation_create
from labelhub.access.services.members import membership_add, membership_change_role
from labelhub.accounts.models import User
from labelhub.accounts.services import user_create
from labelhub.core.context import current_ip
from labelhub.demo.loop import seed_labeling_loop
from labelhub.imports.models import ImportJob
from labelhub.imports.services import import_job_create, import_job_run
from labelhub.labeling.services import batches
from labelhub.notifications.models import Notification
from labelhub.notifications.services import notification_mark_read
from labelhub.projects.models import DataRow, Dataset, MetadataField, Ontology, Project
from labelhub.projects.services import datasets as ds
from labelhub.projects.services import projects
from labelhub.projects.services.datasets import InputRow
from labelhub.projects.services.ontologies import ontology_create
from labelhub.projects.services.projects import project_settings_update
from labelhub.workspaces.models import Membership, Role, Tenant, Workspace
from labelhub.workspaces.services import tenant_create, workspace_create

DEMO_PASSWORD = "labelhub-demo-2026"
#: the address the demo's audit entries carry (seeding runs on this machine)
DEMO_ADDRESS = "127.0.0.1"
PEOPLE = [
    ("admin@demo.labelhub.local", "Ada Admin", Role.ADMIN),
    ("manager@demo.labelhub.local", "Max Manager", Role.TEAM_MANAGER),
    ("labeler1@demo.labelhub.local", "Lea Labeler", Role.LABELER),
    ("labeler2@demo.labelhub.local", "Leo Labeler", Role.LABELER),
]


#: the demo images' pixel size (``mediaAttributes`` of the rows, so overlays line up)
SCENE_SIZE = (640, 480)
#: the road: a trapezoid from the horizon (y=230) to the bottom edge
ROAD = [(210, 230), (430, 230), (640, 480), (0, 480)]
#: where cars may stand: (bottom y, centre x); a car's size grows with its bottom y
CAR_SLOTS = [(300, 250), (300, 400), (360, 200), (360, 450), (440, 150), (440, 480)]
CAR_COLOURS = ["#E03131", "#1C7ED6", "#F08C00", "#2F9E44", "#7048E8", "#F8F9FA", "#212529"]
IMPORT_NAMESPACE = uuid.UUID("6f1c2b8e-3d5a-4e7b-9c10-4a5b6c7d8e9f")


def street_scene(n: int) -> dict:
    """The layout of demo image ``n`` (1…24): night or day, buildings, 2–4 cars as boxes
    ``(left, top, width, height, colour)``, a pedestrian's centre and a sign. Deterministic."""
    rng = random.Random(n)  # noqa: S311 -- a fixed demo layout, not a secret
    cars = []
    for bottom, centre in sorted(rng.sample(CAR_SLOTS, 2 + n % 3)):
        scale = 0.5 + (bottom - 230) / 250 * 0.7
        width, height = round(150 * scale), round(70 * scale)
        left = centre + rng.randint(-15, 15) - width // 2
        cars.append((left, bottom - height, width, height, rng.choice(CAR_COLOURS)))
    buildings, x = [], 0
    while x < 640:
        width = rng.randint(70, 150)
        top = rng.randint(70, 180)
        buildings.append((x, top, width, rng.choice(["#868E96", "#ADB5BD", "#A5998A", "#9C8B7A"])))
        x += width
    left_side = n % 2 == 0
    return {
        "night": n % 6 == 0,
        "buildings": buildings,
        "cars": cars,
        "pedestrian": (rng.randint(60, 110) if left_side else rng.randint(530, 580), 310),
        "sign": (590 if left_side else 40, rng.choice(["stop", "parking"])),
    }


def street_scene_svg(n: int) -> str:
    """The SVG of demo image ``n`` (what ``static/demo/street/street-NN.svg`` holds)."""
    scene = street_scene(n)
    night = scene["night"]
    out = [
        '<svg xmlns="http://www.w3.org/2000/svg" width="640" height="480" viewBox="0 0 640 480">',
        f"<title>Street cam {n:02d}</title>",
        f'<rect width="640" height="230" fill="{"#1B2440" if night else "#A5D8FF"}"/>',
    ]
    if night:
        out.append('<circle cx="560" cy="50" r="18" fill="#FFF3BF"/>')
    else:
        out.append('<circle cx="80" cy="55" r="26" fill="#FFD43B"/>')
    for x, top, width, colour in scene["buildings"]:
        out.append(
            f'<rect x="{x}" y="{top}" width="{width}" height="{230 - top}" fill="{colour}"/>'
        )
    out.append(
        f'<rect y="230" width="640" height="250" fill="{"#5C6B5C" if night else "#B2BDB2"}"/>'
    )
    points = " ".join(f"{x},{y}" for x, y in ROAD)
    out.append(f'<polygon points="{points}" fill="{"#343A40" if night else "#595F66"}"/>')
    out.append(
        '<path d="M320 235V480" stroke="#F8F9FA" stroke-width="6" stroke-dasharray="24 18"/>'
    )
    x, kind = scene["sign"]
    out.append(f'<rect x="{x - 3}" y="190" width="6" height="120" fill="#495057"/>')
    if kind == "stop":
        out.append(
            f'<circle cx="{x}" cy="180" r="20" fill="#E03131" stroke="#FFF" stroke-width="3"/>'
        )
    else:
        out.append(f'<rect x="{x - 18}" y="162" width="36" height="36" rx="4" fill="#1C7ED6"/>')
        out.append(
            f'<text x="{x}" y="190" font-size="28" font-family="sans-serif" fill="#FFF" '
            'text-anchor="middle">P</text>'
        )
    px, py = scene["pedestrian"]
    out.append(f'<circle cx="{px}" cy="{py - 30}" r="8" fill="#F1C27D"/>')
    out.append(f'<rect x="{px - 7}" y="{py - 22}" width="14" height="24" rx="4" fill="#2B8A3E"/>')
    out.append(f'<rect x="{px - 6}" y="{py + 2}" width="12" height="16" fill="#343A40"/>')
    for left, top, width, height, colour in scene["cars"]:
        wheel_w, wheel_h = round(width * 0.2), round(height * 0.25)
        out.append(
            f'<rect x="{left}" y="{top}" width="{width}" height="{round(height * 0.85)}" '
            f'rx="8" fill="{colour}" stroke="#212529" stroke-width="2"/>'
        )
        out.append(
            f'<rect x="{left + round(width * 0.2)}" y="{top + round(height * 0.1)}" '
            f'width="{round(width * 0.6)}" height="{round(height * 0.3)}" fill="#D0EBFF"/>'
        )
        for wheel_x in (left + round(width * 0.08), left + width - round(width * 0.08) - wheel_w):
            out.append(
                f'<rect x="{wheel_x}" y="{top + height - wheel_h}" width="{wheel_w}" '
                f'height="{wheel_h}" fill="#212529"/>'
            )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def street_image_url(n: int) -> str:
    """Site-relative URL of demo image ``n`` (served by WhiteNoise / the static finders)."""
    return f"/{settings.STATIC_URL.strip('/')}/demo/street/street-{n:02d}.svg"


class Command(BaseCommand):
    help = (
        "Load demo data: a tenant, two workspaces, an admin, a manager, two labelers, "
        "datasets, projects, label imports and two weeks of labeling work."
    )

    def handle(self, *args, **opts):
        # The demo's history is written as if its people had worked on this machine; without
        # a request its audit entries would carry no address at all.
        token = current_ip.set(DEMO_ADDRESS)
        try:
            self._handle()
        finally:
            current_ip.reset(token)

    def _handle(self) -> None:
        if Tenant.objects.filter(name="Demo Labs").exists():
            self.stdout.write("Demo data already present.")
        else:
            with transaction.atomic():
                self._seed()
                self._seed_projects()
        # Outside the block above: also adds the imports to data seeded by an older version.
        self._seed_imports()
        # Two weeks of labeling, once, after the imports (the rows keep their pre-labels).
        loop = seed_labeling_loop()
        if loop == "written":
            self.stdout.write("Demo labeling history written (the last 14 days).")
        elif loop == "skipped":
            self.stdout.write(
                "Demo labeling history skipped: the demo projects were worked on already."
            )
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
                                {
                                    "type": "radio",
                                    "name": "Occluded",
                                    "options": [
                                        # nested questions under an option: the editor
                                        # shows them once "Yes" is chosen
                                        {
                                            "value": "yes",
                                            "label": "Yes",
                                            "options": [
                                                {
                                                    "type": "radio",
                                                    "name": "How much",
                                                    "options": [
                                                        {"value": "partly", "label": "Partly"},
                                                        {"value": "mostly", "label": "Mostly"},
                                                    ],
                                                },
                                                {"type": "text", "name": "Hidden by"},
                                            ],
                                        },
                                        {"value": "no", "label": "No"},
                                    ],
                                }
                            ],
                        },
                        {"tool": "polygon", "name": "Road", "color": "#4C6EF5"},
                        {"tool": "point", "name": "Pedestrian", "color": "#40C057"},
                        {"tool": "line", "name": "Lane marking", "color": "#FCC419"},
                        {"tool": "edge", "name": "Follows", "color": "#E64980"},
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
                        {"tool": "edge", "name": "Paid on", "color": "#12B886"},
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
                # Receipts' second week is a consensus batch: two labels a row.
                consensus = {"consensus_coverage": 100} if project is receipts else {}
                batches.batch_create(
                    project=project,
                    actor=admin,
                    name="Week 2",
                    priority=5,
                    dataset={"dataset": str(dataset.pk), "sample": "all"},
                    **consensus,
                )
        # The tasks move on with the labeling work (``labelhub.demo.loop``).

    def _seed_datasets(self, vision, text, admin) -> None:
        """Vision: "Street cams" (24 local SVG images) and "Receipts" (12 inline texts),
        with global keys and metadata; a custom enum field "camera"."""
        from datetime import UTC, datetime, timedelta

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
                        # a valid URL for the service; rewritten to the local image below
                        "row_data": f"https://demo.labelhub.invalid/street-{n:02d}.svg",
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
            if name == "Street cams":
                # The service takes only absolute http(s) URLs; the demo images are served
                # by this site, so the rows get a site-relative URL and the image size.
                width, height = SCENE_SIZE
                for row in DataRow.objects.filter(dataset=dataset).only("pk", "metadata"):
                    n = int(row.global_key.rsplit("-", 1)[1])
                    meta = {**row.metadata, "mediaAttributes": {"width": width, "height": height}}
                    DataRow.objects.filter(pk=row.pk).update(
                        row_data=street_image_url(n), metadata=meta
                    )

    # --- Label imports ------------------------------------------------------------------------

    def _seed_imports(self) -> None:
        """Label imports through the real service, each skipped when a job of its name exists:
        on "Street scenes" model pre-labels v1 (with 3 invalid lines), v2 (onto rows holding
        v1's, so it warns) and a dry run; on "Receipts" reviewed ground truth (4 rows Done).
        Each job notifies the admin; the dry run's notification is read, the others not."""

        admin = User.objects.filter(email=PEOPLE[0][0]).first()
        projects = {
            p.name: p
            for p in Project.objects.filter(
                workspace__tenant__name="Demo Labs",
                workspace__name="Vision",
                name__in=["Street scenes", "Receipts"],
                ontology__isnull=False,
            )
        }
        if admin is None:
            return
        streets = projects.get("Street scenes")
        if streets is not None:
            self._import(
                streets,
                admin,
                "Model v1 pre-labels",
                "prelabels",
                self._model_v1_lines(),
                before=lambda: self._prelabel_threshold(streets, admin),
            )
            self._import(streets, admin, "Model v2 pre-labels", "prelabels", self._model_v2_lines())
            dry = self._import(
                streets,
                admin,
                "Model v3 pre-labels (dry run)",
                "prelabels",
                self._model_v3_lines(),
                dry_run=True,
            )
            if dry is not None:
                read = Notification.objects.filter(user=admin, subject=f"import_job:{dry.pk}")
                notification_mark_read(
                    user=admin, ids=[str(pk) for pk in read.values_list("pk", flat=True)]
                )
        receipts = projects.get("Receipts")
        if receipts is not None:
            texts = dict(
                DataRow.objects.filter(
                    workspace_id=receipts.workspace_id,
                    global_key__in=[f"receipt-{n:03d}" for n in range(1, 5)],
                ).values_list("global_key", "row_data")
            )
            self._import(
                receipts, admin, "Reviewed receipts", "ground_truth", self._receipt_lines(texts)
            )

    def _import(self, project, admin, name, kind, lines, *, dry_run=False, before=None):
        """Create and run one import job unless the project has one of that name; the new
        job, or None when it existed already."""

        if not lines or ImportJob.objects.filter(project=project, name=name).exists():
            return None
        with transaction.atomic():
            if before is not None:
                before()
            job = import_job_create(
                project=project, actor=admin, name=name, kind=kind, payload=lines, dry_run=dry_run
            )
            # The queued task runs once this commits (eagerly in the demo); run it here so the
            # job is finished either way (a finished job is left alone by the task).
            return import_job_run(workspace_id=project.workspace_id, job_id=job.pk)

    @staticmethod
    def _prelabel_threshold(project, admin) -> None:

        project_settings_update(project=project, actor=admin, prelabel_confidence_threshold=0.5)

    @staticmethod
    def _line(job: str, key: str, i: int, name: str, **annotation) -> dict:
        return {
            "uuid": str(uuid.uuid5(IMPORT_NAMESPACE, f"{job}/{key}/{i}")),
            "dataRow": {"globalKey": key},
            "name": name,
            **annotation,
        }

    def _car_line(self, job: str, key: str, i: int, car, confidence: float, occluded: bool):
        left, top, width, height, _ = car
        return self._line(
            job,
            key,
            i,
            "Car",
            bbox={"top": top, "left": left, "height": height, "width": width},
            confidence=confidence,
            classifications=[{"name": "Occluded", "answer": {"name": "yes" if occluded else "no"}}],
        )

    def _model_v1_lines(self) -> list:
        """Rows street-cam-004…013: up to 3 cars each, a pedestrian on even rows and the road
        on every third (2–4 objects a row), confidences 0.35–0.98; the weather on 2 rows;
        then 3 invalid lines (a misspelt tool, a negative width, an unknown global key)."""
        lines = []
        for n in range(4, 14):
            key, scene, rng = f"street-cam-{n:03d}", street_scene(n), random.Random(1000 + n)  # noqa: S311
            objects = [
                self._car_line("v1", key, i, car, round(rng.uniform(0.35, 0.98), 2), i == 2)
                for i, car in enumerate(scene["cars"][:3])
            ]
            if n % 2 == 0:
                x, y = scene["pedestrian"]
                objects.append(
                    self._line(
                        "v1",
                        key,
                        10,
                        "Pedestrian",
                        point={"x": x, "y": y - 15},
                        confidence=round(rng.uniform(0.35, 0.98), 2),
                    )
                )
            if n % 3 == 0:
                objects.append(
                    self._line(
                        "v1",
                        key,
                        11,
                        "Road",
                        polygon=[{"x": x, "y": y} for x, y in ROAD],
                        confidence=round(rng.uniform(0.35, 0.98), 2),
                    )
                )
            lines += objects[:4]
            if n in (4, 6):
                weather = "sunny" if n == 4 else "fog"
                lines.append(self._line("v1", key, 20, "Weather", answer=[{"name": weather}]))
        box = {"top": 300, "left": 200, "height": 60, "width": 120}
        lines += [
            self._line("v1", "street-cam-005", 30, "Cra", bbox=box, confidence=0.9),
            self._line(
                "v1", "street-cam-007", 31, "Car", bbox={**box, "width": -40}, confidence=0.8
            ),
            self._line("v1", "street-cam-999", 32, "Car", bbox=box, confidence=0.7),
        ]
        return lines

    def _model_v2_lines(self) -> list:
        """A retrained model's cars on street-cam-004 (2) and -005 (1), rows that already
        hold v1's pre-labels: each line is imported with a warning."""
        lines = []
        for n, count in ((4, 2), (5, 1)):
            key = f"street-cam-{n:03d}"
            for i, car in enumerate(street_scene(n)["cars"][:count]):
                lines.append(self._car_line("v2", key, i, car, 0.95 - 0.03 * i, False))
        return lines

    def _model_v3_lines(self) -> list:
        """A trial run of a third model on street-cam-014…016 (dry run: nothing written)."""
        return [
            self._car_line("v3", f"street-cam-{n:03d}", i, car, 0.9, False)
            for n in range(14, 17)
            for i, car in enumerate(street_scene(n)["cars"][:2])
        ]

    def _receipt_lines(self, texts: dict) -> list:
        """The date and the total of receipts 1–4, located in each row's own text."""
        lines = []
        for key, text in sorted(texts.items()):
            for i, (name, needle) in enumerate((("Date", "2026-10-"), ("Total", "TOTAL "))):
                start = text.find(needle)
                if start < 0:
                    continue
                if name == "Total":  # the amount after the word
                    start += len(needle)
                    end = text.find(" ", start)
                else:
                    end = start + len("2026-10-01")
                if 0 <= start < end <= len(text):
                    lines.append(
                        self._line("gt", key, i, name, location={"start": start, "end": end})
                    )
        return lines
