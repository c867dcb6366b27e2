"""Console pages of projects: list, create, tags, overview, data rows tab, batches, members,
settings (typed delete)."""

import pytest
from django.test import Client

from labelhub.access import services as access
from labelhub.labeling.models import Batch, Task
from labelhub.labeling.services.batches import batch_create
from labelhub.projects.models import DataRow, Dataset, Project, Tag
from labelhub.projects.services.projects import project_create, tag_create
from labelhub.workspaces.models import Role
from tests.factories import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(admin):
    c = Client()
    c.force_login(admin)
    return c


@pytest.fixture
def project(workspace, admin):
    return project_create(workspace=workspace, actor=admin, name="Streets", media_type="image")


@pytest.fixture
def rows(workspace):
    ds = Dataset.objects.create(workspace=workspace, name="Cams")
    return ds, [
        DataRow.objects.create(
            workspace=workspace,
            dataset=ds,
            row_data=f"https://x.test/{i}.jpg",
            media_type="image",
            global_key=f"cam-{i}",
            metadata={"split": "train"},
        )
        for i in range(3)
    ]


def test_list_create_and_manage_tags(web, workspace):
    r = web.post("/projects/", {"action": "create", "name": "", "media_type": "image"})
    assert "This field is required." in r.content.decode() and Project.objects.count() == 0
    r = web.post("/projects/", {"action": "create", "name": "Cars", "media_type": "image"})
    project = Project.objects.get()
    assert r.url == f"/projects/{project.pk}/"
    web.post("/projects/", {"action": "tag_create", "name": "urgent", "colour": "#FF0000"})
    tag = Tag.objects.get()
    web.post("/projects/", {"action": "tag_rename", "tag": str(tag.pk), "name": "hot"})
    assert Tag.objects.get().name == "hot"
    html = web.get("/projects/?search=car").content.decode()
    assert 'data-project="Cars"' in html
    assert 'data-project="Cars"' not in web.get("/projects/?search=zzz").content.decode()
    r = web.post("/projects/", {"action": "tag_delete", "tag": str(tag.pk)}, follow=True)
    assert "Tag hot deleted from every project." in r.content.decode() and Tag.objects.count() == 0


def test_project_pages_render_and_hide_from_outsiders(
    web, project, workspace, other_workspace, other_admin
):
    for suffix in ("", "data-rows/", "batches/", "members/", "settings/"):
        r = web.get(f"/projects/{project.pk}/{suffix}")
        assert r.status_code == 200, suffix
        assert "<h1>Streets" in r.content.decode()
    outsider = Client()
    outsider.force_login(other_admin)
    assert outsider.get(f"/projects/{project.pk}/").status_code == 404
    pb = make_member(workspace, Role.PROJECT_BASED, email="pb@alpha.test")
    c = Client()
    c.force_login(pb)
    assert c.get(f"/projects/{project.pk}/").status_code == 404
    assert 'data-project="Streets"' not in c.get("/projects/").content.decode()


def test_labeler_cannot_open_settings(project, labeler):
    c = Client()
    c.force_login(labeler)
    assert c.get(f"/projects/{project.pk}/").status_code == 200
    assert c.get(f"/projects/{project.pk}/settings/").status_code == 403


def test_batch_from_dataset_and_overview_counts(web, project, rows):
    ds, made = rows
    r = web.post(
        f"/projects/{project.pk}/batches/",
        {
            "name": "First",
            "source": "dataset",
            "dataset": str(ds.pk),
            "sample": "all",
            "priority": 3,
            "consensus_coverage": 0,
            "consensus_labels": 2,
        },
        follow=True,
    )
    assert "Batch First: 3 data rows added." in r.content.decode()
    html = web.get(f"/projects/{project.pk}/").content.decode()
    assert '<div class="tile" data-status="to_label"><div class="tile-value">3</div>' in html
    bad = web.post(
        f"/projects/{project.pk}/batches/",
        {
            "name": "Again",
            "source": "global_keys",
            "global_keys": "ghost",
            "priority": 5,
            "consensus_coverage": 0,
            "consensus_labels": 2,
        },
    )
    assert "Unknown global keys: ghost." in bad.content.decode()
    assert Batch.objects.count() == 1


