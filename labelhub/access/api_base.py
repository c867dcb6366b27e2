"""The workspace-scoped API base. Every API view inherits it; a test walks the URLconf.

The base resolves the workspace from the authenticated context (the API key's workspace,
else the session's current workspace), rejects non-members with 404, checks the view's
``required_permissions`` through ``can`` on its target (the workspace, or the object a
subclass resolves in ``resolve_target``, e.g. the project of project endpoints), and
filters every queryset by workspace. Subclasses customise through hooks
(``scope_queryset``, ``resolve_target``, ``target_filters``) and may not override the
methods that enforce this: ``__init_subclass__`` refuses them at import time.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import QuerySet
from rest_framework.generics import GenericAPIView

from labelhub.access import mfa
from labelhub.access.authz import actor_user, can
from labelhub.access.models import ApiKey
from labelhub.access.permissions import Permission
from labelhub.core.audit import audit_record
from labelhub.core.errors import NotFound, PermissionDenied
from labelhub.core.ids import parse_id
from labelhub.workspaces.models import Workspace
from labelhub.workspaces.selectors import current_workspace_for

_SEALED = ("initial", "get_queryset", "get_object", "check_permissions", "dispatch")


class WorkspaceScopedView(GenericAPIView):
    """Base of every API view: workspace from context, 404 across workspaces, one check."""

    #: permission needed per HTTP method; ``None`` means "any member".
    required_permissions: ClassVar[dict[str, Permission | None]] = {}
    #: views about the user rather than a workspace (me, my workspaces) set this.
    workspace_optional: ClassVar[bool] = False
    #: field path from the model to its workspace.
    workspace_field: ClassVar[str] = "workspace"
    lookup_url_kwarg = "id"

    workspace: Workspace | None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        overridden = [name for name in _SEALED if name in cls.__dict__]
        if overridden:
            raise TypeError(
                f"{cls.__name__} overrides {', '.join(overridden)}; use the scope_queryset/"
                "resolve_target hooks so workspace scoping cannot be bypassed"
            )

    @property
    def actor(self) -> Any:
        """Who acts: the API key when the request carries one, else the signed-in user."""
        auth = getattr(self.request, "auth", None)
        return auth if isinstance(auth, ApiKey) else self.request.user

    def initial(self, request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # authentication, IsAuthenticated, throttles
        if isinstance(request.auth, ApiKey):
            self.workspace = request.auth.workspace  # a key works in its own workspace only
        else:
            self.workspace = current_workspace_for(request)
        if self.workspace is None and not self.workspace_optional:
            raise NotFound("You are not a member of any workspace.")
        if self.workspace is not None:
            permission = self.required_permissions.get(request.method, Permission.VIEW_WORKSPACE)
            if request.method == "OPTIONS":
                permission = Permission.VIEW_WORKSPACE
            target = self.resolve_target(kwargs)
            if permission is not None and not can(self.actor, permission, target):
                raise PermissionDenied()
            if permission in mfa.GUARDED_PERMISSIONS:  # 403 mfa_required; API keys are exempt
                mfa.api_check(request, self.workspace)

    # --- hooks -----------------------------------------------------------------------------
    def resolve_target(self, kwargs: dict[str, Any]) -> Any:
        """What the view's permission is checked on: the workspace (project views: the
        project, looked up inside the workspace; a hidden one answers 404)."""
        return self.workspace

    def target_filters(self) -> dict[str, Any]:
        """Extra filters every queryset gets (project views: ``project=self.project``)."""
        return {}

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        """Refine the already workspace-filtered queryset (select_related, filters)."""
        return queryset

    # --- sealed ----------------------------------------------------------------------------
    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no request
            return self.queryset.none() if self.queryset is not None else Workspace.objects.none()
        if self.queryset is None:
            raise TypeError(f"{type(self).__name__} has no queryset to scope")
        qs = self.queryset.all().filter(**{self.workspace_field: self.workspace})
        qs = qs.filter(**self.target_filters())
        return self.scope_queryset(qs)

    def get_object(self):
        pk = parse_id(self.kwargs.get(self.lookup_url_kwarg))
        obj = self.filter_queryset(self.get_queryset()).filter(pk=pk).first() if pk else None
        if obj is None:
            self.audit_if_foreign(pk)
            raise NotFound()
        return obj

    def audit_if_foreign(self, pk: Any, model: Any = None) -> None:
        """Record an attempt to reach another workspace's object (the answer stays 404)."""
        model = model or (self.queryset.model if self.queryset is not None else None)
        if pk is None or model is None or self.workspace is None:
            return
        field = (
            self.workspace_field if model is getattr(self.queryset, "model", None) else "workspace"
        )
        foreign = model.objects.filter(pk=pk).exclude(**{field: self.workspace})
        if foreign.exists():
            audit_record(
                workspace=self.workspace,
                actor=actor_user(self.actor),
                verb="access.cross_workspace_refused",
                target_type=model._meta.model_name,
                after={"id": str(pk), "method": self.request.method, "path": self.request.path},
            )
