"""The one bulk writer: ``COPY`` on PostgreSQL, one ``executemany`` elsewhere.

Django's PostgreSQL backend binds parameters on the client: psycopg quotes each string
value in Python (a regex substitution per quote character), which costs seconds for a
megabyte of JSON text, and ``bulk_create`` builds a model instance per row. ``COPY``
sends the values as they are. Two entry points:

* ``insert_rows`` takes plain values in model field order (uploads of data rows, payload
  and report chunks); values are adapted per field type once, without model instances.
* ``copy_blocks`` / ``copy_upsert_blocks`` take rows already in COPY's text format
  (``copy_escape`` each text value, ``NULL`` for none): the annotation writer formats a
  million rows faster than any per-value adaptation could (ADR 0005).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import connections, models, router

#: COPY text format's NULL
NULL = "\\N"


def copy_escape(value: str) -> str:
    """Escape a value for PostgreSQL's COPY text format."""
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    if "\t" in value or "\n" in value or "\r" in value:
        value = value.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


def _field(model: type[models.Model], name: str) -> models.Field:
    meta = model._meta
    try:
        return meta.get_field(name)
    except Exception:  # noqa: BLE001 -- an attname such as "job_id"
        return next(f for f in meta.concrete_fields if f.attname == name)


def _adapter(connection: Any, field: models.Field) -> Callable[[Any], Any] | None:
    """What the field's get_db_prep_save would do to a value, minus its per-value cost."""
    target = field.target_field if field.is_relation else field
    if isinstance(target, models.UUIDField):
        if connection.features.has_native_uuid_field:
            return None
        return lambda v: v.hex if hasattr(v, "hex") else str(v).replace("-", "")
    if isinstance(target, models.DateTimeField):
        return connection.ops.adapt_datetimefield_value
    if isinstance(target, models.JSONField):
        if connection.vendor == "postgresql":
            from psycopg.types.json import Jsonb

            return Jsonb
        return json.dumps
    return None


def _adapted(connection: Any, fields: list[models.Field], rows: list) -> list[list[Any]]:
    plan = [(i, a) for i, f in enumerate(fields) if (a := _adapter(connection, f)) is not None]
    values = []
    for row in rows:
        row = list(row)
        for i, adapt in plan:
            if row[i] is not None:
                row[i] = adapt(row[i])
        values.append(row)
    return values


def insert_rows(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Insert ``rows`` (values in ``columns`` order; field names or attnames such as
    ``job_id``); return how many. No model instances, no per-row statement."""
    rows = list(rows)
    if not rows:
        return 0
    connection = connections[router.db_for_write(model)]
    fields = [_field(model, name) for name in columns]
    values = _adapted(connection, fields, rows)
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    names = ", ".join(qn(f.column) for f in fields)
    with connection.cursor() as cursor, connection.wrap_database_errors:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(fields))
            # Identifiers come from the model's metadata; values are parameters.
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", values)  # noqa: S608
    return len(values)


def copy_blocks(model: type[models.Model], columns: Sequence[str], blocks: Iterable[bytes]) -> None:
    """PostgreSQL: ``COPY`` preformatted text-format rows (columns by name) into the table."""
    connection = connections[router.db_for_write(model)]
    qn = connection.ops.quote_name
    names = ", ".join(qn(c) for c in columns)
    with connection.cursor() as cursor, connection.wrap_database_errors:
        with cursor.cursor.copy(f"COPY {qn(model._meta.db_table)} ({names}) FROM STDIN") as copy:
            for block in blocks:
                copy.write(block)


def copy_upsert_blocks(
    model: type[models.Model],
    columns: Sequence[str],
    blocks: Iterable[bytes],
    *,
    conflict: Sequence[str],
    update: Sequence[str],
) -> None:
    """PostgreSQL: ``COPY`` preformatted rows into a session staging table, then
    ``INSERT … ON CONFLICT (conflict) DO UPDATE SET update = EXCLUDED.update``."""
    connection = connections[router.db_for_write(model)]
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    stage = qn(f"{model._meta.db_table}_stage")
    names = ", ".join(qn(c) for c in columns)
    sets = ", ".join(f"{qn(c)} = EXCLUDED.{qn(c)}" for c in update)
    keys = ", ".join(qn(c) for c in conflict)
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {table} INCLUDING DEFAULTS) "
            "ON COMMIT DELETE ROWS"
        )
        cursor.execute(f"TRUNCATE {stage}")
        with cursor.cursor.copy(f"COPY {stage} ({names}) FROM STDIN") as copy:
            for block in blocks:
                copy.write(block)
        # Table and column names come from the model, never from input.
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage} "  # noqa: S608
            f"ON CONFLICT ({keys}) DO UPDATE SET {sets}"
        )
        cursor.execute(f"TRUNCATE {stage}")


def update_rows(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    where: Sequence[str],
) -> None:
    """Update rows with one ``executemany``: each row gives ``columns`` then ``where``
    values (e.g. the primary key and the workspace), adapted per field type."""
    rows = list(rows)
    if not rows:
        return
    connection = connections[router.db_for_write(model)]
    fields = [_field(model, name) for name in [*columns, *where]]
    values = _adapted(connection, fields, rows)
    qn = connection.ops.quote_name
    sets = ", ".join(f"{qn(f.column)} = %s" for f in fields[: len(columns)])
    keys = " AND ".join(f"{qn(f.column)} = %s" for f in fields[len(columns) :])
    with connection.cursor() as cursor, connection.wrap_database_errors:
        # Identifiers come from the model's metadata; values are parameters.
        cursor.executemany(
            f"UPDATE {qn(model._meta.db_table)} SET {sets} WHERE {keys}",  # noqa: S608
            values,
        )
