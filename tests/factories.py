"""Small factories for tests: users, tenants, workspaces, members (through the services)."""

from __future__ import annotations

import itertools

from labelhub.accounts.models import User
from labelhub.workspaces.models import Membership, Role, Tenant, TenantAdmin, Workspace

PASSWORD = "correct-horse-battery-9"
_seq = itertools.count(1)


def make_user(email: str | None = None, name: str = "", password: str = PASSWORD) -> User:
    """Create an active user."""
    return User.objects.create_user(
        email=email or f"user{next(_seq)}@example.com", password=password, name=name
    )


def make_workspace(name: str | None = None, tenant: Tenant | None = None) -> Workspace:
    """Create a workspace (and a tenant when none is given)."""
    n = next(_seq)
    tenant = tenant or Tenant.objects.create(name=f"Tenant {n}")
    return Workspace.objects.create(tenant=tenant, name=name or f"Workspace {n}")


def make_member(
    workspace: Workspace, role: str = Role.LABELER, user: User | None = None, **kw
) -> User:
    """Create a user who is a member of the workspace with the role."""
    user = user or make_user(**kw)
    Membership.objects.create(workspace=workspace, user=user, role=role)
    return user


def make_tenant_admin(tenant: Tenant, user: User | None = None) -> User:
    """Make a user tenant admin."""
    user = user or make_user()
    TenantAdmin.objects.create(tenant=tenant, user=user)
    return user


def make_project(workspace: Workspace, name: str | None = None):
    """Create a project in the workspace."""
    from labelhub.projects.models import Project

    return Project.objects.create(workspace=workspace, name=name or f"Project {next(_seq)}")
