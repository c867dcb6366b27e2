"""Notification services: upsert per subject, live events after commit, mark read."""

import pytest
from django.db import transaction
from django.utils import timezone

from labelhub.notifications import selectors, services
from labelhub.notifications.models import Notification
from labelhub.workspaces.models import Role
from tests.factories import make_member

KIND = Notification.Kind.IMPORT_FINISHED


def create(user, workspace, subject="import_job:1", **kw):
    kw.setdefault("title", "Import finished")
    return services.notification_create(
        user_id=user.pk, workspace_id=workspace.pk, kind=KIND, subject=subject, **kw
    )


@pytest.fixture
def sent(monkeypatch):
    events = []
    monkeypatch.setattr(
        "labelhub.core.live.send_event_now", lambda event, groups: events.append((event, groups))
    )
    return events


@pytest.mark.django_db(transaction=True)
def test_create_is_an_upsert_that_marks_the_entry_unread_again(admin, workspace, sent):
    first = create(admin, workspace, title="Import 1 finished", url="/projects/1/")
    services.notification_mark_read(user=admin)
    assert Notification.objects.get(pk=first.pk).read_at is not None

    second = create(admin, workspace, title="Import 1 finished again", body="3 errors")

    assert second.pk == first.pk
    row = Notification.objects.get(pk=first.pk)
    assert (row.title, row.body, row.url, row.read_at) == (
        "Import 1 finished again",
        "3 errors",
        "",
        None,
    )
    assert row.created_at > first.created_at
    assert Notification.objects.filter(user=admin).count() == 1
    assert selectors.unread_count(admin) == 1


@pytest.mark.django_db(transaction=True)
def test_create_sends_the_live_event_after_commit_only(admin, workspace, sent):
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            create(admin, workspace, title="Rolled back")
            raise RuntimeError("roll back")
    assert sent == []
    assert Notification.objects.count() == 0

    with transaction.atomic():
        entry = create(admin, workspace, title="Import done", body="42 rows", url="/projects/7/")
        assert sent == []
    assert sent == [
        (
            {
                "type": "notification.created",
                "id": str(entry.pk),
                "kind": "import.finished",
                "title": "Import done",
                "body": "42 rows",
                "url": "/projects/7/",
                "unread": 1,
            },
            [f"user.{admin.pk}"],
        )
    ]


@pytest.mark.django_db(transaction=True)
def test_create_event_never_carries_an_unsafe_url(admin, workspace, sent):
    entry = create(admin, workspace, url="javascript:alert(1)")
    assert Notification.objects.get(pk=entry.pk).url == "javascript:alert(1)"
    assert sent[0][0]["url"] == ""


@pytest.mark.django_db(transaction=True)
def test_mark_read_touches_only_the_users_own_entries(admin, workspace, sent):
    labeler = make_member(workspace, Role.LABELER)
    mine = [create(admin, workspace, subject=f"import_job:{i}") for i in range(3)]
    theirs = create(labeler, workspace, subject="import_job:9")
    sent.clear()

    # Someone else's id and a malformed id change nothing and send nothing.
    assert services.notification_mark_read(user=admin, ids=[str(theirs.pk), "garbage"]) == 0
    assert sent == []
    assert Notification.objects.get(pk=theirs.pk).read_at is None

    assert services.notification_mark_read(user=admin, ids=[str(mine[0].pk), str(theirs.pk)]) == 1
    assert sent == [({"type": "notification.read", "unread": 2}, [f"user.{admin.pk}"])]
    assert selectors.unread_count(admin) == 2
    assert selectors.unread_count(labeler) == 1

    # Already read entries do not count again.
    assert services.notification_mark_read(user=admin, ids=[str(mine[0].pk)]) == 0

    sent.clear()
    assert services.notification_mark_read(user=admin) == 2
    assert sent == [({"type": "notification.read", "unread": 0}, [f"user.{admin.pk}"])]
    assert selectors.unread_count(admin) == 0
    assert selectors.unread_count(labeler) == 1


@pytest.mark.django_db
def test_list_is_newest_first_and_filters_unread(admin, workspace, sent):
    old = create(admin, workspace, subject="a", title="Old")
    new = create(admin, workspace, subject="b", title="New")
    Notification.objects.filter(pk=old.pk).update(created_at=timezone.now().replace(year=2020))
    services.notification_mark_read(user=admin, ids=[str(old.pk)])

    assert [n.title for n in selectors.notification_list(admin)] == ["New", "Old"]
    assert [n.pk for n in selectors.notification_list(admin, unread_only=True)] == [new.pk]


@pytest.mark.django_db
def test_unread_count_of_anonymous_is_zero_without_a_query(django_assert_num_queries):
    from django.contrib.auth.models import AnonymousUser

    with django_assert_num_queries(0):
        assert selectors.unread_count(AnonymousUser()) == 0
