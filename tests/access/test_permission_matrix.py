"""Permission matrix generated from the URLconf and the catalogue.

For every API endpoint and method, every system role and a custom role is tried. The
expected outcome comes from the view's declared ``required_permissions`` and the role's
bundle: allowed (anything but 401/403) or 403 — and on refusal nothing changed.
"""

import pytest
from rest_framework.test import APIClient

from labelhub.access import services as access_services
from labelhub.access.api_base import WorkspaceScopedView
from labelhub.access.models import ApiKey, CustomRole, Group, GroupEvent, Invitation, ProjectGrant
from labelhub.access.permissions import PROJECT_PERMISSIONS, Permission
from labelhub.access.roles import SYSTEM_ROLE_PERMISSIONS
from labelhub.access.services.api_keys import api_key_create
from labelhub.access.services.invitations import invitation_create
from labelhub.core.models import AuditLogEntry
from labelhub.imports.models import ImportJob
from labelhub.labeling.models import Batch, InputEvent, LabelVersion, Task
from labelhub.labeling.services.workflow import workflow_of
from labelhub.projects.api_base import ProjectScopedView
from labelhub.projects.models import (
    DataRow,
    DataRowJob,
    Dataset,
    FeatureSchema,
    MetadataField,
    Ontology,
    Project,
    Tag,
)
from labelhub.projects.services.ontologies import ontology_create
from labelhub.workspaces.models import Membership, Role, Workspace
from labelhub.workspaces.selectors import SESSION_WORKSPACE_KEY
from tests.core.test_api_base import api_routes
from tests.factories import make_member, make_user, make_workspace

CUSTOM_PERMISSIONS = ["view_audit_log", "manage_groups", "manage_own_api_keys"]
ROLES = [r.value for r in Role if r != Role.CUSTOM] + ["custom"]
METHODS = ("get", "post", "patch", "delete")
# Allowed by the declared permission but refused by the no-escalation rule, because the
# body hands out permissions the role does not hold: the custom role manages groups but
# holds no project permission, so it cannot make Labeler a group's default role.
ESCALATION_REFUSED = {("api/v1/groups/", "post", "custom")}


def _endpoints():
    rows = []
    for route, cls in api_routes():
        if not (isinstance(cls, type) and issubclass(cls, WorkspaceScopedView)):
            continue
        for method in METHODS:
            if hasattr(cls, method):
                rows.append((route, method, cls))
    return rows


ENDPOINTS = _endpoints()


