"""The workspaces app: tenants, workspaces, memberships (the rows), switching, first run."""

from django.apps import AppConfig


class WorkspacesConfig(AppConfig):
    """Answers the accounts app's hooks (first run done? which workspace?) and picks the
    workspace a sign-in starts in."""

    name = "labelhub.workspaces"
    label = "workspaces"

    def ready(self) -> None:
        """Register the answers with ``accounts.hooks``; start every sign-in somewhere."""
        from django.contrib.auth.signals import user_logged_in

        from labelhub.accounts import hooks
        from labelhub.workspaces.models import Tenant
        from labelhub.workspaces.selectors import current_workspace_for
        from labelhub.workspaces.services import session_start

        hooks.register_installed_check(lambda: Tenant.objects.exists())
        hooks.register_request_workspace(current_workspace_for)

        # Every way in (password, second factor, invitation, first run) goes through
        # Django's login(); the pages that enter a workspace themselves overwrite it after.
        def start_in_workspace(sender, request, user, **kwargs) -> None:
            if request is not None and getattr(request, "session", None) is not None:
                session_start(session=request.session, user=user)

        user_logged_in.connect(
            start_in_workspace, weak=False, dispatch_uid="workspaces.session_start"
        )
