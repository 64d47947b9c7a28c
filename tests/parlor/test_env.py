import os
import subprocess
import sys
from pathlib import Path

import pytest

from parlor.env import EnvError, env_bool, env_database, env_int, env_redis

ROOT = Path(__file__).resolve().parents[2]
PROD_SECRET = "x" * 20 + "-a-long-random-production-secret-for-tests"


def _manage(*args, **env):
    # The browser tests' DJANGO_ALLOW_ASYNC_UNSAFE must not leak into a "production" check.
    base = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    full_env = {**base, "DJANGO_SETTINGS_MODULE": "parlor.settings", **env}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=60
    )


def test_env_bool_rejects_a_word_it_does_not_know(monkeypatch):
    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(EnvError, match="^DEBUG must be true or false, got 'maybe'$"):
        env_bool("DEBUG", True)


def test_env_int_rejects_text(monkeypatch):
    monkeypatch.setenv("EMAIL_PORT", "twenty-five")
    with pytest.raises(EnvError, match="^EMAIL_PORT must be a whole number"):
        env_int("EMAIL_PORT", 25)


def test_env_database_refuses_sqlite(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "sqlite:///db.sqlite3")
    with pytest.raises(EnvError, match="^DATABASE_URL must be a postgres:// URL"):
        env_database("DATABASE_URL", "")


def test_env_database_parses_postgres(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.example:6543/parlor")
    config = env_database("DATABASE_URL", "")
    assert (config["HOST"], config["PORT"], config["NAME"], config["USER"]) == ("db.example", 6543, "parlor", "u")


def test_env_redis_refuses_other_schemes(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "amqp://guest@localhost//")
    with pytest.raises(EnvError, match="^REDIS_URL must be a redis://"):
        env_redis("REDIS_URL", "")


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"DEBUG": "maybe"}, "DEBUG"),
        ({"DATABASE_URL": "mysql://root@localhost/parlor"}, "DATABASE_URL"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL"),
        ({"DEBUG": "false", "ALLOWED_HOSTS": "parlor.example"}, "SECRET_KEY"),
        ({"DEBUG": "false", "SECRET_KEY": PROD_SECRET, "ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS"),
        ({"EMAIL_PORT": "smtp"}, "EMAIL_PORT"),
    ],
)
def test_bad_environment_stops_start_up_with_one_line_naming_the_variable(env, variable):
    result = _manage("check", **env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Configuration error: {variable} ")


def test_production_settings_pass_check_deploy():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "DEBUG",
        DEBUG="false",
        SECRET_KEY=PROD_SECRET,
        ALLOWED_HOSTS="parlor.example",
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
