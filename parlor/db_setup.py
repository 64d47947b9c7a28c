"""What every new database connection gets (connected to `connection_created` by ParlorConfig.ready):

- psycopg's C loader for timestamptz. Django registers a subclass of psycopg's *Python* loader to
  attach its time zone, which parses every timestamp in Python (3,000 of them: 11.7 ms, 2.1 ms in C;
  bench/FINDINGS.md). With USE_TZ the session's time zone is UTC (Django sets it on connect), and the
  C loader already returns aware datetimes in it, with `datetime.timezone.utc`: what Django attaches.
- `pgtrigger.ignore` set to no trigger. Every tracked table's pghistory trigger asks for it; unset,
  the question raises an error caught in a subtransaction, and PostgreSQL walks the statement's queue
  of pending trigger events at every aborted subtransaction, so one statement writing n tracked rows
  cost O(n^2). Set, it costs nothing; `pgtrigger.ignore()` still works (it sets it per transaction).
"""

import datetime

from django.conf import settings
from psycopg import pq
from psycopg.types.datetime import TimestamptzLoader

# pgtrigger reads the setting as a text[] of trigger names: none.
NO_TRIGGER_IGNORED = "{}"


def _c_timestamptz_loader() -> type | None:
    if pq.__impl__ not in ("c", "binary"):  # the pure-Python psycopg has no C loader
        return None
    from psycopg._cmodule import _psycopg

    return _psycopg.TimestamptzLoader


class CTimestamptzLoader(TimestamptzLoader):
    """psycopg's C timestamptz loader under the name Django looks for.

    The C class is final (no subclass can add the `timezone` attribute Django's cursor reads to decide
    whether to register its own loader), so this Python loader hands every value to an instance of it:
    the C `load` is bound as the instance's `load`, which psycopg's row loader calls directly."""

    timezone = datetime.UTC
    c_class = _c_timestamptz_loader()

    def __init__(self, oid, context=None):
        super().__init__(oid, context)
        self.load = self.c_class(oid, context).load


def connection_setup(sender, connection, **kwargs) -> None:
    """The C timestamp loader and the trigger setting for a new PostgreSQL connection."""
    if connection.vendor != "postgresql":
        return
    if settings.USE_TZ and CTimestamptzLoader.c_class is not None:
        connection.connection.adapters.register_loader("timestamptz", CTimestamptzLoader)
    with connection.cursor() as cursor:
        # Session-wide: pgtrigger.ignore() overrides it inside its own transactions only.
        cursor.execute("SELECT set_config('pgtrigger.ignore', %s, false)", [NO_TRIGGER_IGNORED])
