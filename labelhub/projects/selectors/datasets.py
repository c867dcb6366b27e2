"""Reads of datasets, data rows, data row jobs and the metadata schema.

The metadata schema is the workspace's ``MetadataField`` rows plus three reserved fields
that always exist and cannot be created or deleted: ``tag`` (string), ``split`` (enum
train/valid/test) and ``captureDateTime`` (datetime, ISO 8601).

Data row filters (API query string and console form alike): ``global_key``,
``external_id``, ``media_type`` (exact) and ``metadata.<name>=<value>``, where the value
is read with the field's type (a number for number fields, an ISO 8601 date-time for
datetime fields) and compared with the stored, normalised value.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.db.models.fields.json import KeyTransform

from labelhub.core.errors import NotFound, ValidationFailed
from labelhub.core.ids import parse_id
from labelhub.projects.metadata import RESERVED_FIELDS, FieldSpec, clean_metadata_value
from labelhub.projects.models import DataRow, DataRowJob, Dataset, MediaType, MetadataField
from labelhub.workspaces.models import Workspace

# --- datasets ----------------------------------------------------------------------------


def dataset_list(*, workspace: Workspace) -> QuerySet[Dataset]:
    """Datasets of the workspace by name."""
    return Dataset.objects.filter(workspace=workspace).order_by("name", "id")


def access_dataset(*, workspace: Workspace, id: Any) -> Dataset:
    """Return a dataset of this workspace, or raise NotFound (missing and foreign alike)."""
    dataset = dataset_list(workspace=workspace).filter(pk=parse_id(id)).first()
    if dataset is None:
        raise NotFound("Dataset not found.")
    return dataset


# --- metadata schema ---------------------------------------------------------------------


def metadata_field_list(*, workspace: Workspace) -> QuerySet[MetadataField]:
    """Custom metadata fields of the workspace by name."""
    return MetadataField.objects.filter(workspace=workspace).order_by("name")


def access_metadata_field(*, workspace: Workspace, id: Any) -> MetadataField:
    """Return a custom metadata field of this workspace, or raise NotFound."""
    found = metadata_field_list(workspace=workspace).filter(pk=parse_id(id)).first()
    if found is None:
        raise NotFound("Metadata field not found.")
    return found


def metadata_schema(*, workspace: Workspace) -> dict[str, FieldSpec]:
    """Every field rows may carry: the reserved ones, then the workspace's, by name."""
    schema = dict(RESERVED_FIELDS)
    for f in metadata_field_list(workspace=workspace):
        schema[f.name] = FieldSpec(
            f.name, f.kind, tuple(f.options or ()), id=f.pk, created_at=f.created_at
        )
    return schema


# --- data rows ---------------------------------------------------------------------------

FILTER_NAMES = ("global_key", "external_id", "media_type")


def parse_metadata_filter_value(spec: FieldSpec, raw: str) -> Any:
    """Read a filter value with the field's type; raise ValidationFailed when it cannot be."""
    value, problem = clean_metadata_value(spec, raw, from_text=True)
    if problem:
        raise ValidationFailed(f"metadata.{spec.name}: {problem}", field=f"metadata.{spec.name}")
    return value


def data_row_filters(*, workspace: Workspace, params: Any) -> dict[str, Any]:
    """Pick and check the data row filters of a query string (unknown parameters ignored).

    Returns ``{"global_key": ..., "external_id": ..., "media_type": ..., "metadata":
    {name: value}}`` with only the filters given (blank values are no filter).
    """
    filters: dict[str, Any] = {}
    for name in FILTER_NAMES:
        value = (params.get(name) or "").strip()
        if value:
            filters[name] = value
    if "media_type" in filters and filters["media_type"] not in MediaType.values:
        raise ValidationFailed(
            f"Unknown media type {filters['media_type']!r}; choose one of "
            f"{', '.join(MediaType.values)}.",
            field="media_type",
        )
    metadata: dict[str, Any] = {}
    schema = None
    for key in params:
        if not key.startswith("metadata.") or not (params.get(key) or "").strip():
            continue
        name = key.removeprefix("metadata.")
        if schema is None:
            schema = metadata_schema(workspace=workspace)
        if name not in schema:
            raise ValidationFailed(f"Unknown metadata field {name!r}.", field=key)
        metadata[name] = parse_metadata_filter_value(schema[name], params.get(key).strip())
    if metadata:
        filters["metadata"] = metadata
    return filters


def data_row_list(
    *, workspace: Workspace, dataset: Dataset, filters: dict[str, Any] | None = None
) -> QuerySet[DataRow]:
    """Data rows of a dataset (newest first), narrowed by checked filters."""
    qs = DataRow.objects.filter(workspace=workspace, dataset=dataset)
    filters = filters or {}
    for name in FILTER_NAMES:
        if name in filters:
            qs = qs.filter(**{name: filters[name]})
    for i, (name, value) in enumerate(sorted(filters.get("metadata", {}).items())):
        alias = f"_meta_{i}"
        qs = qs.alias(**{alias: KeyTransform(name, "metadata")}).filter(**{alias: value})
    return qs.order_by("-created_at", "-id")


def access_data_row(*, workspace: Workspace, id: Any) -> DataRow:
    """Return a data row of this workspace, or raise NotFound."""
    row = (
        DataRow.objects.select_related("dataset")
        .filter(workspace=workspace, pk=parse_id(id))
        .first()
    )
    if row is None:
        raise NotFound("Data row not found.")
    return row


# --- jobs --------------------------------------------------------------------------------


def data_row_job_list(*, workspace: Workspace, dataset: Dataset | None = None) -> QuerySet:
    """Bulk-creation jobs, newest first."""
    qs = DataRowJob.objects.filter(workspace=workspace)
    if dataset is not None:
        qs = qs.filter(dataset=dataset)
    return qs.order_by("-created_at", "-id")


def access_data_row_job(*, workspace: Workspace, id: Any) -> DataRowJob:
    """Return a job of this workspace, or raise NotFound."""
    job = data_row_job_list(workspace=workspace).filter(pk=parse_id(id)).first()
    if job is None:
        raise NotFound("Job not found.")
    return job


def data_row_job_error_count(job: DataRowJob) -> int:
    """Rows of the job that were neither created nor updated (stored errors may be capped)."""
    return max(job.processed - job.created - job.updated, 0)
