"""The console's page base: the API base's twin for server-rendered pages.

Every workspace page inherits ``ConsoleView`` (a test walks the console URLconf and
fails on a page outside it, apart from the public ones it lists). The base signs the
visitor in, takes the workspace from the session, resolves the page's target (the
workspace, or an object a subclass finds with ``access_<entity>`` in ``resolve_target``:
a missing or foreign one answers 404), checks ``required_permissions`` for the method
through ``can``, and applies the workspace's admin two-factor rule. ``dispatch`` is
sealed: ``__init_subclass__`` refuses a page that overrides it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import render

from labelhub.access import mfa
from labelhub.access.authz import can
from labelhub.access.permissions import Permission
from labelhub.core.errors import NotFound, PermissionDenied
from labelhub.core.views import error_page
from labelhub.workspaces.selectors import current_workspace_for


class ConsoleView(LoginRequiredMixin):
    """Console page in the current workspace; ``required_permissions`` guard its methods."""

    #: permission needed per HTTP method (missing methods: view the workspace)
    required_permissions: ClassVar[dict[str, Permission | None]] = {}
    #: what the page's POST actions need when more than their gate (the services check
    #: it; here it decides whether the admin two-factor rule applies to them)
    write_permission: ClassVar[Permission | None] = None
    #: pages about the user rather than a workspace (notifications) work without one;
    #: they may require no permission
    workspace_optional: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "dispatch" in cls.__dict__:
            raise TypeError(
                f"{cls.__name__} overrides dispatch; use resolve_target so the workspace, "
                "the object and the permission are checked for every page"
            )
        if cls.workspace_optional and any(cls.required_permissions.values()):
            raise TypeError(f"{cls.__name__} needs no workspace, so it may require no permission")

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.workspace = current_workspace_for(request)
        if self.workspace is None:
            if self.workspace_optional:
                return super().dispatch(request, *args, **kwargs)
            return render(request, "console/no_workspace.html", status=404)
        denied = (
            "You do not have access to this page."
            if request.method in {"GET", "HEAD"}
            else "You do not have permission to perform this action."
        )
        try:
            target = self.resolve_target(kwargs)
        except NotFound as exc:
            return error_page(request, 404, exc.message)
        except PermissionDenied:
            return error_page(request, 403, denied)
        permission = self.required_permissions.get(request.method, Permission.VIEW_WORKSPACE)
        if permission is not None and not can(request.user, permission, target):
            return error_page(request, 403, denied)
        guarded = permission
        if request.method == "POST" and self.write_permission is not None:
            guarded = self.write_permission
        if guarded in mfa.GUARDED_PERMISSIONS:
            response = mfa.console_redirect(request, self.workspace)
            if response is not None:
                return response
        return super().dispatch(request, *args, **kwargs)

    def resolve_target(self, kwargs: dict[str, Any]) -> Any:
        """What the page's permission is checked on: the workspace, or (subclasses) an
        object found inside it with ``access_<entity>`` (NotFound: 404; PermissionDenied:
        403)."""
        return self.workspace
