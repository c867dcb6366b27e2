"""Projects, tags, settings, instructions, members, duplicate, delete (services + API)."""

import pytest

from labelhub.access import services as access
from labelhub.access.models import ProjectGrant
from labelhub.core.errors import Conflict, PermissionDenied, ValidationFailed
from labelhub.core.models import AuditLogEntry
from labelhub.labeling.models import Batch, Task
from labelhub.projects.models import (
    DataRow,
    Dataset,
    InstructionsAcknowledgement,
    Ontology,
    Project,
    Tag,
)
from labelhub.projects.services import projects as services
from labelhub.workspaces.models import Role
from tests.factories import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def ontology(workspace):
    return Ontology.objects.create(
        workspace=workspace, name="Cars", normalized={"tools": [], "classifications": []}
    )


@pytest.fixture
def project(workspace, admin):
    return services.project_create(
        workspace=workspace, actor=admin, name="Streets", media_type="image"
    )


def _labeled_task(project):
    n = Task.objects.filter(project=project).count()
    ds = Dataset.objects.create(workspace=project.workspace, name=f"ds-{project.pk}-{n}")
    row = DataRow.objects.create(
        workspace=project.workspace, dataset=ds, row_data="x", media_type=project.media_type
    )
    batch = Batch.objects.create(workspace=project.workspace, project=project, name=f"b-{row.pk}")
    return Task.objects.create(
        workspace=project.workspace, project=project, data_row=row, batch=batch, labeled=True
    )


class TestCreateUpdate:
    def test_create_with_ontology_and_tags(self, workspace, admin, ontology):
        tag = services.tag_create(workspace=workspace, actor=admin, name="urgent", colour="#ff0000")
        p = services.project_create(
            workspace=workspace,
            actor=admin,
            name=" Cars ",
            media_type="image",
            ontology=str(ontology.pk),
            tags=[str(tag.pk)],
            description="d",
        )
        assert (p.name, p.media_type, p.ontology, list(p.tags.all())) == (
            "Cars",
            "image",
            ontology,
            [tag],
        )
        assert (p.reservation_count, p.allow_skip, p.skip_limit) == (4, True, 5)
        assert AuditLogEntry.objects.get(verb="project.created").after == {
            "name": "Cars",
            "media_type": "image",
            "ontology": "Cars",
        }

    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({"name": "", "media_type": "image"}, "name"),
            ({"name": "x", "media_type": "hologram"}, "media_type"),
            ({"name": "x", "media_type": "image", "ontology": "nope"}, "ontology"),
            ({"name": "x", "media_type": "image", "tags": ["nope"]}, "tags"),
        ],
    )
    def test_bad_input(self, workspace, admin, kwargs, field):
        with pytest.raises(ValidationFailed) as exc:
            services.project_create(workspace=workspace, actor=admin, **kwargs)
        assert list(exc.value.details) == [field]
        assert Project.objects.count() == 0

    def test_labeler_cannot_create(self, workspace, labeler):
        with pytest.raises(PermissionDenied):
            services.project_create(
                workspace=workspace, actor=labeler, name="x", media_type="image"
            )

    def test_creator_without_project_access_gets_admin_grant(self, workspace, admin):
        creator = make_member(workspace, Role.PROJECT_BASED, email="pb@alpha.test")
        role = access.custom_role_create(
            workspace=workspace,
            actor=admin,
            name="Creator",
            scope="workspace",
            permissions=["create_projects"],
        )
        from labelhub.access.services.members import membership_change_role
        from labelhub.workspaces.models import Membership

        membership_change_role(
            workspace=workspace,
            actor=admin,
            membership=Membership.objects.get(user=creator),
            role=str(role.pk),
        )
        p = services.project_create(
            workspace=workspace, actor=creator, name="Mine", media_type="text"
        )
        grant = ProjectGrant.objects.get(project=p)
        assert (grant.user, grant.role) == (creator, Role.ADMIN)

    def test_ontology_fixed_once_labels_exist(self, workspace, admin, project, ontology):
        services.project_update(project=project, actor=admin, ontology=str(ontology.pk))
        _labeled_task(project)
        with pytest.raises(Conflict):
            services.project_update(project=project, actor=admin, ontology=None)
        project.refresh_from_db()
        assert project.ontology == ontology
        services.project_update(project=project, actor=admin, name="Renamed")  # other changes fine