def _bodies(fx):
    """A valid body for each (route, method), so that allowed calls really run."""
    return {
        ("api/v1/me/", "patch"): {"name": "New name"},
        ("api/v1/me/current-workspace/", "post"): {"workspace": str(fx["workspace"].pk)},
        ("api/v1/members/<str:id>/", "patch"): {"role": "reviewer"},
        ("api/v1/invitations/", "post"): {"email": "matrix@x.test", "role": "labeler"},
        ("api/v1/invitations/accept/", "post"): {"token": "not-a-token"},
        ("api/v1/tenant/workspaces/", "post"): {"name": "Matrix WS"},
        ("api/v1/roles/", "post"): {"name": "Matrix", "scope": "project", "permissions": ["label"]},
        ("api/v1/roles/<str:id>/", "patch"): {"name": "Renamed"},
        ("api/v1/groups/", "post"): {"name": "Matrix group", "default_role": "labeler"},
        ("api/v1/groups/<str:id>/", "patch"): {"name": "Renamed group"},
        ("api/v1/groups/<str:id>/members/", "post"): {"user": str(fx["target_user"].pk)},
        ("api/v1/api-keys/", "post"): {"name": "matrix key"},
        ("api/v1/ontologies/", "post"): {
            "name": "Matrix ontology",
            "ontology": {"tools": [{"tool": "point", "name": "Pin"}]},
        },
        ("api/v1/ontologies/<str:id>/", "patch"): {"name": "Renamed ontology"},
        ("api/v1/projects/", "post"): {"name": "Matrix project", "media_type": "image"},
        ("api/v1/projects/<str:project_id>/", "patch"): {"description": "changed"},
        ("api/v1/projects/<str:project_id>/", "delete"): {"confirm": "Matrix P"},
        ("api/v1/projects/<str:project_id>/settings/", "patch"): {"reservation_count": 6},
        ("api/v1/projects/<str:project_id>/members/", "post"): {
            "user": str(fx["target_user"].pk),
            "role": "reviewer",
        },
        ("api/v1/projects/<str:project_id>/members/<str:id>/", "patch"): {"role": "reviewer"},
        ("api/v1/projects/<str:project_id>/batches/", "post"): {
            "name": "Matrix batch 2",
            "data_row_ids": [str(fx["spare_row"].pk)],
        },
        ("api/v1/projects/<str:project_id>/batches/<str:id>/", "patch"): {"priority": 2},
        ("api/v1/projects/<str:project_id>/data-rows/priority/", "post"): {
            "data_row_ids": [str(fx["queued_row"].pk)],
            "priority": 1,
        },
        ("api/v1/tags/", "post"): {"name": "matrix tag"},
        ("api/v1/tags/<str:id>/", "patch"): {"name": "renamed tag"},
        ("api/v1/datasets/", "post"): {"name": "Matrix dataset"},
        ("api/v1/datasets/<str:id>/", "patch"): {"name": "Renamed dataset"},
        ("api/v1/datasets/<str:id>/", "delete"): {"confirm": "Matrix D"},
        ("api/v1/datasets/<str:id>/data-rows/", "post"): [
            {"row_data": "https://x.test/m.jpg", "media_type": "image"}
        ],
        ("api/v1/data-rows/<str:id>/", "patch"): {"external_id": "matrix"},
        ("api/v1/metadata-fields/", "post"): {"name": "matrix_field", "kind": "string"},
        ("api/v1/projects/<str:project_id>/imports/", "post"): {
            "name": "Matrix import 2",
            "kind": "prelabels",
            "dry_run": True,
            "lines": [
                {
                    "uuid": "m1",
                    "dataRow": {"id": str(fx["queued_row"].pk)},
                    "name": "Pin",
                    "point": {"x": 1, "y": 2},
                }
            ],
        },
        ("api/v1/projects/<str:project_id>/workflow/steps/", "post"): {"name": "Matrix review"},
        ("api/v1/projects/<str:project_id>/workflow/steps/<str:id>/", "patch"): {
            "name": "Renamed review"
        },
        ("api/v1/projects/<str:project_id>/queue/next/", "post"): {"mode": "label"},
        ("api/v1/projects/<str:project_id>/tasks/<str:row_id>/heartbeat/", "post"): {},
        ("api/v1/projects/<str:project_id>/tasks/<str:row_id>/submit/", "post"): {
            "annotations": [{"name": "Pin", "point": {"x": 1, "y": 2}}]
        },
        ("api/v1/projects/<str:project_id>/tasks/<str:row_id>/skip/", "post"): {"reason": "blurry"},
        ("api/v1/projects/<str:project_id>/tasks/<str:row_id>/review/", "post"): {
            "decision": "approve",
            "annotations": [{"name": "Pin", "point": {"x": 1, "y": 2}}],
        },
        ("api/v1/projects/<str:project_id>/tasks/<str:row_id>/input-events/", "post"): {
            "kind": "paste",
            "feature": "ck-matrix-notes",
            "detail": {"characters": 12},
        },
        **{
            (f"api/v1/projects/<str:project_id>/data-rows/actions/{name}/", "post"): {
                "data_row_ids": [str(fx["queued_row"].pk)],
                **extra,
            }
            for name, extra in {
                "move": {"step": str(fx["review_step"].pk)},
                "rework": {"reason": "matrix"},
                "requeue": {"keep_as_template": True},
                "hide": {"hidden": True},
                "assign": {"user": None},
                "benchmark": {"benchmark": True},
            }.items()
        },
        **fx.get("extra_bodies", {}),
    }


