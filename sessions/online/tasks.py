"""Celery tasks of online booking: thin wrappers over sessions/online/services.py and signin.py."""

from celery import shared_task

from sessions.online import services, signin


@shared_task(name="sessions.release_reservations", acks_late=True, ignore_result=True)
def release_reservations() -> None:
    """Beat's minute: free the online holds past their time, and forget sign-in links older than a day."""
    services.reservations_expire()
    signin.sign_ins_purge()
