"""The web workers' gunicorn settings (parlor/gunicorn_conf.py): what the application made at start is
frozen out of the garbage collector's full collections, and every way the product starts gunicorn uses
them (the real server runs with them in tests/parlor/test_logredact.py)."""

import gc
from pathlib import Path

import yaml

from parlor import gunicorn_conf

ROOT = Path(__file__).resolve().parents[2]


def test_a_worker_freezes_what_the_application_made_once_it_is_loaded():
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        gunicorn_conf.post_worker_init(worker=None)
        assert gc.get_freeze_count() > 10_000  # Django and the project are loaded in this process
    finally:
        gc.unfreeze()


def test_the_image_compose_and_the_bench_start_gunicorn_with_these_settings():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert "--config=python:parlor.gunicorn_conf" in compose["services"]["web"]["command"]
    assert '"--config", "python:parlor.gunicorn_conf"' in (ROOT / "Dockerfile").read_text()
    assert '"python:parlor.gunicorn_conf"' in (ROOT / "bench" / "loadgen.py").read_text()
