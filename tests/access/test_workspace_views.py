"""Console pages of the workspace: overview, switcher, members, invitations, audit, tenant."""

import pytest
from django.test import Client

from labelhub.access.models import Invitation
from labelhub.core.models import AuditLogEntry
from labelhub.workspaces.models import Membership, Role, Workspace
from tests.factories import make_member, make_tenant_admin, make_workspace

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(admin, workspace):
    client = Client()
    client.force_login(admin)
    return client


def test_overview_shows_workspace_and_nav(web, workspace):
    html = web.get("/").content.decode()
    assert "<h1>Alpha</h1>" in html
    assert f'data-testid="my-role" data-workspace="{workspace.pk}">Admin<' in html
    assert "Pending invitations" in html
    for link in (
        'href="/members/"',
        'href="/invitations/"',
        'href="/audit-log/"',
        'id="live-indicator"',
    ):
        assert link in html
    assert 'href="/tenant/workspaces/"' not in html


def test_labeler_nav_hides_admin_pages_and_pages_are_403(labeler):
    client = Client()
    client.force_login(labeler)
    html = client.get("/").content.decode()
    assert 'href="/members/"' in html and 'href="/audit-log/"' not in html
    assert "Pending invitations" not in html
    assert client.get("/audit-log/").status_code == 403
    assert client.get("/invitations/").status_code == 403
    assert client.get("/tenant/workspaces/").status_code == 403
    members = client.get("/members/").content.decode()
    assert "Send invitation" not in members and "Remove" not in members


def test_switcher_changes_current_workspace(web, admin, workspace):
    second = make_workspace("Zeta", tenant=workspace.tenant)
    make_member(second, Role.REVIEWER, user=admin)
    r = web.post("/workspace/switch/", {"workspace": str(second.pk), "next": "/members/"})
    assert r.url == "/members/"
    assert "<h1>Zeta</h1>" in web.get("/").content.decode()
    # Not a member: refused with a message, current workspace unchanged.
    foreign = make_workspace("Foreign")
    r = web.post(
        "/workspace/switch/",
        {"workspace": str(foreign.pk), "next": "https://evil.test/"},
        follow=True,
    )
    assert "Workspace not found." in r.content.decode()
    assert "<h1>Zeta</h1>" in web.get("/").content.decode()


def test_switch_redirect_ignores_foreign_next(web, admin, workspace):
    r = web.post(
        "/workspace/switch/", {"workspace": str(workspace.pk), "next": "https://evil.test/x"}
    )
    assert r.url == "/"


def test_invite_from_members_page(web):
    r = web.post(
        "/members/",
        {"action": "invite", "email": "new@alpha.test", "role": "reviewer"},
        follow=True,
    )
    page = r.content.decode()
    assert "Invitation sent to new@alpha.test; the link to join goes to them by e-mail." in page
    assert "/invitations/" not in page.replace('href="/invitations/"', "")  # no link shown
    assert Invitation.objects.get().role == "reviewer"
    dup = web.post("/members/", {"action": "invite", "email": "new@alpha.test", "role": "reviewer"})
    assert (
        '<p class="field-error" role="alert">A pending invitation for this e-mail already exists.</p>'
        in dup.content.decode()
    )
    bad = web.post("/members/", {"action": "invite", "email": "nope", "role": "reviewer"})
    assert "Enter a valid email address." in bad.content.decode()
    assert Invitation.objects.count() == 1


def test_change_role_and_remove_from_members_page(web, labeler):
    m = Membership.objects.get(user=labeler)
    r = web.post(
        "/members/", {"action": "role", "membership": str(m.pk), "role": "reviewer"}, follow=True
    )
    assert "labeler@alpha.test is now Reviewer." in r.content.decode()
    r = web.post("/members/", {"action": "remove", "membership": str(m.pk)}, follow=True)
    assert "labeler@alpha.test was removed." in r.content.decode()
    assert not Membership.objects.filter(pk=m.pk).exists()


def test_members_page_refuses_last_admin_and_foreign_ids(web, admin, other_admin):
    me = Membership.objects.get(user=admin)
    r = web.post("/members/", {"action": "remove", "membership": str(me.pk)}, follow=True)
    assert "The workspace must keep at least one Admin." in r.content.decode()
    foreign = Membership.objects.get(user=other_admin)
    r = web.post(
        "/members/",
        {"action": "role", "membership": str(foreign.pk), "role": "labeler"},
        follow=True,
    )
    assert "Member not found." in r.content.decode()
    assert Membership.objects.get(pk=foreign.pk).role == Role.ADMIN


def test_invitations_page_revokes(web, workspace, admin):
    from labelhub.access.services.invitations import invitation_create

    inv, _ = invitation_create(workspace=workspace, actor=admin, email="x@y.test", role="labeler")
    assert 'data-email="x@y.test"' in web.get("/invitations/").content.decode()
    r = web.post("/invitations/", {"invitation": str(inv.pk)}, follow=True)
    assert "Invitation to x@y.test revoked." in r.content.decode()
    inv.refresh_from_db()
    assert inv.status == "revoked"


def test_audit_page_filters(web, admin, labeler):
    m = Membership.objects.get(user=labeler)
    web.post("/members/", {"action": "role", "membership": str(m.pk), "role": "reviewer"})
    web.post("/members/", {"action": "invite", "email": "q@alpha.test", "role": "labeler"})
    html = web.get("/audit-log/").content.decode()
    assert (
        html.count("<code>member.role_changed</code>") == 1
        and html.count("<code>invitation.created</code>") == 1
    )
    filtered = web.get("/audit-log/?verb=invitation.created").content.decode()
    assert (
        "<code>member.role_changed</code>" not in filtered
        and "<code>invitation.created</code>" in filtered
    )
    bad = web.get("/audit-log/?since=notadate").content.decode()
    assert "Enter a valid date." in bad
    assert AuditLogEntry.objects.count() == 2


def test_tenant_admin_creates_workspace_and_invites_anywhere(workspace):
    boss = make_tenant_admin(workspace.tenant)
    make_member(workspace, Role.ADMIN, user=boss)
    client = Client()
    client.force_login(boss)
    r = client.post("/tenant/workspaces/", {"action": "create", "name": "Audio"}, follow=True)
    assert "Workspace Audio created." in r.content.decode()
    audio = Workspace.objects.get(name="Audio")
    dup = client.post("/tenant/workspaces/", {"action": "create", "name": "audio"})
    assert "A workspace with this name already exists in the tenant." in dup.content.decode()
    r = client.post(
        "/tenant/workspaces/",
        {
            "action": "invite",
            "workspace": str(workspace.pk),
            "email": "t@x.test",
            "role": "labeler",
        },
        follow=True,
    )
    assert "Invitation to Alpha sent to t@x.test." in r.content.decode()
    assert Invitation.objects.get().workspace == workspace
    assert Workspace.objects.filter(tenant=workspace.tenant).count() == 2 and audio.name == "Audio"


def test_user_without_workspace_sees_explanation():
    from tests.factories import make_user

    client = Client()
    client.force_login(make_user())
    make_workspace()
    r = client.get("/members/")
    assert (
        r.status_code == 404 and "You are not a member of any workspace yet." in r.content.decode()
    )
