"""Console pages of the labeling loop: the overview's *Start …* buttons with what waits for
the visitor, *Start labeling / reviewing / rework* (claim or empty state), the task page in
each mode, the instructions gate, and who may open what."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from labelhub.access import services as access
from labelhub.labeling.models import Label, Reservation
from labelhub.labeling.services import queue, review, work
from labelhub.projects.models import DataRow, Project
from labelhub.workspaces.models import Role
from tests.factories import make_member
from tests.labeling.helpers import make_loop_project, people, task_of, weather

pytestmark = pytest.mark.django_db


@pytest.fixture
def loop(workspace, admin):
    project, rows = make_loop_project(workspace, admin, rows=6)
    (labeler, other), (reviewer,) = people(workspace, n_labelers=2)
    return project, rows, labeler, other, reviewer


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_data(html: str) -> dict:
    found = re.search(r'<script id="task-data" type="application/json">(.*?)</script>', html)
    assert found, "the task page carries its data"
    return json.loads(found.group(1))


def buttons(html: str) -> dict[str, str]:
    """The overview's start buttons: mode -> waiting count."""
    return dict(re.findall(r'data-testid="waiting-(\w+)">(\d+)<', html))


# --- the overview -----------------------------------------------------------------------------


def test_overview_buttons_show_what_waits_for_each_person(loop, admin):
    project, rows, labeler, other, reviewer = loop
    url = f"/projects/{project.pk}/"

    assert buttons(client_for(labeler).get(url).content.decode()) == {"label": "6", "rework": "0"}
    assert buttons(client_for(reviewer).get(url).content.decode()) == {
        "label": "6",
        "review": "0",
        "rework": "0",
    }

    # given the labeler holds four rows and labels one of them
    queue.queue_next(project=project, actor=labeler)
    work.label_submit(task=task_of(project, rows[0]), actor=labeler, annotations=weather())

    # then: the other labeler sees the two unreserved rows, the labeler the two beyond
    # the three they still hold, the reviewer one label to review
    assert buttons(client_for(other).get(url).content.decode()) == {"label": "2", "rework": "0"}
    assert buttons(client_for(labeler).get(url).content.decode()) == {"label": "2", "rework": "0"}
    html = client_for(reviewer).get(url).content.decode()
    assert buttons(html) == {"label": "2", "review": "1", "rework": "0"}
    assert f'href="/projects/{project.pk}/review/" data-testid="start-review"' in html
    assert '<div class="tile" data-status="in_review"><div class="tile-value">1</div>' in html


def test_overview_done_tile_shows_hours_spent(loop, admin):
    project, rows, labeler, _, reviewer = loop
    url = f"/projects/{project.pk}/"
    assert '<div class="tile-extra" data-testid="hours-spent">0.0 h spent</div>' in (
        client_for(admin).get(url).content.decode()
    )
    queue.queue_next(project=project, actor=labeler)
    work.label_submit(task=task_of(project, rows[0]), actor=labeler, annotations=weather())
    Label.objects.update(seconds_labeling=3600, seconds_review=1440, seconds_rework=360)
    html = client_for(admin).get(url).content.decode()
    assert '<div class="tile-extra" data-testid="hours-spent">1.5 h spent</div>' in html


def test_overview_without_labeling_permissions_shows_no_buttons(workspace, admin, loop):
    project = loop[0]
    viewer = make_member(workspace, Role.PROJECT_BASED, email="viewer@alpha.test")
    role = access.custom_role_create(
        workspace=workspace,
        actor=admin,
        name="Viewer",
        scope="project",
        permissions=["view_project"],
    )
    access.project_grant_set(
        workspace=workspace, actor=admin, project=project, user_id=viewer.pk, role=str(role.pk)
    )
    html = client_for(viewer).get(f"/projects/{project.pk}/").content.decode()
    assert 'data-testid="work-actions"' not in html and buttons(html) == {}
    for mode in ("label", "review", "rework"):
        response = client_for(viewer).get(f"/projects/{project.pk}/{mode}/")
        assert response.status_code == 403
    assert Reservation.objects.count() == 0


# --- start labeling / reviewing / rework ------------------------------------------------------


