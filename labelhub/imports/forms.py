"""Console forms of the imports app: the upload of an NDJSON import."""

from __future__ import annotations

from django import forms

from labelhub.imports.models import ImportJob

#: file name endings taken as NDJSON (Labelbox exports and SDK dumps use all three)
NDJSON_SUFFIXES = (".ndjson", ".jsonl", ".json")


class ImportUploadForm(forms.Form):
    """Name, NDJSON file, kind and dry run of a new import."""

    name = forms.CharField(
        max_length=200,
        error_messages={"required": "Give the import a name."},
        help_text="Unique in the project, e.g. <em>model-v3 2026-11-22</em>.",
    )
    file = forms.FileField(
        label="NDJSON file",
        help_text="One annotation per line (.ndjson, .jsonl or .json).",
        error_messages={
            "required": "Choose an NDJSON file to import.",
            "empty": "The file is empty.",
        },
    )
    kind = forms.ChoiceField(
        choices=ImportJob.Kind.choices,
        initial=ImportJob.Kind.PRELABELS,
        error_messages={"invalid_choice": "Choose pre-labels or ground truth."},
    )
    dry_run = forms.BooleanField(
        required=False,
        label="Dry run",
        help_text="Check every line and report; write nothing.",
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "import_%s")
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs["accept"] = ",".join(
            (*NDJSON_SUFFIXES, "application/x-ndjson")
        )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(NDJSON_SUFFIXES):
            raise forms.ValidationError(
                "Choose an NDJSON file (.ndjson, .jsonl or .json), one annotation per line."
            )
        return upload
