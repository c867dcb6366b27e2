"""The imports app: pre-label and ground-truth imports."""

from django.apps import AppConfig


class ImportsConfig(AppConfig):
    """Registers the import job engine."""

    name = "labelhub.imports"
    label = "imports"

    def ready(self) -> None:
        """Import the engine so ``core.jobs`` knows it in every process."""
        from labelhub.imports import jobs  # noqa: F401 -- registers on import
