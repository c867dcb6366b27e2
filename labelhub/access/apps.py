"""The access app: who may do what (roles, groups, grants, keys, members, invitations)."""

from django.apps import AppConfig


class AccessConfig(AppConfig):
    """Teaches the lower layers what only access knows (see ``core.audit``, ``core.live``)."""

    name = "labelhub.access"
    label = "access"

    def ready(self) -> None:
        """Register the audit name of API keys and who may join workspace groups."""
        from labelhub.access import hooks
        from labelhub.access.models import ApiKey
        from labelhub.core.audit import register_actor_formatter
        from labelhub.core.live import register_channel_authoriser

        register_actor_formatter(ApiKey, hooks.api_key_identity)
        register_channel_authoriser("workspace", hooks.may_join_workspace)
