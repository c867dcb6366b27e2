"""Every write to projects, tags, instructions, project settings and project members.

Decisions: tags are managed by those who may create projects (they are workspace-wide);
a project's tags, settings and instructions by those who may manage its settings. The
creator of a project who cannot already manage it (no workspace-wide project access)
gets the project's Admin role on it, so nobody creates a project they cannot open.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from labelhub.access.authz import can
from labelhub.access.models import ProjectGrant
from labelhub.access.permissions import Permission
from labelhub.access.selectors import role_ref_of
from labelhub.access.services import project_grant_set, require
from labelhub.core.audit import actor_identity, audit_record
from labelhub.core.errors import Conflict, ValidationFailed
from labelhub.core.ids import parse_id
from labelhub.core.jobs import engine_for
from labelhub.core.validation import clean_colour, clean_text
from labelhub.projects.hooks import labeled_project_ids, project_size
from labelhub.projects.models import (
    InstructionsAcknowledgement,
    MediaType,
    Ontology,
    Project,
    ProjectDeletion,
    Tag,
)
from labelhub.projects.services.deletion import instructions_file_discard, project_delete_now
from labelhub.workspaces.models import Role, Workspace

#: settings the project settings page and API change, with their validation bounds
SETTING_BOUNDS: dict[str, tuple[int | float, int | float]] = {
    "reservation_count": (1, 100),
    "reservation_lease_seconds": (60, 7 * 24 * 3600),
    "skip_limit": (0, 100),
    "timer_target_seconds": (1, 24 * 3600),
    "timer_cutoff_seconds": (1, 24 * 3600),
    "prelabel_confidence_threshold": (0.0, 1.0),
    "review_score_threshold": (0, 100),
}
#: settings that may be cleared (None: no target, no cutoff, no score threshold)
NULLABLE_SETTINGS = ("timer_target_seconds", "timer_cutoff_seconds", "review_score_threshold")
BOOLEAN_SETTINGS = (
    "benchmark_enabled",
    "consensus_enabled",
    "allow_skip",
    "enforce_instructions",
    "authentic_input_protection",
)


def _ontology(workspace: Workspace, value: Any) -> Ontology | None:
    if value in (None, ""):
        return None
    ontology = Ontology.objects.filter(workspace=workspace, pk=parse_id(value)).first()
    if ontology is None:
        raise ValidationFailed("Unknown ontology.", field="ontology")
    return ontology


def _tags(workspace: Workspace, values: Any) -> list[Tag]:
    if values is None:
        return []
    if not isinstance(values, list | tuple):
        raise ValidationFailed("Give a list of tag ids.", field="tags")
    ids = [parse_id(v) for v in values]
    tags = list(Tag.objects.filter(workspace=workspace, pk__in=[i for i in ids if i]))
    if len(tags) != len(set(ids)) or None in ids:
        raise ValidationFailed("Unknown tag.", field="tags")
    return tags


def project_has_labels(project: Project) -> bool:
    """True once any data row of the project carries a label."""
    return project.pk in labeled_project_ids([project.pk])


def project_create(
    *,
    workspace: Workspace,
    actor: Any,
    name: Any,
    media_type: Any,
    description: Any = "",
    ontology: Any = None,
    tags: Any = None,
) -> Project:
    """Create a project; the media type is fixed from now on."""
    require(actor, Permission.CREATE_PROJECTS, workspace)
    name = clean_text(name, field="name", max_length=200)
    description = clean_text(
        description, field="description", max_length=5000, required=False, collapse=False
    )
    if media_type not in MediaType.values:
        raise ValidationFailed(
            f"Choose a media type: {', '.join(MediaType.values)}.", field="media_type"
        )
    onto = _ontology(workspace, ontology)
    tag_list = _tags(workspace, tags)
    user, _ = actor_identity(actor)
    with transaction.atomic():
        project = Project.objects.create(
            workspace=workspace,
            name=name,
            description=description,
            media_type=media_type,
            ontology=onto,
            created_by=user,
        )
        project.tags.set(tag_list)
        if not can(actor, Permission.MANAGE_PROJECT_SETTINGS, project) and user is not None:
            project_grant_set(
                workspace=workspace,
                actor=None,
                project=project,
                user_id=user.pk,
                role=Role.ADMIN,
                check=False,
            )
        audit_record(
            workspace=workspace,
            actor=actor,
            verb="project.created",
            target=project,
            after={"name": name, "media_type": media_type, "ontology": onto.name if onto else None},
        )
    return project


def project_update(
    *,
    project: Project,
    actor: Any,
    name: Any = None,
    description: Any = None,
    ontology: Any = ...,
    tags: Any = None,
) -> Project:
    """Rename, describe, retag; change the ontology only while the project has no labels."""
    require(actor, Permission.MANAGE_PROJECT_SETTINGS, project)
    workspace = project.workspace
    with transaction.atomic():
        project = Project.objects.select_for_update(of=("self",)).get(pk=project.pk)
        before = _snapshot(project)
        if name is not None:
            project.name = clean_text(name, field="name", max_length=200)
        if description is not None:
            project.description = clean_text(
                description, field="description", max_length=5000, required=False, collapse=False
            )
        if ontology is not ...:
            onto = _ontology(workspace, ontology)
            if (onto and onto.pk) != project.ontology_id and project_has_labels(project):
                raise Conflict(
                    "The ontology cannot change once the project has labels.",
                    details={
                        "ontology": ["The ontology cannot change once the project has labels."]
                    },
                )
            project.ontology = onto
        project.save()
        if tags is not None:
            project.tags.set(_tags(workspace, tags))
        after = _snapshot(project)
        if after != before:
            audit_record(
                workspace=workspace,
                actor=actor,
                verb="project.updated",
                target=project,
                before=before,
                after=after,
            )
    return project


def _snapshot(project: Project) -> dict[str, Any]:
    return {
        "name": project.name,
        "description": project.description[:200],
        "ontology": str(project.ontology_id) if project.ontology_id else None,
        "tags": sorted(t.name for t in project.tags.all()),
    }


def project_settings_update(*, project: Project, actor: Any, **changes: Any) -> Project:
    """Change quality and advanced settings (validated against SETTING_BOUNDS)."""
    require(actor, Permission.MANAGE_PROJECT_SETTINGS, project)
    unknown = sorted(set(changes) - set(SETTING_BOUNDS) - set(BOOLEAN_SETTINGS))
    if unknown:
        raise ValidationFailed(details={name: ["Unknown setting."] for name in unknown})
    clean: dict[str, Any] = {}
    for name, value in changes.items():
        if name in BOOLEAN_SETTINGS:
            if not isinstance(value, bool):
                raise ValidationFailed("Give true or false.", field=name)
            clean[name] = value
            continue
        low, high = SETTING_BOUNDS[name]
        if value is None and name in NULLABLE_SETTINGS:
            clean[name] = None
            continue
        number_type = float if isinstance(low, float) else int
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or (number_type is int and int(value) != value)
        ):
            raise ValidationFailed(f"Give a number from {low} to {high}.", field=name)
        if not low <= value <= high:
            raise ValidationFailed(f"Give a number from {low} to {high}.", field=name)
        clean[name] = number_type(value)
    with transaction.atomic():
        project = Project.objects.select_for_update(of=("self",)).get(pk=project.pk)
        before = {name: getattr(project, name) for name in clean}
        for name, value in clean.items():
            setattr(project, name, value)
        target, cutoff = project.timer_target_seconds, project.timer_cutoff_seconds
        if target is not None and cutoff is not None and cutoff < target:
            raise ValidationFailed(
                "The cutoff must not be shorter than the target time.", field="timer_cutoff_seconds"
            )
        project.save(update_fields=list(clean) or None)
        after = {name: getattr(project, name) for name in clean}
        if after != before:
            audit_record(
                workspace=project.workspace,
                actor=actor,
                verb="project.settings_changed",
                target=project,
                before=before,
                after=after,
            )
    return project


def instructions_update(
    *, project: Project, actor: Any, kind: Any, text: Any = "", url: Any = "", file: Any = None
) -> Project:
    """Set the instructions (markdown, an uploaded PDF/HTML file, or a video link).

    Any change of content bumps the version, so enforced acknowledgements are asked again.
    """
    require(actor, Permission.MANAGE_PROJECT_SETTINGS, project)
    kinds = Project.InstructionsKind
    if kind not in kinds.values:
        raise ValidationFailed("Choose markdown, file, video or none.", field="kind")
    text = clean_text(
        text or "",
        field="text",
        max_length=100_000,
        required=kind == kinds.MARKDOWN,
        collapse=False,
    )
    url = clean_text(url or "", field="url", max_length=500, required=kind == kinds.VIDEO)
    if kind == kinds.VIDEO and not url.startswith(("http://", "https://")):
        raise ValidationFailed("Give an http(s) link.", field="url")
    if kind == kinds.FILE:
        if file is None and not project.instructions_file:
            raise ValidationFailed("Upload a PDF or HTML file.", field="file")
        if file is not None:
            name = (getattr(file, "name", "") or "").lower()
            if not name.endswith((".pdf", ".html", ".htm")):
                raise ValidationFailed("Only PDF or HTML files.", field="file")
            if file.size > 20 * 1024 * 1024:
                raise ValidationFailed("At most 20 MB.", field="file")
    with transaction.atomic():
        project = Project.objects.select_for_update(of=("self",)).get(pk=project.pk)
        old_file = project.instructions_file.name or ""
        before = (project.instructions_kind, project.instructions_text, project.instructions_url)
        project.instructions_kind = kind
        project.instructions_text = text if kind == kinds.MARKDOWN else ""
        project.instructions_url = url if kind == kinds.VIDEO else ""
        changed = before != (kind, project.instructions_text, project.instructions_url)
        if kind == kinds.FILE and file is not None:
            project.instructions_file.save(file.name, file, save=False)
            changed = True
        if kind != kinds.FILE:
            project.instructions_file = ""
        if changed:
            project.instructions_version += 1
        project.save()
        if old_file and old_file != (project.instructions_file.name or ""):
            transaction.on_commit(lambda: instructions_file_discard(old_file))
        if changed:
            audit_record(
                workspace=project.workspace,
                actor=actor,
                verb="project.instructions_changed",
                target=project,
                after={"kind": kind, "version": project.instructions_version},
            )
    return project


def instructions_acknowledge(*, project: Project, actor: Any) -> InstructionsAcknowledgement:
    """Record that the actor read the current instructions (idempotent per version)."""
    require(actor, Permission.VIEW_PROJECT, project)
    user, _ = actor_identity(actor)
    ack, _ = InstructionsAcknowledgement.objects.get_or_create(
        workspace=project.workspace,
        project=project,
        user=user,
        version=project.instructions_version,
    )
    return ack


def instructions_acknowledged(*, project: Project, user: Any) -> bool:
    """True when no acknowledgement is needed or the user acknowledged the current version."""
    if not project.enforce_instructions or not project.instructions_kind:
        return True
    return InstructionsAcknowledgement.objects.filter(
        project=project, user=user, version=project.instructions_version
    ).exists()


def project_duplicate(*, project: Project, actor: Any) -> Project:
    """Copy a project's setup: name (with "copy"), tags, description, ontology, settings,
    instructions and members — never batches, data rows, labels or history."""
    require(actor, Permission.CREATE_PROJECTS, project.workspace)
    require(actor, Permission.VIEW_PROJECT, project)
    copied_fields = [
        "description",
        "media_type",
        "ontology",
        "instructions_kind",
        "instructions_text",
        "instructions_file",
        "instructions_url",
        "enforce_instructions",
        *BOOLEAN_SETTINGS,
        *SETTING_BOUNDS,
    ]
    user, _ = actor_identity(actor)
    project = Project.objects.get(pk=project.pk)  # the caller's copy may be stale
    with transaction.atomic():
        copy = Project(workspace=project.workspace, created_by=user, name=_copy_name(project))
        for field in dict.fromkeys(copied_fields):
            setattr(copy, field, getattr(project, field))
        copy.save()
        copy.tags.set(project.tags.all())
        for grant in ProjectGrant.objects.filter(project=project).select_related(
            "group", "custom_role"
        ):
            project_grant_set(
                workspace=project.workspace,
                actor=actor,
                project=copy,
                user_id=grant.user_id,
                group=grant.group,
                role=role_ref_of(grant).key,
                check=False,
            )
        audit_record(
            workspace=project.workspace,
            actor=actor,
            verb="project.duplicated",
            target=copy,
            after={"from": project.name, "name": copy.name},
        )
    return copy


def _copy_name(project: Project) -> str:
    base = f"{project.name} (copy)"[:200]
    name, n = base, 2
    while Project.objects.filter(workspace=project.workspace, name=name).exists():
        name = f"{project.name} (copy {n})"[:200]
        n += 1
    return name


def project_delete(*, project: Project, actor: Any, confirm: Any) -> bool:
    """Delete a project and everything it owns; ``confirm`` must repeat its name.

    Small projects go at once (returns True). A project with more tasks than
    ``PROJECT_DELETE_SYNC_LIMIT`` is hidden at once and deleted by a ``ProjectDeletion``
    job (returns False), which deletes in chunks and is safe to run twice.
    """
    require(actor, Permission.MANAGE_PROJECT_SETTINGS, project)
    if confirm != project.name:
        raise ValidationFailed("Type the project's name to confirm.", field="confirm")
    tasks = project_size(project.pk)
    limit = getattr(settings, "PROJECT_DELETE_SYNC_LIMIT", 20_000)
    with transaction.atomic():
        audit_record(
            workspace=project.workspace,
            actor=actor,
            verb="project.deleted",
            target=project,
            before={"name": project.name, "tasks": tasks},
        )
        if tasks > limit:
            Project.objects.filter(pk=project.pk).update(deleting_since=timezone.now())
            job = ProjectDeletion.objects.create(
                workspace_id=project.workspace_id,
                project=project,
                project_name=project.name,
                created_by=actor_identity(actor)[0],
                total=tasks,
            )
            engine_for(PROJECT_DELETION).enqueue_on_commit(job)
            return False
        project_delete_now(project)
    return True


#: the engine (``projects.jobs.ProjectDeletionEngine``) that deletes large projects
PROJECT_DELETION = "projects.run_project_deletion"


# --- tags -------------------------------------------------------------------------------------


def tag_create(*, workspace: Workspace, actor: Any, name: Any, colour: Any = "#868E96") -> Tag:
    """Create a workspace tag."""
    require(actor, Permission.CREATE_PROJECTS, workspace)
    name = clean_text(name, field="name", max_length=60)
    try:
        with transaction.atomic():
            tag = Tag.objects.create(workspace=workspace, name=name, colour=clean_colour(colour))
            audit_record(
                workspace=workspace,
                actor=actor,
                verb="tag.created",
                target=tag,
                after={"name": name},
            )
    except IntegrityError as exc:
        raise Conflict(
            "A tag with this name exists.", details={"name": ["A tag with this name exists."]}
        ) from exc
    return tag


def tag_update(
    *, workspace: Workspace, actor: Any, tag: Tag, name: Any = None, colour: Any = None
) -> Tag:
    """Rename or recolour a tag everywhere it is used."""
    require(actor, Permission.CREATE_PROJECTS, workspace)
    before = {"name": tag.name, "colour": tag.colour}
    if name is not None:
        tag.name = clean_text(name, field="name", max_length=60)
    if colour is not None:
        tag.colour = clean_colour(colour)
    try:
        with transaction.atomic():
            tag.save()
            audit_record(
                workspace=workspace,
                actor=actor,
                verb="tag.updated",
                target=tag,
                before=before,
                after={"name": tag.name, "colour": tag.colour},
            )
    except IntegrityError as exc:
        raise Conflict(
            "A tag with this name exists.", details={"name": ["A tag with this name exists."]}
        ) from exc
    return tag


def tag_delete(*, workspace: Workspace, actor: Any, tag: Tag) -> None:
    """Delete a tag from every project."""
    require(actor, Permission.CREATE_PROJECTS, workspace)
    with transaction.atomic():
        audit_record(
            workspace=workspace,
            actor=actor,
            verb="tag.deleted",
            target=tag,
            before={"name": tag.name, "projects": tag.projects.count()},
        )
        tag.delete()
