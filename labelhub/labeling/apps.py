"""The labeling app: batches, tasks, labels, annotations (and soon the queue)."""

from django.apps import AppConfig


class LabelingConfig(AppConfig):
    """Registers what the projects app asks of labeling data (see ``projects.hooks``)."""

    name = "labelhub.labeling"
    label = "labeling"

    def ready(self) -> None:
        """Answer the hooks of the apps below: labeled projects, sizes, purges, access changes,
        the task page's timer messages on the live socket, and labels as workspace activity."""
        from labelhub.access.authz import register_permissions_listener
        from labelhub.core.live import register_close_handler, register_message_handler
        from labelhub.labeling import hooks, live
        from labelhub.labeling.services.queue import reservations_recheck
        from labelhub.projects import hooks as project_hooks
        from labelhub.workspaces.hooks import register_activity_counter

        project_hooks.register_labeled_finder(hooks.labeled_project_ids)
        project_hooks.register_sizer(hooks.task_count)
        project_hooks.register_purger(hooks.purge_tasks)
        project_hooks.register_row_project_finder(hooks.row_project_ids)
        # Someone who may no longer label (review, rework) loses their reservations at once.
        register_permissions_listener(reservations_recheck)
        register_message_handler("timer.beat", live.timer_beat)
        register_message_handler("timer.stop", live.timer_stop)
        register_close_handler(live.timers_pause)
        # Where a sign-in lands first counts labels as work too.
        register_activity_counter(hooks.label_counts)
