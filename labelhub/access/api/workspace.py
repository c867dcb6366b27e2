"""API views: me, my workspaces, the current workspace, members, invitations, tenant
workspaces and the audit log."""

from __future__ import annotations

from django.contrib.auth import login
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from labelhub.access.api_base import WorkspaceScopedView
from labelhub.access.models import Invitation
from labelhub.access.permissions import Permission
from labelhub.access.serializers import (
    InvitationAcceptSerializer,
    InvitationCreateSerializer,
    InvitationSerializer,
    MemberSerializer,
    MemberUpdateSerializer,
    MeSerializer,
    MeUpdateSerializer,
    MyWorkspaceSerializer,
    SwitchWorkspaceSerializer,
    WorkspaceCreateSerializer,
    WorkspaceSerializer,
)
from labelhub.access.services import invitations, members
from labelhub.accounts.services import user_update_profile
from labelhub.core.errors import NotFound
from labelhub.core.filters import AuditLogFilter
from labelhub.core.models import AuditLogEntry
from labelhub.core.serializers import AuditLogEntrySerializer
from labelhub.workspaces import selectors
from labelhub.workspaces import services as workspace_services
from labelhub.workspaces.models import Membership, Tenant, Workspace


def _me_payload(request, workspace: Workspace | None) -> dict:
    user = request.user
    return {
        "id": user.pk,
        "email": user.email,
        "name": user.name,
        "is_tenant_admin": selectors.tenants_administered(user=user).exists(),
        "current_workspace": (
            {"id": str(workspace.pk), "name": workspace.name} if workspace else None
        ),
    }


class MeView(WorkspaceScopedView):
    """The signed-in user."""

    workspace_optional = True
    required_permissions = {"GET": None, "PATCH": None}

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(_me_payload(request, self.workspace)).data)

    @extend_schema(request=MeUpdateSerializer, responses=MeSerializer)
    def patch(self, request):
        data = MeUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user_update_profile(user=request.user, name=data.validated_data["name"])
        return Response(MeSerializer(_me_payload(request, self.workspace)).data)


class MyWorkspacesView(WorkspaceScopedView):
    """Workspaces the signed-in user can enter, with the role held in each."""

    workspace_optional = True
    required_permissions = {"GET": None}
    pagination_class = None

    @extend_schema(responses=MyWorkspaceSerializer(many=True))
    def get(self, request):
        workspaces = list(selectors.workspaces_for_user(user=request.user))
        roles = dict(
            Membership.objects.filter(user=request.user).values_list("workspace_id", "role")
        )
        tenants = {t.pk: t for t in Tenant.objects.filter(workspaces__in=workspaces)}
        for w in workspaces:
            w.tenant = tenants[w.tenant_id]
        ctx = {"roles": roles, "current": self.workspace}
        return Response({"results": MyWorkspaceSerializer(workspaces, many=True, context=ctx).data})


class CurrentWorkspaceSwitchView(WorkspaceScopedView):
    """Switch the session's current workspace."""

    workspace_optional = True
    required_permissions = {"POST": None}

    @extend_schema(request=SwitchWorkspaceSerializer, responses=WorkspaceSerializer)
    def post(self, request):
        data = SwitchWorkspaceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        workspace = workspace_services.workspace_switch(
            session=request.session,
            user=request.user,
            workspace_id=data.validated_data["workspace"],
        )
        return Response(WorkspaceSerializer(workspace).data)


class WorkspaceDetailView(WorkspaceScopedView):
    """The current workspace."""

    @extend_schema(responses=WorkspaceSerializer)
    def get(self, request):
        return Response(WorkspaceSerializer(self.workspace).data)


