"""The projects app: datasets, data rows, ontologies, projects, tags, instructions."""

from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    """Registers the app's job engines (upload and deletion jobs run by name)."""

    name = "labelhub.projects"
    label = "projects"

    def ready(self) -> None:
        """Import the engines so ``core.jobs`` knows them in every process."""
        from labelhub.projects import jobs  # noqa: F401 -- registers on import
