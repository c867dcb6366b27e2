"""Imports API: create (JSON and NDJSON), list, detail, report download, errors."""

from __future__ import annotations

import json

import pytest

from labelhub.imports.models import ImportJob
from labelhub.labeling.models import Annotation
from labelhub.workspaces.models import Role
from tests.factories import make_member
from tests.imports.helpers import make_import_project
from tests.imports.test_jobs import expected_report, mixed_lines, report_of
from tests.imports.test_validation import TREE, line


@pytest.fixture
def setup(workspace, admin):
    return make_import_project(workspace, admin, TREE, keys=["row-1", "row-2"], outside=["row-x"])


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run the enqueued task (eager) when the request's transaction commits."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def url(project, *rest):
    return "/".join([f"/api/v1/projects/{project.pk}/imports", *rest]) + (
        "" if rest and rest[-1].endswith(".ndjson") else "/"
    )


def test_json_import_runs_and_reports(admin_client, setup, run_on_commit):
    project, _ = setup
    body = {"name": "Nightly", "kind": "prelabels", "dry_run": False, "lines": mixed_lines()}
    with run_on_commit():
        r = admin_client.post(url(project), body, format="json")
    assert r.status_code == 202, r.content
    created = r.json()
    assert (created["name"], created["kind"], created["state"], created["total"]) == (
        "Nightly",
        "prelabels",
        "queued",
        5,
    )
    assert r["Location"] == url(project, created["id"])

    detail = admin_client.get(url(project, created["id"])).json()
    assert {k: detail[k] for k in ("state", "lines_read", "lines_valid", "lines_invalid")} == {
        "state": "finished_with_errors",
        "lines_read": 5,
        "lines_valid": 3,
        "lines_invalid": 2,
    }
    assert detail["lines_written"] == 3
    assert detail["error_summary"] == {"DataRowNotInProject": 1, "InvalidJson": 1}

    listed = admin_client.get(url(project)).json()["results"]
    assert [j["id"] for j in listed] == [created["id"]]

    report = admin_client.get(url(project, created["id"], "report.ndjson"))
    assert report.status_code == 200
    assert report["Content-Type"] == "application/x-ndjson; charset=utf-8"
    text = b"".join(report.streaming_content).decode()
    assert text.endswith("\n")
    assert [json.loads(x) for x in text.splitlines()] == expected_report()


def test_ndjson_body_with_query_parameters(admin_client, setup, run_on_commit):
    project, _ = setup
    lines = [json.dumps(x) if isinstance(x, dict) else x for x in mixed_lines()]
    text = "\n".join([*lines[:3], "", *lines[3:]])  # a blank line before line 4
    with run_on_commit():
        r = admin_client.post(
            url(project) + "?name=gt&kind=ground_truth&dry_run=true",
            text,
            content_type="application/x-ndjson",
        )
    assert r.status_code == 202, r.content
    job = ImportJob.objects.get()
    assert (job.name, job.kind, job.dry_run, job.state) == (
        "gt",
        "ground_truth",
        True,
        "finished_with_errors",
    )
    assert [(s["line"], s["status"]) for s in report_of(job)] == [
        (1, "SUCCESS"),
        (2, "SUCCESS"),
        (3, "FAILURE"),
        (5, "FAILURE"),
        (6, "SUCCESS"),
    ]
    assert report_of(job)[3]["errors"][0]["name"] == "InvalidJson"
    assert Annotation.objects.count() == 0


def test_duplicate_name_is_409(admin_client, setup):
    project, _ = setup
    body = {"name": "Nightly", "kind": "prelabels", "lines": [line()]}
    assert admin_client.post(url(project), body, format="json").status_code == 202
    r = admin_client.post(url(project), {**body, "name": "NIGHTLY"}, format="json")
    assert r.status_code == 409
    assert r.json()["error"]["details"] == {
        "name": ["An import with this name already exists in the project."]
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "kind": "labels", "lines": [{}]}, "kind"),
        ({"name": "x", "kind": "prelabels", "lines": []}, "lines"),
        ({"kind": "prelabels", "lines": [{}]}, "name"),
        ({"name": "x", "kind": "prelabels", "lines": [{}], "extra": 1}, "extra"),
    ],
)
def test_bad_bodies_are_400(admin_client, setup, body, field):
    project, _ = setup
    r = admin_client.post(url(project), body, format="json")
    assert r.status_code == 400, r.content
    assert field in r.json()["error"]["details"]
    assert ImportJob.objects.count() == 0


def test_labelers_may_read_but_not_import(api_client_for, workspace, setup, admin):
    project, _ = setup
    labeler = make_member(workspace, Role.LABELER, email="lab@alpha.test")
    from labelhub.access import services as access_services

    access_services.project_grant_set(
        workspace=workspace, actor=admin, project=project, user_id=labeler.pk, role=Role.LABELER
    )
    client = api_client_for(labeler, workspace)
    assert client.get(url(project)).status_code == 200
    r = client.post(url(project), {"name": "x", "kind": "prelabels", "lines": [line()]}, "json")
    assert r.status_code == 403
    assert ImportJob.objects.count() == 0


def test_other_workspace_gets_404(api_client_for, setup, other_workspace, other_admin, admin):
    project, _ = setup
    client = api_client_for(other_admin, other_workspace)
    from labelhub.imports.services import import_job_create

    job = import_job_create(
        project=project, actor=admin, name="n", kind="prelabels", payload=[line()]
    )
    for path in (
        url(project),
        url(project, str(job.pk)),
        url(project, str(job.pk), "report.ndjson"),
    ):
        assert client.get(path).status_code == 404, path
    r = client.post(url(project), {"name": "x", "kind": "prelabels", "lines": [line()]}, "json")
    assert r.status_code == 404
    assert ImportJob.objects.count() == 1


