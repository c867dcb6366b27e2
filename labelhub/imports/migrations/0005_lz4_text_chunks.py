"""PostgreSQL: compress the stored payload and report chunks with lz4 instead of pglz.

A million-line import stores ~250 MB of payload and ~100 MB of per-line statuses; pglz
compresses at a few tens of MB/s and was a tenth of the import's time, lz4 is several
times faster. A server built without lz4 keeps pglz (the import works the same).
"""

from django.db import migrations, transaction

COLUMNS = [("imports_importpayloadchunk", "text"), ("imports_importreportchunk", "text")]


def _set(apps, schema_editor, method):
    if schema_editor.connection.vendor != "postgresql":
        return
    qn = schema_editor.connection.ops.quote_name
    for table, column in COLUMNS:
        try:
            with transaction.atomic(using=schema_editor.connection.alias):
                schema_editor.execute(
                    f"ALTER TABLE {qn(table)} ALTER COLUMN {qn(column)} SET COMPRESSION {method}"
                )
        except Exception:  # noqa: BLE001 -- no lz4 in this server: keep the default
            return


def forwards(apps, schema_editor):
    _set(apps, schema_editor, "lz4")


def backwards(apps, schema_editor):
    _set(apps, schema_editor, "pglz")


class Migration(migrations.Migration):
    dependencies = [("imports", "0004_annotation_label_lean")]

    operations = [migrations.RunPython(forwards, backwards)]
