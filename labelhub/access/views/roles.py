"""Console pages: roles, groups (detail, history), API keys."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views import View

from labelhub.access import selectors, services
from labelhub.access.authz import can, permissions_for
from labelhub.access.console import ConsoleView
from labelhub.access.forms import (
    ApiKeyForm,
    CustomRoleForm,
    GroupForm,
    GroupMemberForm,
    RoleDeleteForm,
)
from labelhub.access.history import history_csv
from labelhub.access.models import ApiKey
from labelhub.access.permissions import COMING, Permission, Scope
from labelhub.access.roles import SYSTEM_ROLE_PERMISSIONS
from labelhub.access.selectors import granted_project_codenames, role_ref_of
from labelhub.access.services import api_keys as key_services
from labelhub.core.errors import ApplicationError, NotFound
from labelhub.core.ids import parse_id
from labelhub.core.views import apply_error_to_form, flash_error
from labelhub.workspaces.models import Role
from labelhub.workspaces.selectors import member_list


def _show_error(form, exc: ApplicationError) -> None:
    """Put a service error beside the fields it names; its message goes on top of the form
    too when the fields only carry a hint (a conflict's explanation would be lost there)."""
    apply_error_to_form(form, exc)
    shown = {str(e) for errors in form.errors.values() for e in errors}
    if exc.message not in shown:
        form.add_error(None, exc.message)


def _catalogue():
    return [
        {
            "codename": p.value,
            "label": p.label,
            "scope": p.scope.value,
            "description": p.description,
            "coming": COMING.get(p, ""),
        }
        for p in Permission
    ]


class RolesView(ConsoleView, View):
    """System roles (read-only) and custom roles with the editor."""

    required_permissions = {"GET": Permission.MANAGE_ROLES, "POST": Permission.MANAGE_ROLES}

    def get(self, request, form=None):
        system = [
            {
                "name": r.label,
                "permissions": [
                    {"label": p.label, "coming": COMING.get(p, "")}
                    for p in Permission
                    if p in SYSTEM_ROLE_PERMISSIONS[r]
                ],
            }
            for r in Role
            if r != Role.CUSTOM
        ]
        custom = [
            {"role": c, "usage": selectors.custom_role_usage(role=c)}
            for c in selectors.custom_role_list(workspace=self.workspace)
        ]
        return render(
            request,
            "access/roles.html",
            {
                "system": system,
                "custom": custom,
                "form": form or CustomRoleForm(),
                "catalogue": _catalogue(),
            },
        )

    def post(self, request):
        form = CustomRoleForm(request.POST)
        if not form.is_valid():
            return self.get(request, form=form)
        try:
            role = services.custom_role_create(
                workspace=self.workspace, actor=request.user, **form.cleaned_data
            )
        except ApplicationError as exc:
            _show_error(form, exc)
            return self.get(request, form=form)
        messages.success(request, f"Role {role.name} created.")
        return redirect("console:roles")


class RoleDetailView(ConsoleView, View):
    """Edit or delete one custom role."""

    required_permissions = {"GET": Permission.MANAGE_ROLES, "POST": Permission.MANAGE_ROLES}

    def _role(self, id):
        return selectors.access_custom_role(workspace=self.workspace, id=id)

    def _render(self, request, role, form=None, delete_form=None):
        replacements = [
            (k, v)
            for k, v in selectors.role_choices(workspace=self.workspace, scope=Scope(role.scope))
            if k != str(role.pk)
        ]
        initial = {
            "name": role.name,
            "scope": role.scope,
            "description": role.description,
            "permissions": role.permissions,
        }
        return render(
            request,
            "access/role_detail.html",
            {
                "role": role,
                "usage": selectors.custom_role_usage(role=role),
                "form": form or CustomRoleForm(initial=initial, lock_scope=True),
                "delete_form": delete_form or RoleDeleteForm(choices=replacements),
                "catalogue": _catalogue(),
            },
        )

    def get(self, request, id):
        try:
            return self._render(request, self._role(id))
        except NotFound:
            return render(
                request, "error.html", {"status": 404, "message": "Role not found."}, status=404
            )

    def post(self, request, id):
        try:
            role = self._role(id)
        except NotFound:
            return render(
                request, "error.html", {"status": 404, "message": "Role not found."}, status=404
            )
        if request.POST.get("action") == "delete":
            replacements = selectors.role_choices(workspace=self.workspace, scope=Scope(role.scope))
            delete_form = RoleDeleteForm(request.POST, choices=replacements)
            if delete_form.is_valid():
                try:
                    services.custom_role_delete(
                        workspace=self.workspace,
                        actor=request.user,
                        role=role,
                        replacement=delete_form.cleaned_data["replacement"],
                    )
                    messages.success(request, f"Role {role.name} deleted.")
                    return redirect("console:roles")
                except ApplicationError as exc:
                    _show_error(delete_form, exc)
            return self._render(request, role, delete_form=delete_form)
        form = CustomRoleForm(request.POST, initial={"scope": role.scope}, lock_scope=True)
        if form.is_valid():
            try:
                services.custom_role_update(
                    workspace=self.workspace,
                    actor=request.user,
                    role=role,
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                    permissions=form.cleaned_data["permissions"],
                )
                messages.success(request, f"Role {form.cleaned_data['name']} saved.")
                return redirect("console:role", id=role.pk)
            except ApplicationError as exc:
                _show_error(form, exc)
        return self._render(request, role, form=form)


class GroupsView(ConsoleView, View):
    """Groups list and the create form."""

    required_permissions = {"GET": Permission.MANAGE_GROUPS, "POST": Permission.MANAGE_GROUPS}

    def _role_choices(self):
        return selectors.role_choices(workspace=self.workspace, scope=Scope.PROJECT)

    def get(self, request, form=None):
        groups = [
            {
                "group": g,
                "role": role_ref_of(g, "default_").label,
                "members": g.auth_group.user_set.count(),
            }
            for g in selectors.group_list(workspace=self.workspace)
        ]
        return render(
            request,
            "access/groups.html",
            {"groups": groups, "form": form or GroupForm(role_choices=self._role_choices())},
        )

    def post(self, request):
        form = GroupForm(request.POST, role_choices=self._role_choices())
        if not form.is_valid():
            return self.get(request, form=form)
        try:
            group = services.group_create(
                workspace=self.workspace, actor=request.user, **form.cleaned_data
            )
        except ApplicationError as exc:
            _show_error(form, exc)
            return self.get(request, form=form)
        messages.success(request, f"Group {group.name} created.")
        return redirect("console:group", id=group.pk)


class GroupDetailView(ConsoleView, View):
    """One group: members, settings, history (and its CSV), delete."""

    required_permissions = {"GET": Permission.MANAGE_GROUPS, "POST": Permission.MANAGE_GROUPS}

    def _render(self, request, group, form=None, member_form=None):
        members = list(selectors.group_members(group=group))
        in_group = {u.pk for u in members}
        candidates = [
            m.user for m in member_list(workspace=self.workspace) if m.user_id not in in_group
        ]
        ref = role_ref_of(group, "default_")
        initial = {
            "name": group.name,
            "description": group.description,
            "colour": group.colour,
            "default_role": ref.key,
        }
        return render(
            request,
            "access/group_detail.html",
            {
                "group": group,
                "default_role": ref.label,
                "members": members,
                "form": form
                or GroupForm(
                    initial=initial,
                    role_choices=selectors.role_choices(
                        workspace=self.workspace, scope=Scope.PROJECT
                    ),
                ),
                "member_form": member_form or GroupMemberForm(members=candidates),
                "history": selectors.group_history(workspace=self.workspace, group=group),
            },
        )

    def get(self, request, id):
        try:
            group = selectors.access_group(workspace=self.workspace, id=id)
        except NotFound:
            return render(
                request, "error.html", {"status": 404, "message": "Group not found."}, status=404
            )
        if request.GET.get("export") == "csv":
            return history_csv(
                selectors.group_history(workspace=self.workspace, group=group),
                f"group-{group.pk}-history.csv",
            )
        return self._render(request, group)

    def post(self, request, id):
        try:
            group = selectors.access_group(workspace=self.workspace, id=id)
        except NotFound:
            return render(
                request, "error.html", {"status": 404, "message": "Group not found."}, status=404
            )
        action = request.POST.get("action")
        try:
            if action == "add_member":
                services.group_add_member(
                    workspace=self.workspace,
                    actor=request.user,
                    group=group,
                    user_id=request.POST.get("user"),
                )
                messages.success(request, "Member added.")
            elif action == "remove_member":
                services.group_remove_member(
                    workspace=self.workspace,
                    actor=request.user,
                    group=group,
                    user_id=request.POST.get("user"),
                )
                messages.success(request, "Member removed.")
            elif action == "delete":
                services.group_delete(workspace=self.workspace, actor=request.user, group=group)
                messages.success(request, f"Group {group.name} deleted.")
                return redirect("console:groups")
            else:
                choices = selectors.role_choices(workspace=self.workspace, scope=Scope.PROJECT)
                form = GroupForm(request.POST, role_choices=choices)
                if not form.is_valid():
                    return self._render(request, group, form=form)
                try:
                    services.group_update(
                        workspace=self.workspace,
                        actor=request.user,
                        group=group,
                        **form.cleaned_data,
                    )
                except ApplicationError as exc:
                    _show_error(form, exc)
                    return self._render(request, group, form=form)
                messages.success(request, "Group saved.")
        except ApplicationError as exc:
            flash_error(request, exc)
        return redirect("console:group", id=group.pk)


class AllGroupsHistoryView(ConsoleView, View):
    """Every group's history as CSV (the groups page's "Export history")."""

    required_permissions = {"GET": Permission.MANAGE_GROUPS, "POST": Permission.MANAGE_GROUPS}

    def get(self, request):
        return history_csv(selectors.group_history(workspace=self.workspace), "groups-history.csv")


class ApiKeysView(ConsoleView, View):
    """Own keys (create, revoke); every key of the workspace for key admins."""

    required_permissions = {
        "GET": Permission.MANAGE_OWN_API_KEYS,
        "POST": Permission.MANAGE_OWN_API_KEYS,
    }

    def _held(self, request):
        held = {p.value for p in permissions_for(request.user, self.workspace)}
        held |= granted_project_codenames(user=request.user, workspace=self.workspace)
        return {Permission(c) for c in held}

    def get(self, request, form=None, secret=None):
        own = ApiKey.objects.filter(workspace=self.workspace, owner=request.user)
        show_all = can(request.user, Permission.MANAGE_ALL_API_KEYS, self.workspace)
        everyone = (
            ApiKey.objects.filter(workspace=self.workspace).select_related("owner")
            if show_all
            else None
        )
        return render(
            request,
            "access/api_keys.html",
            {
                "own": own,
                "everyone": everyone,
                "form": form or ApiKeyForm(held=self._held(request)),
                "secret": secret,
            },
        )

    def post(self, request):
        if request.POST.get("action") == "revoke":
            key = ApiKey.objects.filter(
                workspace=self.workspace, pk=_parse(request.POST.get("key"))
            ).first()
            if key is None:
                messages.error(request, "Key not found.")
            else:
                try:
                    key_services.api_key_revoke(
                        workspace=self.workspace, actor=request.user, key=key
                    )
                    messages.success(request, f"Key {key.prefix} revoked.")
                except ApplicationError as exc:
                    flash_error(request, exc)
            return redirect("console:api-keys")
        form = ApiKeyForm(request.POST, held=self._held(request))
        if not form.is_valid():
            return self.get(request, form=form)
        d = form.cleaned_data
        try:
            key, secret = key_services.api_key_create(
                workspace=self.workspace,
                actor=request.user,
                name=d["name"],
                expires_at=d["expires_at"],
                permissions=d["permissions"] if d["restrict"] else None,
                rate_limit_per_minute=d["rate_limit_per_minute"],
            )
        except ApplicationError as exc:
            _show_error(form, exc)
            return self.get(request, form=form)
        messages.success(
            request, f"Key {key.prefix} created. Copy the secret now: it is shown only once."
        )
        return self.get(request, secret=secret)


def _parse(value):
    return parse_id(value)