class TestSettingsInstructions:
    def test_settings_bounds(self, admin, project):
        services.project_settings_update(
            project=project,
            actor=admin,
            reservation_count=8,
            consensus_enabled=True,
            timer_target_seconds=60,
            timer_cutoff_seconds=120,
        )
        project.refresh_from_db()
        assert (
            project.reservation_count,
            project.consensus_enabled,
            project.timer_cutoff_seconds,
        ) == (8, True, 120)
        for bad, field in [
            ({"reservation_count": 0}, "reservation_count"),
            ({"prelabel_confidence_threshold": 1.5}, "prelabel_confidence_threshold"),
            ({"allow_skip": "yes"}, "allow_skip"),
            ({"timer_cutoff_seconds": 30}, "timer_cutoff_seconds"),
            ({"colour": 1}, "colour"),
        ]:
            with pytest.raises(ValidationFailed) as exc:
                services.project_settings_update(project=project, actor=admin, **bad)
            assert list(exc.value.details) == [field]
        project.refresh_from_db()
        assert (project.reservation_count, project.timer_cutoff_seconds) == (8, 120)

    def test_instructions_versions_and_acknowledgement(self, workspace, admin, labeler, project):
        services.project_settings_update(project=project, actor=admin, enforce_instructions=True)
        services.instructions_update(
            project=project, actor=admin, kind="markdown", text="# Be careful"
        )
        project.refresh_from_db()
        assert project.instructions_version == 1
        assert services.instructions_acknowledged(project=project, user=labeler) is False
        services.instructions_acknowledge(project=project, actor=labeler)
        services.instructions_acknowledge(project=project, actor=labeler)  # idempotent
        assert InstructionsAcknowledgement.objects.count() == 1
        assert services.instructions_acknowledged(project=project, user=labeler) is True
        services.instructions_update(
            project=project, actor=admin, kind="markdown", text="# Be careful"
        )
        project.refresh_from_db()
        assert project.instructions_version == 1  # unchanged content: no new version
        services.instructions_update(
            project=project, actor=admin, kind="video", url="https://videos.test/intro"
        )
        project.refresh_from_db()
        assert (project.instructions_version, project.instructions_text) == (2, "")
        assert services.instructions_acknowledged(project=project, user=labeler) is False
        with pytest.raises(ValidationFailed):
            services.instructions_update(project=project, actor=admin, kind="video", url="ftp://x")

    def test_replaced_instruction_files_are_deleted_unless_shared(
        self, admin, project, settings, django_capture_on_commit_callbacks
    ):
        from pathlib import Path

        from django.core.files.uploadedfile import SimpleUploadedFile

        def upload(name):
            with django_capture_on_commit_callbacks(execute=True):
                services.instructions_update(
                    project=project,
                    actor=admin,
                    kind="file",
                    file=SimpleUploadedFile(name, b"<h1>Guide</h1>", "text/html"),
                )
            project.refresh_from_db()
            return Path(settings.MEDIA_ROOT) / project.instructions_file.name

        first = upload("guide-1.html")
        second = upload("guide-2.html")
        assert (first.exists(), second.exists()) == (False, True)
        # A duplicate shares the file: replacing the original keeps it for the copy.
        copy = services.project_duplicate(project=project, actor=admin)
        third = upload("guide-3.html")
        assert (second.exists(), third.exists()) == (True, True)
        with django_capture_on_commit_callbacks(execute=True):
            services.instructions_update(project=project, actor=admin, kind="")
        assert third.exists() is False
        with django_capture_on_commit_callbacks(execute=True):
            services.project_delete(project=copy, actor=admin, confirm=copy.name)
        assert second.exists() is False
        assert sorted(p.name for p in second.parent.iterdir()) == []


