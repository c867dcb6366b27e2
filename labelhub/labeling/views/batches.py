"""Console pages: a project's batches (create, detail, rename, priority, remove queued).
The data rows tab is in ``views.data_rows``."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import path
from django.views import View

from labelhub.core.errors import ApplicationError, NotFound
from labelhub.core.ids import parse_id
from labelhub.core.views import apply_error_to_form, flash_error
from labelhub.labeling.forms import BatchCreateForm
from labelhub.labeling.models import Batch, BatchEvent
from labelhub.labeling.selectors import tasks as selectors
from labelhub.labeling.services import batches as services
from labelhub.projects.console import ProjectPage
from labelhub.projects.models import Dataset


class BatchesView(ProjectPage, View):
    tab = "batches"

    def _form(self, data=None):
        return BatchCreateForm(
            data, datasets=Dataset.objects.filter(workspace=self.workspace).order_by("name")
        )

    def render_page(self, request, form=None):
        return self.page(
            request,
            "projects/batches.html",
            {"batches": selectors.batch_list(project=self.project), "form": form or self._form()},
        )

    def get(self, request, project_id):
        return self.render_page(request)

    def post(self, request, project_id):
        form = self._form(request.POST)
        if not form.is_valid():
            return self.render_page(request, form)
        d = form.cleaned_data
        source = {}
        if d["source"] == "global_keys":
            source["global_keys"] = [k.strip() for k in d["global_keys"].splitlines() if k.strip()]
        else:
            source["dataset"] = {"dataset": d["dataset"], "sample": d["sample"] or "all"}
            if d["count"]:
                source["dataset"]["count"] = d["count"]
        try:
            batch, report = services.batch_create(
                project=self.project,
                actor=request.user,
                name=d["name"],
                priority=d["priority"],
                consensus_coverage=d["consensus_coverage"],
                consensus_labels=d["consensus_labels"],
                **source,
            )
        except ApplicationError as exc:
            if "dataset" in exc.details and d["source"] == "global_keys":
                exc.details = {"global_keys": exc.details["dataset"]}
            apply_error_to_form(form, exc)
            return self.render_page(request, form)
        excluded = len(report["excluded_labeled"])
        messages.success(
            request,
            f"Batch {batch.name}: {report['added']} data rows added"
            + (f", {excluded} already labeled rows excluded." if excluded else "."),
        )
        return redirect("console:project-batches", project_id=self.project.pk)


class BatchDetailView(ProjectPage, View):
    tab = "batches"

    def _batch(self, batch_id):
        batch = selectors.batch_list(project=self.project).filter(pk=parse_id(batch_id)).first()
        if batch is None:
            raise NotFound("Batch not found.")
        return batch

    def get(self, request, project_id, batch_id):
        try:
            batch = self._batch(batch_id)
        except NotFound:
            return self.page(
                request, "error.html", {"status": 404, "message": "Batch not found."}, status=404
            )
        return self.page(
            request,
            "projects/batch_detail.html",
            {
                "batch": batch,
                "history": BatchEvent.objects.filter(batch=batch).select_related("actor"),
            },
        )

    def post(self, request, project_id, batch_id):
        try:
            batch = Batch.objects.get(pk=self._batch(batch_id).pk)
            if request.POST.get("action") == "remove_queued":
                removed = services.batch_remove_queued(batch=batch, actor=request.user)
                messages.success(request, f"{removed} queued data rows removed.")
            else:
                priority = request.POST.get("priority")
                services.batch_update(
                    batch=batch,
                    actor=request.user,
                    name=request.POST.get("name"),
                    priority=int(priority) if priority and priority.isdigit() else priority,
                )
                messages.success(request, "Batch saved.")
        except ApplicationError as exc:
            flash_error(request, exc)
        return redirect("console:project-batch", project_id=self.project.pk, batch_id=batch_id)


urlpatterns = [
    path("projects/<str:project_id>/batches/", BatchesView.as_view(), name="project-batches"),
    path(
        "projects/<str:project_id>/batches/<str:batch_id>/",
        BatchDetailView.as_view(),
        name="project-batch",
    ),
]
