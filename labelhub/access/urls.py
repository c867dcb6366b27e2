"""Console URLs of the access app (console namespace): home, switcher, members,
invitations, audit log, workspace settings, tenant admin, roles, groups, API keys."""

from django.urls import path

from labelhub.access.views import roles as roles_views
from labelhub.access.views import workspace as workspace_views

urlpatterns = [
    path("", workspace_views.home, name="home"),
    path("invitations/<str:token>/", workspace_views.accept_invitation, name="accept-invitation"),
    path(
        "workspace/switch/", workspace_views.SwitchWorkspaceView.as_view(), name="switch-workspace"
    ),
    path("members/", workspace_views.MembersView.as_view(), name="members"),
    path("invitations/", workspace_views.InvitationsView.as_view(), name="invitations"),
    path("audit-log/", workspace_views.AuditLogView.as_view(), name="audit-log"),
    path(
        "workspace/settings/",
        workspace_views.WorkspaceSettingsView.as_view(),
        name="workspace-settings",
    ),
    path(
        "tenant/workspaces/",
        workspace_views.TenantWorkspacesView.as_view(),
        name="tenant-workspaces",
    ),
    path("roles/", roles_views.RolesView.as_view(), name="roles"),
    path("roles/<str:id>/", roles_views.RoleDetailView.as_view(), name="role"),
    path("groups/", roles_views.GroupsView.as_view(), name="groups"),
    path("groups/history.csv", roles_views.AllGroupsHistoryView.as_view(), name="groups-history"),
    path("groups/<str:id>/", roles_views.GroupDetailView.as_view(), name="group"),
    path("api-keys/", roles_views.ApiKeysView.as_view(), name="api-keys"),
]