class TestDuplicateDelete:
    def test_duplicate_copies_setup_only(self, workspace, admin, project, ontology, labeler):
        tag = services.tag_create(workspace=workspace, actor=admin, name="t")
        services.project_update(
            project=project,
            actor=admin,
            ontology=str(ontology.pk),
            tags=[str(tag.pk)],
            description="desc",
        )
        services.project_settings_update(
            project=project, actor=admin, reservation_count=9, benchmark_enabled=True
        )
        services.instructions_update(project=project, actor=admin, kind="markdown", text="read me")
        access.project_grant_set(
            workspace=workspace,
            actor=admin,
            project=project,
            user_id=labeler.pk,
            role=Role.REVIEWER,
        )
        _labeled_task(project)
        copy = services.project_duplicate(project=project, actor=admin)
        assert copy.name == "Streets (copy)"
        assert (
            copy.description,
            copy.ontology,
            copy.reservation_count,
            copy.benchmark_enabled,
            copy.instructions_text,
        ) == ("desc", ontology, 9, True, "read me")
        assert list(copy.tags.all()) == [tag]
        assert list(
            ProjectGrant.objects.filter(project=copy).values_list("user__email", "role")
        ) == [("labeler@alpha.test", "reviewer")]
        assert (
            Task.objects.filter(project=copy).count() == 0
            and Batch.objects.filter(project=copy).count() == 0
        )
        assert services.project_duplicate(project=project, actor=admin).name == "Streets (copy 2)"

    def test_delete_needs_the_name_and_removes_everything(self, workspace, admin, project):
        task = _labeled_task(project)
        with pytest.raises(ValidationFailed) as exc:
            services.project_delete(project=project, actor=admin, confirm="streets")
        assert exc.value.details == {"confirm": ["Type the project's name to confirm."]}
        services.project_delete(project=project, actor=admin, confirm="Streets")
        assert not Project.objects.filter(pk=project.pk).exists()
        assert not Task.objects.filter(pk=task.pk).exists()
        assert DataRow.objects.filter(pk=task.data_row_id).exists()  # data rows belong to datasets


class TestTags:
    def test_rename_and_delete_everywhere(self, workspace, admin, project):
        tag = services.tag_create(workspace=workspace, actor=admin, name="old")
        services.project_update(project=project, actor=admin, tags=[str(tag.pk)])
        services.tag_update(workspace=workspace, actor=admin, tag=tag, name="new")
        assert [t.name for t in project.tags.all()] == ["new"]
        with pytest.raises(Conflict):
            services.tag_create(workspace=workspace, actor=admin, name="NEW")
        services.tag_delete(workspace=workspace, actor=admin, tag=tag)
        assert list(project.tags.all()) == [] and Tag.objects.count() == 0


