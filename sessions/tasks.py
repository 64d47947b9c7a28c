"""Celery's autodiscovery looks for <app>.tasks; the sessions app keeps its tasks beside each
capability (reminders, flags) and names them here."""

from sessions.flags.tasks import raise_client_flags, raise_flags, scan_flags
from sessions.reminders.tasks import dispatch_reminders, send_reminder

__all__ = ["dispatch_reminders", "raise_client_flags", "raise_flags", "scan_flags", "send_reminder"]