def _url(route, fx, actor_key):
    ids = {
        "api/v1/members/<str:id>/": fx["target_membership"].pk,
        "api/v1/invitations/<str:id>/": fx["invitation"].pk,
        "api/v1/roles/<str:id>/": fx["custom_role_unused"].pk,
        "api/v1/groups/<str:id>/": fx["group"].pk,
        "api/v1/groups/<str:id>/members/": fx["group"].pk,
        "api/v1/groups/<str:id>/members/<str:user_id>/": fx["group"].pk,
        "api/v1/groups/<str:id>/history.csv": fx["group"].pk,
        "api/v1/api-keys/<str:id>/": actor_key.pk if actor_key else None,
        "api/v1/ontologies/<str:id>/": fx["ontology"].pk,
        "api/v1/projects/<str:project_id>/members/<str:id>/": fx["project_grant"].pk,
        "api/v1/projects/<str:project_id>/batches/<str:id>/": fx["batch"].pk,
        "api/v1/projects/<str:project_id>/batches/<str:id>/remove-queued/": fx["batch"].pk,
        "api/v1/tags/<str:id>/": fx["tag"].pk,
        "api/v1/datasets/<str:id>/": fx["dataset"].pk,
        "api/v1/datasets/<str:id>/data-rows/": fx["dataset"].pk,
        "api/v1/data-rows/<str:id>/": fx["loose_row"].pk,
        "api/v1/data-row-jobs/<str:id>/": fx["data_row_job"].pk,
        "api/v1/metadata-fields/<str:id>/": fx["metadata_field"].pk,
        "api/v1/projects/<str:project_id>/imports/<str:id>/": fx["import_job"].pk,
        "api/v1/projects/<str:project_id>/imports/<str:id>/report.ndjson": fx["import_job"].pk,
    }
    ids["api/v1/projects/<str:project_id>/workflow/steps/<str:id>/"] = fx["review_step"].pk
    ids.update(fx.get("extra_ids", {}))
    url = "/" + route.replace("<str:id>", str(ids.get(route, "")))
    url = url.replace("<str:row_id>", str(fx["queued_row"].pk))
    url = url.replace("<str:project_id>", str(fx["project"].pk))
    return url.replace("<str:user_id>", str(fx["grouped_user"].pk))


def _snapshot():
    return (
        list(Membership.objects.order_by("pk").values_list("pk", "role", "custom_role")),
        list(Invitation.objects.order_by("pk").values_list("pk", "status")),
        list(CustomRole.objects.order_by("pk").values_list("pk", "name", "permissions")),
        list(Group.objects.order_by("pk").values_list("pk", "name")),
        GroupEvent.objects.count(),
        list(ApiKey.objects.order_by("pk").values_list("pk", "revoked_at")),
        ProjectGrant.objects.count(),
        list(
            Project.objects.order_by("pk").values_list(
                "pk", "name", "description", "reservation_count"
            )
        ),
        list(Task.objects.order_by("pk").values_list("pk", "priority")),
        list(Batch.objects.order_by("pk").values_list("pk", "name", "priority")),
        list(Tag.objects.order_by("pk").values_list("pk", "name")),
        Workspace.objects.count(),
        list(Ontology.objects.order_by("pk").values_list("pk", "name")),
        list(FeatureSchema.objects.order_by("pk").values_list("pk", "name")),
        list(Dataset.objects.order_by("pk").values_list("pk", "name", "row_count")),
        list(DataRow.objects.order_by("pk").values_list("pk", "external_id")),
        list(MetadataField.objects.order_by("pk").values_list("pk", "name")),
        list(ImportJob.objects.order_by("pk").values_list("pk", "name", "state")),
        list(LabelVersion.objects.order_by("pk").values_list("pk", "label", "number")),
        list(InputEvent.objects.order_by("pk").values_list("pk", "kind")),
        AuditLogEntry.objects.count(),  # last: the cross-workspace test compares all but it
    )