class TestApi:
    def test_list_filters_and_visibility(self, workspace, admin, admin_client, api_client_for):
        a = services.project_create(
            workspace=workspace, actor=admin, name="Alpha cars", media_type="image"
        )
        b = services.project_create(
            workspace=workspace, actor=admin, name="Beta text", media_type="text"
        )
        t1 = services.tag_create(workspace=workspace, actor=admin, name="t1")
        t2 = services.tag_create(workspace=workspace, actor=admin, name="t2")
        services.project_update(project=a, actor=admin, tags=[str(t1.pk)])
        services.project_update(project=b, actor=admin, tags=[str(t2.pk)])
        names = lambda url: [p["name"] for p in admin_client.get(url).json()["results"]]  # noqa: E731
        assert names("/api/v1/projects/") == ["Alpha cars", "Beta text"]
        assert names(f"/api/v1/projects/?tag={t1.pk}") == ["Alpha cars"]
        assert names(f"/api/v1/projects/?tag={t1.pk}&tag={t2.pk}") == ["Alpha cars", "Beta text"]
        assert names("/api/v1/projects/?search=beta") == ["Beta text"]
        assert names("/api/v1/projects/?sort=-name") == ["Beta text", "Alpha cars"]
        assert admin_client.get("/api/v1/projects/?sort=size").status_code == 400
        pb = make_member(workspace, Role.PROJECT_BASED, email="pb@alpha.test")
        access.project_grant_set(
            workspace=workspace, actor=admin, project=b, user_id=pb.pk, role=Role.LABELER
        )
        client = api_client_for(pb, workspace)
        assert [p["name"] for p in client.get("/api/v1/projects/").json()["results"]] == [
            "Beta text"
        ]
        assert client.get(f"/api/v1/projects/{a.pk}/").status_code == 404
        detail = client.get(f"/api/v1/projects/{b.pk}/").json()
        assert detail["permissions"] == [
            "comment_on_issues",
            "label",
            "manage_own_api_keys",
            "rework",
            "view_project",
            "view_workspace",
        ]

    def test_crud_members_overview(self, admin_client, labeler, workspace):
        r = admin_client.post(
            "/api/v1/projects/", {"name": "P", "media_type": "image"}, format="json"
        )
        assert r.status_code == 201
        pid = r.json()["id"]
        assert (
            admin_client.patch(
                f"/api/v1/projects/{pid}/", {"media_type": "video"}, format="json"
            ).status_code
            == 400
        )
        r = admin_client.post(
            f"/api/v1/projects/{pid}/members/",
            {"user": str(labeler.pk), "role": "reviewer"},
            format="json",
        )
        assert r.status_code == 201 and r.json()["role_label"] == "Reviewer"
        gid = r.json()["id"]
        assert (
            admin_client.patch(
                f"/api/v1/projects/{pid}/members/{gid}/", {"role": "labeler"}, format="json"
            ).json()["role"]
            == "labeler"
        )
        overview = admin_client.get(f"/api/v1/projects/{pid}/overview/").json()
        assert overview["counts"] == {
            "to_label": 0,
            "in_review": 0,
            "in_rework": 0,
            "done": 0,
            "skipped": 0,
        }
        assert overview["members"] == 1
        assert admin_client.delete(f"/api/v1/projects/{pid}/members/{gid}/").status_code == 204
        assert (
            admin_client.delete(
                f"/api/v1/projects/{pid}/", {"confirm": "p"}, format="json"
            ).status_code
            == 400
        )
        assert (
            admin_client.delete(
                f"/api/v1/projects/{pid}/", {"confirm": "P"}, format="json"
            ).status_code
            == 204
        )

    def test_settings_and_instructions_api(self, admin_client, project, labeler_client):
        pid = project.pk
        r = admin_client.patch(
            f"/api/v1/projects/{pid}/settings/", {"reservation_count": 0}, format="json"
        )
        assert r.status_code == 400 and r.json()["error"]["details"] == {
            "reservation_count": ["Give a number from 1 to 100."]
        }
        assert (
            admin_client.patch(
                f"/api/v1/projects/{pid}/settings/", {"reservation_count": 7}, format="json"
            ).json()["reservation_count"]
            == 7
        )
        r = admin_client.put(
            f"/api/v1/projects/{pid}/instructions/",
            {"kind": "markdown", "text": "Hi"},
            format="json",
        )
        assert (r.json()["version"], r.json()["acknowledged"]) == (1, True)
        from django.core.files.uploadedfile import SimpleUploadedFile

        pdf = SimpleUploadedFile("guide.pdf", b"%PDF-1.4 test", content_type="application/pdf")
        r = admin_client.put(
            f"/api/v1/projects/{pid}/instructions/",
            {"kind": "file", "file": pdf},
            format="multipart",
        )
        assert (
            r.status_code == 200
            and r.json()["file"] == f"/projects/{pid}/instructions/file"
            and r.json()["version"] == 2
        )
        exe = SimpleUploadedFile("x.exe", b"MZ", content_type="application/octet-stream")
        r = admin_client.put(
            f"/api/v1/projects/{pid}/instructions/",
            {"kind": "file", "file": exe},
            format="multipart",
        )
        assert r.status_code == 400 and r.json()["error"]["details"] == {
            "file": ["Only PDF or HTML files."]
        }
        assert (
            labeler_client.post(f"/api/v1/projects/{pid}/instructions/acknowledge/").status_code
            == 201
        )

    def test_other_workspace_project_is_404_everywhere(
        self, admin_client, other_workspace, other_admin
    ):
        foreign = services.project_create(
            workspace=other_workspace, actor=other_admin, name="F", media_type="image"
        )
        for suffix in (
            "",
            "overview/",
            "settings/",
            "members/",
            "batches/",
            "data-rows/",
            "instructions/",
        ):
            assert admin_client.get(f"/api/v1/projects/{foreign.pk}/{suffix}").status_code == 404, (
                suffix
            )
        assert (
            admin_client.delete(
                f"/api/v1/projects/{foreign.pk}/", {"confirm": "F"}, format="json"
            ).status_code
            == 404
        )
        assert Project.objects.filter(pk=foreign.pk).exists()
        assert admin_client.get("/api/v1/projects/").json()["results"] == []
        assert AuditLogEntry.objects.filter(verb="access.cross_workspace_refused").count() == 8


