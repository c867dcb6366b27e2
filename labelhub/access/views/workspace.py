"""Console pages: home, switcher, members, invitations (and accepting one), audit log,
workspace settings, tenant admin."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth import login
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.decorators.http import require_http_methods

from labelhub.access.authz import can, workspace_role
from labelhub.access.console import ConsoleView
from labelhub.access.forms import (
    AuditFilterForm,
    InviteForm,
    TenantInviteForm,
    WorkspaceForm,
    WorkspaceSettingsForm,
)
from labelhub.access.models import Invitation
from labelhub.access.permissions import Permission, Scope
from labelhub.access.selectors import groups_by_user, role_choices, role_ref_of
from labelhub.access.services import invitations, members
from labelhub.accounts.forms import AcceptInvitationForm
from labelhub.accounts.models import User
from labelhub.accounts.views import MODEL_BACKEND
from labelhub.core.errors import ApplicationError, NotFound, PermissionDenied
from labelhub.core.ids import parse_id
from labelhub.core.models import AuditLogEntry
from labelhub.core.views import apply_error_to_form, flash_error
from labelhub.workspaces import selectors
from labelhub.workspaces import services as workspace_services
from labelhub.workspaces.models import Role, Tenant, Workspace


def home(request):
    """Landing page: setup on first run, sign-in when anonymous, else the workspace overview."""
    if not Tenant.objects.exists():
        return redirect("console:setup")
    if not request.user.is_authenticated:
        return redirect("accounts:sign-in")
    return HomeView.as_view()(request)


class HomeView(ConsoleView, View):
    def get(self, request):
        ws = self.workspace
        ctx = {
            "member_count": selectors.member_list(workspace=ws).count(),
            "admin_count": selectors.admin_count(workspace=ws),
            "role": Role(workspace_role(request.user, ws)).label,
        }
        if can(request.user, Permission.MANAGE_MEMBERS, ws):
            ctx["pending_invitations"] = Invitation.objects.filter(
                workspace=ws, status=Invitation.Status.PENDING, expires_at__gt=timezone.now()
            ).count()
        return render(request, "console/home.html", ctx)


class SwitchWorkspaceView(ConsoleView, View):
    """Header switcher: POST a workspace id."""

    def post(self, request):
        try:
            ws = workspace_services.workspace_switch(
                session=request.session,
                user=request.user,
                workspace_id=request.POST.get("workspace"),
            )
        except ApplicationError as exc:
            flash_error(request, exc)
            return redirect("console:home")
        messages.info(request, f"Now working in {ws.name}.")
        nxt = request.POST.get("next") or "/"
        if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
            nxt = "/"
        return HttpResponseRedirect(nxt)


class MembersView(ConsoleView, View):
    """Members list; admins invite, change roles, remove."""

    required_permissions = {"GET": Permission.VIEW_WORKSPACE, "POST": Permission.VIEW_WORKSPACE}
    write_permission = Permission.MANAGE_MEMBERS

    def _roles(self):
        return role_choices(workspace=self.workspace, scope=Scope.WORKSPACE)

    def get(self, request, invite_form=None):
        can_manage = can(request.user, Permission.MANAGE_MEMBERS, self.workspace)
        members = selectors.member_list(workspace=self.workspace).select_related("custom_role")
        page = Paginator(members, 50).get_page(request.GET.get("page"))
        groups = groups_by_user(workspace=self.workspace, user_ids=[m.user_id for m in page])
        for m in page:
            m.role_key = role_ref_of(m).key
            m.group_names = groups.get(m.user_id, [])
        return render(
            request,
            "console/members.html",
            {
                "page": page,
                "can_manage": can_manage,
                "invite_form": invite_form or InviteForm(roles=self._roles()),
                "roles": self._roles(),
            },
        )

    def post(self, request):
        action = request.POST.get("action")
        if action == "invite":
            form = InviteForm(request.POST, roles=self._roles())
            if not _invite_from_form(form, workspace=self.workspace, actor=request.user):
                return self.get(request, invite_form=form)
            # The link goes by e-mail only, never to the inviter (see InvitationListView).
            messages.success(
                request,
                f"Invitation sent to {form.cleaned_data['email']}; "
                "the link to join goes to them by e-mail.",
            )
            return redirect("console:members")
        try:
            membership = selectors.access_membership(
                workspace=self.workspace, id=request.POST.get("membership")
            )
            if action == "role":
                m = members.membership_change_role(
                    workspace=self.workspace,
                    actor=request.user,
                    membership=membership,
                    role=request.POST.get("role"),
                )
                messages.success(request, f"{membership.user.email} is now {role_ref_of(m).label}.")
            elif action == "remove":
                members.membership_remove(
                    workspace=self.workspace, actor=request.user, membership=membership
                )
                messages.success(request, f"{membership.user.email} was removed.")
            else:
                messages.error(request, "Unknown action.")
        except ApplicationError as exc:
            flash_error(request, exc)
        return redirect("console:members")


def _invite_from_form(form, *, workspace, actor) -> bool:
    """Send the invitation a valid form describes; on failure put the errors on the form."""
    if not form.is_valid():
        return False
    try:
        invitations.invitation_create(
            workspace=workspace,
            actor=actor,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
        )
    except ApplicationError as exc:
        apply_error_to_form(form, exc)
        return False
    return True


class InvitationsView(ConsoleView, View):
    """Invitations of the workspace; revoke pending ones."""

    required_permissions = {"GET": Permission.MANAGE_MEMBERS, "POST": Permission.MANAGE_MEMBERS}

    def get(self, request):
        qs = Invitation.objects.filter(workspace=self.workspace).select_related("invited_by")
        page = Paginator(qs, 50).get_page(request.GET.get("page"))
        return render(request, "console/invitations.html", {"page": page})

    def post(self, request):
        inv = Invitation.objects.filter(
            workspace=self.workspace, pk=parse_id(request.POST.get("invitation"))
        ).first()
        if inv is None:
            messages.error(request, "Invitation not found.")
            return redirect("console:invitations")
        try:
            invitations.invitation_revoke(
                workspace=self.workspace, actor=request.user, invitation=inv
            )
            messages.success(request, f"Invitation to {inv.email} revoked.")
        except ApplicationError as exc:
            flash_error(request, exc)
        return redirect("console:invitations")


class AuditLogView(ConsoleView, View):
    """Audit log with filters by actor, verb and dates."""

    required_permissions = {"GET": Permission.VIEW_AUDIT_LOG, "POST": Permission.VIEW_AUDIT_LOG}

    def get(self, request):
        members = selectors.member_list(workspace=self.workspace)
        form = AuditFilterForm(request.GET or None)
        form.fields["actor"].widget.choices = [("", "Anyone")] + [
            (str(m.user_id), m.user.email) for m in members
        ]
        qs = AuditLogEntry.objects.filter(workspace=self.workspace)
        if form.is_valid():
            d = form.cleaned_data
            if d["actor"]:
                qs = qs.filter(actor_id=d["actor"])
            if d["verb"]:
                qs = qs.filter(verb=d["verb"])
            if d["since"]:
                qs = qs.filter(created_at__gte=_day_start(d["since"]))
            if d["until"]:
                qs = qs.filter(created_at__lt=_day_start(d["until"]) + timedelta(days=1))
        verbs = (
            AuditLogEntry.objects.filter(workspace=self.workspace)
            .order_by("verb")
            .values_list("verb", flat=True)
            .distinct()
        )
        page = Paginator(qs, 50).get_page(request.GET.get("page"))
        return render(
            request, "console/audit_log.html", {"page": page, "form": form, "verbs": list(verbs)}
        )


class WorkspaceSettingsView(ConsoleView, View):
    """The workspace's name and its two-factor requirement for admins."""

    required_permissions = {
        "GET": Permission.MANAGE_WORKSPACE_SETTINGS,
        "POST": Permission.MANAGE_WORKSPACE_SETTINGS,
    }

    def get(self, request, form=None):
        ws = self.workspace
        form = form or WorkspaceSettingsForm(
            initial={"name": ws.name, "require_mfa_for_admins": ws.require_mfa_for_admins}
        )
        return render(request, "console/workspace_settings.html", {"form": form})

    def post(self, request):
        form = WorkspaceSettingsForm(request.POST)
        if not form.is_valid():
            return self.get(request, form=form)
        try:
            members.workspace_settings_update(
                workspace=self.workspace, actor=request.user, **form.cleaned_data
            )
        except ApplicationError as exc:
            apply_error_to_form(form, exc)
            return self.get(request, form=form)
        messages.success(request, "Workspace settings saved.")
        return redirect("console:workspace-settings")


