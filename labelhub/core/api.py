"""The workspace-scoped API base. Every API view inherits it; a test walks the URLconf.

The base resolves the workspace from the authenticated context (the session's current
workspace; API keys arrive with the access app), rejects non-members with 404, checks
the view's ``required_permissions`` through ``can``, and filters every queryset by
workspace. Subclasses customise through hooks (``scope_queryset``) and may not override
the methods that enforce this: ``__init_subclass__`` refuses them at import time.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import QuerySet
from rest_framework import serializers
from rest_framework.generics import GenericAPIView

from labelhub.access.authz import can
from labelhub.access.permissions import Permission
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
    #: URL kwarg naming the project for project endpoints; their permissions are checked
    #: on that project (grants included), and ``self.project`` is set.
    project_url_kwarg: ClassVar[str | None] = None

    workspace: Workspace | None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        overridden = [name for name in _SEALED if name in cls.__dict__]
        if overridden:
            raise TypeError(
                f"{cls.__name__} overrides {', '.join(overridden)}; use the scope_queryset/"
                "get_object_from hooks so workspace scoping cannot be bypassed"
            )

    @property
    def actor(self) -> Any:
        """Who acts: the API key when the request carries one, else the signed-in user."""
        from labelhub.accounts.models import ApiKey

        auth = getattr(self.request, "auth", None)
        return auth if isinstance(auth, ApiKey) else self.request.user

    def initial(self, request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # authentication, IsAuthenticated, throttles
        from labelhub.accounts.models import ApiKey

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
            target = self.workspace
            if self.project_url_kwarg is not None:
                # Project endpoints: the project is looked up inside the workspace, and one
                # the actor may not view answers 404 exactly like a missing one.
                self.project = self._resolve_project(kwargs.get(self.project_url_kwarg))
                target = self.project
            if permission is not None and not can(self.actor, permission, target):
                raise PermissionDenied()
            from labelhub.accounts import mfa

            if permission in mfa.GUARDED_PERMISSIONS:  # 403 mfa_required; API keys are exempt
                mfa.api_check(request, self.workspace)

    def _resolve_project(self, raw_id: Any):
        from labelhub.projects.models import Project

        project = (
            Project.objects.select_related("workspace", "ontology")
            .filter(workspace=self.workspace, pk=parse_id(raw_id), deleting_since__isnull=True)
            .first()
        )
        if project is None or not can(self.actor, Permission.VIEW_PROJECT, project):
            if project is None:
                self._audit_if_foreign(parse_id(raw_id), model=Project)
            raise NotFound("Project not found.")
        return project

    # --- hooks -----------------------------------------------------------------------------
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
        if self.project_url_kwarg is not None:
            qs = qs.filter(project=self.project)
        return self.scope_queryset(qs)

    def get_object(self):
        pk = parse_id(self.kwargs.get(self.lookup_url_kwarg))
        obj = self.filter_queryset(self.get_queryset()).filter(pk=pk).first() if pk else None
        if obj is None:
            self._audit_if_foreign(pk)
            raise NotFound()
        return obj

    def _audit_if_foreign(self, pk: Any, model: Any = None) -> None:
        """Record an attempt to reach another workspace's object (the answer stays 404)."""
        model = model or (self.queryset.model if self.queryset is not None else None)
        if pk is None or model is None or self.workspace is None:
            return
        field = (
            self.workspace_field if model is getattr(self.queryset, "model", None) else "workspace"
        )
        foreign = model.objects.filter(pk=pk).exclude(**{field: self.workspace})
        if foreign.exists():
            from labelhub.access.authz import actor_user
            from labelhub.core.audit import audit_record

            audit_record(
                workspace=self.workspace,
                actor=actor_user(self.actor),
                verb="access.cross_workspace_refused",
                target_type=model._meta.model_name,
                after={"id": str(pk), "method": self.request.method, "path": self.request.path},
            )


class StrictSerializer(serializers.Serializer):
    """Serializer that refuses unknown fields instead of silently ignoring them."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)