def test_large_project_is_hidden_then_deleted_in_the_background(
    settings, workspace, admin, admin_client, django_capture_on_commit_callbacks
):
    settings.PROJECT_DELETE_SYNC_LIMIT = 1
    project = services.project_create(
        workspace=workspace, actor=admin, name="Big", media_type="image"
    )
    first, second = _labeled_task(project), _labeled_task(project)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        r = admin_client.delete(
            f"/api/v1/projects/{project.pk}/", {"confirm": "Big"}, format="json"
        )
    assert r.status_code == 202
    # Hidden at once, everywhere, while the job has not run yet.
    assert admin_client.get(f"/api/v1/projects/{project.pk}/").status_code == 404
    assert admin_client.get("/api/v1/projects/").json()["results"] == []
    assert Task.objects.filter(pk__in=[first.pk, second.pk]).count() == 2
    assert len(callbacks) == 1
    callbacks[0]()  # the job, in-process
    assert not Project.objects.filter(pk=project.pk).exists()
    assert not Task.objects.filter(pk__in=[first.pk, second.pk]).exists()
    from labelhub.projects.models import ProjectDeletion
    from labelhub.projects.tasks import run_project_deletion_task

    deletion = ProjectDeletion.objects.get()
    assert (deletion.state, deletion.project_id, deletion.project_name) == ("finished", None, "Big")
    assert (deletion.total, deletion.processed) == (2, 2)
    # Running the job again is harmless.
    ids = {"workspace_id": str(workspace.pk), "job_id": str(deletion.pk)}
    assert run_project_deletion_task.delay(**ids).get() == "finished"


class TestTagsApi:
    def test_create_without_a_name_is_400_and_creates_nothing(self, admin_client):
        before = AuditLogEntry.objects.count()
        r = admin_client.post("/api/v1/tags/", {"colour": "#ff0000"}, format="json")
        assert r.status_code == 400
        assert r.json() == {
            "error": {
                "code": "invalid",
                "message": "The input is not valid.",
                "details": {"name": ["This field is required."]},
            }
        }
        assert (Tag.objects.count(), AuditLogEntry.objects.count()) == (0, before)

    def test_create_with_a_name_and_rename_without_one(self, admin_client):
        r = admin_client.post("/api/v1/tags/", {"name": "urgent"}, format="json")
        assert r.status_code == 201
        assert (r.json()["name"], r.json()["colour"]) == ("urgent", "#868E96")
        tag_id = r.json()["id"]
        r = admin_client.patch(f"/api/v1/tags/{tag_id}/", {"colour": "#FF0000"}, format="json")
        assert r.status_code == 200
        assert (r.json()["name"], r.json()["colour"]) == ("urgent", "#FF0000")
