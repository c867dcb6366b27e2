"""LabelHub: self-hosted labeling operations."""

from labelhub.celery import app as celery_app

__all__ = ["celery_app"]
