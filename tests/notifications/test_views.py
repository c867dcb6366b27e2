"""The notification center page and the header badge."""

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client, RequestFactory
from django.utils import timezone

from labelhub.notifications import services
from labelhub.notifications.context_processors import notifications as badge_context
from labelhub.notifications.models import Notification
from labelhub.workspaces.models import Role
from tests.factories import make_member, make_user

pytestmark = pytest.mark.django_db

URL = "/notifications/"


class Rows(HTMLParser):
    """Collect the page's entries: (title, href or None, css class of the row)."""

    def __init__(self):
        super().__init__()
        self.rows = []
        self._row = None
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and "data-notification" in attrs:
            self._row = {"title": "", "href": None, "class": attrs.get("class")}
            self.rows.append(self._row)
        elif self._row is not None and "notification-title" in (attrs.get("class") or ""):
            self._in_title = True
            self._row["href"] = attrs.get("href")

    def handle_endtag(self, tag):
        if tag in {"a", "span"}:
            self._in_title = False
        elif tag == "tr":
            self._row = None

    def handle_data(self, data):
        if self._in_title:
            self._row["title"] += data


def rows(response):
    parser = Rows()
    parser.feed(response.content.decode())
    return [(r["title"], r["href"], r["class"]) for r in parser.rows]


def add(user, workspace, subject, title, *, url="", minutes_ago=0, read=False):
    entry = services.notification_create(
        user_id=user.pk,
        workspace_id=workspace.pk,
        kind=Notification.Kind.IMPORT_FINISHED,
        subject=subject,
        title=title,
        url=url,
    )
    changes = {"created_at": timezone.now() - timedelta(minutes=minutes_ago)}
    if read:
        changes["read_at"] = timezone.now()
    Notification.objects.filter(pk=entry.pk).update(**changes)
    return entry


@pytest.fixture
def web(admin, workspace):
    client = Client()
    client.force_login(admin)
    return client


@pytest.fixture
def entries(admin, labeler, workspace):
    return {
        "old": add(admin, workspace, "a", "Old import done", url="/projects/a/", minutes_ago=30),
        "read": add(admin, workspace, "b", "Read import done", minutes_ago=20, read=True),
        "new": add(admin, workspace, "c", "New import done", url="/projects/c/", minutes_ago=10),
        "theirs": add(labeler, workspace, "d", "Labeler import done"),
    }


def test_anonymous_is_sent_to_sign_in(client):
    r = client.get(URL)
    assert r.status_code == 302
    assert r.url == "/accounts/sign-in/?next=/notifications/"
    assert client.post(URL, {"action": "read_all"}).url == "/accounts/sign-in/?next=/notifications/"


def test_page_lists_own_entries_newest_first_with_unread_highlighted(web, entries):
    r = web.get(URL)
    assert r.status_code == 200
    assert rows(r) == [
        ("New import done", "/projects/c/", "unread"),
        ("Read import done", None, "read"),
        ("Old import done", "/projects/a/", "unread"),
    ]
    html = r.content.decode()
    assert "Labeler import done" not in html
    assert html.count(">Mark read</button>") == 2
    assert "<h1>Notifications</h1>" in html


def test_unread_only_filter(web, entries):
    r = web.get(URL, {"unread": "1"})
    assert rows(r) == [
        ("New import done", "/projects/c/", "unread"),
        ("Old import done", "/projects/a/", "unread"),
    ]
    assert 'name="unread" value="1" checked' in r.content.decode()


def test_empty_states(web, admin):
    assert "No notifications yet." in web.get(URL).content.decode()
    assert "No unread notifications." in web.get(URL, {"unread": "1"}).content.decode()


def test_pages_of_fifty(web, admin, workspace):
    for i in range(51):
        add(admin, workspace, f"s{i}", f"Entry {i}", minutes_ago=i)
    first = web.get(URL)
    assert len(rows(first)) == 50
    assert "Page 1 of 2" in first.content.decode()
    assert rows(web.get(URL, {"page": "2"})) == [("Entry 50", None, "unread")]


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        " javascript:alert(1)",
        "JAVASCRIPT:alert(1)",
        "https://evil.test/",
        "//evil.test/",
        "/\\evil.test/",
        "data:text/html,<script>alert(1)</script>",
    ],
)
def test_unsafe_urls_are_not_links(web, admin, workspace, url):
    add(admin, workspace, "x", "Suspicious", url=url)
    r = web.get(URL)
    assert rows(r) == [("Suspicious", None, "unread")]
    html = r.content.decode().lower()
    assert "javascript:" not in html
    assert "evil.test" not in html


def test_mark_read_marks_one_own_entry(web, entries):
    r = web.post(URL, {"action": "read", "id": str(entries["new"].pk)})
    assert r.status_code == 302 and r.url == URL
    assert Notification.objects.get(pk=entries["new"].pk).read_at is not None
    assert Notification.objects.get(pk=entries["old"].pk).read_at is None
    assert Notification.objects.filter(read_at__isnull=True).count() == 2  # old + theirs


def test_mark_read_of_someone_elses_id_changes_nothing(web, entries):
    before = list(Notification.objects.order_by("pk").values_list("pk", "read_at"))
    for ident in (str(entries["theirs"].pk), "not-an-id", ""):
        r = web.post(URL, {"action": "read", "id": ident})
        assert r.status_code == 302
    assert list(Notification.objects.order_by("pk").values_list("pk", "read_at")) == before


def test_mark_all_read_keeps_the_filter_and_touches_only_own(web, entries):
    r = web.post(URL, {"action": "read_all", "unread": "1"}, follow=True)
    assert r.redirect_chain == [(URL + "?unread=1", 302)]
    assert [str(m) for m in r.context["messages"]] == ["Marked 2 notifications read."]
    assert rows(r) == []
    assert Notification.objects.filter(read_at__isnull=True).get().pk == entries["theirs"].pk


def test_posts_need_the_csrf_token(admin, entries):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    assert client.post(URL, {"action": "read_all"}).status_code == 403
    assert Notification.objects.filter(read_at__isnull=True).count() == 3


def test_header_badge_shows_the_unread_count(web, admin, labeler, workspace, entries):
    html = web.get("/").content.decode()
    assert 'href="/notifications/"' in html
    assert (
        '<span id="notification-badge" class="notification-badge"'
        ' data-testid="notification-badge" >2</span>'
    ) in html

    services.notification_mark_read(user=admin)
    html = web.get("/").content.decode()
    assert 'data-testid="notification-badge" hidden>0</span>' in html


def test_badge_context_is_one_count_query_and_none_when_anonymous(
    admin, entries, django_assert_num_queries
):
    request = RequestFactory().get("/")
    request.user = admin
    with django_assert_num_queries(1):
        assert badge_context(request) == {"unread_notifications": 2}
    request.user = AnonymousUser()
    with django_assert_num_queries(0):
        assert badge_context(request) == {}


def test_page_works_for_a_user_without_a_workspace():
    user = make_user(email="loner@x.test")
    client = Client()
    client.force_login(user)
    r = client.get(URL)
    assert r.status_code == 200
    assert rows(r) == []


def test_other_members_see_only_theirs(labeler, entries, workspace):
    client = Client()
    client.force_login(labeler)
    assert rows(client.get(URL)) == [("Labeler import done", None, "unread")]
    reviewer = make_member(workspace, Role.REVIEWER)
    client.force_login(reviewer)
    assert rows(client.get(URL)) == []