def test_start_labeling_claims_and_opens_the_first_task(loop):
    project, rows, labeler, _, _ = loop
    response = client_for(labeler).get(f"/projects/{project.pk}/label/")
    assert response.status_code == 302
    assert response.url == f"/projects/{project.pk}/tasks/{rows[0].pk}/?mode=label"
    held = Reservation.objects.filter(user=labeler).order_by("created_at", "id")
    assert [r.task.data_row_id for r in held] == [r.pk for r in rows[:4]]

    # asking again keeps what the labeler holds (no new rows)
    again = client_for(labeler).get(f"/projects/{project.pk}/label/")
    assert again.url == response.url and Reservation.objects.filter(user=labeler).count() == 4

    html = client_for(labeler).get(response.url).content.decode()
    assert 'data-testid="queue-position">Task 1 of 4 reserved · 2 more waiting<' in html
    # the editor draws the questions from the ontology it is given (required flags included)
    assert f'data-testid="canvas" data-src="{rows[0].row_data}"' in html
    data = page_data(html)
    assert [(c["name"], c["type"], c["required"]) for c in data["ontology"]["classifications"]] == [
        ("weather", "radio", True),
        ("notes", "text", False),
    ]
    assert data["media"] == "image" and data["text"] is None
    assert (data["project"], data["data_row"], data["mode"]) == (
        str(project.pk),
        str(rows[0].pk),
        "label",
    )
    assert data["api"] == f"/api/v1/projects/{project.pk}/tasks/{rows[0].pk}/"
    assert data["next_url"] == f"/projects/{project.pk}/label/"
    assert (data["initial"], data["draft"], data["seconds"]) == ([], None, 0.0)


def test_task_page_restores_the_draft(loop):
    project, rows, labeler, _, _ = loop
    client = client_for(labeler)
    url = client.get(f"/projects/{project.pk}/label/").url
    draft = {"annotations": [{"schemaId": "x", "answer": "y"}]}
    work.draft_save(task=task_of(project, rows[0]), actor=labeler, payload=draft)
    html = client.get(url).content.decode()
    assert page_data(html)["draft"] == draft
    assert 'data-testid="draft-status">Draft restored.<' in html


