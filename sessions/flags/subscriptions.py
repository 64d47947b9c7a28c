"""sessions listens to screening (imported from TreatmentsConfig.ready via PANEL_MODULES): a new
screening or clearance books at once the client's sessions awaiting a clearance the verdict now allows,
and queues one check of all the client's upcoming appointments (flags, holds: one notice per change).

Both run after the commit (screening.events) and never fail the save: with the broker down nothing is
queued, and the beat scan raises the same flags and holds at the appointment's checkpoints.
"""

import logging

from screening import events
from screening.models import Clearance, Screening
from sessions.booking import holds
from sessions.flags import scan as flag_scan
from sessions.flags.tasks import raise_client_flags

logger = logging.getLogger(__name__)

# Fail fast when the broker is down: the person saving a screening should not wait on retries.
PUBLISH_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.1, "interval_max": 0.1}


def queue_flag_checks(*, client_id: int, source: str = "screening") -> int:
    """Queue one check of the client's upcoming appointments (as one, so a course held by one change makes
    one notice); returns how many appointments it covers, 0 when none or the broker is down."""
    upcoming = flag_scan.upcoming_appointment_ids(client_id=client_id)
    if not upcoming:
        return 0
    try:
        raise_client_flags.apply_async(args=[client_id, source], retry_policy=PUBLISH_RETRY)
    except Exception:
        # Broker down: the next scan catches up; the verdict on every page is already current.
        logger.warning("could not queue the flags check of client %s", client_id, exc_info=True)
        return 0
    return len(upcoming)


def _changed(client_id: int, source: str) -> int:
    # At once, not through the broker: the reception is on the phone with the client.
    holds.awaiting_release_for_client(client_id=client_id, source=source)
    return queue_flag_checks(client_id=client_id, source=source)


@events.on_screening_recorded
def screening_recorded(screening_id: int) -> int:
    row = Screening.objects.filter(pk=screening_id).values_list("client_id", "source").first()
    if row is None:
        return 0
    client_id, kind = row
    return _changed(client_id, "self-report" if kind == Screening.Source.SELF_REPORTED else "screening")


@events.on_clearance_changed
def clearance_changed(clearance_id: int) -> int:
    client_id = Clearance.objects.filter(pk=clearance_id).values_list("client_id", flat=True).first()
    return 0 if client_id is None else _changed(client_id, "clearance")
