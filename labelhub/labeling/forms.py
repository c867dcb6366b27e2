"""Console forms of batches and of the data rows tab."""

from __future__ import annotations

from django import forms

from labelhub.labeling.models import Task


class BatchCreateForm(forms.Form):
    # data-show-when="field=value …": console.js shows a field only for the choices that
    # use it; without JavaScript every field shows and the server reads the ones it needs.
    name = forms.CharField(max_length=200)
    source = forms.ChoiceField(
        choices=[("dataset", "From a dataset"), ("global_keys", "By global keys")],
        initial="dataset",
    )
    dataset = forms.ChoiceField(
        required=False, widget=forms.Select({"data-show-when": "source=dataset"})
    )
    sample = forms.ChoiceField(
        choices=[
            ("all", "All rows"),
            ("random", "Random N"),
            ("first", "Oldest N"),
            ("last", "Newest N"),
        ],
        required=False,
        widget=forms.Select({"data-show-when": "source=dataset"}),
    )
    count = forms.IntegerField(
        required=False,
        min_value=1,
        label="N",
        widget=forms.NumberInput({"data-show-when": "sample=random first last"}),
    )
    global_keys = forms.CharField(
        widget=forms.Textarea({"rows": 3, "data-show-when": "source=global_keys"}),
        required=False,
        label="Global keys (one per line)",
    )
    priority = forms.IntegerField(
        min_value=1, max_value=5, initial=5, label="Priority (1 highest … 5)"
    )
    consensus_coverage = forms.IntegerField(
        min_value=0, max_value=100, initial=0, label="Consensus coverage %"
    )
    consensus_labels = forms.IntegerField(min_value=2, initial=2, label="Labels per consensus row")

    def __init__(self, *args, datasets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dataset"].choices = [("", "—")] + [(str(d.pk), d.name) for d in datasets]


STATUS_CHOICES = [("", "Any status"), *Task.Status.choices]
