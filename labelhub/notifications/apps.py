"""The notification center app."""

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """Listens for the end of background jobs (``core.jobs``) to tell their owners."""

    name = "labelhub.notifications"
    label = "notifications"

    def ready(self) -> None:
        """Register the job-end listener."""
        from labelhub.core.jobs import register_end_listener
        from labelhub.notifications.services import notify_job_end

        register_end_listener(notify_job_end)
