"""The workspaces app: tenants, workspaces, memberships (the rows), switching, first run."""

from django.apps import AppConfig


class WorkspacesConfig(AppConfig):
    """Answers the accounts app's hooks (first run done? which workspace?)."""

    name = "labelhub.workspaces"
    label = "workspaces"

    def ready(self) -> None:
        """Register the answers with ``accounts.hooks``."""
        from labelhub.accounts import hooks
        from labelhub.workspaces.models import Tenant
        from labelhub.workspaces.selectors import current_workspace_for

        hooks.register_installed_check(lambda: Tenant.objects.exists())
        hooks.register_request_workspace(current_workspace_for)