@pytest.fixture
def fx(db, workspace, admin):
    target = make_member(workspace, Role.LABELER, email="target@alpha.test")
    grouped = make_member(workspace, Role.LABELER, email="grouped@alpha.test")
    group = access_services.group_create(
        workspace=workspace, actor=admin, name="Crew", default_role=Role.LABELER
    )
    access_services.group_add_member(
        workspace=workspace, actor=admin, group=group, user_id=grouped.pk
    )
    custom = access_services.custom_role_create(
        workspace=workspace,
        actor=admin,
        name="Matrix custom",
        scope="workspace",
        permissions=CUSTOM_PERMISSIONS,
    )
    unused = access_services.custom_role_create(
        workspace=workspace, actor=admin, name="Unused", scope="project", permissions=["label"]
    )
    import_ontology = ontology_create(
        workspace=workspace,
        actor=admin,
        name="Matrix imports",
        ontology={"tools": [{"tool": "point", "name": "Pin"}]},
    )
    project = Project.objects.create(
        workspace=workspace, name="Matrix P", media_type="image", ontology=import_ontology
    )
    dataset = Dataset.objects.create(workspace=workspace, name="Matrix D")
    queued_row = DataRow.objects.create(
        workspace=workspace, dataset=dataset, row_data="https://x.test/1.jpg", media_type="image"
    )
    spare_row = DataRow.objects.create(
        workspace=workspace, dataset=dataset, row_data="https://x.test/2.jpg", media_type="image"
    )
    batch = Batch.objects.create(workspace=workspace, project=project, name="Matrix batch")
    Task.objects.create(
        workspace=workspace,
        project=project,
        data_row=queued_row,
        batch=batch,
        step=workflow_of(project).label,
    )
    project_grant = access_services.project_grant_set(
        workspace=workspace, actor=admin, project=project, user_id=grouped.pk, role=Role.LABELER
    )
    tag = Tag.objects.create(workspace=workspace, name="matrix")
    loose_row = DataRow.objects.create(
        workspace=workspace, dataset=dataset, row_data="loose text", media_type="text"
    )
    data_row_job = DataRowJob.objects.create(workspace=workspace, dataset=dataset, total=0)
    metadata_field = MetadataField.objects.create(
        workspace=workspace, name="unused_field", kind="number"
    )
    import_job = ImportJob.objects.create(
        workspace=workspace, project=project, name="Matrix import", kind="prelabels"
    )
    invitation, _ = invitation_create(
        workspace=workspace, actor=admin, email="pending@x.test", role=Role.LABELER
    )
    return {
        "workspace": workspace,
        "ontology": ontology_create(
            workspace=workspace,
            actor=admin,
            name="Matrix streets",
            ontology={"tools": [{"tool": "rectangle", "name": "Car"}]},
        ),
        "target_user": target,
        "target_membership": Membership.objects.get(user=target),
        "grouped_user": grouped,
        "group": group,
        "custom_role": custom,
        "custom_role_unused": unused,
        "invitation": invitation,
        "project": project,
        "batch": batch,
        "queued_row": queued_row,
        "spare_row": spare_row,
        "project_grant": project_grant,
        "tag": tag,
        "dataset": dataset,
        "loose_row": loose_row,
        "data_row_job": data_row_job,
        "metadata_field": metadata_field,
        "import_job": import_job,
        "review_step": workflow_of(project).reviews[0],
    }


