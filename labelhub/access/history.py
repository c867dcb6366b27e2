"""The groups' history as CSV (console download and API)."""

from __future__ import annotations

import csv
import io

from django.http import HttpResponse


def history_csv(events, filename: str) -> HttpResponse:
    """Render group events as a CSV download (time, group, actor, action, detail)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["time", "group", "actor", "action", "detail"])
    for e in events:
        writer.writerow(
            [
                e.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                e.group_name,
                e.actor_label,
                e.verb,
                e.detail,
            ]
        )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
