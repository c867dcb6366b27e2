"""Console pages: datasets (list, create), a dataset (data rows, filters, upload, background
uploads, rename, typed-name delete) and the metadata schema.

Reads need ``view_workspace``; writes go through the services, which check
``manage_datasets`` (members without it see the pages without the forms). The data row
table pages through ``Dataset.row_count`` when unfiltered, so large datasets are not
counted on every page; filters are exact matches that use the table's indexes.
"""

from __future__ import annotations

from functools import cached_property

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import path
from django.views import View

from labelhub.access.authz import can
from labelhub.access.console import ConsoleView
from labelhub.access.permissions import Permission
from labelhub.core.errors import ApplicationError, NotFound
from labelhub.core.readable import readable_value
from labelhub.core.views import apply_error_to_form
from labelhub.projects.forms.datasets import (
    DataRowFilterForm,
    DatasetDeleteForm,
    DatasetForm,
    DatasetRenameForm,
    MetadataFieldForm,
    UploadForm,
)
from labelhub.projects.hooks import projects_holding_row
from labelhub.projects.metadata import MetadataLine, metadata_lines
from labelhub.projects.models import DataRowJob, MediaType
from labelhub.projects.selectors import datasets as selectors
from labelhub.projects.selectors.projects import projects_visible_to
from labelhub.projects.serializers.datasets import rows_from_upload
from labelhub.projects.services import datasets as services

ROWS_PER_PAGE = 50
JOB_ERRORS_SHOWN = 200


