"""Celery tasks for flags: thin wrappers over sessions/flags/scan.py. They take ids, acknowledge late
(a worker killed mid-task leaves the message for another) and keep no results: the database is the record."""

from celery import shared_task

from sessions.flags import scan as flag_scan


@shared_task(name="sessions.raise_flags", acks_late=True, ignore_result=True)
def raise_flags(appointment_id: int) -> None:
    """Raise the appointment's flags and hold it when the verdict no longer allows it; once however often run."""
    flag_scan.appointment_flags_check(appointment_id=appointment_id)


@shared_task(name="sessions.raise_client_flags", acks_late=True, ignore_result=True)
def raise_client_flags(client_id: int, source: str = "screening") -> None:
    """Check every upcoming appointment of the client as one: flags, holds, one notice per change."""
    flag_scan.client_flags_check(client_id=client_id, source=source)


@shared_task(name="sessions.scan_flags", acks_late=True, ignore_result=True)
def scan_flags() -> None:
    """Beat's scan: check every appointment that reached a checkpoint since the last scan."""
    flag_scan.flag_scan()
