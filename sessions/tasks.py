"""Celery's autodiscovery looks for <app>.tasks; the sessions app keeps its tasks beside each
capability (reminders, flags) and names them here."""

from sessions.flags.tasks import raise_client_flags, raise_flags, scan_flags
from sessions.online.tasks import release_reservations
from sessions.reminders.tasks import dispatch_reminders, send_reminder
from sessions.waitlist.tasks import waitlist_dispatch, waitlist_scan

__all__ = [
    "dispatch_reminders",
    "raise_client_flags",
    "raise_flags",
    "release_reservations",
    "scan_flags",
    "send_reminder",
    "waitlist_dispatch",
    "waitlist_scan",
]
