"""Background jobs of the projects app (their engines: ``projects.jobs``)."""

from labelhub.projects.jobs import DataRowJobEngine, ProjectDeletionEngine

run_data_row_job_task = DataRowJobEngine.task
run_project_deletion_task = ProjectDeletionEngine.task