def test_empty_state_when_nothing_waits(loop):
    project, rows, labeler, other, reviewer = loop
    response = client_for(reviewer).get(f"/projects/{project.pk}/review/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Nothing waiting for you" in html and "No label waits for your review." in html
    assert Reservation.objects.count() == 0

    # every row held by someone else: nothing for the second labeler past the two left
    client_for(labeler).get(f"/projects/{project.pk}/label/")
    client_for(other).get(f"/projects/{project.pk}/label/")
    assert Reservation.objects.filter(user=other).count() == 2
    third = make_member(project.workspace, Role.LABELER, email="l9@alpha.test")
    html = client_for(third).get(f"/projects/{project.pk}/label/").content.decode()
    assert "Nothing waiting for you" in html


def test_labeler_may_not_review(loop):
    project, rows, labeler, _, _ = loop
    response = client_for(labeler).get(f"/projects/{project.pk}/review/")
    assert response.status_code == 403
    assert "You do not have access to this page." in response.content.decode()
    task_page = client_for(labeler).get(f"/projects/{project.pk}/tasks/{rows[0].pk}/?mode=review")
    assert task_page.status_code == 403
    assert Reservation.objects.count() == 0


def test_another_workspaces_project_is_not_found(loop, other_workspace, other_admin):
    project, rows, labeler, _, _ = loop
    theirs, their_rows = make_loop_project(other_workspace, other_admin, rows=1, name="Theirs")
    client = client_for(labeler)
    for path in (
        f"/projects/{theirs.pk}/label/",
        f"/projects/{theirs.pk}/review/",
        f"/projects/{theirs.pk}/rework/",
        f"/projects/{theirs.pk}/tasks/{their_rows[0].pk}/?mode=label",
        # a row of another workspace in one's own project
        f"/projects/{project.pk}/tasks/{their_rows[0].pk}/?mode=label",
    ):
        assert client.get(path).status_code == 404, path
    assert Reservation.objects.count() == 0


def test_task_page_unknown_mode_or_row_is_not_found(loop):
    project, rows, labeler, _, _ = loop
    client = client_for(labeler)
    assert client.get(f"/projects/{project.pk}/tasks/{rows[0].pk}/?mode=drive").status_code == 404
    assert client.get(f"/projects/{project.pk}/tasks/nope/?mode=label").status_code == 404


def test_task_page_of_a_task_not_held(loop):
    project, rows, labeler, _, _ = loop
    html = client_for(labeler).get(f"/projects/{project.pk}/tasks/{rows[5].pk}/").content.decode()
    assert "This task is not reserved for you" in html
    assert f'href="/projects/{project.pk}/label/">Get my next task<' in html
    assert 'id="task-data"' not in html


# --- the instructions gate --------------------------------------------------------------------


def test_instructions_must_be_acknowledged_before_the_first_task(loop):
    project, rows, labeler, _, _ = loop
    Project.objects.filter(pk=project.pk).update(
        instructions_kind="markdown",
        instructions_text="Look at the sky.",
        instructions_version=1,
        enforce_instructions=True,
    )
    client = client_for(labeler)
    overview = client.get(f"/projects/{project.pk}/").content.decode()
    assert 'href="?next=label#instructions" data-testid="start-label"' in overview

    response = client.get(f"/projects/{project.pk}/label/")
    assert response.status_code == 302
    assert response.url == f"/projects/{project.pk}/?next=label#instructions"
    assert Reservation.objects.count() == 0
    html = client.get(response.url).content.decode()
    assert "Read and acknowledge the project&#x27;s instructions before the first task." in html
    assert '<input type="hidden" name="next" value="label">' in html

    acknowledged = client.post(
        f"/projects/{project.pk}/", {"action": "acknowledge", "next": "label"}
    )
    assert acknowledged.url == f"/projects/{project.pk}/label/"
    assert client.get(acknowledged.url).url == (
        f"/projects/{project.pk}/tasks/{rows[0].pk}/?mode=label"
    )
    html = client.get(f"/projects/{project.pk}/").content.decode()
    assert f'href="/projects/{project.pk}/label/" data-testid="start-label"' in html
    task_html = client.get(f"/projects/{project.pk}/tasks/{rows[0].pk}/?mode=label")
    assert "Look at the sky." in task_html.content.decode()


# --- review and rework ------------------------------------------------------------------------


def _labeled_and_reviewed(project, rows, labeler, reviewer, *, reject: bool):
    queue.queue_next(project=project, actor=labeler)
    task = task_of(project, rows[0])
    work.label_submit(
        task=task,
        actor=labeler,
        annotations=weather("rainy") + [{"name": "notes", "answer": "dark clouds"}],
    )
    if reject:
        queue.queue_next(project=project, actor=reviewer, mode="review")
        review.review_decide(task=task, actor=reviewer, decision="reject", reason="It is sunny")
    return task


def test_review_page_shows_the_label(loop):
    project, rows, labeler, _, reviewer = loop
    _labeled_and_reviewed(project, rows, labeler, reviewer, reject=False)
    Label.objects.update(seconds_labeling=42.4)
    client = client_for(reviewer)
    response = client.get(f"/projects/{project.pk}/review/")
    assert response.url == f"/projects/{project.pk}/tasks/{rows[0].pk}/?mode=review"
    html = client.get(response.url).content.decode()
    assert 'data-testid="label-author">l0@alpha.test<' in html
    assert 'data-testid="label-seconds">42s labeling<' in html
    assert "<dt>weather</dt><dd>rainy</dd><dt>notes</dt><dd>dark clouds</dd>" in html
    assert 'data-testid="approve"' in html and 'data-testid="reject"' in html
    assert 'data-testid="label-form"' not in html
    assert 'data-testid="queue-position">Task 1 of 1 reserved · 0 more waiting<' in html


def test_rework_page_prefills_the_rejected_label_and_shows_the_reason(loop):
    project, rows, labeler, _, reviewer = loop
    _labeled_and_reviewed(project, rows, labeler, reviewer, reject=True)
    client = client_for(labeler)
    response = client.get(f"/projects/{project.pk}/rework/")
    assert response.url == f"/projects/{project.pk}/tasks/{rows[0].pk}/?mode=rework"
    html = client.get(response.url).content.decode()
    assert 'data-testid="rejection-reason">It is sunny<' in html
    assert "Rejected by r0@alpha.test" in html
    ontology = project.ontology.normalized["classifications"]
    weather_id, notes_id = ontology[0]["featureSchemaId"], ontology[1]["featureSchemaId"]
    rainy_id = ontology[0]["options"][1]["featureSchemaId"]
    initial = {line["schemaId"]: line for line in page_data(html)["initial"]}
    assert initial[weather_id]["answer"]["schemaId"] == rainy_id
    assert initial[notes_id]["answer"] == "dark clouds"
    assert 'data-testid="skip"' not in html  # skipping is for labeling


def test_text_row_shows_its_text_escaped(workspace, admin, loop):
    project, rows, labeler, _, _ = loop
    DataRow.objects.filter(pk=rows[0].pk).update(
        media_type="text", row_data="Rain on <b>Main</b> street"
    )
    client = client_for(labeler)
    html = client.get(client.get(f"/projects/{project.pk}/label/").url).content.decode()
    assert 'data-testid="text-editor">Rain on &lt;b&gt;Main&lt;/b&gt; street</div>' in html
    assert page_data(html)["text"] == "Rain on <b>Main</b> street"
    assert "<img" not in html.split('data-testid="task-asset"')[1].split("</section>")[0]


@pytest.mark.parametrize(
    ("media", "row_data", "element"),
    [
        (
            "video",
            "https://x.test/v.mp4",
            '<video controls preload="metadata" src="https://x.test/v.mp4" data-testid="asset-video">',
        ),
        (
            "audio",
            "https://x.test/a.mp3",
            '<audio controls preload="metadata" src="https://x.test/a.mp3" data-testid="asset-audio">',
        ),
        (
            "document",
            "https://x.test/d.pdf",
            '<iframe class="asset-frame" src="https://x.test/d.pdf"',
        ),
        (
            "html",
            "https://x.test/p.html",
            '<iframe class="asset-frame" sandbox="" src="https://x.test/p.html"',
        ),
        (
            "conversational",
            "https://x.test/c.json",
            '<iframe class="asset-frame" sandbox="" src="https://x.test/c.json"',
        ),
        (
            "llm_chat",
            "https://x.test/chat.json",
            '<iframe class="asset-frame" sandbox="" src="https://x.test/chat.json"',
        ),
        (
            "geospatial",
            "https://x.test/tile.png",
            '<img class="asset-tile" src="https://x.test/tile.png"',
        ),
        (
            "conversational",
            '{"messages": [{"user": "a", "text": "<hi>"}]}',
            '<pre class="asset-raw" data-testid="asset-raw">{&quot;messages&quot;: [{&quot;user&quot;: &quot;a&quot;, &quot;text&quot;: &quot;&lt;hi&gt;&quot;}]}</pre>',
        ),
    ],
)
def test_other_media_show_in_the_browsers_own_players(loop, media, row_data, element):
    project, rows, labeler, _, _ = loop
    DataRow.objects.filter(pk=rows[0].pk).update(media_type=media, row_data=row_data)
    client = client_for(labeler)
    html = client.get(client.get(f"/projects/{project.pk}/label/").url).content.decode()
    assert element in html
    assert 'data-testid="media-note">Answer the classifications beside it; drawing on' in html
    data = page_data(html)
    assert (data["media"], data["text"]) == (media, None)
    # the global questions are there to answer, whatever the media
    assert [c["name"] for c in data["ontology"]["classifications"]] == ["weather", "notes"]


def test_page_data_gives_the_editor_tools_with_nested_questions(loop):
    project, rows, labeler, _, _ = loop
    client = client_for(labeler)
    html = client.get(client.get(f"/projects/{project.pk}/label/").url).content.decode()
    (car,) = page_data(html)["ontology"]["tools"]
    feature = project.ontology.features.get(name="Car")

    def option(name):
        return project.ontology.features.get(name=name, parent__name="occluded").schema_id

    assert car == {
        "featureSchemaId": feature.schema_id,
        "name": "Car",
        "tool": "rectangle",
        "color": car["color"],
        "required": False,
        "classifications": [
            {
                "featureSchemaId": project.ontology.features.get(name="occluded").schema_id,
                "name": "occluded",
                "type": "radio",
                "required": True,
                "options": [
                    {
                        "featureSchemaId": car["classifications"][0]["options"][0][
                            "featureSchemaId"
                        ],
                        "label": "yes",
                        "options": [],
                    },
                    {
                        "featureSchemaId": car["classifications"][0]["options"][1][
                            "featureSchemaId"
                        ],
                        "label": "no",
                        "options": [],
                    },
                ],
            }
        ],
    }
    assert re.fullmatch(r"#[0-9A-Fa-f]{6}", car["color"])
