"""API views: permission catalogue, roles, groups (members, history CSV), API keys."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import status
from rest_framework.response import Response

from labelhub.access import selectors, services
from labelhub.access.api_base import WorkspaceScopedView
from labelhub.access.authz import actor_user, can
from labelhub.access.history import history_csv
from labelhub.access.models import ApiKey, CustomRole, Group
from labelhub.access.permissions import Permission
from labelhub.access.roles import SYSTEM_ROLE_PERMISSIONS
from labelhub.access.serializers import (
    ApiKeyCreatedSerializer,
    ApiKeyCreateSerializer,
    ApiKeySerializer,
    CustomRoleCreateSerializer,
    CustomRoleSerializer,
    CustomRoleUpdateSerializer,
    GroupCreateSerializer,
    GroupMemberSerializer,
    GroupSerializer,
    GroupUpdateSerializer,
    PermissionSerializer,
    RoleDeleteSerializer,
    SystemRoleSerializer,
)
from labelhub.access.services import api_keys as key_services
from labelhub.core.errors import PermissionDenied, ValidationFailed
from labelhub.workspaces.models import Role


class PermissionCatalogueView(WorkspaceScopedView):
    """Every permission with its scope, label and description."""

    pagination_class = None

    @extend_schema(responses=PermissionSerializer(many=True))
    def get(self, request):
        rows = [
            {
                "codename": p.value,
                "scope": p.scope.value,
                "label": p.label,
                "description": p.description,
            }
            for p in Permission
        ]
        return Response({"results": rows})


def _system_roles() -> list[dict]:
    return [
        {
            "id": r.value,
            "name": r.label,
            "kind": "system",
            "scope": "workspace",
            "permissions": sorted(p.value for p in SYSTEM_ROLE_PERMISSIONS[r]),
        }
        for r in Role
        if r != Role.CUSTOM
    ]


class RoleListView(WorkspaceScopedView):
    """System roles (read-only) and the workspace's custom roles; create a custom role."""

    queryset = CustomRole.objects.all()
    pagination_class = None
    required_permissions = {"GET": Permission.VIEW_WORKSPACE, "POST": Permission.MANAGE_ROLES}

    @extend_schema(
        operation_id="roles_list",
        parameters=[OpenApiParameter("scope", OpenApiTypes.STR, enum=["workspace", "project"])],
        responses=inline_serializer(
            "RoleList",
            {"system": SystemRoleSerializer(many=True), "custom": CustomRoleSerializer(many=True)},
        ),
    )
    def get(self, request):
        scope = request.query_params.get("scope")
        if scope not in (None, "", "workspace", "project"):
            raise ValidationFailed("Filter by scope: workspace or project.", field="scope")
        custom = self.get_queryset()
        if scope:
            custom = custom.filter(scope=scope)
        system = _system_roles()
        return Response({"system": system, "custom": CustomRoleSerializer(custom, many=True).data})

    @extend_schema(request=CustomRoleCreateSerializer, responses=CustomRoleSerializer)
    def post(self, request):
        data = CustomRoleCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        role = services.custom_role_create(
            workspace=self.workspace, actor=self.actor, **data.validated_data
        )
        return Response(CustomRoleSerializer(role).data, status=status.HTTP_201_CREATED)


