"""URLs of the REST API, /api/v1/."""

from django.urls import include, path

from labelhub.access import api as access_api
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
    path("permissions/", access_api.PermissionCatalogueView.as_view(), name="permissions"),
    path("roles/", access_api.RoleListView.as_view(), name="roles"),
    path("roles/<str:id>/", access_api.RoleDetailView.as_view(), name="role"),
    path("groups/", access_api.GroupListView.as_view(), name="groups"),
    path("groups/history.csv", access_api.AllGroupsHistoryView.as_view(), name="groups-history"),
    path("groups/<str:id>/", access_api.GroupDetailView.as_view(), name="group"),
    path("groups/<str:id>/members/", access_api.GroupMembersView.as_view(), name="group-members"),
    path(
        "groups/<str:id>/members/<str:user_id>/",
        access_api.GroupMemberDetailView.as_view(),
        name="group-member",
    ),
    path(
        "groups/<str:id>/history.csv", access_api.GroupHistoryView.as_view(), name="group-history"
    ),
    path("api-keys/", access_api.ApiKeyListView.as_view(), name="api-keys"),
    path("api-keys/<str:id>/", access_api.ApiKeyDetailView.as_view(), name="api-key"),
    path("", include("labelhub.projects.api_urls")),
    path("", include("labelhub.labeling.api_urls")),
    path("", include("labelhub.imports.api_urls")),
]
