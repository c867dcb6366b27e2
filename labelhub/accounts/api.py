"""API views: invitations (create, list, revoke, accept)."""

from __future__ import annotations

from django.contrib.auth import login
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from labelhub.access.permissions import Permission
from labelhub.accounts import services
from labelhub.accounts.models import Invitation
from labelhub.accounts.serializers import (
    InvitationAcceptSerializer,
    InvitationCreateSerializer,
    InvitationSerializer,
)
from labelhub.core.api import WorkspaceScopedView
from labelhub.workspaces.selectors import SESSION_WORKSPACE_KEY
from labelhub.workspaces.serializers import MemberSerializer


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
        invitation, _ = services.invitation_create(
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
        inv = services.invitation_revoke(
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
        user, membership = services.invitation_accept(
            token=v["token"],
            user=request.user if request.user.is_authenticated else None,
            name=v.get("name", ""),
            password=v.get("password"),
        )
        if not request.user.is_authenticated:
            login(request._request, user, backend="django.contrib.auth.backends.ModelBackend")
        request.session[SESSION_WORKSPACE_KEY] = str(membership.workspace_id)
        return Response(MemberSerializer(membership).data, status=status.HTTP_201_CREATED)
