"""Console pages of a project's label imports: the job list with the upload form and
ready-to-copy API samples, and one job (summary, live progress, error table).

Reads need ``view_project`` (a project the user may not view answers 404, like a job of
another project); the upload needs ``import_labels`` (members without it see the page
without the form, and a POST answers 403). Writes go through
``labelhub.imports.services.import_job_create``.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View

from labelhub.access.permissions import Permission
from labelhub.core.errors import ApplicationError, NotFound
from labelhub.core.views import apply_error_to_form
from labelhub.imports import selectors, services
from labelhub.imports.forms import ImportUploadForm
from labelhub.imports.models import ImportJob
from labelhub.projects.console import ProjectPage
from labelhub.projects.models import FeatureSchema, Project
from labelhub.projects.selectors.ontologies import feature_lookup

JOBS_PER_PAGE = 50
ERRORS_PER_PAGE = 50
FINAL_STATES = frozenset(
    {ImportJob.State.FINISHED, ImportJob.State.FINISHED_WITH_ERRORS, ImportJob.State.FAILED}
)
#: service error fields that belong to the upload form's file field
FILE_FIELDS = {"lines", "payload", "file", "body"}


def _forbidden(request):
    return render(
        request,
        "error.html",
        {"status": 403, "message": "You do not have permission to import labels."},
        status=403,
    )


def _show_error(form: ImportUploadForm, exc: ApplicationError) -> None:
    """A service error beside its field (payload problems beside the file), else on top."""
    details: dict[str, Any] = {}
    for key, problems in (exc.details or {}).items():
        target = "file" if key in FILE_FIELDS else key
        listed = problems if isinstance(problems, list) else [problems]
        details.setdefault(target, []).extend(str(p) for p in listed)
    exc.details = details
    apply_error_to_form(form, exc)
    if not form.errors:
        form.add_error(None, exc.message)


# --- the API samples ------------------------------------------------------------------------

_GEOMETRY = {
    "rectangle": ("bbox", {"top": 48, "left": 64, "height": 120, "width": 180}),
    "polygon": ("polygon", [{"x": 10, "y": 20}, {"x": 150, "y": 20}, {"x": 80, "y": 140}]),
    "line": ("line", [{"x": 10, "y": 20}, {"x": 120, "y": 90}]),
    "point": ("point", {"x": 160, "y": 95}),
    "named-entity": ("location", {"start": 0, "end": 8}),
    "raster-segmentation": ("mask", {"instanceURI": "https://example.com/masks/1.png"}),
}
SAMPLE_UUIDS = ("b2d6a1f0-6c3e-4f1a-9f1e-000000000001", "b2d6a1f0-6c3e-4f1a-9f1e-000000000002")


def _example_data_row(project: Project) -> dict[str, str]:
    """A data row of the project to aim the sample at (its global key when it has one)."""
    task = (
        project.tasks.select_related("data_row")
        .filter(data_row__global_key__isnull=False)
        .exclude(data_row__global_key="")
        .order_by("id")
        .first()
    )
    if task is not None:
        return {"globalKey": task.data_row.global_key}
    return {"globalKey": "<global key of a row in a batch of this project>"}


def example_lines(project: Project) -> list[dict[str, Any]]:
    """Example NDJSON lines from the ontology: its first drawable tool, its first
    classification with an answer."""
    if project.ontology_id is None:
        return []
    lookup = feature_lookup(project.ontology)
    top = lookup.by_parent.get(None, [])
    options = {}
    for row in lookup.by_pk.values():
        if row.kind == FeatureSchema.Kind.OPTION:
            options.setdefault(row.parent_id, row)
    data_row = _example_data_row(project)
    lines: list[dict[str, Any]] = []
    tool = next((f for f in top if f.kind == "tool" and f.type in _GEOMETRY), None)
    if tool is not None:
        key, geometry = _GEOMETRY[tool.type]
        lines.append(
            {"uuid": SAMPLE_UUIDS[0], "dataRow": data_row, "name": tool.name, key: geometry}
        )
    for feature in top:
        if feature.kind != "classification":
            continue
        option = options.get(feature.pk)
        if feature.type == "radio" and option is not None:
            answer: Any = {"name": option.name}
        elif feature.type == "checklist" and option is not None:
            answer = [{"name": option.name}]
        elif feature.type == "text":
            answer = "Looks fine."
        else:
            continue
        lines.append(
            {"uuid": SAMPLE_UUIDS[1], "dataRow": data_row, "name": feature.name, "answer": answer}
        )
        break
    return lines


def code_samples(project: Project, base_url: str) -> dict[str, str]:
    """curl and Python ``requests`` samples that post the example lines to the API."""
    base = base_url.rstrip("/")
    url = f"{base}{reverse('api:import-jobs', kwargs={'project_id': project.pk})}"
    lines = example_lines(project) or [
        {"uuid": SAMPLE_UUIDS[0], "dataRow": {"globalKey": "<global key>"}, "name": "<feature>"}
    ]
    ndjson = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines)
    curl = (
        "# annotations.ndjson: one annotation per line\n"
        f"cat > annotations.ndjson <<'EOF'\n{ndjson}\nEOF\n\n"
        f'curl -X POST "{url}?name=model-run-1&kind=prelabels" \\\n'
        '  -H "Authorization: Bearer $LABELHUB_API_KEY" \\\n'
        '  -H "Content-Type: application/x-ndjson" \\\n'
        "  --data-binary @annotations.ndjson\n\n"
        "# then follow the job (its id is in the answer):\n"
        f'curl -H "Authorization: Bearer $LABELHUB_API_KEY" "{url}<job id>/"'
    )
    python_lines = ",\n".join("    " + json.dumps(line, ensure_ascii=False) for line in lines)
    python = (
        "import json\nimport os\nimport time\n\nimport requests\n\n"
        f'URL = "{url}"\n'
        'HEADERS = {"Authorization": f"Bearer {os.environ[\'LABELHUB_API_KEY\']}"}\n\n'
        f"lines = [\n{python_lines},\n]\n"
        'body = "\\n".join(json.dumps(line) for line in lines)\n\n'
        "response = requests.post(\n"
        "    URL,\n"
        '    params={"name": "model-run-1", "kind": "prelabels", "dry_run": "false"},\n'
        '    headers={**HEADERS, "Content-Type": "application/x-ndjson"},\n'
        '    data=body.encode("utf-8"),\n'
        ")\n"
        "response.raise_for_status()\n"
        "job = response.json()\n"
        'while job["state"] in ("queued", "running"):\n'
        "    time.sleep(2)\n"
        "    job = requests.get(f\"{URL}{job['id']}/\", headers=HEADERS).json()\n"
        'print(job["state"], job["lines_valid"], "valid,", job["lines_invalid"], "invalid")'
    )
    return {"curl": curl, "python": python}


# --- pages ----------------------------------------------------------------------------------


def _state_labels() -> dict[str, str]:
    return {value: str(label) for value, label in ImportJob.State.choices}


class ImportJobsView(ProjectPage, View):
    """A project's imports, newest first; the upload form; API samples."""

    tab = "imports"

    def _render(self, request, form=None, status=200):
        can_import = Permission.IMPORT_LABELS in self.perms
        page = Paginator(selectors.import_job_list(self.project), JOBS_PER_PAGE).get_page(
            request.GET.get("page")
        )
        return self.page(
            request,
            "imports/jobs.html",
            {
                "page": page,
                "form": (form or ImportUploadForm()) if can_import else None,
                "can_import": can_import,
                "samples": code_samples(self.project, request.build_absolute_uri("/")),
                "state_labels": _state_labels(),
                "final_states": sorted(FINAL_STATES),
            },
            status=status,
        )

    def get(self, request, project_id):
        return self._render(request)

    def post(self, request, project_id):
        if Permission.IMPORT_LABELS not in self.perms:
            return _forbidden(request)
        form = ImportUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self._render(request, form=form)
        data = form.cleaned_data
        try:
            job = services.import_job_create(
                project=self.project,
                actor=request.user,
                name=data["name"],
                kind=data["kind"],
                dry_run=data["dry_run"],
                payload=data["file"],
            )
        except ApplicationError as exc:
            _show_error(form, exc)
            return self._render(request, form=form)
        return redirect("console:project-import", project_id=self.project.pk, job_id=job.pk)


class ImportJobView(ProjectPage, View):
    """One import: summary, live progress, report download, errors filtered by name."""

    tab = "imports"

    def get(self, request, project_id, job_id):
        try:
            job = selectors.import_job_get(self.project, job_id)
        except NotFound:
            return render(
                request, "error.html", {"status": 404, "message": "Import not found."}, status=404
            )
        chosen = request.GET.get("error", "")
        errors = selectors.import_line_errors(job, name=chosen or None)
        page = Paginator(errors, ERRORS_PER_PAGE).get_page(request.GET.get("page"))
        summary = sorted((job.error_summary or {}).items(), key=lambda kv: (-kv[1], kv[0]))
        return self.page(
            request,
            "imports/job.html",
            {
                "job": job,
                "final": job.state in FINAL_STATES,
                "page": page,
                "error_names": summary,
                "chosen_error": chosen,
                "state_labels": _state_labels(),
                "final_states": sorted(FINAL_STATES),
            },
        )
