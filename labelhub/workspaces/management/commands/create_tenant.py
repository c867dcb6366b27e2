"""``manage.py create_tenant``: first run for scripted installs."""

import getpass
import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from labelhub.accounts.models import User, normalize_email
from labelhub.accounts.services import user_create
from labelhub.core.errors import ApplicationError
from labelhub.workspaces.services import tenant_create


class Command(BaseCommand):
    help = "Create a tenant, its first workspace and a tenant admin."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="Tenant (organisation) name")
        parser.add_argument("--workspace", required=True, help="First workspace name")
        parser.add_argument("--admin-email", required=True, help="E-mail of the tenant admin")
        parser.add_argument("--admin-name", default="", help="Display name of the admin")
        parser.add_argument(
            "--password-stdin", action="store_true", help="Read the password from standard input"
        )

    def handle(self, *args, **opts):
        email = normalize_email(opts["admin_email"])
        existing = User.objects.filter(email=email).first()
        password = None
        if existing is None:
            if opts["password_stdin"]:
                password = sys.stdin.readline().rstrip("\n")
            else:
                password = getpass.getpass("Password for the tenant admin: ")
                if password != getpass.getpass("Password (again): "):
                    raise CommandError("The passwords differ.")
        try:
            with transaction.atomic():
                admin = existing or user_create(
                    email=email, password=password, name=opts["admin_name"]
                )
                tenant, workspace = tenant_create(
                    name=opts["name"], workspace_name=opts["workspace"], admin=admin
                )
        except ApplicationError as exc:
            detail = "; ".join(
                f"{field}: {' '.join(map(str, msgs))}" for field, msgs in exc.details.items()
            )
            raise CommandError(f"{exc.message} {detail}".strip()) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Created tenant {tenant.name!r} (id {tenant.pk}), workspace {workspace.name!r} "
                f"(id {workspace.pk}), tenant admin {admin.email}."
            )
        )
