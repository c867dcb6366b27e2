"""Console pages of label imports: the project's job list with the upload form and the API
samples, and one job (summary, progress, error table filtered by error name).

Pages are read through the small DOM of ``tests.access.test_views``.
"""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from labelhub.imports.models import ImportJob, ImportLineError
from labelhub.labeling.models import Annotation
from labelhub.projects.models import Project
from labelhub.workspaces.models import Role
from tests.access.test_views import dom, field_errors, form_errors
from tests.factories import make_member
from tests.imports.helpers import make_import_project
from tests.imports.test_validation import TREE, line

pytestmark = pytest.mark.django_db

NOT_IN_PROJECT = (
    'Data row "row-x" is not in a batch of this project; send it to the project in a batch first.'
)


@pytest.fixture
def setup(workspace, admin):
    return make_import_project(workspace, admin, TREE, keys=["row-1", "row-2"], outside=["row-x"])


@pytest.fixture
def project(setup) -> Project:
    return setup[0]


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def web(admin) -> Client:
    return client_for(admin)


def jobs_url(project):
    return f"/projects/{project.pk}/imports/"


def job_url(project, job):
    return f"/projects/{project.pk}/imports/{job.pk}/"


def make_job(project, user=None, **fields):
    job = ImportJob.objects.create(
        workspace_id=project.workspace_id, project=project, created_by=user, **fields
    )
    if "created_at" in fields:  # auto_now_add ignores a given value
        ImportJob.objects.filter(pk=job.pk).update(created_at=fields["created_at"])
    return job


def ndjson(*lines) -> bytes:
    return "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines).encode()


def upload(client, project, content=None, *, filename="labels.ndjson", **fields):
    data = {"name": "Model run 1", "kind": "prelabels", **fields}
    if content is not None:
        data["file"] = SimpleUploadedFile(filename, content, "application/x-ndjson")
    return client.post(jobs_url(project), data)


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run the import task (queued on commit) before the block ends."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def job_rows(doc):
    table = doc.one("table", data_testid="import-jobs-table")
    return [tr.texts("td") for tr in table.one("tbody").all("tr")]


def error_rows(doc):
    table = doc.one("table", data_testid="errors-table")
    return [tr.texts("td") for tr in table.one("tbody").all("tr")]


# --- the job list ---------------------------------------------------------------------------


def test_list_shows_jobs_newest_first_with_counts(project, admin, labeler):
    # given two jobs, the older one finished with errors
    make_job(
        project,
        admin,
        name="Old run",
        kind="ground_truth",
        state="finished_with_errors",
        total=5,
        processed=5,
        lines_read=5,
        lines_valid=3,
        lines_invalid=2,
        lines_written=3,
        warnings=1,
        created_at=datetime(2026, 11, 1, 9, 30, tzinfo=UTC),
    )
    make_job(
        project,
        None,
        name="New run",
        kind="prelabels",
        dry_run=True,
        state="queued",
        total=10,
        created_at=datetime(2026, 11, 2, 10, 0, tzinfo=UTC),
    )

    # when a viewer without import_labels opens the tab
    r = client_for(labeler).get(jobs_url(project))

    # then both jobs are listed, newest first, and the upload form is not there
    assert r.status_code == 200
    doc = dom(r)
    assert job_rows(doc) == [
        ["New run", "Pre-labels (MAL)", "Yes", "Queued", "0", "0", "0", "0", "0", "—",
         "2026-11-02 10:00"],
        ["Old run", "Ground truth", "No", "Finished with errors", "5", "3", "2", "3", "1",
         "admin@alpha.test", "2026-11-01 09:30"],
    ]  # fmt: skip
    assert doc.one("nav", aria_label="Project").one("a", cls="active").text == "Import labels"
    assert doc.all("form", data_testid="import-form") == []


def test_list_paginates(project, web):
    for n in range(51):
        make_job(project, name=f"Run {n:02d}", kind="prelabels")
    first = dom(web.get(jobs_url(project)))
    assert len(job_rows(first)) == 50
    assert first.one("nav", cls="pager").one("span").text == "Page 1 of 2"
    second = dom(web.get(jobs_url(project) + "?page=2"))
    assert [row[0] for row in job_rows(second)] == ["Run 00"]