class RoleDetailView(WorkspaceScopedView):
    """One custom role: read, rename/edit, delete (with ``replacement`` when in use)."""

    queryset = CustomRole.objects.all()
    required_permissions = {
        "GET": Permission.VIEW_WORKSPACE,
        "PATCH": Permission.MANAGE_ROLES,
        "DELETE": Permission.MANAGE_ROLES,
    }

    @extend_schema(responses=CustomRoleSerializer)
    def get(self, request, id):
        role = self.get_object()
        body = CustomRoleSerializer(role).data
        body["usage"] = selectors.custom_role_usage(role=role)
        return Response(body)

    @extend_schema(request=CustomRoleUpdateSerializer, responses=CustomRoleSerializer)
    def patch(self, request, id):
        role = self.get_object()
        data = CustomRoleUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        role = services.custom_role_update(
            workspace=self.workspace, actor=self.actor, role=role, **data.validated_data
        )
        return Response(CustomRoleSerializer(role).data)

    @extend_schema(request=RoleDeleteSerializer, responses={204: None})
    def delete(self, request, id):
        role = self.get_object()
        data = RoleDeleteSerializer(data=request.data or {})
        data.is_valid(raise_exception=True)
        services.custom_role_delete(
            workspace=self.workspace,
            actor=self.actor,
            role=role,
            replacement=data.validated_data.get("replacement"),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class GroupListView(WorkspaceScopedView):
    """Groups of the workspace; create one."""

    queryset = Group.objects.all()
    serializer_class = GroupSerializer
    required_permissions = {"GET": Permission.VIEW_WORKSPACE, "POST": Permission.MANAGE_GROUPS}

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("default_custom_role", "auth_group").prefetch_related(
            "auth_group__user_set"
        )

    @extend_schema(operation_id="groups_list", responses=GroupSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(GroupSerializer(page, many=True).data)

    @extend_schema(request=GroupCreateSerializer, responses=GroupSerializer)
    def post(self, request):
        data = GroupCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        group = services.group_create(
            workspace=self.workspace, actor=self.actor, **data.validated_data
        )
        return Response(GroupSerializer(group).data, status=status.HTTP_201_CREATED)


class GroupDetailView(WorkspaceScopedView):
    """One group: read, update, delete."""

    queryset = Group.objects.all()
    required_permissions = {
        "GET": Permission.VIEW_WORKSPACE,
        "PATCH": Permission.MANAGE_GROUPS,
        "DELETE": Permission.MANAGE_GROUPS,
    }

    @extend_schema(responses=GroupSerializer)
    def get(self, request, id):
        return Response(GroupSerializer(self.get_object()).data)

    @extend_schema(request=GroupUpdateSerializer, responses=GroupSerializer)
    def patch(self, request, id):
        group = self.get_object()
        data = GroupUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        group = services.group_update(
            workspace=self.workspace, actor=self.actor, group=group, **data.validated_data
        )
        return Response(GroupSerializer(group).data)

    @extend_schema(responses={204: None})
    def delete(self, request, id):
        services.group_delete(workspace=self.workspace, actor=self.actor, group=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class GroupMembersView(WorkspaceScopedView):
    """Add a member to a group (POST ``{"user": id}``)."""

    queryset = Group.objects.all()
    required_permissions = {"POST": Permission.MANAGE_GROUPS}

    @extend_schema(request=GroupMemberSerializer, responses=GroupSerializer)
    def post(self, request, id):
        group = self.get_object()
        data = GroupMemberSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.group_add_member(
            workspace=self.workspace,
            actor=self.actor,
            group=group,
            user_id=data.validated_data["user"],
        )
        return Response(GroupSerializer(group).data, status=status.HTTP_201_CREATED)


class GroupMemberDetailView(WorkspaceScopedView):
    """Remove a member from a group."""

    queryset = Group.objects.all()
    required_permissions = {"DELETE": Permission.MANAGE_GROUPS}

    @extend_schema(responses={204: None})
    def delete(self, request, id, user_id):
        services.group_remove_member(
            workspace=self.workspace, actor=self.actor, group=self.get_object(), user_id=user_id
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class GroupHistoryView(WorkspaceScopedView):
    """One group's history as CSV."""

    queryset = Group.objects.all()
    required_permissions = {"GET": Permission.MANAGE_GROUPS}

    @extend_schema(
        operation_id="group_history_csv", responses={(200, "text/csv"): OpenApiTypes.STR}
    )
    def get(self, request, id):
        group = self.get_object()
        events = selectors.group_history(workspace=self.workspace, group=group)
        return history_csv(events, f"group-{group.pk}-history.csv")


class AllGroupsHistoryView(WorkspaceScopedView):
    """Every group's history (deleted groups included) as CSV."""

    required_permissions = {"GET": Permission.MANAGE_GROUPS}

    @extend_schema(
        operation_id="groups_history_csv", responses={(200, "text/csv"): OpenApiTypes.STR}
    )
    def get(self, request):
        events = selectors.group_history(workspace=self.workspace)
        return history_csv(events, "groups-history.csv")


class ApiKeyListView(WorkspaceScopedView):
    """Your API keys in this workspace (``?all=1``: everyone's, for key admins); create one."""

    queryset = ApiKey.objects.all()
    required_permissions = {
        "GET": Permission.MANAGE_OWN_API_KEYS,
        "POST": Permission.MANAGE_OWN_API_KEYS,
    }

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = queryset.select_related("owner")
        if self.request.query_params.get("all") in {"1", "true"}:
            if not can(self.actor, Permission.MANAGE_ALL_API_KEYS, self.workspace):
                raise PermissionDenied()
            return queryset
        return queryset.filter(owner=actor_user(self.actor))

    @extend_schema(
        operation_id="api_keys_list",
        parameters=[OpenApiParameter("all", OpenApiTypes.BOOL)],
        responses=ApiKeySerializer(many=True),
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ApiKeySerializer(page, many=True).data)

    @extend_schema(request=ApiKeyCreateSerializer, responses=ApiKeyCreatedSerializer)
    def post(self, request):
        data = ApiKeyCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key, secret = key_services.api_key_create(
            workspace=self.workspace, actor=self.actor, **data.validated_data
        )
        body = ApiKeyCreatedSerializer(key, context={"secret": secret}).data
        return Response(body, status=status.HTTP_201_CREATED)


class ApiKeyDetailView(WorkspaceScopedView):
    """Revoke a key (own; anyone's with manage-all-API-keys)."""

    queryset = ApiKey.objects.all()
    required_permissions = {"DELETE": Permission.MANAGE_OWN_API_KEYS}

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("owner")

    @extend_schema(responses=ApiKeySerializer)
    def delete(self, request, id):
        key = key_services.api_key_revoke(
            workspace=self.workspace, actor=self.actor, key=self.get_object()
        )
        return Response(ApiKeySerializer(key).data)
