"""Test overrides: a fast hasher, mail kept in memory, and a Celery queue of
this run's own so a `make run` worker on the same Redis never takes our tasks."""

import os
import secrets

# The suite runs without a .env too (`.venv/bin/pytest tests/...`): a key of this run's own,
# which a worker subprocess inherits, and DEBUG on as under `make run`.
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault("DEBUG", "true")

from parlor.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Integration tests point a worker at a real SMTP server through this variable.
EMAIL_BACKEND = os.environ.get("PARLOR_TEST_EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
# setdefault: a worker subprocess inherits the variable and so the same queue.
CELERY_TASK_DEFAULT_QUEUE = os.environ.setdefault("PARLOR_TEST_QUEUE", f"parlor-test-{os.getpid()}")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Each test process its own cache: nothing carries over between runs or tests.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Client.login() authenticates without a request, which django-axes refuses: tests/backends.py.
AUTHENTICATION_BACKENDS = ["tests.backends.ClientLoginAxesBackend", "parlor.accounts.backends.CachedPermissionsBackend"]
