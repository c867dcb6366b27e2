"""The projects app: datasets, data rows, ontologies, projects, tags, instructions."""

from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    """Registers the app's job engines, its live-group authoriser and its activity counter."""

    name = "labelhub.projects"
    label = "projects"

    def ready(self) -> None:
        """Import the engines so ``core.jobs`` knows them in every process; say who may
        follow a project's live group and how much work a workspace holds."""
        from labelhub.core.live import register_channel_authoriser
        from labelhub.projects import jobs, live  # noqa: F401 -- jobs registers on import
        from labelhub.projects.selectors.projects import workspace_activity
        from labelhub.workspaces.hooks import register_activity_counter

        register_channel_authoriser("project", live.may_join_project)
        register_activity_counter(workspace_activity)
