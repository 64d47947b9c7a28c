import os
import subprocess
import sys
from pathlib import Path

import pytest

from parlor.env import EnvError, env_bool, env_database, env_int, env_redis

ROOT = Path(__file__).resolve().parents[2]
PROD_SECRET = "x" * 20 + "-a-long-random-production-secret-for-tests"


DEV_SECRET = "y" * 20 + "-a-long-random-development-secret-for-tests"
# What `make run`/`make test` put into .env; a test sets a variable to None to leave it unset.
DEV_ENV = {"DEBUG": "true", "SECRET_KEY": DEV_SECRET}
# Whatever this run's environment holds of these must not leak into the checks below (.env's
# DEBUG and key, the browser tests' DJANGO_ALLOW_ASYNC_UNSAFE).
_OURS = {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE", "PROXY_COUNT", "SESSION_IDLE_MINUTES"}


def _manage(*args, **env):
    base = {k: v for k, v in os.environ.items() if k not in _OURS}
    # PARLOR_DOTENV empty: the checkout's .env (written by make test) stays out of these checks too.
    full_env = {**base, "DJANGO_SETTINGS_MODULE": "parlor.settings", "PARLOR_DOTENV": "", **DEV_ENV, **env}
    full_env = {k: v for k, v in full_env.items() if v is not None}
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
        ({"DEBUG": "false", "SECRET_KEY": None, "ALLOWED_HOSTS": "parlor.example"}, "SECRET_KEY"),
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


@pytest.mark.parametrize("level", ["WARNING", "DEBUG"])
def test_production_settings_pass_check_deploy(level):
    # As docker-compose.yml runs the app: behind one TLS proxy, SMTP mail.
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        level,
        DEBUG="false",
        SECRET_KEY=PROD_SECRET,
        ALLOWED_HOSTS="parlor.example",
        SECURE_PROXY_SSL_HEADER="true",
        PROXY_COUNT="1",
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def _one_line_error(result) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_no_environment_refuses_to_start():
    # A deployment that forgets its environment: no debug mode, no key from the repository.
    line = _one_line_error(_manage("check", DEBUG=None, SECRET_KEY=None))
    assert line == "Configuration error: SECRET_KEY is not set; see .env.example"


def test_manage_reads_what_the_environment_lacks_from_the_dotenv_file(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text(f"DEBUG=true\nSECRET_KEY={DEV_SECRET}\nEMAIL_PORT=smtp\n")
    # The key comes from the file; EMAIL_PORT from the environment wins over the file's bad value.
    result = _manage("check", PARLOR_DOTENV=str(dotenv), DEBUG=None, SECRET_KEY=None, EMAIL_PORT="25")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_debug_without_a_key_refuses_to_start():
    line = _one_line_error(_manage("check", DEBUG="true", SECRET_KEY=None))
    assert line == "Configuration error: SECRET_KEY is not set; see .env.example"


def test_a_key_that_was_committed_refuses_to_start_even_in_debug():
    line = _one_line_error(
        _manage("check", DEBUG="true", SECRET_KEY="dev-only-insecure-key-never-used-when-DEBUG-is-false")
    )
    assert line.startswith("Configuration error: SECRET_KEY must be a random string of at least 50 characters")


def test_debug_is_off_unless_asked_for():
    result = _manage(
        "shell",
        "--verbosity=0",
        "-c",
        "from django.conf import settings; print(settings.DEBUG)",
        DEBUG=None,
        ALLOWED_HOSTS="parlor.example",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def _ensure_dev_env(env_file: Path, **environment) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in _OURS}
    return subprocess.run(
        ["bash", "-c", '. scripts/lib.sh && ensure_dev_env "$1"', "ensure_dev_env", str(env_file)],
        cwd=ROOT,
        env={**base, **environment},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _read_env(env_file: Path) -> dict[str, str]:
    lines = [line for line in env_file.read_text().splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def test_make_run_and_test_write_a_random_key_of_their_own_into_env(tmp_path):
    first, second = tmp_path / "one.env", tmp_path / "two.env"
    assert _ensure_dev_env(first).returncode == 0
    assert _ensure_dev_env(second).returncode == 0

    one, two = _read_env(first), _read_env(second)
    assert one["DEBUG"] == "true"
    assert len(one["SECRET_KEY"]) >= 50
    assert one["SECRET_KEY"] != two["SECRET_KEY"]
    assert first.stat().st_mode & 0o777 == 0o600


def test_the_generated_key_is_kept_and_an_own_one_left_alone(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("EMAIL_PORT=2525\nSECRET_KEY=mine")
    _ensure_dev_env(env_file)
    _ensure_dev_env(env_file)

    assert _read_env(env_file) == {"EMAIL_PORT": "2525", "SECRET_KEY": "mine", "DEBUG": "true"}


def test_generated_env_file_starts_the_settings_in_debug(tmp_path):
    env_file = tmp_path / ".env"
    _ensure_dev_env(env_file)
    result = _manage("check", **_read_env(env_file))
    assert result.returncode == 0, result.stderr
