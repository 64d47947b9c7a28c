"""Settings for the benchmark process and its gunicorn workers: production-like (DEBUG off, so no
query log in memory), its own database (never the demo's or the tests'), mail to the bench's SMTP sink.

Everything else is parlor.settings, read from the same environment."""

import os

# Production-like: DEBUG off keeps Django from recording every query in memory.
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "bench-only-" + "k" * 60)
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
# Plain HTTP on loopback: no redirect to HTTPS.
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")

from parlor.settings import *  # noqa: E402, F403
from parlor.settings import DATABASES, LOGGING  # noqa: E402

DATABASES["default"]["NAME"] = os.environ.get("BENCH_DB_NAME", "parlor_bench")
# No collectstatic for the bench: pages name static files without a manifest.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MIDDLEWARE = [m for m in MIDDLEWARE if m != "whitenoise.middleware.WhiteNoiseMiddleware"]  # noqa: F405
# The reminders go through a real SMTP server on loopback (aiosmtpd's sink, started by the bench).
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = "127.0.0.1"
EMAIL_PORT = int(os.environ.get("BENCH_SMTP_PORT", "8025"))
EMAIL_USE_TLS = False
EMAIL_HOST_USER = EMAIL_HOST_PASSWORD = ""
PARLOR_BASE_URL = "http://127.0.0.1:8000"
LOGGING["root"]["level"] = "WARNING"
LOGGING["loggers"]["django"]["level"] = "WARNING"
