"""Small tasks that prove the background machinery works end to end."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="parlor.ping")
def ping(value: str) -> str:
    """Echo a value back through the broker and the result backend."""
    return f"pong:{value}"


@shared_task(name="parlor.heartbeat")
def heartbeat() -> None:
    """Logged by beat's schedule every minute, so a stalled worker shows in the logs."""
    logger.info("celery heartbeat")
