"""API URLs of the access app, under /api/v1/: me, workspaces, members, invitations, audit
log, permissions, roles, groups, API keys."""

from django.urls import path

from labelhub.access.api import roles as roles_api
from labelhub.access.api import workspace as workspace_api

urlpatterns = [
    path("me/", workspace_api.MeView.as_view(), name="me"),
    path("me/workspaces/", workspace_api.MyWorkspacesView.as_view(), name="my-workspaces"),
    path(
        "me/current-workspace/",
        workspace_api.CurrentWorkspaceSwitchView.as_view(),
        name="switch-workspace",
    ),
    path("workspace/", workspace_api.WorkspaceDetailView.as_view(), name="workspace"),
    path("members/", workspace_api.MemberListView.as_view(), name="members"),
    path("members/<str:id>/", workspace_api.MemberDetailView.as_view(), name="member"),
    path("invitations/", workspace_api.InvitationListView.as_view(), name="invitations"),
    path(
        "invitations/accept/",
        workspace_api.InvitationAcceptView.as_view(),
        name="invitation-accept",
    ),
    path("invitations/<str:id>/", workspace_api.InvitationDetailView.as_view(), name="invitation"),
    path("audit-log/", workspace_api.AuditLogListView.as_view(), name="audit-log"),
    path(
        "tenant/workspaces/",
        workspace_api.TenantWorkspacesView.as_view(),
        name="tenant-workspaces",
    ),
    path("permissions/", roles_api.PermissionCatalogueView.as_view(), name="permissions"),
    path("roles/", roles_api.RoleListView.as_view(), name="roles"),
    path("roles/<str:id>/", roles_api.RoleDetailView.as_view(), name="role"),
    path("groups/", roles_api.GroupListView.as_view(), name="groups"),
    path("groups/history.csv", roles_api.AllGroupsHistoryView.as_view(), name="groups-history"),
    path("groups/<str:id>/", roles_api.GroupDetailView.as_view(), name="group"),
    path("groups/<str:id>/members/", roles_api.GroupMembersView.as_view(), name="group-members"),
    path(
        "groups/<str:id>/members/<str:user_id>/",
        roles_api.GroupMemberDetailView.as_view(),
        name="group-member",
    ),
    path("groups/<str:id>/history.csv", roles_api.GroupHistoryView.as_view(), name="group-history"),
    path("api-keys/", roles_api.ApiKeyListView.as_view(), name="api-keys"),
    path("api-keys/<str:id>/", roles_api.ApiKeyDetailView.as_view(), name="api-key"),
]
