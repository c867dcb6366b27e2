"""The projects app: datasets, data rows, ontologies, projects, tags, instructions."""

from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    """Registers the app's job engines and its live-group authoriser."""

    name = "labelhub.projects"
    label = "projects"

    def ready(self) -> None:
        """Import the engines so ``core.jobs`` knows them in every process; say who may
        follow a project's live group."""
        from labelhub.core.live import register_channel_authoriser
        from labelhub.projects import jobs, live  # noqa: F401 -- jobs registers on import

        register_channel_authoriser("project", live.may_join_project)
