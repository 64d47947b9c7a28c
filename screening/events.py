"""A tiny subscription point: screening tells whoever listens that a screening was recorded or a
clearance changed, without knowing who listens (sessions subscribes to raise flags; the dependency
stays sessions -> screening).

Callbacks get ids only and run after the transaction commits, so a listener never sees a row that
a rollback takes back. They run with robust=True: a failing listener is logged and never turns a
saved screening into an error page.
"""

import logging
from collections.abc import Callable

from django.db import transaction

logger = logging.getLogger(__name__)

Callback = Callable[[int], object]

_screening_recorded: list[Callback] = []
_clearance_changed: list[Callback] = []


def _subscribe(registry: list[Callback], callback: Callback) -> Callback:
    # Importing a subscriber module twice (tests, autoreload) must not call it twice.
    if callback not in registry:
        registry.append(callback)
    return callback


def on_screening_recorded(callback: Callback) -> Callback:
    """Call `callback(screening_id)` after each new screening commits. Usable as a decorator."""
    return _subscribe(_screening_recorded, callback)


def on_clearance_changed(callback: Callback) -> Callback:
    """Call `callback(clearance_id)` after a clearance is added or changed commits. Usable as a decorator."""
    return _subscribe(_clearance_changed, callback)


def _bound(callback: Callback, object_id: int) -> Callable[[], object]:
    def run():
        return callback(object_id)

    # Django names a failing robust callback by its __qualname__ in the log.
    run.__qualname__ = f"{getattr(callback, '__qualname__', repr(callback))}({object_id})"
    return run


def _notify(registry: list[Callback], object_id: int) -> None:
    for callback in list(registry):
        transaction.on_commit(_bound(callback, object_id), robust=True)


def screening_recorded(screening_id: int) -> None:
    """Tell the subscribers, on commit, that this screening was recorded."""
    _notify(_screening_recorded, screening_id)


def clearance_changed(clearance_id: int) -> None:
    """Tell the subscribers, on commit, that this clearance was added or changed."""
    _notify(_clearance_changed, clearance_id)


def subscribers() -> dict[str, list[Callback]]:
    """What is subscribed, for tests and the shell."""
    return {"screening_recorded": list(_screening_recorded), "clearance_changed": list(_clearance_changed)}
