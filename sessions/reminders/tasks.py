"""Celery tasks for reminders: thin wrappers over catch_up (what was never planned) and outbox (sending)."""

import logging
from collections.abc import Iterable

from celery import shared_task
from django.db import transaction

from sessions.reminders import catch_up, outbox

logger = logging.getLogger(__name__)


@shared_task(name="sessions.dispatch_reminders", acks_late=True)
def dispatch_reminders() -> dict:
    """Beat's scan: plan what is missing, reap stale claims, send whatever is due; safe to run twice at once."""
    planned = catch_up.plan_upcoming()
    outcome = outbox.dispatch()
    outcome["planned"] = planned
    return dict(outcome)


@shared_task(name="sessions.send_reminder", acks_late=True)
def send_reminder(reminder_id: int) -> str:
    """Send one reminder now (queued on commit after a booking, move or cancel); a claimed one is left alone."""
    return outbox.send_one(reminder_id)


# Two quick tries, not kombu's default patience: a request must not wait seconds on a dead Redis.
QUEUE_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "timeout": 2}


def queue_sends(reminder_ids: Iterable[int]) -> None:
    """Queue immediate sends; with the broker down only log it: the row is due and the next scan sends it."""
    reminder_ids = list(reminder_ids)
    try:
        with send_reminder.app.connection_for_write() as connection:
            connection.ensure_connection(**QUEUE_RETRY)
            for reminder_id in reminder_ids:
                send_reminder.apply_async((reminder_id,), connection=connection, retry=False)
    except Exception as exc:  # noqa: BLE001 - kombu, redis and socket errors alike; a booking must not fail
        logger.warning("reminders %s not queued (%s); the scan will send them", reminder_ids, exc)


def send_on_commit(reminders) -> None:
    """After the surrounding transaction commits, queue the immediate sends of these reminders."""
    ids = [reminder.pk for reminder in reminders if reminder.state == reminder.State.DUE]
    if ids:
        transaction.on_commit(lambda: queue_sends(ids))
