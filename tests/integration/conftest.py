"""Integration tests need PostgreSQL, Redis and a running Celery worker (see .ci/run)."""

import os

import pytest

WORKER_MAIL_DIR = os.environ.get("LABELHUB_WORKER_MAIL_DIR", "")


def pytest_collection_modifyitems(config, items):
    ready = os.environ.get("REDIS_URL") and os.environ.get("LABELHUB_CELERY_WORKER") == "1"
    skip = pytest.mark.skip(
        reason="integration: set DATABASE_URL, REDIS_URL, LABELHUB_CELERY_WORKER=1 and start a worker (.ci/run does)"
    )
    for item in items:
        if "tests/integration/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)
            if not ready:
                item.add_marker(skip)
