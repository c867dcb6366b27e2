"""The first-run page: create the tenant, its first workspace and its admin."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from labelhub.accounts import services as account_services
from labelhub.accounts.forms import SetupForm
from labelhub.accounts.views import MODEL_BACKEND
from labelhub.core.errors import ApplicationError
from labelhub.core.views import apply_error_to_form
from labelhub.workspaces.models import Tenant
from labelhub.workspaces.services import tenant_create, workspace_enter


@require_http_methods(["GET", "POST"])
def setup(request):
    """First run: create the tenant, its first workspace and the tenant admin."""
    if Tenant.objects.exists():
        raise Http404
    form = SetupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            with transaction.atomic():
                user = account_services.user_create(
                    email=d["email"], password=d["password1"], name=d["name"]
                )
                _, workspace = tenant_create(
                    name=d["tenant"], workspace_name=d["workspace"], admin=user
                )
        except ApplicationError as exc:
            if "password" in exc.details:
                exc.details = {"password1": exc.details["password"]}
            apply_error_to_form(form, exc)
        else:
            login(request, user, backend=MODEL_BACKEND)
            workspace_enter(session=request.session, user=user, workspace=workspace)
            messages.success(request, "LabelHub is ready. Invite your team from Members.")
            return redirect("console:home")
    return render(request, "accounts/setup.html", {"form": form})
