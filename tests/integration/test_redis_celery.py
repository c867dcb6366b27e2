"""Through real services: channels-redis across processes, Celery tasks on a real worker."""

import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.utils import timezone

from labelhub.access.models import Invitation
from labelhub.access.services.invitations import invitation_create
from labelhub.access.tasks import expire_invitations_task
from labelhub.core.consumers import LiveConsumer
from labelhub.workspaces.models import Role
from tests.factories import make_member, make_workspace
from tests.integration.conftest import WORKER_MAIL_DIR

ROOT = Path(__file__).resolve().parents[2]


def test_settings_point_at_real_services():
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert type(get_channel_layer()).__name__ == "RedisChannelLayer"
    assert settings.CELERY_TASK_ALWAYS_EAGER is False


@pytest.mark.django_db(transaction=True)
async def test_live_event_from_another_process_reaches_socket_through_redis(django_user_model):
    from asgiref.sync import sync_to_async

    user = await sync_to_async(django_user_model.objects.create_user)(
        email="live@x.test", password="pw-123456789"
    )
    communicator = WebsocketCommunicator(LiveConsumer.as_asgi(), "/ws/live/")
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert connected
    assert (await communicator.receive_json_from())["type"] == "hello"
    code = (
        "from labelhub.core.live import send_event_now;"
        f"send_event_now({{'type': 'ping.from.other.process', 'n': 7}}, ['user.{user.pk}'])"
    )
    proc = await sync_to_async(subprocess.run)(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert await communicator.receive_json_from(timeout=10) == {
        "type": "event",
        "event": {"type": "ping.from.other.process", "n": 7},
    }
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
def test_periodic_task_runs_on_worker_against_the_database():
    ws = make_workspace("Worker WS")
    admin = make_member(ws, Role.ADMIN)
    old, _ = invitation_create(workspace=ws, actor=admin, email="old@x.test", role=Role.LABELER)
    invitation_create(workspace=ws, actor=admin, email="fresh@x.test", role=Role.LABELER)
    Invitation.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    result = expire_invitations_task.delay()
    assert result.get(timeout=60) == 1
    assert dict(Invitation.objects.values_list("email", "status")) == {
        "old@x.test": "expired",
        "fresh@x.test": "pending",
    }


@pytest.mark.django_db(transaction=True)
def test_invitation_email_is_sent_by_the_worker_after_commit():
    assert WORKER_MAIL_DIR, "LABELHUB_WORKER_MAIL_DIR must name the worker's EMAIL_FILE_PATH"
    ws = make_workspace("Mail WS")
    admin = make_member(ws, Role.ADMIN)
    _, token = invitation_create(workspace=ws, actor=admin, email="mail@x.test", role=Role.REVIEWER)
    link = f"/invitations/{token}/"
    deadline = time.monotonic() + 60
    found = None
    while time.monotonic() < deadline and found is None:
        for path in Path(WORKER_MAIL_DIR).glob("*.log"):
            text = path.read_text(errors="replace")
            if link in text:
                found = text
                break
        time.sleep(0.2)
    assert found is not None, "the worker did not write the invitation e-mail within 60 s"
    assert "To: mail@x.test" in found
    assert "Subject: You are invited to Mail WS on LabelHub" in found
