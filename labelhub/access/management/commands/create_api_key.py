"""``manage.py create_api_key``: print a new API key for an existing member (scripted installs)."""

from django.core.management.base import BaseCommand, CommandError

from labelhub.access.services.api_keys import api_key_create
from labelhub.accounts.models import User, normalize_email
from labelhub.core.errors import ApplicationError
from labelhub.core.ids import parse_id
from labelhub.workspaces.models import Workspace


class Command(BaseCommand):
    help = "Create an API key for a member of a workspace and print it (shown once)."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True, help="The member's e-mail")
        parser.add_argument("--workspace", required=True, help="Workspace name or id")
        parser.add_argument("--name", default="Command-line key", help="The key's name")

    def handle(self, *args, **opts):
        user = User.objects.filter(email=normalize_email(opts["email"])).first()
        if user is None:
            raise CommandError(f"No user with e-mail {opts['email']}.")
        ws_id = parse_id(opts["workspace"])
        workspaces = Workspace.objects.filter(memberships__user=user)
        workspace = (
            workspaces.filter(pk=ws_id).first()
            if ws_id
            else workspaces.filter(name__iexact=opts["workspace"]).first()
        )
        if workspace is None:
            wanted = opts["workspace"]
            raise CommandError(f"{user.email} is not a member of a workspace {wanted!r}.")
        try:
            key, secret = api_key_create(workspace=workspace, actor=user, name=opts["name"])
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(secret)
        self.stderr.write(
            f"Created key {key.prefix} ({key.name}) for {user.email} in {workspace.name}."
        )