def test_list_query_count_does_not_grow_with_jobs(
    project, admin, web, django_assert_max_num_queries
):
    for n in range(20):
        make_job(project, admin, name=f"Run {n}", kind="prelabels")
    with django_assert_max_num_queries(25):
        assert web.get(jobs_url(project)).status_code == 200


def test_project_of_another_workspace_is_not_found(project, other_admin):
    r = client_for(other_admin).get(jobs_url(project))
    assert r.status_code == 404


def test_code_samples_name_the_project_and_its_features(project, web):
    r = web.get(jobs_url(project))
    page = r.content.decode()
    doc = dom(r)
    curl = doc.one("pre", data_testid="sample-curl").text
    python = doc.one("pre", data_testid="sample-python").text
    url = f"http://testserver/api/v1/projects/{project.pk}/imports/"
    assert f'curl -X POST "{url}?name=model-run-1&kind=prelabels"' in curl
    assert "Authorization: Bearer $LABELHUB_API_KEY" in curl
    assert "Content-Type: application/x-ndjson" in curl
    assert f'URL = "{url}"' in python
    # the first tool with a box, the first classification with its first answer
    box = {
        "uuid": "b2d6a1f0-6c3e-4f1a-9f1e-000000000001",
        "dataRow": {"globalKey": "row-1"},
        "name": "Car",
        "bbox": {"top": 48, "left": 64, "height": 120, "width": 180},
    }
    answer = {
        "uuid": "b2d6a1f0-6c3e-4f1a-9f1e-000000000002",
        "dataRow": {"globalKey": "row-1"},
        "name": "Weather",
        "answer": [{"name": "rain"}],
    }
    assert json.dumps(box) in curl and json.dumps(answer) in curl
    raw = html.unescape(re.search(r'data-testid="sample-python">(.*?)</pre>', page, re.S)[1])
    python_lines = raw.split("lines = [\n")[1].split(",\n]\n")[0]
    assert json.loads(f"[{python_lines}]") == [box, answer]


def test_sample_lines_are_valid_for_the_project(project, web, run_on_commit):
    """The lines of the sample import as they are (nothing invalid)."""
    page = web.get(jobs_url(project)).content.decode()
    curl = html.unescape(re.search(r'data-testid="sample-curl">(.*?)</pre>', page, re.S)[1])
    body = curl.split("<<'EOF'\n")[1].split("\nEOF\n")[0]
    assert len(body.splitlines()) == 2
    with run_on_commit():
        r = upload(web, project, body.encode(), name="From the sample")
    assert r.status_code == 302
    job = ImportJob.objects.get(name="From the sample")
    assert (job.state, job.lines_valid, job.lines_invalid) == ("finished", 2, 0)


# --- upload ---------------------------------------------------------------------------------


def test_upload_creates_a_job_and_redirects_to_it(project, web, admin, run_on_commit):
    content = ndjson(
        line(uuid="a"),
        line(uuid="b", dataRow={"globalKey": "row-2"}),
        line(uuid="c", dataRow={"globalKey": "row-x"}),
    )
    with run_on_commit():
        r = upload(web, project, content, name="Model run 1")

    job = ImportJob.objects.get(project=project)
    assert r.status_code == 302
    assert r["Location"] == job_url(project, job)
    assert (job.name, job.kind, job.dry_run, job.created_by) == (
        "Model run 1",
        "prelabels",
        False,
        admin,
    )
    assert (job.state, job.total, job.lines_valid, job.lines_invalid, job.lines_written) == (
        "finished_with_errors",
        3,
        2,
        1,
        2,
    )
    assert Annotation.objects.filter(job=job).count() == 2

    doc = dom(web.get(r["Location"]))
    summary = doc.one("section", data_testid="import-job")
    assert summary.one("span", data_testid="job-state").text == "Finished with errors"
    progress = summary.one("progress", data_testid="job-progress")
    assert (progress.attrs["value"], progress.attrs["max"]) == ("3", "3")
    assert summary.one("dl", data_testid="job-counts").texts("dd") == ["3", "2", "1", "2", "0"]
    assert summary.one("a", data_testid="report-link").attrs["href"] == (
        f"/api/v1/projects/{project.pk}/imports/{job.pk}/report.ndjson"
    )
    assert error_rows(doc) == [
        ["3", "c", "globalKey: row-x", "DataRowNotInProject", NOT_IN_PROJECT]
    ]


