"""``manage.py seed_demo``: demo tenant, workspaces, people and history (idempotent)."""

from django.core.management.base import BaseCommand
from django.db import transaction

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
        invitation_create(
            workspace=text, actor=admin, email="reviewer@demo.labelhub.local", role=Role.REVIEWER
        )

    def _seed_access(self, vision, admin, users) -> None:
        """Custom roles, a group working on a project, an API key."""
        from labelhub.access import services as access
        from labelhub.accounts.services import api_key_create
        from labelhub.projects.models import Project

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
        # Minimal projects until the projects capability fills them with data.
        streets = Project.objects.create(workspace=vision, name="Street scenes")
        Project.objects.create(workspace=vision, name="Receipts")
        access.project_grant_set(
            workspace=vision, actor=admin, project=streets, group=vendors, role=None
        )
        api_key_create(workspace=vision, actor=admin, name="Demo CI pipeline")
