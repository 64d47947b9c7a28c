"""COPY rows into a model's table through every constraint and trigger the table has.

COPY is PostgreSQL's bulk path; it is not a bypass: CHECK, UNIQUE and exclusion constraints
are checked row by row, foreign keys at commit (Django's are DEFERRABLE INITIALLY DEFERRED),
and row triggers fire (pghistory's change history, the append-only and signed-log guards).

The column list is the model's, read from its fields: a column the generator does not fill
gets the field's default, so a field added later with a default needs no change here.
"""

import json
import time
from collections.abc import Iterable

from django.db import connection, models
from django.db.models.fields import NOT_PROVIDED


class _Default:
    def __init__(self, field: models.Field):
        self.field = field
        self.constant = not callable(field.default)
        self.value = field.get_default() if self.constant else None

    def __call__(self):
        return self.value if self.constant else self.field.get_default()


def _columns(model: type[models.Model]) -> list[models.Field]:
    return list(model._meta.concrete_fields)


def _prepare(field: models.Field):
    """How a Python value becomes COPY text for this column (None: psycopg's own adaptation)."""
    if isinstance(field, models.JSONField):
        return lambda v: v if v is None or isinstance(v, str) else json.dumps(v, ensure_ascii=False)
    return None


def copy_rows(model: type[models.Model], rows: Iterable[dict], *, id_field: str = "id") -> tuple[int, float]:
    """COPY dicts keyed by attname (``client_id``, not ``client``) into the model's table.

    Returns (rows written, seconds). Missing keys take the field's default; a field without a
    default that is missing is an error, raised before anything is written.
    """
    fields = _columns(model)
    defaults = {}
    for field in fields:
        if field.has_default() or field.null or field.attname == id_field:
            defaults[field.attname] = _Default(field) if field.has_default() else (lambda: None)
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            defaults[field.attname] = None  # the generator must give it: a bench row has its own time
        else:
            defaults[field.attname] = NOT_PROVIDED
    preparers = [_prepare(f) for f in fields]
    names = [f.attname for f in fields]
    table = model._meta.db_table
    column_list = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    started = time.perf_counter()
    count = 0
    connection.ensure_connection()
    statement = f"COPY {connection.ops.quote_name(table)} ({column_list}) FROM STDIN"
    with connection.connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            values = []
            for name, prepare in zip(names, preparers, strict=True):
                if name in row:
                    value = row[name]
                else:
                    default = defaults[name]
                    if default is NOT_PROVIDED or default is None:
                        raise KeyError(f"{table}.{name} has no default: the generator must give it")
                    value = default()
                values.append(prepare(value) if prepare and value is not None else value)
            copy.write_row(values)
            count += 1
    return count, time.perf_counter() - started


def reset_sequence(model: type[models.Model]) -> None:
    """After COPY with explicit ids: the next id the application takes is past the last one written."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, 'id'), GREATEST((SELECT max(id) FROM {table}), 1))",
            [table],
        )
