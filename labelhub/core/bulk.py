"""Bulk inserts of large text values.

Django's PostgreSQL backend binds parameters on the client: psycopg quotes each string
value in Python (a regex substitution per quote character), which costs seconds for a
megabyte of JSON text. ``COPY`` sends the values as they are; other databases bind
parameters natively, so the ORM's ``bulk_create`` is fine there.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connections, models, router


def copy_insert(model: type[models.Model], fields: Sequence[str], rows: Iterable[tuple]) -> None:
    """Insert ``rows`` (values in ``fields`` order, attribute names such as ``job_id``)."""
    rows = list(rows)
    if not rows:
        return
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**dict(zip(fields, row, strict=True))) for row in rows])
        return
    qn = connection.ops.quote_name
    columns = ", ".join(qn(model._meta.get_field(_field_name(f)).column) for f in fields)
    table = qn(model._meta.db_table)
    with connection.cursor() as cursor, connection.wrap_database_errors:
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([_plain(v) for v in row])


def _field_name(attname: str) -> str:
    return attname[:-3] if attname.endswith("_id") else attname


def _plain(value: Any) -> Any:
    # uuid.UUID and the like go as text; COPY parses them by the column's type
    return value if value is None or isinstance(value, (str, int, float, bool)) else str(value)