def test_multipart_file_upload(admin_client, setup, run_on_commit):
    from django.core.files.uploadedfile import SimpleUploadedFile

    project, _ = setup
    text = "\n".join(json.dumps(x) if isinstance(x, dict) else x for x in mixed_lines())
    upload = SimpleUploadedFile("labels.ndjson", text.encode(), "application/x-ndjson")
    with run_on_commit():
        r = admin_client.post(
            url(project),
            {"name": "From file", "kind": "prelabels", "dry_run": "false", "file": upload},
            format="multipart",
        )
    assert r.status_code == 202, r.content
    job = ImportJob.objects.get()
    assert (job.name, job.state, job.lines_valid, job.lines_invalid, job.lines_written) == (
        "From file",
        "finished_with_errors",
        3,
        2,
        3,
    )
    assert [(s["line"], s["status"]) for s in report_of(job)] == [
        (1, "SUCCESS"),
        (2, "SUCCESS"),
        (3, "FAILURE"),
        (4, "FAILURE"),
        (5, "SUCCESS"),
    ]


def test_multipart_without_file_is_400(admin_client, setup):
    project, _ = setup
    r = admin_client.post(url(project), {"name": "x", "kind": "prelabels"}, format="multipart")
    assert r.status_code == 400
    assert "file" in r.json()["error"]["details"]


def test_ground_truth_by_api_key_is_authored_by_the_keys_owner(
    setup, admin, workspace, run_on_commit
):
    from rest_framework.test import APIClient

    from labelhub.access.services.api_keys import api_key_create
    from labelhub.labeling.models import Label

    project, _ = setup
    _, secret = api_key_create(workspace=workspace, actor=admin, name="pipeline")
    client = APIClient()
    body = "\n".join(json.dumps(line(uuid=u)) for u in ("a", "b"))
    with run_on_commit():
        r = client.post(
            f"/api/v1/projects/{project.pk}/imports/?name=gt&kind=ground_truth",
            data=body,
            content_type="application/x-ndjson",
            HTTP_AUTHORIZATION=f"Bearer {secret}",
        )
    assert r.status_code == 202, r.content
    assert r.json()["state"] == "queued"
    job = ImportJob.objects.get(pk=r.json()["id"])
    assert (job.state, job.created_by_id, job.lines_written) == ("finished", admin.pk, 2)
    assert list(Label.objects.values_list("author", "origin", "import_job")) == [
        (admin.pk, "imported", job.pk)
    ]


DEEP_LINE_ERROR = {
    "name": "InvalidJson",
    "message": "The line nests arrays and objects deeper than 64 levels.",
    "additionalInfo": None,
}


@pytest.mark.parametrize("body_kind", ["ndjson", "json"])
def test_deeply_nested_lines_are_line_errors(admin_client, setup, run_on_commit, body_kind):
    # Given a valid line and lines nested past LabelHub's limit (65), past orjson's writer
    # (300: it writes 255 levels) and past orjson's reader (2,000)
    project, _ = setup
    deep = [
        json.dumps(line(uuid="d65", extra=json.loads("[" * 65 + "]" * 65))),
        "[" * 300 + "]" * 300,
        "[" * 2000,
    ]
    lines = [json.dumps(line(uuid="a")), *deep]
    # When they are imported as NDJSON, or as a JSON body of strings
    with run_on_commit():
        if body_kind == "ndjson":
            r = admin_client.post(
                url(project) + "?name=deep&kind=prelabels",
                "\n".join(lines),
                content_type="application/x-ndjson",
            )
        else:
            body = {"name": "deep", "kind": "prelabels", "lines": lines}
            r = admin_client.post(url(project), body, format="json")
    # Then each deep line is one line error and the valid line is written
    assert r.status_code == 202, r.content
    job = ImportJob.objects.get()
    assert (job.state, job.lines_valid, job.lines_invalid) == ("finished_with_errors", 1, 3)
    report = report_of(job)
    assert [(s["line"], s["status"]) for s in report] == [
        (1, "SUCCESS"),
        (2, "FAILURE"),
        (3, "FAILURE"),
        (4, "FAILURE"),
    ]
    assert [s["errors"] for s in report[1:]] == [[DEEP_LINE_ERROR]] * 3
    assert list(Annotation.objects.values_list("uuid", flat=True)) == ["a"]


def test_a_json_body_past_its_cap_is_413_and_nothing_is_created(settings, admin_client, setup):
    settings.IMPORTS_MAX_JSON_BODY_BYTES = 2048
    project = setup[0]
    lines = [{"uuid": f"u{n}", "dataRow": {"globalKey": "row-1"}, "name": "Car"} for n in range(40)]
    r = admin_client.post(
        f"/api/v1/projects/{project.pk}/imports/",
        {"name": "big", "kind": "prelabels", "lines": lines},
        format="json",
    )
    assert r.status_code == 413
    assert r.json()["error"] == {
        "code": "too_large",
        "message": "At most 2 KB as a JSON body; send larger imports as NDJSON "
        "(Content-Type: application/x-ndjson) or as a file.",
        "details": {"lines": ["At most 2 KB as a JSON body."]},
    }
    assert not ImportJob.objects.exists()
    r = admin_client.post(
        f"/api/v1/projects/{project.pk}/imports/", "name=x", content_type="text/plain"
    )
    assert (r.status_code, r.json()["error"]["code"]) == (415, "unsupported_media_type")
