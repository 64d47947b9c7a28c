"""Reading the deploy-specific settings from the environment.

Every reader raises EnvError with one line naming the variable, so that a
wrong or missing value stops start-up with a message a newcomer can act on
instead of a traceback from deep inside Django.
"""

import importlib
import os
import sys
from urllib.parse import urlparse

import dj_database_url


class EnvError(Exception):
    """A deploy-specific setting is missing or malformed."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None:
        if default is None:
            raise EnvError(f"{name} is not set; see .env.example")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise EnvError(f"{name} must be true or false, got {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise EnvError(f"{name} must be a whole number, got {value!r}") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def env_database(name: str, default: str) -> dict:
    url = env_str(name, default)
    if urlparse(url).scheme not in {"postgres", "postgresql"}:
        raise EnvError(f"{name} must be a postgres:// URL (the product needs PostgreSQL), got {url!r}")
    try:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except ValueError as exc:
        raise EnvError(f"{name} is not a valid database URL: {exc}") from None
    if not config.get("NAME"):
        raise EnvError(f"{name} must name a database, got {url!r}")
    return config


def env_redis(name: str, default: str) -> str:
    url = env_str(name, default)
    parsed = urlparse(url)
    if parsed.scheme not in {"redis", "rediss"} or not parsed.hostname:
        raise EnvError(f"{name} must be a redis://host:port/db URL, got {url!r}")
    try:
        parsed.port  # noqa: B018 - raises ValueError on a non-numeric port
    except ValueError:
        raise EnvError(f"{name} has a bad port, got {url!r}") from None
    return url


def settings_or_exit() -> None:
    """Import the settings module now, turning an EnvError into one line on stderr."""
    module = os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parlor.settings")
    try:
        importlib.import_module(module)
    except EnvError as exc:
        sys.stderr.write(f"Configuration error: {exc}\n")
        sys.exit(2)
