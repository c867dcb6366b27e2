"""Console forms: projects, tags, settings, instructions, batches, project members."""

from django import forms

from labelhub.projects.models import MediaType, Project


class ProjectCreateForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    media_type = forms.ChoiceField(
        choices=MediaType.choices, label="Media type (fixed once created)"
    )
    ontology = forms.ChoiceField(required=False)
    tags = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, ontologies=(), tags=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ontology"].choices = [("", "— none yet —")] + [
            (str(o.pk), o.name) for o in ontologies
        ]
        self.fields["tags"].choices = [(str(t.pk), t.name) for t in tags]


class ProjectBasicForm(ProjectCreateForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["media_type"]


class ProjectSettingsForm(forms.Form):
    benchmark_enabled = forms.BooleanField(required=False, label="Benchmarks")
    consensus_enabled = forms.BooleanField(required=False, label="Consensus")
    reservation_count = forms.IntegerField(
        min_value=1, max_value=100, label="Tasks reserved per labeler"
    )
    reservation_lease_seconds = forms.IntegerField(
        min_value=60, label="Reservation lease (seconds)"
    )
    allow_skip = forms.BooleanField(required=False, label="Labelers may skip")
    skip_limit = forms.IntegerField(
        min_value=0, max_value=100, label="Skips before a row moves on (0: never)"
    )
    timer_target_seconds = forms.IntegerField(
        min_value=1, required=False, label="Timer target (seconds)"
    )
    timer_cutoff_seconds = forms.IntegerField(
        min_value=1, required=False, label="Timer cutoff (seconds)"
    )
    authentic_input_protection = forms.BooleanField(
        required=False,
        label="Authentic input: block pasting into free-text answers and report rapid entry",
    )
    prelabel_confidence_threshold = forms.FloatField(
        min_value=0.0, max_value=1.0, label="Hide pre-labels below confidence"
    )
    review_score_threshold = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=100,
        label="Remove a contributor from the queue when their average review score is below",
    )


class InstructionsForm(forms.Form):
    # data-show-when (console.js): only the field of the chosen kind shows.
    kind = forms.ChoiceField(
        choices=Project.InstructionsKind.choices, required=False, label="Instructions"
    )
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6, "data-show-when": "kind=markdown"}),
        required=False,
        label="Markdown",
    )
    file = forms.FileField(
        required=False,
        label="PDF or HTML file",
        widget=forms.ClearableFileInput(attrs={"data-show-when": "kind=file"}),
    )
    url = forms.CharField(
        required=False,
        label="Video link",
        widget=forms.TextInput(attrs={"data-show-when": "kind=video"}),
    )
    enforce_instructions = forms.BooleanField(
        required=False,
        label="Labelers must acknowledge before labeling (and after changes)",
        widget=forms.CheckboxInput(attrs={"data-show-when": "kind=markdown file video"}),
    )