class KnownCountPaginator(Paginator):
    """A paginator told its count (a maintained counter) instead of running COUNT(*)."""

    def __init__(self, object_list, per_page, *, known_count: int | None = None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self._known_count = known_count

    @cached_property
    def count(self) -> int:
        if self._known_count is not None:
            return self._known_count
        return super().count


def _not_found(request, what: str):
    return render(
        request, "error.html", {"status": 404, "message": f"{what} not found."}, status=404
    )


def _show_error(form, exc: ApplicationError) -> None:
    """A service error beside its field, and on top of the form when no field carries it."""
    apply_error_to_form(form, exc)
    shown = {str(e) for errors in form.errors.values() for e in errors}
    if exc.message not in shown and not any(exc.message in s for s in shown):
        form.add_error(None, exc.message)


class DatasetsView(ConsoleView, View):
    """Datasets of the workspace (name, rows, created) and the create form."""

    required_permissions = {
        "GET": Permission.VIEW_WORKSPACE,
        "POST": Permission.MANAGE_DATASETS,
    }

    def get(self, request, form=None, status=200):
        page = Paginator(selectors.dataset_list(workspace=self.workspace), 50).get_page(
            request.GET.get("page")
        )
        return render(
            request,
            "projects/datasets/list.html",
            {
                "page": page,
                "form": form or DatasetForm(),
                "can_manage": can(request.user, Permission.MANAGE_DATASETS, self.workspace),
            },
            status=status,
        )

    def post(self, request):
        form = DatasetForm(request.POST)
        if not form.is_valid():
            return self.get(request, form=form)
        try:
            dataset = services.dataset_create(
                workspace=self.workspace, actor=request.user, **form.cleaned_data
            )
        except ApplicationError as exc:
            _show_error(form, exc)
            return self.get(request, form=form)
        messages.success(request, f"Dataset {dataset.name} created.")
        return redirect("console:dataset", id=dataset.pk)


class DatasetDetailView(ConsoleView, View):
    """One dataset: filterable data rows, upload, background uploads, rename, delete."""

    required_permissions = {
        "GET": Permission.VIEW_WORKSPACE,
        "POST": Permission.MANAGE_DATASETS,
    }

    def _render(self, request, dataset, status=200, **forms):
        schema = selectors.metadata_schema(workspace=self.workspace)
        filter_form = DataRowFilterForm(request.GET or None, field_names=list(schema))
        filter_error = None
        filters: dict = {}
        if filter_form.is_valid():
            try:
                filters = selectors.data_row_filters(
                    workspace=self.workspace, params=filter_form.selector_params()
                )
            except ApplicationError as exc:
                filter_error = exc.message
        rows = selectors.data_row_list(workspace=self.workspace, dataset=dataset, filters=filters)
        known = dataset.row_count if not filters else None
        page = KnownCountPaginator(rows, ROWS_PER_PAGE, known_count=known).get_page(
            request.GET.get("page")
        )
        jobs = list(selectors.data_row_job_list(workspace=self.workspace, dataset=dataset)[:5])
        shown_job = None
        if request.GET.get("job"):
            shown_job = next((j for j in jobs if str(j.pk) == request.GET["job"]), None)
            if shown_job is None:
                try:
                    shown_job = selectors.access_data_row_job(
                        workspace=self.workspace, id=request.GET["job"]
                    )
                except NotFound:
                    shown_job = None
        return render(
            request,
            "projects/datasets/detail.html",
            {
                "dataset": dataset,
                "page": page,
                "rows": [
                    {
                        "row": r,
                        "is_url": r.row_data.startswith(("http://", "https://")),
                        # one badge a field, objects (mediaAttributes) read as "k: v, …"
                        "metadata": [
                            MetadataLine(name, readable_value(value))
                            for name, value in sorted(r.metadata.items())
                        ],
                    }
                    for r in page
                ],
                "filter_form": filter_form,
                "filter_error": filter_error,
                "filtered": bool(filters),
                "jobs": [
                    {"job": j, "error_count": selectors.data_row_job_error_count(j)} for j in jobs
                ],
                "shown_job": shown_job,
                "shown_job_errors": shown_job.errors[:JOB_ERRORS_SHOWN] if shown_job else [],
                "shown_job_error_count": selectors.data_row_job_error_count(shown_job)
                if shown_job
                else 0,
                "can_manage": can(request.user, Permission.MANAGE_DATASETS, self.workspace),
                "upload_form": forms.get("upload_form") or UploadForm(),
                "rename_form": forms.get("rename_form")
                or DatasetRenameForm(initial={"name": dataset.name}),
                "delete_form": forms.get("delete_form") or DatasetDeleteForm(),
                "upload_result": forms.get("upload_result"),
                "any_job_running": any(
                    j.state in (DataRowJob.State.QUEUED, DataRowJob.State.RUNNING) for j in jobs
                ),
            },
            status=status,
        )

    def _dataset(self, id):
        return selectors.access_dataset(workspace=self.workspace, id=id)

    def get(self, request, id):
        try:
            dataset = self._dataset(id)
        except NotFound:
            return _not_found(request, "Dataset")
        return self._render(request, dataset)

    def post(self, request, id):
        try:
            dataset = self._dataset(id)
        except NotFound:
            return _not_found(request, "Dataset")
        action = request.POST.get("action")
        if action == "rename":
            return self._rename(request, dataset)
        if action == "delete":
            return self._delete(request, dataset)
        return self._upload(request, dataset)

    def _rename(self, request, dataset):
        form = DatasetRenameForm(request.POST)
        if form.is_valid():
            try:
                services.dataset_update(
                    workspace=self.workspace,
                    actor=request.user,
                    dataset=dataset,
                    name=form.cleaned_data["name"],
                )
                messages.success(request, f"Dataset renamed to {form.cleaned_data['name']}.")
                return redirect("console:dataset", id=dataset.pk)
            except ApplicationError as exc:
                _show_error(form, exc)
        return self._render(request, dataset, rename_form=form)

    def _delete(self, request, dataset):
        form = DatasetDeleteForm(request.POST)
        if form.is_valid():
            try:
                rows = services.dataset_delete(
                    workspace=self.workspace,
                    actor=request.user,
                    dataset=dataset,
                    confirm=form.cleaned_data["confirm"],
                )
                messages.success(request, f"Dataset {dataset.name} deleted ({rows:,} data rows).")
                return redirect("console:datasets")
            except ApplicationError as exc:
                _show_error(form, exc)
        return self._render(request, dataset, delete_form=form)

    def _upload(self, request, dataset):
        form = UploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self._render(request, dataset, upload_form=form)
        upload = form.cleaned_data["file"]
        limit = services.max_body_bytes()
        if upload.size > limit:
            form.add_error("file", f"At most {limit // (1024 * 1024)} MB per upload.")
            return self._render(request, dataset, upload_form=form)
        try:
            schema = selectors.metadata_schema(workspace=self.workspace)
            rows = rows_from_upload(upload.name, upload, schema=schema)
            outcome = services.data_rows_upload(
                workspace=self.workspace,
                actor=request.user,
                dataset=dataset,
                rows=rows,
                media_type=form.cleaned_data["media_type"] or None,
            )
        except ApplicationError as exc:
            _show_error(form, exc)
            return self._render(request, dataset, upload_form=form)
        if isinstance(outcome, DataRowJob):
            messages.info(
                request,
                f"{outcome.total:,} rows are being added in the background; progress shows below.",
            )
            return redirect(f"{request.path}?job={outcome.pk}")
        dataset.refresh_from_db()
        result = {"created": outcome.created, "updated": outcome.updated, "errors": outcome.errors}
        return self._render(request, dataset, upload_result=result)


class DataRowView(ConsoleView, View):
    """One data row of a dataset: the asset, its keys and metadata, and the projects (that
    the viewer may open) it was sent to, each linking to the row's page there."""

    required_permissions = {"GET": Permission.VIEW_WORKSPACE}

    def get(self, request, id, row_id):
        try:
            dataset = selectors.access_dataset(workspace=self.workspace, id=id)
            row = selectors.access_data_row(workspace=self.workspace, id=row_id)
        except NotFound:
            return _not_found(request, "Data row")
        if row.dataset_id != dataset.pk:
            return _not_found(request, "Data row")
        holding = projects_holding_row(row.pk)
        projects = (
            projects_visible_to(actor=request.user, workspace=self.workspace)
            .filter(pk__in=holding)
            .order_by("name", "id")
            if holding
            else []
        )
        return render(
            request,
            "projects/datasets/row.html",
            {
                "dataset": dataset,
                "row": row,
                "is_url": row.row_data.startswith(("http://", "https://")),
                "is_image": row.media_type == MediaType.IMAGE,
                "is_text": row.media_type == MediaType.TEXT,
                "metadata": metadata_lines(row.metadata),
                "projects": projects,
            },
        )


class MetadataFieldsView(ConsoleView, View):
    """The workspace's metadata schema: reserved and custom fields; add and delete."""

    required_permissions = {
        "GET": Permission.VIEW_WORKSPACE,
        "POST": Permission.MANAGE_DATASETS,
    }

    def get(self, request, form=None, status=200):
        return render(
            request,
            "projects/datasets/metadata.html",
            {
                "fields": list(selectors.metadata_schema(workspace=self.workspace).values()),
                "form": form or MetadataFieldForm(),
                "can_manage": can(request.user, Permission.MANAGE_DATASETS, self.workspace),
            },
            status=status,
        )

    def post(self, request):
        if request.POST.get("action") == "delete":
            try:
                found = selectors.access_metadata_field(
                    workspace=self.workspace, id=request.POST.get("field")
                )
                services.metadata_field_delete(
                    workspace=self.workspace, actor=request.user, metadata_field=found
                )
                messages.success(request, f"Metadata field {found.name} deleted.")
            except ApplicationError as exc:
                messages.error(request, exc.message)
            return redirect("console:metadata-fields")
        form = MetadataFieldForm(request.POST)
        if not form.is_valid():
            return self.get(request, form=form)
        try:
            created = services.metadata_field_create(
                workspace=self.workspace, actor=request.user, **form.cleaned_data
            )
        except ApplicationError as exc:
            _show_error(form, exc)
            return self.get(request, form=form)
        messages.success(request, f"Metadata field {created.name} added.")
        return redirect("console:metadata-fields")


urlpatterns = [
    path("datasets/", DatasetsView.as_view(), name="datasets"),
    path("datasets/<str:id>/", DatasetDetailView.as_view(), name="dataset"),
    path("datasets/<str:id>/rows/<str:row_id>/", DataRowView.as_view(), name="dataset-row"),
    path("metadata/", MetadataFieldsView.as_view(), name="metadata-fields"),
]