def test_dry_run_upload_writes_nothing(project, web, run_on_commit):
    with run_on_commit():
        r = upload(
            web, project, ndjson(line(uuid="a")), name="Try", kind="ground_truth", dry_run="on"
        )
    assert r.status_code == 302
    job = ImportJob.objects.get(project=project)
    assert (job.kind, job.dry_run, job.state, job.lines_valid, job.lines_written) == (
        "ground_truth",
        True,
        "finished",
        1,
        0,
    )
    assert Annotation.objects.count() == 0


@pytest.mark.parametrize(
    ("fields", "content", "filename", "field", "errors"),
    [
        ({}, None, None, "file", ["Choose an NDJSON file to import."]),
        ({}, b"", "labels.ndjson", "file", ["The file is empty."]),
        (
            {},
            b"a,b\n1,2\n",
            "labels.csv",
            "file",
            ["Choose an NDJSON file (.ndjson, .jsonl or .json), one annotation per line."],
        ),
        ({"name": ""}, b"{}", "labels.ndjson", "name", ["Give the import a name."]),
        (
            {"kind": "labels"},
            b"{}",
            "labels.ndjson",
            "kind",
            ["Choose pre-labels or ground truth."],
        ),
    ],
    ids=["no-file", "empty-file", "not-ndjson", "no-name", "bad-kind"],
)
def test_bad_input_is_shown_beside_the_field_and_creates_nothing(
    project, web, fields, content, filename, field, errors
):
    r = upload(web, project, content, filename=filename or "labels.ndjson", **fields)
    assert r.status_code == 200
    form = dom(r).one("form", data_testid="import-form")
    assert field_errors(form, field) == errors
    assert ImportJob.objects.count() == 0


def test_duplicate_name_is_shown_beside_the_name(project, web):
    make_job(project, name="Model run 1", kind="prelabels")
    r = upload(web, project, ndjson(line(uuid="a")), name="model RUN 1")
    assert r.status_code == 200
    form = dom(r).one("form", data_testid="import-form")
    assert field_errors(form, "name") == ["An import with this name already exists in the project."]
    assert form.one("input", name="name").attrs["value"] == "model RUN 1"
    assert list(ImportJob.objects.values_list("name", flat=True)) == ["Model run 1"]


def test_project_without_ontology_is_refused_on_top_of_the_form(workspace, web):
    bare = Project.objects.create(workspace=workspace, name="Bare", media_type="image")
    r = upload(web, bare, ndjson(line(uuid="a")))
    assert r.status_code == 200
    form = dom(r).one("form", data_testid="import-form")
    assert form_errors(form) == ["Attach an ontology to the project before importing labels."]
    assert ImportJob.objects.count() == 0


def test_member_without_import_labels_cannot_upload(project, labeler):
    r = upload(client_for(labeler), project, ndjson(line(uuid="a")))
    assert r.status_code == 403
    assert ImportJob.objects.count() == 0


def test_project_based_member_without_a_grant_gets_404(project, workspace):
    outsider = make_member(workspace, Role.PROJECT_BASED, email="pb@alpha.test")
    client = client_for(outsider)
    assert client.get(jobs_url(project)).status_code == 404
    assert upload(client, project, ndjson(line(uuid="a"))).status_code == 404
    assert ImportJob.objects.count() == 0


# --- one job --------------------------------------------------------------------------------


@pytest.fixture
def failed_lines(project, admin):
    job = make_job(
        project,
        admin,
        name="Mixed",
        kind="prelabels",
        state="finished_with_errors",
        total=4,
        processed=4,
        lines_read=4,
        lines_valid=1,
        lines_invalid=3,
        error_summary={"InvalidJson": 1, "DataRowNotInProject": 2},
    )
    for n, uuid, row, name, message in [
        (2, "b", "globalKey: row-x", "DataRowNotInProject", NOT_IN_PROJECT),
        (3, "", "", "InvalidJson", "The line is not valid JSON."),
        (4, "d", "globalKey: row-x", "DataRowNotInProject", NOT_IN_PROJECT),
    ]:
        ImportLineError.objects.create(
            job=job, line=n, uuid=uuid, data_row=row, name=name, message=message
        )
    return job