class MemberListView(WorkspaceScopedView):
    """Members of the current workspace."""

    queryset = Membership.objects.all()
    serializer_class = MemberSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("user")

    @extend_schema(operation_id="members_list", responses=MemberSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(MemberSerializer(page, many=True).data)


class MemberDetailView(WorkspaceScopedView):
    """One member: read, change role, remove."""

    queryset = Membership.objects.all()
    serializer_class = MemberSerializer
    required_permissions = {
        "GET": Permission.VIEW_WORKSPACE,
        "PATCH": Permission.MANAGE_MEMBERS,
        "DELETE": Permission.MANAGE_MEMBERS,
    }

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("user")

    @extend_schema(responses=MemberSerializer)
    def get(self, request, id):
        return Response(MemberSerializer(self.get_object()).data)

    @extend_schema(request=MemberUpdateSerializer, responses=MemberSerializer)
    def patch(self, request, id):
        membership = self.get_object()
        data = MemberUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        m = members.membership_change_role(
            workspace=self.workspace,
            actor=self.actor,
            membership=membership,
            role=data.validated_data["role"],
        )
        return Response(MemberSerializer(m).data)

    @extend_schema(responses={204: None})
    def delete(self, request, id):
        members.membership_remove(
            workspace=self.workspace, actor=self.actor, membership=self.get_object()
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class TenantWorkspacesView(WorkspaceScopedView):
    """Tenant admins: list and create the workspaces of their tenants."""

    workspace_optional = True
    required_permissions = {"GET": None, "POST": None}
    pagination_class = None

    @extend_schema(responses=WorkspaceSerializer(many=True))
    def get(self, request):
        qs = Workspace.objects.filter(tenant__in=selectors.tenants_administered(user=request.user))
        return Response(
            {"results": WorkspaceSerializer(qs.select_related("tenant"), many=True).data}
        )

    @extend_schema(request=WorkspaceCreateSerializer, responses=WorkspaceSerializer)
    def post(self, request):
        data = WorkspaceCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tenants = selectors.tenants_administered(user=request.user)
        wanted = data.validated_data.get("tenant")
        tenant = tenants.filter(pk=wanted).first() if wanted else tenants.first()
        if tenant is None:
            raise NotFound("Tenant not found.")
        workspace = workspace_services.workspace_create(
            tenant=tenant, actor=request.user, name=data.validated_data["name"]
        )
        return Response(WorkspaceSerializer(workspace).data, status=status.HTTP_201_CREATED)


class InvitationListView(WorkspaceScopedView):
    """Invitations of the current workspace; admins create new ones."""

    queryset = Invitation.objects.all()
    serializer_class = InvitationSerializer
    required_permissions = {"GET": Permission.MANAGE_MEMBERS, "POST": Permission.MANAGE_MEMBERS}

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("invited_by")

    @extend_schema(operation_id="invitations_list", responses=InvitationSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(InvitationSerializer(page, many=True).data)

    @extend_schema(request=InvitationCreateSerializer, responses=InvitationSerializer)
    def post(self, request):
        data = InvitationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # The link goes to the invitee by e-mail only: whoever holds it may create the
        # account and learns whether the address already has one (in any tenant).
        invitation, _ = invitations.invitation_create(
            workspace=self.workspace, actor=self.actor, **data.validated_data
        )
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)


class InvitationDetailView(WorkspaceScopedView):
    """One invitation: read or revoke (DELETE marks it revoked; the row stays for history)."""

    queryset = Invitation.objects.all()
    serializer_class = InvitationSerializer
    required_permissions = {"GET": Permission.MANAGE_MEMBERS, "DELETE": Permission.MANAGE_MEMBERS}

    @extend_schema(responses=InvitationSerializer)
    def get(self, request, id):
        return Response(InvitationSerializer(self.get_object()).data)

    @extend_schema(responses=InvitationSerializer)
    def delete(self, request, id):
        inv = invitations.invitation_revoke(
            workspace=self.workspace, actor=self.actor, invitation=self.get_object()
        )
        return Response(InvitationSerializer(inv).data)


class InvitationAcceptView(WorkspaceScopedView):
    """Accept an invitation by token: as the signed-in user, or creating the account."""

    workspace_optional = True
    permission_classes = [AllowAny]
    required_permissions = {"POST": None}

    @extend_schema(request=InvitationAcceptSerializer, responses=MemberSerializer)
    def post(self, request):
        data = InvitationAcceptSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        user, membership = invitations.invitation_accept(
            token=v["token"],
            user=request.user if request.user.is_authenticated else None,
            name=v.get("name", ""),
            password=v.get("password"),
        )
        if not request.user.is_authenticated:
            login(request._request, user, backend="django.contrib.auth.backends.ModelBackend")
        workspace_services.workspace_enter(
            session=request.session, user=user, workspace=membership.workspace
        )
        return Response(MemberSerializer(membership).data, status=status.HTTP_201_CREATED)


class AuditLogListView(WorkspaceScopedView):
    """Audit rows of the current workspace, newest first; filter by actor, verb, dates."""

    queryset = AuditLogEntry.objects.all()
    serializer_class = AuditLogEntrySerializer
    filterset_class = AuditLogFilter
    required_permissions = {"GET": Permission.VIEW_AUDIT_LOG}

    @extend_schema(operation_id="audit_log_list", responses=AuditLogEntrySerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(AuditLogEntrySerializer(page, many=True).data)
