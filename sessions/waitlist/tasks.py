"""Celery tasks of the waiting list: thin wrappers over matching (the scan) and outbox (the emails), and
the listener that asks for a scan when a booking frees a time."""

import logging

from celery import shared_task
from django.db import transaction

from sessions.booking import freed
from sessions.reminders.tasks import QUEUE_RETRY
from sessions.waitlist import matching, outbox

logger = logging.getLogger(__name__)


@shared_task(name="sessions.waitlist_scan", acks_late=True, ignore_result=True)
def waitlist_scan() -> None:
    """Offer free times to the waiting clients and send the due emails; beat's minute and after each freed time."""
    matching.waitlist_scan()


@shared_task(name="sessions.waitlist_dispatch", acks_late=True, ignore_result=True)
def waitlist_dispatch() -> None:
    """Send the waiting list's due emails (an acceptance's "it was taken")."""
    outbox.dispatch()


def _queue(task) -> None:
    # Broker down: only logged; beat's scan does the same work within a minute of its return.
    try:
        with task.app.connection_for_write() as connection:
            connection.ensure_connection(**QUEUE_RETRY)
            task.apply_async(connection=connection, retry=False)
    except Exception as exc:  # noqa: BLE001 - kombu, redis and socket errors alike
        logger.warning("%s not queued (%s); the next scan does it", task.name, exc)


def queue_scan() -> None:
    _queue(waitlist_scan)


def queue_dispatch() -> None:
    _queue(waitlist_dispatch)


def dispatch_on_commit() -> None:
    transaction.on_commit(queue_dispatch)


@freed.register
def scan_when_freed(time: freed.FreedTime) -> None:
    """A booking freed a time (this runs after its commit): look for a waiting client at once."""
    queue_scan()