def test_data_rows_tab_filters_and_bulk_priority(web, project, admin, rows):
    _, made = rows
    batch_create(project=project, actor=admin, name="B", data_row_ids=[str(r.pk) for r in made])
    html = web.get(f"/projects/{project.pk}/data-rows/?global_key=cam-1").content.decode()
    assert 'data-key="cam-1"' in html and 'data-key="cam-0"' not in html
    html = web.get(
        f"/projects/{project.pk}/data-rows/?meta_name=split&meta_value=test"
    ).content.decode()
    assert "No data rows match." in html
    r = web.post(
        f"/projects/{project.pk}/data-rows/",
        {"data_row": [str(made[0].pk), str(made[2].pk)], "priority": "1"},
        follow=True,
    )
    assert "Priority changed for 2 data rows." in r.content.decode()
    assert sorted(
        Task.objects.filter(priority=1).values_list("data_row__global_key", flat=True)
    ) == ["cam-0", "cam-2"]


def test_members_tab_and_settings_delete(web, project, labeler, workspace, admin):
    group = access.group_create(
        workspace=workspace, actor=admin, name="Crew", default_role=Role.REVIEWER
    )
    web.post(
        f"/projects/{project.pk}/members/",
        {"action": "set", "who": f"user:{labeler.pk}", "role": "reviewer"},
    )
    web.post(
        f"/projects/{project.pk}/members/",
        {"action": "set", "who": f"group:{group.pk}", "role": ""},
    )
    html = web.get(f"/projects/{project.pk}/members/").content.decode()
    assert 'data-who="labeler@alpha.test"' in html and 'data-who="Crew"' in html
    r = web.post(
        f"/projects/{project.pk}/settings/",
        {
            "action": "settings",
            "reservation_count": 0,
            "reservation_lease_seconds": 3600,
            "skip_limit": 5,
            "prelabel_confidence_threshold": 0,
        },
    )
    assert "Ensure this value is greater than or equal to 1." in r.content.decode()
    r = web.post(f"/projects/{project.pk}/settings/", {"action": "delete", "confirm": "streets"})
    assert "Type the project&#x27;s name to confirm." in r.content.decode()
    assert Project.objects.filter(pk=project.pk).exists()
    r = web.post(f"/projects/{project.pk}/settings/", {"action": "delete", "confirm": "Streets"})
    assert r.url == "/projects/" and not Project.objects.filter(pk=project.pk).exists()


def test_instructions_ack_banner(web, project, admin, labeler):
    web.post(
        f"/projects/{project.pk}/settings/",
        {
            "action": "instructions",
            "kind": "markdown",
            "text": "Draw tight boxes",
            "enforce_instructions": "on",
        },
    )
    c = Client()
    c.force_login(labeler)
    html = c.get(f"/projects/{project.pk}/").content.decode()
    assert "Please read the instructions before labeling." in html and "Draw tight boxes" in html
    c.post(f"/projects/{project.pk}/", {"action": "acknowledge"})
    assert (
        "Please read the instructions before labeling."
        not in c.get(f"/projects/{project.pk}/").content.decode()
    )


def test_tag_filter_on_list(web, workspace, admin, project):
    tag = tag_create(workspace=workspace, actor=admin, name="t")
    other = project_create(workspace=workspace, actor=admin, name="Other", media_type="text")
    from labelhub.projects.services.projects import project_update

    project_update(project=other, actor=admin, tags=[str(tag.pk)])
    html = web.get(f"/projects/?tag={tag.pk}").content.decode()
    assert 'data-project="Other"' in html and 'data-project="Streets"' not in html
