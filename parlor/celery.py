"""The Celery app: configuration from Django settings (CELERY_*), tasks found
in each app's tasks.py."""

import os

from celery import Celery

from parlor.env import settings_or_exit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parlor.settings")
settings_or_exit()

app = Celery("parlor")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
