"""Background jobs of the labeling app: returning abandoned tasks to the queue."""

from __future__ import annotations

from celery import shared_task

from labelhub.labeling.services.queue import leases_expire


@shared_task(name="labeling.expire_leases")
def expire_leases_task() -> int:
    """Every minute (beat): tasks whose lease ran out go back to the queue; how many.

    Idempotent: a reservation is released once (its delete decides), so two runs at once,
    or a run racing a request for work that expires leases too, count each task once.
    """
    total = 0
    while True:
        released = leases_expire(limit=1000)
        total += released
        if released < 1000:
            return total
