"""A real Celery worker process against the real Redis and the test database."""

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def worker_env(**overrides: str) -> dict[str, str]:
    """The environment of a worker that uses the test database, Redis and this run's own queue."""
    db = connection.settings_dict
    host = f"{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}"
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "parlor.settings_test",
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{host}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "PARLOR_TEST_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        **overrides,
    }


@contextlib.contextmanager
def running_worker(env: dict[str, str]):
    """A real `celery worker` process (solo pool) for the duration of the block."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "parlor",
            "worker",
            "--pool=solo",
            "--loglevel=warning",
            "-Q",
            settings.CELERY_TASK_DEFAULT_QUEUE,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    time.sleep(0.5)
    if process.poll() is not None:
        pytest.fail(f"celery worker exited at once:\n{process.stdout.read()}")
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def celery_worker_process(seeded_db):
    """Start `celery worker` on this run's own queue, pointed at the test database."""
    with running_worker(worker_env()) as process:
        yield process
