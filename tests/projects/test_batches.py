"""Batches and the data rows tab: rules, constraint, history, filters, bulk priority."""

import pytest
from django.db import IntegrityError, transaction

from labelhub.core.errors import Conflict, PermissionDenied, ValidationFailed
from labelhub.labeling.models import Batch, BatchEvent, Task
from labelhub.labeling.services import batches as services
from labelhub.projects.models import DataRow, Dataset
from labelhub.projects.services.projects import project_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(workspace, admin):
    return project_create(workspace=workspace, actor=admin, name="Streets", media_type="image")


@pytest.fixture
def rows(workspace):
    ds = Dataset.objects.create(workspace=workspace, name="Cams")
    made = [
        DataRow.objects.create(
            workspace=workspace,
            dataset=ds,
            row_data=f"https://x.test/{i}.jpg",
            media_type="image",
            global_key=f"cam-{i}",
            metadata={"split": "train" if i % 2 else "test"},
        )
        for i in range(6)
    ]
    return ds, made


def test_batch_by_ids_creates_tasks_and_history(project, admin, rows):
    _, made = rows
    batch, report = services.batch_create(
        project=project,
        actor=admin,
        name="First",
        data_row_ids=[str(r.pk) for r in made[:3]],
        priority=2,
    )
    assert report == {"added": 3, "excluded_labeled": []}
    assert list(Task.objects.filter(batch=batch).values_list("status", "priority").distinct()) == [
        ("to_label", 2)
    ]
    assert list(BatchEvent.objects.values_list("verb", "count")) == [("rows_added", 3)]


def test_batch_by_global_keys_and_dataset_sampling(project, admin, rows):
    ds, made = rows
    b1, _ = services.batch_create(
        project=project, actor=admin, name="Keys", global_keys=["cam-0", "cam-1"]
    )
    assert Task.objects.filter(batch=b1).count() == 2
    b2, report = services.batch_create(
        project=project,
        actor=admin,
        name="First two",
        dataset={"dataset": str(ds.pk), "sample": "first", "count": 2},
    )
    assert sorted(Task.objects.filter(batch=b2).values_list("data_row__global_key", flat=True)) == [
        "cam-2",
        "cam-3",
    ]
    b3, report = services.batch_create(
        project=project,
        actor=admin,
        name="Random",
        dataset={"dataset": str(ds.pk), "sample": "random", "count": 5},
    )
    assert report["added"] == 2  # only the two rows not yet in the project remain
    with pytest.raises(ValidationFailed) as exc:
        services.batch_create(
            project=project, actor=admin, name="None left", dataset={"dataset": str(ds.pk)}
        )
    assert exc.value.details == {"dataset": ["The dataset has no rows to send to this project."]}


def test_rules(project, admin, labeler, rows, workspace):
    ds, made = rows
    text_row = DataRow.objects.create(
        workspace=workspace, dataset=ds, row_data="hello", media_type="text"
    )
    with pytest.raises(ValidationFailed) as exc:
        services.batch_create(
            project=project,
            actor=admin,
            name="Mixed",
            data_row_ids=[str(made[0].pk), str(text_row.pk)],
        )
    assert "not of the project's media type (image)" in exc.value.message
    with pytest.raises(ValidationFailed):
        services.batch_create(
            project=project, actor=admin, name="P", data_row_ids=[str(made[0].pk)], priority=6
        )
    with pytest.raises(ValidationFailed):
        services.batch_create(
            project=project,
            actor=admin,
            name="C",
            data_row_ids=[str(made[0].pk)],
            consensus_coverage=101,
        )
    with pytest.raises(ValidationFailed) as exc:
        services.batch_create(
            project=project,
            actor=admin,
            name="C",
            data_row_ids=[str(made[0].pk)],
            consensus_coverage=50,
            consensus_labels=5,
        )
    assert exc.value.message == "Consensus asks for 5 labels but the project has 2 labelers."
    with pytest.raises(ValidationFailed) as exc:
        services.batch_create(
            project=project, actor=admin, name="U", global_keys=["cam-0", "ghost"]
        )
    assert exc.value.message == "Unknown global keys: ghost."
    with pytest.raises(PermissionDenied):
        services.batch_create(
            project=project, actor=labeler, name="L", data_row_ids=[str(made[0].pk)]
        )
    services.batch_create(project=project, actor=admin, name="A", data_row_ids=[str(made[0].pk)])
    with pytest.raises(Conflict):
        services.batch_create(
            project=project, actor=admin, name="B", data_row_ids=[str(made[0].pk), str(made[1].pk)]
        )
    assert Batch.objects.count() == 1 and Task.objects.count() == 1


def test_labeled_rows_are_excluded_and_reported(project, admin, rows):
    _, made = rows
    b, _ = services.batch_create(
        project=project, actor=admin, name="A", data_row_ids=[str(made[0].pk)]
    )
    Task.objects.filter(batch=b).update(labeled=True, status="done")
    b2, report = services.batch_create(
        project=project, actor=admin, name="B", data_row_ids=[str(made[0].pk), str(made[1].pk)]
    )
    assert report == {"added": 1, "excluded_labeled": [str(made[0].pk)]}


