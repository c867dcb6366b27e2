"""Console URLs (the root of the site)."""

from django.urls import path

from labelhub.access import views as access_views
from labelhub.accounts import views as account_views
from labelhub.workspaces import views

urlpatterns = [
    path("", views.home, name="home"),
    path("setup/", account_views.setup, name="setup"),
    path("invitations/<str:token>/", account_views.accept_invitation, name="accept-invitation"),
    path("workspace/switch/", views.SwitchWorkspaceView.as_view(), name="switch-workspace"),
    path("members/", views.MembersView.as_view(), name="members"),
    path("invitations/", views.InvitationsView.as_view(), name="invitations"),
    path("audit-log/", views.AuditLogView.as_view(), name="audit-log"),
    path("workspace/settings/", views.WorkspaceSettingsView.as_view(), name="workspace-settings"),
    path("tenant/workspaces/", views.TenantWorkspacesView.as_view(), name="tenant-workspaces"),
    path("roles/", access_views.RolesView.as_view(), name="roles"),
    path("roles/<str:id>/", access_views.RoleDetailView.as_view(), name="role"),
    path("groups/", access_views.GroupsView.as_view(), name="groups"),
    path("groups/history.csv", access_views.AllGroupsHistoryView.as_view(), name="groups-history"),
    path("groups/<str:id>/", access_views.GroupDetailView.as_view(), name="group"),
    path("api-keys/", access_views.ApiKeysView.as_view(), name="api-keys"),
]
