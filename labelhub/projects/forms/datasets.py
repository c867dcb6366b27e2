"""Console forms: datasets (create, rename, typed-name delete), uploads, row filters, schema."""

from __future__ import annotations

from django import forms

from labelhub.projects.models import MediaType, MetadataField


class _Prefixed(forms.Form):
    """A form whose element ids carry its own prefix: several forms share the dataset page,
    and a label must point at its own form's field."""

    id_prefix = "id"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class DatasetForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(max_length=2000, required=False)


class DatasetRenameForm(_Prefixed):
    id_prefix = "rename"
    name = forms.CharField(max_length=200, label="New name")


class DatasetDeleteForm(_Prefixed):
    id_prefix = "delete"
    confirm = forms.CharField(
        max_length=200,
        label="Type the dataset's name to confirm",
        error_messages={"required": "Type the dataset's name to delete it."},
    )


class UploadForm(_Prefixed):
    id_prefix = "upload"
    file = forms.FileField(
        label="File (CSV, JSON or NDJSON)",
        help_text=(
            "CSV header: row_data, global_key, external_id, media_type, "
            '<span class="nowrap">metadata.&lt;field&gt;</span>'
        ),
        error_messages={"required": "Choose a file to upload."},
    )
    media_type = forms.ChoiceField(
        required=False,
        label="Media type of rows that give none",
        choices=[("", "— rows give their own —"), *MediaType.choices],
    )


class DataRowFilterForm(_Prefixed):
    id_prefix = "filter"
    global_key = forms.CharField(required=False, max_length=200, label="Global key")
    external_id = forms.CharField(required=False, max_length=200, label="External ID")
    media_type = forms.ChoiceField(
        required=False, choices=[("", "Any"), *MediaType.choices], label="Media type"
    )
    metadata_field = forms.ChoiceField(required=False, label="Metadata field")
    metadata_value = forms.CharField(required=False, max_length=4096, label="Value")

    def __init__(self, *args, field_names=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["metadata_field"].choices = [("", "—"), *((n, n) for n in field_names)]

    def selector_params(self) -> dict[str, str]:
        """The filters as the selector reads them (``metadata.<name>`` for the field)."""
        data = self.cleaned_data
        params = {k: data[k] for k in ("global_key", "external_id", "media_type") if data.get(k)}
        if data.get("metadata_field") and data.get("metadata_value", "").strip():
            params[f"metadata.{data['metadata_field']}"] = data["metadata_value"]
        return params


class MetadataFieldForm(forms.Form):
    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(choices=MetadataField.Kind.choices)
    options = forms.CharField(
        required=False,
        max_length=5000,
        label="Options (enum)",
        help_text="Comma-separated, e.g. north, south",
    )

    def clean_options(self) -> list[str]:
        text = self.cleaned_data.get("options") or ""
        return [o.strip() for o in text.split(",") if o.strip()]
