"""`make backup` and `make restore`: a dump restored into a fresh database holds every record of
every table, byte for byte, the append-only trigger included, and the scans come back too."""

import os
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from parlor.accounts.services import security_event_record
from parlor.models import SecurityEvent
from screening.models import Clearance
from tests.parlor.pagewalk import build_site

ROOT = Path(__file__).resolve().parents[2]


def _url(name: str) -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
    return f"postgres://{s['USER']}{password}@{s['HOST']}:{s['PORT']}/{name}"


def _run(script: str, *args, **env) -> subprocess.CompletedProcess:
    # DATABASE_URL is set, so the scripts start no server of their own.
    full_env = {**os.environ, **env}
    return subprocess.run(
        [str(ROOT / "scripts" / script), *args], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=300
    )


def _fingerprints(conn) -> dict[str, tuple[int, str]]:
    """Each table of the public schema: its row count and a hash of all its rows."""
    with conn.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        tables = [row[0] for row in cursor.fetchall()]
        found = {}
        for table in tables:
            cursor.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \"{table}\" t"
            )
            found[table] = tuple(cursor.fetchone())
    return found


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def fresh_database():
    name = f"parlor_restore_{uuid.uuid4().hex[:8]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    yield name
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_backup_restored_into_a_fresh_database_finds_every_record(seeded_db, settings, tmp_path, fresh_database):
    settings.MEDIA_ROOT = tmp_path / "media"
    site = build_site()
    security_event_record(kind=SecurityEvent.Kind.LOGIN, user=site.manager)
    assert Clearance.objects.get().scan.name  # a scan on disk
    backups, restored_media = tmp_path / "backups", tmp_path / "restored-media"

    backup = _run(
        "backup.sh",
        DATABASE_URL=_url(connection.settings_dict["NAME"]),
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        BACKUP_DIR=str(backups),
    )
    assert backup.returncode == 0, backup.stderr
    (archive,) = backups.glob("parlor-*.tar")
    assert archive.stat().st_mode & 0o777 == 0o600

    restore = _run(
        "restore.sh", "--yes", str(archive), DATABASE_URL=_url(fresh_database), MEDIA_ROOT=str(restored_media)
    )
    assert restore.returncode == 0, restore.stderr

    with psycopg.connect(_url(fresh_database)) as restored:
        original = _fingerprints(connection)
        assert _fingerprints(restored) == original
        # Something of everything that matters was there to compare.
        for table in (
            "clients_client",
            "screening_screening",
            "screening_clearance",
            "treatments_appointment",
            "treatments_course",
            "parlor_securityevent",
            "auth_user",
            "django_migrations",
        ):
            assert original[table][0] > 0, table
        # The append-only trigger came back with the table.
        with pytest.raises(psycopg.errors.InsufficientPrivilege), restored.cursor() as cursor:
            cursor.execute("DELETE FROM parlor_securityevent")
    assert _files(restored_media) == _files(settings.MEDIA_ROOT) != {}


def test_restore_asks_before_it_replaces_anything(tmp_path):
    archive = tmp_path / "parlor-x.tar"
    archive.write_bytes(b"")
    result = subprocess.run(
        [str(ROOT / "scripts" / "restore.sh"), str(archive)],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": "postgres://nobody@127.0.0.1:1/nothing", "MEDIA_ROOT": str(tmp_path / "m")},
        input="no\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Nothing changed." in result.stdout
    assert not (tmp_path / "m").exists()


def test_restore_without_a_file_says_how():
    result = subprocess.run([str(ROOT / "scripts" / "restore.sh")], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 2
    assert "usage: make restore FILE=" in result.stderr
