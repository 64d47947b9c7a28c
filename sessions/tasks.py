"""Celery finds tasks in <app>.tasks; the sessions app keeps them by area
(reminders, flags) and imports them here."""

from importlib import import_module
from importlib.util import find_spec

for _module in ("sessions.tasks_reminders", "sessions.tasks_flags"):
    if find_spec(_module) is not None:
        import_module(_module)