def _role_permissions(role):
    """What the role holds at workspace level, project permissions only with access-all."""
    if role == "custom":
        perms = frozenset(Permission(c) for c in CUSTOM_PERMISSIONS) | {Permission.VIEW_WORKSPACE}
    else:
        perms = SYSTEM_ROLE_PERMISSIONS[role]
    if Permission.ACCESS_ALL_PROJECTS not in perms:
        perms = perms - PROJECT_PERMISSIONS
    return perms


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("route", "method", "view"), ENDPOINTS, ids=[f"{m.upper()} /{r}" for r, m, _ in ENDPOINTS]
)
def test_permission_matrix(route, method, view, role, fx, workspace):
    if role == "custom":
        actor = make_user("actor-custom@alpha.test")
        Membership.objects.create(
            workspace=workspace, user=actor, role=Role.CUSTOM, custom_role=fx["custom_role"]
        )
    else:
        actor = make_member(workspace, role, email=f"actor-{role}@alpha.test")
    actor_key = (
        api_key_create(workspace=workspace, actor=actor, name="own")[0]
        if Permission.MANAGE_OWN_API_KEYS in _role_permissions(role)
        else None
    )
    if route == "api/v1/api-keys/<str:id>/" and actor_key is None:
        # No key of their own to act on: aim at someone else's, which the declared
        # requirement (manage own keys) already refuses.
        actor_key = ApiKey.objects.create(
            workspace=workspace,
            owner=fx["target_user"],
            name="x",
            prefix="lh_matrix0000",
            secret_hash="0" * 64,
        )
    client = APIClient()
    client.force_login(actor)
    session = client.session
    session[SESSION_WORKSPACE_KEY] = str(workspace.pk)
    session.save()
    declared = view.required_permissions.get(method.upper(), Permission.VIEW_WORKSPACE)
    held = _role_permissions(role)
    allowed = (declared is None or declared in held) and (
        route,
        method,
        role,
    ) not in ESCALATION_REFUSED
    # Project endpoints answer 404 to those who may not see the project at all.
    hidden = issubclass(view, ProjectScopedView) and Permission.VIEW_PROJECT not in held
    before = _snapshot()
    body = _bodies(fx).get((route, method))
    r = getattr(client, method)(_url(route, fx, actor_key), body, format="json")
    if hidden:
        assert r.status_code == 404, (role, method, route, r.status_code)
        assert _snapshot() == before
    elif allowed:
        assert r.status_code not in (401, 403), (
            role,
            method,
            route,
            r.status_code,
            r.content[:300],
        )
        assert r.status_code < 500
    else:
        assert r.status_code == 403, (role, method, route, r.status_code)
        assert r.json()["error"]["code"] == "permission_denied"
        assert _snapshot() == before


def test_matrix_covers_every_endpoint():
    assert len(ENDPOINTS) >= 25
    assert len({(r, m) for r, m, _ in ENDPOINTS}) == len(ENDPOINTS)


def test_other_workspace_member_cannot_reach_in(fx, workspace, api_client_for):
    """A member of another workspace hitting this workspace's ids gets 404 everywhere."""
    outsider_ws = make_workspace("Elsewhere")
    outsider = make_member(outsider_ws, Role.ADMIN, email="outsider@x.test")
    client = api_client_for(outsider, outsider_ws)
    key, _ = api_key_create(workspace=workspace, actor=fx["target_user"], name="theirs")
    before = _snapshot()
    reached = 0
    for route, method, _ in ENDPOINTS:
        # every route that names an object of the workspace (a project, a row, a step…)
        if "<str:" not in route:
            continue
        reached += 1
        url = _url(route, fx, key)
        r = getattr(client, method)(url, _bodies(fx).get((route, method)), format="json")
        assert r.status_code == 404, (method, route, r.status_code)
    assert reached >= 60
    after = _snapshot()
    # Only the refused-access audit rows were added (in the outsider's own workspace).
    assert after[:-1] == before[:-1]
    assert (
        AuditLogEntry.objects.filter(
            workspace=outsider_ws, verb="access.cross_workspace_refused"
        ).count()
        >= 8
    )
