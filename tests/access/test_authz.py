"""can(): workspace roles, custom roles, project grants (direct and via groups), keys."""

import pytest

from labelhub.access import services
from labelhub.access.authz import can, permissions_for, project_permissions_for
from labelhub.access.permissions import Permission as P
from labelhub.access.services.members import membership_remove
from labelhub.projects.models import ProjectGroupObjectPermission, ProjectUserObjectPermission
from labelhub.projects.selectors.projects import projects_visible_to
from labelhub.workspaces.models import Membership, Role
from tests.factories import make_member, make_project

pytestmark = pytest.mark.django_db


def test_labeler_reaches_every_project_through_access_all(workspace, labeler):
    project = make_project(workspace)
    assert project_permissions_for(labeler, project) == {
        P.VIEW_WORKSPACE,
        P.MANAGE_OWN_API_KEYS,
        P.ACCESS_ALL_PROJECTS,
        P.VIEW_PROJECT,
        P.LABEL,
        P.REWORK,
        P.COMMENT_ON_ISSUES,
    }
    assert can(labeler, P.LABEL, project) and not can(labeler, P.REVIEW, project)
    assert not can(labeler, P.MANAGE_MEMBERS, workspace)


def test_project_based_sees_only_granted_projects(workspace, admin):
    pb = make_member(workspace, Role.PROJECT_BASED)
    a, b = make_project(workspace, "A"), make_project(workspace, "B")
    assert not can(pb, P.VIEW_PROJECT, a)
    assert list(projects_visible_to(actor=pb, workspace=workspace)) == []
    services.project_grant_set(
        workspace=workspace, actor=admin, project=a, user_id=pb.pk, role=Role.REVIEWER
    )
    assert can(pb, P.REVIEW, a) and not can(pb, P.VIEW_PROJECT, b)
    assert list(projects_visible_to(actor=pb, workspace=workspace)) == [a]
    # Stored as guardian object permissions, exactly the role's project permissions.
    assert sorted(
        ProjectUserObjectPermission.objects.filter(user=pb).values_list(
            "permission__codename", flat=True
        )
    ) == [
        "comment_on_issues",
        "label",
        "review",
        "rework",
        "view_project",
        "view_quality_scores",
    ]


def test_group_grant_gives_members_the_role(workspace, admin):
    pb = make_member(workspace, Role.PROJECT_BASED)
    project = make_project(workspace)
    group = services.group_create(
        workspace=workspace, actor=admin, name="Vendors", default_role=Role.LABELER
    )
    services.group_add_member(workspace=workspace, actor=admin, group=group, user_id=pb.pk)
    services.project_grant_set(
        workspace=workspace, actor=admin, project=project, group=group, role=None
    )
    assert can(pb, P.LABEL, project) and not can(pb, P.REVIEW, project)
    assert ProjectGroupObjectPermission.objects.filter(group=group.auth_group).count() == 4
    services.group_remove_member(workspace=workspace, actor=admin, group=group, user_id=pb.pk)
    assert not can(pb, P.LABEL, project)


def test_union_of_workspace_role_direct_and_group_grants(workspace, admin, labeler):
    project = make_project(workspace)
    reviewers = services.custom_role_create(
        workspace=workspace,
        actor=admin,
        name="Exporter",
        scope="project",
        permissions=["export_labels"],
    )
    group = services.group_create(
        workspace=workspace, actor=admin, name="QA", default_role=Role.REVIEWER
    )
    services.group_add_member(workspace=workspace, actor=admin, group=group, user_id=labeler.pk)
    services.project_grant_set(
        workspace=workspace, actor=admin, project=project, group=group, role=None
    )
    services.project_grant_set(
        workspace=workspace,
        actor=admin,
        project=project,
        user_id=labeler.pk,
        role=str(reviewers.pk),
    )
    perms = project_permissions_for(labeler, project)
    assert {P.LABEL, P.REVIEW, P.EXPORT_LABELS} <= perms  # workspace role + group + direct
    assert P.MANAGE_PROJECT_SETTINGS not in perms


def test_editing_a_custom_role_updates_guardian_rows(workspace, admin):
    pb = make_member(workspace, Role.PROJECT_BASED)
    project = make_project(workspace)
    role = services.custom_role_create(
        workspace=workspace,
        actor=admin,
        name="Viewer",
        scope="project",
        permissions=["view_project"],
    )
    services.project_grant_set(
        workspace=workspace, actor=admin, project=project, user_id=pb.pk, role=str(role.pk)
    )
    assert not can(pb, P.LABEL, project)
    services.custom_role_update(
        workspace=workspace, actor=admin, role=role, permissions=["view_project", "label"]
    )
    assert can(pb, P.LABEL, project)


def test_leaving_the_workspace_removes_groups_and_grants(workspace, admin):
    pb = make_member(workspace, Role.PROJECT_BASED)
    project = make_project(workspace)
    group = services.group_create(
        workspace=workspace, actor=admin, name="G", default_role=Role.LABELER
    )
    services.group_add_member(workspace=workspace, actor=admin, group=group, user_id=pb.pk)
    services.project_grant_set(
        workspace=workspace, actor=admin, project=project, user_id=pb.pk, role=Role.REVIEWER
    )
    membership_remove(workspace=workspace, actor=admin, membership=Membership.objects.get(user=pb))
    assert not ProjectUserObjectPermission.objects.filter(user=pb).exists()
    assert not group.auth_group.user_set.filter(pk=pb.pk).exists()
    assert project_permissions_for(pb, project) == frozenset()


def test_custom_workspace_role_as_membership(workspace, admin, labeler):
    role = services.custom_role_create(
        workspace=workspace,
        actor=admin,
        name="Auditor",
        scope="workspace",
        permissions=["view_audit_log", "view_usage"],
    )
    from labelhub.access.services.members import membership_change_role

    m = Membership.objects.get(user=labeler)
    membership_change_role(workspace=workspace, actor=admin, membership=m, role=str(role.pk))
    assert permissions_for(labeler, workspace) == {P.VIEW_WORKSPACE, P.VIEW_AUDIT_LOG, P.VIEW_USAGE}
    assert not can(labeler, P.LABEL, make_project(workspace))


def test_grants_are_refused_to_non_members_and_foreign_groups(
    workspace, admin, other_workspace, other_admin
):
    from labelhub.core.errors import ValidationFailed

    project = make_project(workspace)
    with pytest.raises(ValidationFailed):
        services.project_grant_set(
            workspace=workspace,
            actor=admin,
            project=project,
            user_id=other_admin.pk,
            role=Role.LABELER,
        )
    foreign_group = services.group_create(
        workspace=other_workspace, actor=other_admin, name="F", default_role=Role.LABELER
    )
    with pytest.raises(ValidationFailed):
        services.project_grant_set(
            workspace=workspace, actor=admin, project=project, group=foreign_group, role=None
        )
    assert not ProjectUserObjectPermission.objects.exists()


def test_can_requires_a_workspace():
    with pytest.raises(TypeError):
        can(None, P.VIEW_WORKSPACE, object())
