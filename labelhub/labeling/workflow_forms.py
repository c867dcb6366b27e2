"""Console forms of the Workflow tab: they parse the page's fields into the shapes the
workflow services take (``services.workflow``), which do the real validation."""

from __future__ import annotations

from typing import Any

from django import forms

from labelhub.labeling.models import WorkflowStep

Choices = list[tuple[str, str]]


def _split_values(text: str) -> list[str]:
    return sorted({v.strip() for v in text.split(",") if v.strip()})


class ReviewStepAddForm(forms.Form):
    name = forms.CharField(max_length=80, label="Name of the new review step")
    position = forms.IntegerField(
        required=False,
        min_value=1,
        label="Place among the review steps",
        help_text="Blank: after the last review step.",
    )


class ReviewStepForm(forms.Form):
    """One review step: name, place, reviewers and filters."""

    name = forms.CharField(max_length=80, label="Name")
    position = forms.IntegerField(min_value=1, label="Place among the review steps")
    reviewers = forms.ChoiceField(
        choices=[("everyone", "Everyone who may review"), ("chosen", "Chosen members and groups")],
        widget=forms.RadioSelect,
        label="Who reviews",
    )
    reviewer_users = forms.MultipleChoiceField(
        required=False, label="Reviewing members", widget=forms.CheckboxSelectMultiple
    )
    reviewer_groups = forms.MultipleChoiceField(
        required=False, label="Reviewing groups", widget=forms.CheckboxSelectMultiple
    )
    match = forms.ChoiceField(choices=WorkflowStep.Match.choices, label="Combine filters")
    datasets = forms.MultipleChoiceField(required=False, label="Dataset is one of")
    batches = forms.MultipleChoiceField(required=False, label="Batch is one of")
    metadata_name = forms.CharField(required=False, max_length=100, label="Metadata field")
    metadata_values = forms.CharField(
        required=False,
        max_length=2000,
        label="has one of the values",
        help_text="Comma-separated, e.g. Paris, Lyon.",
    )
    labeled_by = forms.MultipleChoiceField(required=False, label="Labeled by one of")
    seconds_min = forms.IntegerField(
        required=False, min_value=0, label="Labeling time at least (seconds)"
    )
    seconds_max = forms.IntegerField(
        required=False, min_value=0, label="Labeling time at most (seconds)"
    )

    #: the form field each kind of filter comes from (where its errors are shown)
    FILTER_SOURCES = {
        "dataset": "datasets",
        "batch": "batches",
        "metadata": "metadata_values",
        "labeled_by": "labeled_by",
        "labeling_seconds": "seconds_min",
    }

    def __init__(
        self,
        *args: Any,
        members: Choices = (),
        groups: Choices = (),
        datasets: Choices = (),
        batches: Choices = (),
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.fields["reviewer_users"].choices = list(members)
        self.fields["reviewer_groups"].choices = list(groups)
        self.fields["labeled_by"].choices = list(members)
        self.fields["datasets"].choices = list(datasets)
        self.fields["batches"].choices = list(batches)
        for name in ("datasets", "batches", "labeled_by"):
            self.fields[name].widget.attrs["size"] = 4

    @staticmethod
    def initial_of(step: WorkflowStep, place: int) -> dict[str, Any]:
        """The form's values for a step as stored (``place``: 1 for the first review step)."""
        initial: dict[str, Any] = {
            "name": step.name,
            "position": place,
            "reviewers": "chosen" if step.reviewer_users or step.reviewer_groups else "everyone",
            "reviewer_users": list(step.reviewer_users),
            "reviewer_groups": list(step.reviewer_groups),
            "match": step.match,
        }
        for rule in step.filters:
            kind = rule.get("field")
            if kind in {"dataset", "batch", "labeled_by"}:
                initial[ReviewStepForm.FILTER_SOURCES[kind]] = list(rule["values"])
            elif kind == "metadata":
                initial["metadata_name"] = rule.get("name", "")
                initial["metadata_values"] = ", ".join(rule["values"])
            elif kind == "labeling_seconds":
                initial["seconds_min"], initial["seconds_max"] = rule.get("min"), rule.get("max")
        return initial

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("reviewers") == "chosen" and not (
            data.get("reviewer_users") or data.get("reviewer_groups")
        ):
            self.add_error("reviewer_users", "Choose at least one member or group.")
        name, values = data.get("metadata_name", ""), data.get("metadata_values", "")
        if name and not _split_values(values or ""):
            self.add_error("metadata_values", "Give at least one value for the field.")
        if values and _split_values(values) and not name:
            self.add_error("metadata_name", "Name the metadata field.")
        low, high = data.get("seconds_min"), data.get("seconds_max")
        if low is not None and high is not None and low > high:
            self.add_error("seconds_max", "The most must not be less than the least.")
        return data

    def changes(self) -> tuple[dict[str, Any], list[str]]:
        """The service's keyword arguments, and for each filter the field it came from."""
        d = self.cleaned_data
        filters: list[dict[str, Any]] = []
        sources: list[str] = []

        def add(rule: dict[str, Any], source: str) -> None:
            filters.append(rule)
            sources.append(source)

        if d["datasets"]:
            add({"field": "dataset", "values": d["datasets"]}, "datasets")
        if d["batches"]:
            add({"field": "batch", "values": d["batches"]}, "batches")
        if d["metadata_name"]:
            add(
                {
                    "field": "metadata",
                    "name": d["metadata_name"],
                    "values": _split_values(d["metadata_values"]),
                },
                "metadata_values",
            )
        if d["labeled_by"]:
            add({"field": "labeled_by", "values": d["labeled_by"]}, "labeled_by")
        if d["seconds_min"] is not None or d["seconds_max"] is not None:
            add(
                {"field": "labeling_seconds", "min": d["seconds_min"], "max": d["seconds_max"]},
                "seconds_min",
            )
        chosen = d["reviewers"] == "chosen"
        changes = {
            "name": d["name"],
            "position": d["position"],
            "reviewer_users": d["reviewer_users"] if chosen else [],
            "reviewer_groups": d["reviewer_groups"] if chosen else [],
            "filters": filters,
            "match": d["match"],
        }
        return changes, sources


class ReworkStepForm(forms.Form):
    assignment = forms.ChoiceField(
        choices=WorkflowStep.Assignment.choices,
        label="Who reworks a rejected label",
    )
    max_rework_attempts = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=100,
        label="Max rework attempts of the label creator",
        help_text="After them the row goes to someone else. Blank: no limit.",
    )

    @staticmethod
    def initial_of(step: WorkflowStep) -> dict[str, Any]:
        return {"assignment": step.assignment, "max_rework_attempts": step.max_rework_attempts}

    def changes(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class LabelStepForm(forms.Form):
    """Initial labeling: labels per row, and limits per member and per group (blank: none)."""

    max_labels_per_row = forms.IntegerField(
        min_value=1, max_value=100, label="Max labels per data row"
    )

    def __init__(self, *args: Any, members: Choices = (), groups: Choices = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.user_fields: dict[str, str] = {}
        self.group_fields: dict[str, str] = {}
        for kind, choices, names in (
            ("user", members, self.user_fields),
            ("group", groups, self.group_fields),
        ):
            for pk, label in choices:
                name = f"{kind}_limit_{pk}"
                self.fields[name] = forms.IntegerField(
                    required=False, min_value=0, max_value=1_000_000, label=label
                )
                names[name] = pk

    def limit_rows(self, kind: str) -> list[forms.BoundField]:
        names = self.user_fields if kind == "user" else self.group_fields
        return [self[name] for name in names]

    def user_limit_rows(self) -> list[forms.BoundField]:
        return self.limit_rows("user")

    def group_limit_rows(self) -> list[forms.BoundField]:
        return self.limit_rows("group")

    @staticmethod
    def initial_of(step: WorkflowStep, members: Choices, groups: Choices) -> dict[str, Any]:
        initial: dict[str, Any] = {"max_labels_per_row": step.max_labels_per_row}
        for kind, choices, limits in (
            ("user", members, step.user_limits),
            ("group", groups, step.group_limits),
        ):
            for pk, _ in choices:
                if pk in limits:
                    initial[f"{kind}_limit_{pk}"] = limits[pk]
        return initial

    def changes(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "max_labels_per_row": d["max_labels_per_row"],
            "user_limits": {
                pk: d[name] for name, pk in self.user_fields.items() if d.get(name) is not None
            },
            "group_limits": {
                pk: d[name] for name, pk in self.group_fields.items() if d.get(name) is not None
            },
        }
