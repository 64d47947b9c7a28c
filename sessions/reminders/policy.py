"""The reminder policy (sessions.ReminderPolicy), read once per process: every booking plans with it.

A change saved in this process is seen at its commit; another process's within POLICY_TTL_SECONDS.
"""

import threading
import time

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from sessions.models import ReminderPolicy

# Another process's change reaches this one within this long; a change saved here, at its commit.
POLICY_TTL_SECONDS = 60.0
_policy_lock = threading.Lock()
_policy_cache: tuple[float, ReminderPolicy] | None = None
# A change saved but not yet committed (or rolled back): read the row each time rather than cache what may
# never be committed. Cleared by the commit.
_policy_unsettled = False


def current_policy() -> ReminderPolicy:
    """ReminderPolicy.current(), cached per process for POLICY_TTL_SECONDS: every booking plans with it."""
    global _policy_cache
    cached = _policy_cache
    if cached is not None and time.monotonic() - cached[0] < POLICY_TTL_SECONDS and not _policy_unsettled:
        return cached[1]
    policy = ReminderPolicy.current()
    with _policy_lock:
        if not _policy_unsettled:
            _policy_cache = (time.monotonic(), policy)
    return policy


def forget_policy() -> None:
    global _policy_cache, _policy_unsettled
    with _policy_lock:
        _policy_cache = None
        _policy_unsettled = False


def _is_default(policy: ReminderPolicy) -> bool:
    fields = ("appointment_offset_hours", "cancel_cutoff_hours", "fresh_screening_days_ahead")
    return all(getattr(policy, name) == ReminderPolicy._meta.get_field(name).default for name in fields)


@receiver(post_save, sender=ReminderPolicy, dispatch_uid="reminders-policy-saved")
def _policy_saved(sender, instance, created, **kwargs) -> None:
    global _policy_cache, _policy_unsettled
    # The row created with the defaults by a first read is what any later read would create again.
    if created and _is_default(instance):
        return
    with _policy_lock:
        _policy_cache = None
        _policy_unsettled = True
    transaction.on_commit(forget_policy)
