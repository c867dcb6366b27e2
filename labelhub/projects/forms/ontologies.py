"""Console forms of ontologies: details, the form editor's additions, the JSON view."""

from __future__ import annotations

from django import forms

from labelhub.core.parsers import JSONInputError, loads
from labelhub.projects.models import MediaType
from labelhub.projects.services.ontologies import CLASSIFICATION_TYPES, TOOL_TYPES

MEDIA_CHOICES = [("", "Any media type"), *MediaType.choices]
TOOL_CHOICES = [(value, f"{label} ({value})") for value, label in TOOL_TYPES.items()]
CLASSIFICATION_CHOICES = list(CLASSIFICATION_TYPES.items())
SCOPE_CHOICES = [("global", "Global (whole data row)"), ("index", "Index (per frame)")]


def parse_json_text(text: str) -> object:
    """Parse pasted JSON; raise ValidationError naming the line and column of a syntax error."""
    try:
        return loads(text)
    except JSONInputError as exc:
        where = f"line {exc.lineno}, column {exc.colno}: " if exc.lineno is not None else ""
        raise forms.ValidationError(f"Not valid JSON: {where}{exc.msg}.") from exc


class _Ided(forms.Form):
    """The editor shows several forms on one page: each gets its own element ids."""

    id_prefix = "ontology"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.id_prefix}-%s")
        super().__init__(*args, **kwargs)


class OntologyForm(_Ided):
    name = forms.CharField(max_length=200)
    description = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    media_type = forms.ChoiceField(choices=MEDIA_CHOICES, required=False, label="Media type")


class OntologyCreateForm(OntologyForm):
    ontology = forms.CharField(
        required=False,
        label="Labelbox JSON (optional)",
        widget=forms.Textarea(attrs={"rows": 5, "class": "code", "spellcheck": "false"}),
        help_text='Paste an ontology exported from Labelbox (<code>{"tools": [...], '
        '"classifications": [...]}</code>) to keep its feature schema ids; leave empty to '
        "start from scratch.",
    )

    def clean_ontology(self) -> object:
        text = self.cleaned_data["ontology"].strip()
        return parse_json_text(text) if text else None


class ToolForm(_Ided):
    id_prefix = "tool"
    name = forms.CharField(max_length=200)
    tool = forms.ChoiceField(choices=TOOL_CHOICES, label="Type")
    color = forms.CharField(
        max_length=7,
        label="Colour",
        widget=forms.TextInput(attrs={"type": "color"}),
    )
    required = forms.BooleanField(required=False)


class ClassificationForm(_Ided):
    id_prefix = "classification"
    name = forms.CharField(max_length=200)
    type = forms.ChoiceField(choices=CLASSIFICATION_CHOICES)
    parent = forms.ChoiceField(required=False, label="Place")
    scope = forms.ChoiceField(
        choices=SCOPE_CHOICES, initial="global", help_text="Top-level classifications only."
    )
    required = forms.BooleanField(required=False)
    options = forms.CharField(
        required=False,
        label="Answers",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line (radio and checklist).",
    )

    def __init__(self, *args, parents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = [("", "Top level"), *parents]

    def clean_options(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["options"].splitlines() if line.strip()]


class OptionForm(_Ided):
    id_prefix = "answer"
    classification = forms.ChoiceField(label="Question")
    value = forms.CharField(max_length=200, label="Answer")

    def __init__(self, *args, questions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["classification"].choices = list(questions)


class OntologyJsonForm(forms.Form):
    ontology = forms.CharField(
        label="Labelbox JSON",
        strip=False,
        widget=forms.Textarea(
            attrs={"rows": 30, "class": "code", "spellcheck": "false", "data-json-editor": ""}
        ),
    )

    #: the ontology's version when the page was opened (a newer save is not overwritten)
    version = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_ontology(self) -> object:
        return parse_json_text(self.cleaned_data["ontology"])
