"""The live websocket: authentication, group refusal, delivery after commit only."""

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.db import transaction

from labelhub.access.services import members
from labelhub.core.consumers import LiveConsumer
from labelhub.core.live import send_event_on_commit, user_group, workspace_group
from labelhub.workspaces.models import Membership, Role

pytestmark = pytest.mark.django_db(transaction=True)


async def _connect(user):
    communicator = WebsocketCommunicator(LiveConsumer.as_asgi(), "/ws/live/")
    communicator.scope["user"] = user
    connected, code = await communicator.connect()
    return communicator, connected, code


async def test_anonymous_is_rejected():
    communicator, connected, code = await _connect(AnonymousUser())
    assert (connected, code) == (False, 4401)


async def test_member_gets_hello_and_may_join_own_workspace(workspace, labeler):
    communicator, connected, _ = await _connect(labeler)
    assert connected
    assert await communicator.receive_json_from() == {"type": "hello", "user": str(labeler.pk)}
    await communicator.send_json_to({"type": "subscribe", "group": workspace_group(workspace.pk)})
    assert await communicator.receive_json_from() == {
        "type": "subscribed",
        "group": f"workspace.{workspace.pk}",
    }
    await communicator.disconnect()


@pytest.mark.parametrize("group_of", ["other_workspace", "other_user", "made_up", "garbage"])
async def test_join_of_foreign_group_is_refused(group_of, labeler, other_workspace, other_admin):
    group = {
        "other_workspace": workspace_group(other_workspace.pk),
        "other_user": user_group(other_admin.pk),
        "made_up": "project.123",
        "garbage": 42,
    }[group_of]
    communicator, _, _ = await _connect(labeler)
    await communicator.receive_json_from()
    await communicator.send_json_to({"type": "subscribe", "group": group})
    assert await communicator.receive_json_from() == {
        "type": "error",
        "code": "not_found",
        "message": "No such group.",
        "group": group,
    }
    # Refused joins really did not join: an event to that group does not arrive.
    if isinstance(group, str):
        await sync_to_async(_send_now)({"type": "secret"}, [group])
        assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_malformed_message_gets_error(labeler):
    communicator, _, _ = await _connect(labeler)
    await communicator.receive_json_from()
    await communicator.send_to(text_data="{not json")
    assert (await communicator.receive_json_from())["code"] == "invalid"
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from() == {"type": "pong"}
    await communicator.disconnect()


@pytest.mark.parametrize("text", ["[" * 100_000, '{"type": "subscribe", "group": "\\ud800"}'])
async def test_deep_or_surrogate_message_gets_error_and_the_socket_lives(labeler, text):
    communicator, _, _ = await _connect(labeler)
    await communicator.receive_json_from()
    await communicator.send_to(text_data=text)
    assert await communicator.receive_json_from() == {
        "type": "error",
        "code": "invalid",
        "message": "Unknown message.",
    }
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from() == {"type": "pong"}
    await communicator.disconnect()


def _send_now(event, groups):
    from labelhub.core.live import send_event_now

    send_event_now(event, groups)


@database_sync_to_async
def _change_role(workspace, admin, labeler, *, rollback):
    m = Membership.objects.get(user=labeler, workspace=workspace)
    try:
        with transaction.atomic():
            members.membership_change_role(
                workspace=workspace, actor=admin, membership=m, role=Role.REVIEWER
            )
            if rollback:
                raise RuntimeError("abort")
    except RuntimeError:
        pass


async def test_role_change_event_delivered_after_commit_not_on_rollback(workspace, admin, labeler):
    communicator, _, _ = await _connect(labeler)
    await communicator.receive_json_from()
    await _change_role(workspace, admin, labeler, rollback=True)
    assert await communicator.receive_nothing(timeout=0.3)
    await _change_role(workspace, admin, labeler, rollback=False)
    assert await communicator.receive_json_from(timeout=3) == {
        "type": "event",
        "event": {
            "type": "membership.role_changed",
            "workspace": str(workspace.pk),
            "role": "reviewer",
            "role_label": "Reviewer",
            "message": "Your role in Alpha is now Reviewer.",
        },
    }
    await communicator.disconnect()


async def test_send_event_on_commit_outside_transaction_sends_at_once(labeler):
    communicator, _, _ = await _connect(labeler)
    await communicator.receive_json_from()
    await database_sync_to_async(send_event_on_commit)(
        {"type": "x", "n": 1}, [user_group(labeler.pk)]
    )
    assert await communicator.receive_json_from(timeout=3) == {
        "type": "event",
        "event": {"type": "x", "n": 1},
    }
    await communicator.disconnect()


async def test_full_asgi_stack_uses_session_cookie(client, labeler):
    """Through the real ASGI application: session cookie + allowed Origin authenticate."""
    from labelhub.asgi import application

    await sync_to_async(client.force_login)(labeler)
    cookie = client.cookies["sessionid"].value
    communicator = WebsocketCommunicator(
        application,
        "/ws/live/",
        headers=[
            (b"cookie", f"sessionid={cookie}".encode()),
            (b"origin", b"http://testserver"),
            (b"host", b"testserver"),
        ],
    )
    connected, _ = await communicator.connect()
    assert connected
    assert (await communicator.receive_json_from())["type"] == "hello"
    await communicator.disconnect()


async def test_project_group_follows_project_permissions(workspace, admin):
    from labelhub.access import services as access
    from labelhub.core.live import project_group
    from tests.factories import make_member, make_project

    @database_sync_to_async
    def setup():
        pb = make_member(workspace, Role.PROJECT_BASED, email="pb@alpha.test")
        granted, other = make_project(workspace, "Granted"), make_project(workspace, "Other")
        access.project_grant_set(
            workspace=workspace, actor=admin, project=granted, user_id=pb.pk, role=Role.LABELER
        )
        return pb, granted, other

    pb, granted, other = await setup()
    communicator, _, _ = await _connect(pb)
    await communicator.receive_json_from()
    await communicator.send_json_to({"type": "subscribe", "group": project_group(granted.pk)})
    assert await communicator.receive_json_from() == {
        "type": "subscribed",
        "group": f"project.{granted.pk}",
    }
    await communicator.send_json_to({"type": "subscribe", "group": project_group(other.pk)})
    assert (await communicator.receive_json_from())["code"] == "not_found"
    await communicator.disconnect()


async def test_an_event_sent_to_two_groups_of_one_socket_arrives_once(workspace, labeler):
    """The importer's socket is in their own group and the project's: the import's end went
    to both and showed twice."""
    communicator, _, _ = await _connect(labeler)
    await communicator.receive_json_from()
    await communicator.send_json_to({"type": "subscribe", "group": workspace_group(workspace.pk)})
    await communicator.receive_json_from()
    event = {"type": "import_job.progress", "message": "Import finished."}
    await sync_to_async(_send_now)(event, [user_group(labeler.pk), workspace_group(workspace.pk)])
    assert await communicator.receive_json_from() == {"type": "event", "event": event}
    assert await communicator.receive_nothing(timeout=0.3)
    # a second event with the same content is news of its own
    await sync_to_async(_send_now)(event, [user_group(labeler.pk)])
    assert await communicator.receive_json_from() == {"type": "event", "event": event}
    await communicator.disconnect()