def test_database_refuses_a_row_twice_in_a_project(project, rows, workspace):
    _, made = rows
    b = Batch.objects.create(workspace=workspace, project=project, name="x")
    Task.objects.create(workspace=workspace, project=project, data_row=made[0], batch=b)
    b2 = Batch.objects.create(workspace=workspace, project=project, name="y")
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.create(workspace=workspace, project=project, data_row=made[0], batch=b2)


def test_rename_priority_and_remove_queued(project, admin, rows):
    _, made = rows
    batch, _ = services.batch_create(
        project=project, actor=admin, name="A", data_row_ids=[str(r.pk) for r in made[:4]]
    )
    Task.objects.filter(data_row=made[0]).update(labeled=True, status="in_review")
    services.batch_update(batch=batch, actor=admin, name="Renamed", priority=1)
    assert set(Task.objects.filter(batch=batch).values_list("priority", flat=True)) == {1}
    assert services.batch_remove_queued(batch=batch, actor=admin) == 3
    assert list(Task.objects.filter(batch=batch).values_list("data_row_id", flat=True)) == [
        made[0].pk
    ]
    assert list(BatchEvent.objects.filter(batch=batch).values_list("verb", "count", "detail")) == [
        ("rows_added", 4, ""),
        ("renamed", 0, "A → Renamed"),
        ("priority_changed", 0, "5 → 1"),
        ("rows_removed", 3, ""),
    ]


def test_data_rows_tab_filters_and_bulk_priority(project, admin, rows, admin_client):
    ds, made = rows
    b1, _ = services.batch_create(
        project=project, actor=admin, name="B1", data_row_ids=[str(r.pk) for r in made[:3]]
    )
    b2, _ = services.batch_create(
        project=project, actor=admin, name="B2", data_row_ids=[str(r.pk) for r in made[3:]]
    )
    Task.objects.filter(data_row=made[4]).update(status="done")
    url = f"/api/v1/projects/{project.pk}/data-rows/"

    def keys(q):
        return sorted(
            t["data_row"]["global_key"] for t in admin_client.get(url + q).json()["results"]
        )

    assert keys("") == ["cam-0", "cam-1", "cam-2", "cam-3", "cam-4", "cam-5"]
    assert keys(f"?batch={b1.pk}") == ["cam-0", "cam-1", "cam-2"]
    assert keys(f"?batch={b1.pk}&status=done") == []
    assert keys(f"?batch={b1.pk}&status=done&match=any") == ["cam-0", "cam-1", "cam-2", "cam-4"]
    assert keys("?metadata.split=test") == ["cam-0", "cam-2", "cam-4"]
    assert keys(f"?metadata.split=test&batch={b2.pk}") == ["cam-4"]
    assert keys("?global_key=cam-5&global_key=cam-1&match=any") == ["cam-1", "cam-5"]
    assert admin_client.get(url + "?status=flying").status_code == 400
    assert admin_client.get(url + "?match=some").status_code == 400
    r = admin_client.post(
        url + "priority/",
        {"data_row_ids": [str(made[0].pk), str(made[5].pk)], "priority": 1},
        format="json",
    )
    assert r.json() == {"changed": 2}
    assert sorted(
        Task.objects.filter(priority=1).values_list("data_row__global_key", flat=True)
    ) == ["cam-0", "cam-5"]
    assert (
        admin_client.post(
            url + "priority/", {"data_row_ids": [str(made[0].pk)], "priority": 9}, format="json"
        ).status_code
        == 400
    )


def test_batches_api(project, admin_client, rows):
    _, made = rows
    url = f"/api/v1/projects/{project.pk}/batches/"
    r = admin_client.post(
        url, {"name": "API", "global_keys": ["cam-0", "cam-1"], "priority": 3}, format="json"
    )
    assert r.status_code == 201 and (r.json()["added"], r.json()["priority"]) == (2, 3)
    bid = r.json()["id"]
    listed = admin_client.get(url).json()["results"]
    assert [(b["name"], b["row_count"], b["queued_count"]) for b in listed] == [("API", 2, 2)]
    assert admin_client.patch(f"{url}{bid}/", {"priority": 0}, format="json").status_code == 400
    assert (
        admin_client.patch(f"{url}{bid}/", {"name": "Renamed"}, format="json").json()["name"]
        == "Renamed"
    )
    assert admin_client.post(f"{url}{bid}/remove-queued/").json() == {"removed": 2}
    history = admin_client.get(f"{url}{bid}/").json()["history"]
    assert [(h["verb"], h["count"]) for h in history] == [
        ("rows_added", 2),
        ("renamed", 0),
        ("rows_removed", 2),
    ]
    bad = admin_client.post(
        url,
        {"name": "X", "global_keys": ["cam-2"], "data_row_ids": [str(made[3].pk)]},
        format="json",
    )
    assert bad.status_code == 400
