"""Authentic input protection: the task page reports a blocked paste or a rapid entry in a
free-text answer (``POST …/tasks/<row>/input-events/``); the event is recorded on the data
row and listed on the row's page. Who may report, what is refused, the rate cap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from labelhub.labeling.models import InputEvent, Reservation
from labelhub.labeling.selectors.input_events import input_events_of, text_features
from labelhub.labeling.services import queue
from labelhub.labeling.services.input_events import input_event_record
from labelhub.workspaces.models import Role
from labelhub.workspaces.selectors import SESSION_WORKSPACE_KEY
from tests.factories import make_member
from tests.labeling.helpers import TREE, make_loop_project, people, schema_id, task_of

pytestmark = pytest.mark.django_db

#: the loop ontology plus free text nested under a tool and under a radio's option
SIGN = {
    "tool": "rectangle",
    "name": "Sign",
    "classifications": [
        {"type": "text", "name": "plate"},
        {
            "type": "radio",
            "name": "kind",
            "options": [{"label": "stop", "options": [{"type": "text", "name": "why"}]}],
        },
    ],
}
TEXT_TREE = {**TREE, "tools": [*TREE["tools"], SIGN]}


@pytest.fixture
def s(workspace, admin, api_client_for):
    project, rows = make_loop_project(workspace, admin, rows=6, tree=TEXT_TREE)
    project.authentic_input_protection = True
    project.save()
    (ann, other, _), (rev,) = people(workspace)
    queue.queue_next(project=project, actor=ann)  # rows 0-3 (reservation count 4)
    return {
        "project": project,
        "rows": rows,
        "ann": ann,
        "other": other,
        "rev": rev,
        "client": api_client_for(ann, workspace),
        "notes": schema_id(project, "notes"),
        "url": f"/api/v1/projects/{project.pk}/tasks/{rows[0].pk}/input-events/",
    }


def test_a_paste_is_recorded_on_the_row(s):
    r = s["client"].post(
        s["url"],
        {"kind": "paste", "feature": s["notes"], "detail": {"characters": 42}},
        format="json",
    )
    assert r.status_code == 201
    event = InputEvent.objects.get()
    assert r.json() == {
        "id": str(event.pk),
        "kind": "paste",
        "feature": s["notes"],
        "detail": {"characters": 42},
        "created_at": event.created_at.isoformat(),
    }
    assert (
        event.workspace_id,
        event.project_id,
        event.data_row_id,
        event.user,
        event.kind,
        event.feature_schema_id,
    ) == (
        s["project"].workspace_id,
        s["project"].pk,
        s["rows"][0].pk,
        s["ann"],
        "paste",
        s["notes"],
    )


def test_nested_free_text_counts_and_detail_is_optional(s):
    plate = schema_id(s["project"], "Sign", "plate")
    why = schema_id(s["project"], "Sign", "kind", "stop", "why")
    assert text_features(s["project"]) == {s["notes"]: "notes", plate: "plate", why: "why"}
    for feature in (plate, why):
        r = s["client"].post(
            s["url"],
            {"kind": "rapid_entry", "feature": feature, "detail": {"characters": 120, "ms": 30.5}},
            format="json",
        )
        assert r.status_code == 201, r.json()
    r = s["client"].post(s["url"], {"kind": "paste", "feature": s["notes"]}, format="json")
    assert (r.status_code, r.json()["detail"]) == (201, {})
    assert list(
        InputEvent.objects.order_by("created_at").values_list("feature_schema_id", "kind")
    ) == [
        (plate, "rapid_entry"),
        (why, "rapid_entry"),
        (s["notes"], "paste"),
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "copy", "feature": "NOTES"}, "kind"),
        ({"feature": "NOTES"}, "kind"),
        ({"kind": "", "feature": "NOTES"}, "kind"),
        ({"kind": "paste"}, "feature"),
        ({"kind": "paste", "feature": "ck-unknown"}, "feature"),
        ({"kind": "paste", "feature": "notes"}, "feature"),  # a name is not a schema id
        ({"kind": "paste", "feature": "WEATHER"}, "feature"),  # a radio, not free text
        ({"kind": "paste", "feature": "CAR"}, "feature"),  # a tool
        ({"kind": "paste", "feature": "NOTES", "detail": [1, 2]}, "detail"),
        ({"kind": "paste", "feature": "NOTES", "detail": "120 chars"}, "detail"),
        (
            {"kind": "paste", "feature": "NOTES", "detail": {f"k{i}": i for i in range(11)}},
            "detail",
        ),
        ({"kind": "paste", "feature": "NOTES", "detail": {"pasted": True}}, "detail"),
        ({"kind": "paste", "feature": "NOTES", "detail": {"text": "x" * 201}}, "detail"),
        ({"kind": "paste", "feature": "NOTES", "detail": {"nested": {"a": 1}}}, "detail"),
        ({"kind": "paste", "feature": "NOTES", "detail": {"none": None}}, "detail"),
        ({"kind": "paste", "feature": "NOTES", "detail": {"x" * 51: 1}}, "detail"),
        ({"kind": "paste", "feature": "NOTES", "extra": 1}, "extra"),
    ],
)
def test_bad_input_is_400_on_its_field_and_records_nothing(s, body, field):
    ids = {
        "NOTES": s["notes"],
        "WEATHER": schema_id(s["project"], "weather"),
        "CAR": schema_id(s["project"], "Car"),
    }
    if "feature" in body:
        body = {**body, "feature": ids.get(body["feature"], body["feature"])}
    r = s["client"].post(s["url"], body, format="json")
    assert r.status_code == 400, r.json()
    assert list(r.json()["error"]["details"]) == [field]
    assert InputEvent.objects.count() == 0


def test_the_limits_of_detail_are_allowed(s):
    detail = {f"k{i}": i for i in range(9)} | {"text": "x" * 200}
    r = s["client"].post(
        s["url"], {"kind": "paste", "feature": s["notes"], "detail": detail}, format="json"
    )
    assert (r.status_code, r.json()["detail"]) == (201, detail)


def test_off_in_the_project_is_409(s):
    project = s["project"]
    project.authentic_input_protection = False
    project.save()
    r = s["client"].post(s["url"], {"kind": "paste", "feature": s["notes"]}, format="json")
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "conflict"
    assert InputEvent.objects.count() == 0


def test_only_the_holder_of_the_task_may_report(s, workspace, api_client_for):
    body = {"kind": "paste", "feature": s["notes"]}
    base = f"/api/v1/projects/{s['project'].pk}/tasks/"
    # a row the labeler does not hold (the queue gave them four), a row someone else holds
    r = s["client"].post(f"{base}{s['rows'][4].pk}/input-events/", body, format="json")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")
    r = api_client_for(s["other"], workspace).post(s["url"], body, format="json")
    assert r.status_code == 404
    # an expired lease
    Reservation.objects.filter(user=s["ann"], task__data_row=s["rows"][1]).update(
        expires_at=datetime(2020, 1, 1, tzinfo=UTC)
    )
    r = s["client"].post(f"{base}{s['rows'][1].pk}/input-events/", body, format="json")
    assert r.status_code == 404
    # no such row in the project
    for row_id in ("nope", "01a20000-0000-7000-8000-000000000000"):
        r = s["client"].post(f"{base}{row_id}/input-events/", body, format="json")
        assert r.status_code == 404
    assert InputEvent.objects.count() == 0


def test_another_workspaces_project_or_row_is_404(s, other_workspace, other_admin, api_client_for):
    theirs, their_rows = make_loop_project(other_workspace, other_admin, rows=1, name="Theirs")
    theirs.authentic_input_protection = True
    theirs.save()
    queue.queue_next(project=theirs, actor=other_admin)
    body = {"kind": "paste", "feature": s["notes"]}
    mine = s["client"]
    # their project from this workspace, their row under this project
    r = mine.post(
        f"/api/v1/projects/{theirs.pk}/tasks/{their_rows[0].pk}/input-events/", body, format="json"
    )
    assert r.status_code == 404
    r = mine.post(
        f"/api/v1/projects/{s['project'].pk}/tasks/{their_rows[0].pk}/input-events/",
        body,
        format="json",
    )
    assert r.status_code == 404
    # their admin, in their workspace, cannot reach this one's project either
    r = api_client_for(other_admin, other_workspace).post(s["url"], body, format="json")
    assert r.status_code == 404
    assert InputEvent.objects.count() == 0


def test_at_most_twenty_a_minute_per_task_and_person(s):
    body = {"kind": "rapid_entry", "feature": s["notes"], "detail": {"characters": 50}}
    for _ in range(20):
        assert s["client"].post(s["url"], body, format="json").status_code == 201
    r = s["client"].post(s["url"], body, format="json")
    assert r.status_code == 429
    assert r.json()["error"] == {
        "code": "throttled",
        "message": "At most 20 input events per task a minute.",
        "details": {},
    }
    assert 1 <= int(r["Retry-After"]) <= 60
    assert InputEvent.objects.count() == 20
    # another task of the same person counts apart
    other_task = f"/api/v1/projects/{s['project'].pk}/tasks/{s['rows'][1].pk}/input-events/"
    assert s["client"].post(other_task, body, format="json").status_code == 201
    # a minute later the first ones no longer count
    InputEvent.objects.filter(data_row=s["rows"][0]).update(
        created_at=datetime.now(UTC) - timedelta(seconds=61)
    )
    assert s["client"].post(s["url"], body, format="json").status_code == 201
    assert InputEvent.objects.filter(data_row=s["rows"][0]).count() == 21


def test_the_cap_counts_per_person(workspace, admin):
    labelers, _ = people(workspace, n_reviewers=0)
    project, rows = make_loop_project(
        workspace, admin, rows=1, name="Cons", consensus_coverage=100, consensus_labels=2
    )
    project.authentic_input_protection = True
    project.save()
    a, b = labelers[:2]
    task = task_of(project, rows[0])
    notes = schema_id(project, "notes")
    for person in (a, b):
        queue.queue_next(project=project, actor=person)
    for _ in range(20):
        input_event_record(task=task, actor=a, kind="paste", feature=notes)
    event = input_event_record(task=task, actor=b, kind="paste", feature=notes)
    assert event.user == b
    assert [e.user for e in input_events_of(project=project, data_row=rows[0])] == [a] * 20 + [b]


def _page(user, project, row):
    client = Client()
    client.force_login(user)
    session = client.session
    session[SESSION_WORKSPACE_KEY] = str(project.workspace_id)
    session.save()
    return client.get(f"/projects/{project.pk}/data-rows/{row.pk}/")


def test_the_data_row_page_lists_the_events(s, workspace, admin):
    project, row = s["project"], s["rows"][0]
    task = task_of(project, row)
    plate = schema_id(project, "Sign", "plate")
    first = input_event_record(
        task=task, actor=s["ann"], kind="paste", feature=s["notes"], detail={"characters": 42}
    )
    second = input_event_record(
        task=task,
        actor=s["ann"],
        kind="rapid_entry",
        feature=plate,
        detail={"characters": 120, "milliseconds": 300},
    )
    third = input_event_record(task=task, actor=s["ann"], kind="rapid_entry", feature=s["notes"])
    at = datetime(2026, 11, 20, 10, 0, 0, tzinfo=UTC)
    for n, event in enumerate((first, second, third)):
        InputEvent.objects.filter(pk=event.pk).update(created_at=at + timedelta(seconds=5 * n))

    for viewer in (admin, s["other"]):  # whoever may open the row's page sees its labels
        html = _page(viewer, project, row).content.decode()
        assert 'data-testid="authentic-input"' in html
        assert '<h2>Authentic input <span class="small">3</span></h2>' in html
        assert (
            "Paste blocked in notes · l0@alpha.test · "
            '<time datetime="2026-11-20T10:00:00+00:00">2026-11-20 10:00:00</time>'
        ) in html
        assert (
            "Rapid entry in plate (120 characters in 300 ms) · l0@alpha.test · "
            '<time datetime="2026-11-20T10:00:05+00:00">2026-11-20 10:00:05</time>'
        ) in html
        assert (
            "Rapid entry in notes · l0@alpha.test · "
            '<time datetime="2026-11-20T10:00:10+00:00">2026-11-20 10:00:10</time>'
        ) in html
        assert html.index("Paste blocked in notes") < html.index("Rapid entry in plate")

    # nobody else's row lists them; someone who may not open the project gets 404
    assert "Paste blocked" not in _page(admin, project, s["rows"][1]).content.decode()
    outsider = make_member(workspace, Role.PROJECT_BASED, email="pb@alpha.test")
    assert _page(outsider, project, row).status_code == 404
    # a person who left: the event stays, without their e-mail
    s["ann"].delete()
    html = _page(admin, project, row).content.decode()
    assert "Paste blocked in notes · a removed user · " in html


def test_the_section_says_when_nothing_was_seen_and_hides_when_off(s, admin):
    project, row = s["project"], s["rows"][0]
    html = _page(admin, project, row).content.decode()
    assert "No blocked paste or rapid entry." in html
    project.authentic_input_protection = False
    project.save()
    assert 'data-testid="authentic-input"' not in _page(admin, project, row).content.decode()
