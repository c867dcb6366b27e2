"""Background jobs of the imports app (their engine: ``imports.jobs``)."""

from labelhub.imports.jobs import ImportJobEngine

run_import_job_task = ImportJobEngine.task
