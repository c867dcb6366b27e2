"""Deleting a project's data and files (the project deletion job and the quick path)."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.db import transaction

from labelhub.projects.hooks import purge_chunk
from labelhub.projects.models import Project


def instructions_file_discard(name: str) -> bool:
    """Delete a stored instructions file once no project refers to it; True if deleted.

    Duplicated projects share their source's file, so a replaced or deleted project's
    file stays while another project still shows it.
    """
    if not name or Project.objects.filter(instructions_file=name).exists():
        return False
    default_storage.delete(name)
    return True


def project_delete_now(project: Project) -> None:
    """Delete a project with what is left of its data (in chunks), its file after commit."""
    while purge_chunk(project.pk):
        pass
    old_file = project.instructions_file.name or ""
    project.delete()
    if old_file:
        transaction.on_commit(lambda: instructions_file_discard(old_file))
