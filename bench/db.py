"""The benchmark's own database: created before a run and dropped after it, on the server
DATABASE_URL names. It is never the demo's database nor the tests' (test_<name>)."""

import psycopg
from django.conf import settings

PROTECTED = {"postgres", "template0", "template1"}


def _server():
    db = settings.DATABASES["default"]
    params = {"dbname": "postgres", "autocommit": True}
    for key, name in (("HOST", "host"), ("PORT", "port"), ("USER", "user"), ("PASSWORD", "password")):
        if db.get(key):
            params[name] = db[key]
    return psycopg.connect(**params)


def name() -> str:
    return settings.DATABASES["default"]["NAME"]


def _check(database: str) -> None:
    # A guard against a settings mistake pointing the bench at the real database.
    if database in PROTECTED or not database.startswith(("parlor_bench", "test_parlor_bench")):
        raise SystemExit(f"bench: refusing to create or drop the database {database!r} (not a bench database)")


def recreate() -> str:
    database = name()
    _check(database)
    with _server() as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{database}"')
    return database


def drop() -> None:
    from django.db import connections

    database = name()
    _check(database)
    connections.close_all()
    with _server() as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def exists() -> bool:
    with _server() as connection:
        return connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name()]).fetchone() is not None