def test_job_page_lists_errors_and_filters_by_name(project, failed_lines, labeler):
    client = client_for(labeler)
    doc = dom(client.get(job_url(project, failed_lines)))
    assert error_rows(doc) == [
        ["2", "b", "globalKey: row-x", "DataRowNotInProject", NOT_IN_PROJECT],
        ["3", "—", "—", "InvalidJson", "The line is not valid JSON."],
        ["4", "d", "globalKey: row-x", "DataRowNotInProject", NOT_IN_PROJECT],
    ]
    select = doc.one("form", data_testid="error-filter").one("select", name="error")
    assert select.texts("option") == [
        "All errors (3 lines)",
        "DataRowNotInProject (2)",
        "InvalidJson (1)",
    ]

    doc = dom(client.get(job_url(project, failed_lines) + "?error=InvalidJson"))
    assert error_rows(doc) == [["3", "—", "—", "InvalidJson", "The line is not valid JSON."]]
    chosen = doc.one("select", name="error").one("option", selected="")
    assert chosen.text == "InvalidJson (1)"


def test_error_table_pages_by_fifty(project, admin, web):
    job = make_job(project, admin, name="Many", kind="prelabels", state="finished_with_errors")
    ImportLineError.objects.bulk_create(
        ImportLineError(job=job, line=n, name="InvalidJson", message="bad") for n in range(1, 62)
    )
    first = dom(web.get(job_url(project, job)))
    assert [row[0] for row in error_rows(first)] == [str(n) for n in range(1, 51)]
    second = dom(web.get(job_url(project, job) + "?page=2"))
    assert [row[0] for row in error_rows(second)] == [str(n) for n in range(51, 62)]


def test_running_job_shows_progress_and_no_error_table(project, admin, web):
    job = make_job(project, admin, name="Busy", kind="prelabels", state="running", total=8,
                   processed=3)  # fmt: skip
    doc = dom(web.get(job_url(project, job)))
    summary = doc.one("section", data_testid="import-job")
    assert summary.attrs["data-initial-state"] == "running"
    assert summary.one("span", data_testid="job-state").text == "Running"
    progress = summary.one("progress", data_testid="job-progress")
    assert (progress.attrs["value"], progress.attrs["max"]) == ("3", "8")
    assert summary.one("span", data_testid="job-processed").text == "3"
    assert doc.all("section", data_testid="job-errors") == []


def test_failed_job_shows_its_message(project, admin, web):
    job = make_job(project, admin, name="Broken", kind="prelabels", state="failed",
                   message="The worker stopped: database unavailable.")  # fmt: skip
    doc = dom(web.get(job_url(project, job)))
    assert doc.one("div", data_testid="job-message").text == (
        "The worker stopped: database unavailable."
    )
    assert error_rows(doc) == [["The import failed before it checked the lines."]]


def test_job_of_another_project_is_not_found(project, workspace, admin, web):
    other = Project.objects.create(workspace=workspace, name="Other", media_type="image")
    job = make_job(other, admin, name="Theirs", kind="prelabels")
    missing = web.get(f"/projects/{project.pk}/imports/01a20398-c247-7897-aef1-d68670c96fea/")
    malformed = web.get(f"/projects/{project.pk}/imports/not-an-id/")
    r = web.get(job_url(project, job))
    # the same answer as for a job that does not exist
    assert [x.status_code for x in (r, missing, malformed)] == [404, 404, 404]
    texts = {dom(x).one("main").text for x in (r, missing, malformed)}
    assert texts == {"404 Import not found. Back to LabelHub"}


def test_job_of_another_workspace_is_not_found(project, other_workspace, other_admin, web):
    theirs = Project.objects.create(workspace=other_workspace, name="Beta P", media_type="image")
    job = make_job(theirs, other_admin, name="Theirs", kind="prelabels")
    r = web.get(job_url(project, job))
    assert r.status_code == 404
    assert dom(r).one("main").text == "404 Import not found. Back to LabelHub"
    # their project itself is not found either (same page as a missing project)
    r = web.get(job_url(theirs, job))
    assert r.status_code == 404
    assert dom(r).one("main").text == "404 Project not found. Back to LabelHub"
