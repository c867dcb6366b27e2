"""The tables that changed owner keep every row: migrate a database holding rows back to
before the moves, then forward again (SQLite here; PostgreSQL in CI's second run)."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

# The last migration of each app before tables changed owner (and before data row jobs
# moved their payload into chunks).
BEFORE = [
    ("labeling", "0001_initial"),
    ("projects", "0003_project_deleting_since"),
    ("imports", "0005_lz4_text_chunks"),
    ("accounts", "0004_apikey_rate_limit"),
    ("access", "0003_alter_group_auth_group"),
    ("notifications", "0001_initial"),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_moved_tables_keep_their_rows():
    # Given the schema before the moves, with a row in every table that moves,
    old = _migrate(BEFORE)
    now = timezone.now()
    Tenant = old.get_model("workspaces", "Tenant")
    Workspace = old.get_model("workspaces", "Workspace")
    User = old.get_model("accounts", "User")
    tenant = Tenant.objects.create(id=uuid.uuid4(), name="T")
    ws = Workspace.objects.create(id=uuid.uuid4(), tenant=tenant, name="W")
    user = User.objects.create(id=uuid.uuid4(), email="u@x.test", password="!")
    ontology = old.get_model("projects", "Ontology").objects.create(
        id=uuid.uuid4(), workspace=ws, name="O"
    )
    feature = old.get_model("projects", "FeatureSchema").objects.create(
        id=uuid.uuid4(),
        workspace=ws,
        ontology=ontology,
        schema_id="ck1",
        kind="tool",
        type="rectangle",
        name="Car",
        path="tools[0]",
    )
    project = old.get_model("projects", "Project").objects.create(
        id=uuid.uuid4(), workspace=ws, name="P", ontology=ontology
    )
    dataset = old.get_model("projects", "Dataset").objects.create(
        id=uuid.uuid4(), workspace=ws, name="D"
    )
    row = old.get_model("projects", "DataRow").objects.create(
        id=uuid.uuid4(),
        workspace=ws,
        dataset=dataset,
        row_data="https://x.test/1.jpg",
        media_type="image",
    )
    batch = old.get_model("projects", "Batch").objects.create(
        id=uuid.uuid4(), workspace=ws, project=project, name="B", priority=2
    )
    old.get_model("projects", "BatchEvent").objects.create(
        id=uuid.uuid4(), workspace=ws, batch=batch, verb="rows_added", count=1
    )
    task = old.get_model("projects", "Task").objects.create(
        workspace=ws, project=project, data_row=row, batch=batch, status="done", labeled=True
    )
    job = old.get_model("imports", "ImportJob").objects.create(
        id=uuid.uuid4(), workspace=ws, project=project, name="J", kind="prelabels"
    )
    annotation = old.get_model("imports", "Annotation").objects.create(
        id=uuid.uuid4(),
        workspace=ws,
        project=project,
        data_row=row,
        feature=feature,
        kind="bbox",
        value={"bbox": {"top": 1}},
        source="prelabel",
        job=job,
        uuid="a1",
    )
    invitation = old.get_model("accounts", "Invitation").objects.create(
        id=uuid.uuid4(),
        workspace=ws,
        email="i@x.test",
        role="labeler",
        token_hash="h" * 64,
        expires_at=now + timedelta(days=1),
    )
    key = old.get_model("accounts", "ApiKey").objects.create(
        id=uuid.uuid4(),
        workspace=ws,
        owner=user,
        name="k",
        prefix="lh_0123456789",
        secret_hash="s" * 64,
        rate_limit_per_minute=100,
    )
    upload = old.get_model("projects", "DataRowJob").objects.create(
        id=uuid.uuid4(),
        workspace=ws,
        dataset=dataset,
        state="running",
        total=3,
        processed=1,
        payload=[[1, {"row_data": "a"}], [2, {"row_data": "b"}], [3, None, "unreadable"]],
    )

    # when the moves run forward,
    new = _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    # then every row is where its new owner looks for it, unchanged.
    Task = new.get_model("labeling", "Task")
    assert Task._meta.db_table == "labeling_task"
    assert list(Task.objects.values_list("pk", "status", "labeled", "batch__priority")) == [
        (task.pk, "done", True, 2)
    ]
    assert new.get_model("labeling", "BatchEvent").objects.get().verb == "rows_added"
    moved = new.get_model("labeling", "Annotation").objects.get()
    assert (moved.pk, moved.uuid, moved.value, moved.job_id) == (
        annotation.pk,
        "a1",
        {"bbox": {"top": 1}},
        job.pk,
    )
    assert new.get_model("access", "Invitation").objects.get().pk == invitation.pk
    assert new.get_model("access", "ApiKey").objects.get().rate_limit_per_minute == 100
    assert key.pk == new.get_model("access", "ApiKey").objects.get().pk
    # the unfinished upload keeps its two rows still to do, as a payload chunk
    chunk = new.get_model("projects", "DataRowPayloadChunk").objects.get()
    assert (chunk.job_id, chunk.seq, chunk.count) == (upload.pk, 0, 2)
    assert chunk.text.split("\n") == ['[2, {"row_data": "b"}]', '[3, null, "unreadable"]']
    assert new.get_model("projects", "DataRowJob").objects.get().total == 3
