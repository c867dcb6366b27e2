"""URLs of the REST API, /api/v1/."""

from django.urls import path

from labelhub.accounts import api as accounts_api
from labelhub.core import audit_api
from labelhub.workspaces import api as workspaces_api

urlpatterns = [
    path("me/", workspaces_api.MeView.as_view(), name="me"),
    path("me/workspaces/", workspaces_api.MyWorkspacesView.as_view(), name="my-workspaces"),
    path(
        "me/current-workspace/",
        workspaces_api.CurrentWorkspaceSwitchView.as_view(),
        name="switch-workspace",
    ),
    path("workspace/", workspaces_api.WorkspaceDetailView.as_view(), name="workspace"),
    path("members/", workspaces_api.MemberListView.as_view(), name="members"),
    path("members/<str:id>/", workspaces_api.MemberDetailView.as_view(), name="member"),
    path("invitations/", accounts_api.InvitationListView.as_view(), name="invitations"),
    path(
        "invitations/accept/", accounts_api.InvitationAcceptView.as_view(), name="invitation-accept"
    ),
    path("invitations/<str:id>/", accounts_api.InvitationDetailView.as_view(), name="invitation"),
    path("audit-log/", audit_api.AuditLogListView.as_view(), name="audit-log"),
    path(
        "tenant/workspaces/",
        workspaces_api.TenantWorkspacesView.as_view(),
        name="tenant-workspaces",
    ),
]
