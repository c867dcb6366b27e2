"""The labeling app: batches, tasks, labels, annotations (and soon the queue)."""

from django.apps import AppConfig


class LabelingConfig(AppConfig):
    """Registers what the projects app asks of labeling data (see ``projects.hooks``)."""

    name = "labelhub.labeling"
    label = "labeling"

    def ready(self) -> None:
        """Answer the projects app's hooks: labeled projects, sizes and purges."""
        from labelhub.labeling import hooks
        from labelhub.projects import hooks as project_hooks

        project_hooks.register_labeled_finder(hooks.labeled_project_ids)
        project_hooks.register_sizer(hooks.task_count)
        project_hooks.register_purger(hooks.purge_tasks)
