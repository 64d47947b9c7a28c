"""docker-compose.yml cannot be run here (no Docker engine, no compose plugin),
so its shape is checked: every service the deployment needs, each with a
health check, all configured by the same environment variables."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_every_service_with_a_health_check():
    services = _compose()["services"]
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)
    for name in ("postgres", "redis", "web", "worker", "beat"):
        assert services[name].get("healthcheck", {}).get("test"), name


def test_compose_app_services_share_the_settings_variables():
    services = _compose()["services"]
    for name in ("web", "worker", "beat"):
        environment = services[name]["environment"]
        assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ALLOWED_HOSTS", "EMAIL_HOST"} <= set(environment), name
        assert environment["DEBUG"] == "false"


def test_compose_web_runs_gunicorn_and_waits_for_its_dependencies():
    web = _compose()["services"]["web"]
    command = web.get("command") or (ROOT / "Dockerfile").read_text().rsplit("CMD", 1)[1]
    assert "gunicorn" in str(command)
    assert web["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert web["depends_on"]["redis"]["condition"] == "service_healthy"


def test_env_example_lists_every_variable_the_settings_read():
    import re

    settings_text = (ROOT / "parlor" / "settings.py").read_text()
    read = set(re.findall(r'env_\w+\("([A-Z_]+)"', settings_text))
    example = (ROOT / ".env.example").read_text()
    missing = sorted(name for name in read if f"{name}=" not in example)
    assert missing == []