def _day_start(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


class TenantWorkspacesView(ConsoleView, View):
    """Tenant admins: workspaces of the tenant; create one; invite into any."""

    def resolve_target(self, kwargs):
        """The tenants the visitor administers (none: 403)."""
        self.tenants = list(selectors.tenants_administered(user=self.request.user))
        if not self.tenants:
            raise PermissionDenied()
        return self.workspace

    def _workspaces(self):
        return Workspace.objects.filter(tenant__in=self.tenants).select_related("tenant")

    def get(self, request, form=None, invite_form=None):
        workspaces = self._workspaces()
        return render(
            request,
            "console/tenant_workspaces.html",
            {
                "tenants": self.tenants,
                "workspaces": workspaces,
                "form": form or WorkspaceForm(),
                "invite_form": invite_form or TenantInviteForm(workspaces=workspaces),
            },
        )

    def post(self, request):
        if request.POST.get("action") == "invite":
            workspaces = self._workspaces()
            form = TenantInviteForm(request.POST, workspaces=workspaces)
            ws = (
                workspaces.filter(pk=form.data.get("workspace")).first()
                if form.is_valid()
                else None
            )
            if ws is None or not _invite_from_form(form, workspace=ws, actor=request.user):
                return self.get(request, invite_form=form)
            messages.success(
                request, f"Invitation to {ws.name} sent to {form.cleaned_data['email']}."
            )
            return redirect("console:tenant-workspaces")
        form = WorkspaceForm(request.POST)
        if not form.is_valid():
            return self.get(request, form=form)
        try:
            ws = workspace_services.workspace_create(
                tenant=self.tenants[0], actor=request.user, name=form.cleaned_data["name"]
            )
        except ApplicationError as exc:
            apply_error_to_form(form, exc)
            return self.get(request, form=form)
        messages.success(request, f"Workspace {ws.name} created.")
        return redirect("console:tenant-workspaces")


@require_http_methods(["GET", "POST"])
def accept_invitation(request, token: str):
    """Join a workspace from an invitation link; create the account if needed."""
    try:
        invitation = invitations.invitation_by_token(token)
    except NotFound as exc:
        return render(
            request, "accounts/invitation_invalid.html", {"message": exc.message}, status=404
        )
    except ApplicationError as exc:
        return render(
            request, "accounts/invitation_invalid.html", {"message": exc.message}, status=409
        )
    has_account = User.objects.filter(email=invitation.email).exists()
    signed_in = request.user.is_authenticated
    form = AcceptInvitationForm()
    if request.method == "POST":
        try:
            if signed_in:
                user, membership = invitations.invitation_accept(token=token, user=request.user)
            else:
                form = AcceptInvitationForm(request.POST)
                if not form.is_valid():
                    raise _FormInvalid
                user, membership = invitations.invitation_accept(
                    token=token,
                    name=form.cleaned_data["name"],
                    password=form.cleaned_data["password1"],
                )
                login(request, user, backend=MODEL_BACKEND)
            workspace_services.workspace_enter(
                session=request.session, user=user, workspace=membership.workspace
            )
            messages.success(request, f"Welcome to {membership.workspace.name}.")
            return redirect("console:home")
        except _FormInvalid:
            pass
        except ApplicationError as exc:
            if "password" in exc.details:
                exc.details = {"password1": exc.details["password"]}
            apply_error_to_form(form, exc)
    return render(
        request,
        "accounts/accept_invitation.html",
        {
            "invitation": invitation,
            "form": form,
            "has_account": has_account,
            "signed_in": signed_in,
        },
    )


class _FormInvalid(Exception):
    pass
