"""Times that became free: a cancellation, a move (its old time), a no-show marked early, an online hold
that ran out. The booking services tell whoever listens, after the commit, so that the waiting list
(sessions.waitlist, which booking must not import) can offer the time at once. Nothing depends on
being told: the waiting list also scans for free times periodically."""

import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FreedTime:
    masseur_id: int
    room_id: int
    starts_at: datetime.datetime
    blocks_until: datetime.datetime
    why: str  # "cancelled", "moved", "no_show", "hold_expired"


Listener = Callable[[FreedTime], None]
_listeners: list[Listener] = []


def register(listener: Listener) -> Listener:
    """Add a listener once (ready() may run twice in tests); usable as a decorator."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def notify_on_commit(*, masseur_id: int, room_id: int, starts_at, blocks_until, why: str) -> None:
    """After the surrounding transaction commits, tell every listener; one that fails is logged, never
    undoing what freed the time."""
    if not _listeners:
        return
    freed = FreedTime(masseur_id, room_id, starts_at, blocks_until, why)
    transaction.on_commit(lambda: _tell(freed))


def _tell(freed: FreedTime) -> None:
    for listener in list(_listeners):
        try:
            listener(freed)
        except Exception:  # noqa: BLE001 - a listener's trouble must not reach the person who cancelled
            logger.exception("a listener of freed times failed for %s", freed)
