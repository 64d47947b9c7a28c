"""sessions listens to screening (imported from TreatmentsConfig.ready via PANEL_MODULES): a new
screening or clearance queues a flags check for each of the client's upcoming appointments.

Queueing runs after the commit (screening.events) and never fails the save: with the broker down
nothing is queued, and the beat scan raises the same flags at the appointment's checkpoints.
"""

import logging

from screening import events
from screening.models import Clearance, Screening
from sessions.flags import scan as flag_scan
from sessions.flags.tasks import raise_flags

logger = logging.getLogger(__name__)

# Fail fast when the broker is down: the person saving a screening should not wait on retries.
PUBLISH_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.1, "interval_max": 0.1}


def queue_flag_checks(*, client_id: int) -> int:
    """Queue a flags check per upcoming appointment of the client; returns how many were queued."""
    queued = 0
    for appointment_id in flag_scan.upcoming_appointment_ids(client_id=client_id):
        try:
            raise_flags.apply_async(args=[appointment_id], retry_policy=PUBLISH_RETRY)
        except Exception:
            # Broker down: stop here rather than wait on it once per appointment of a long course. The
            # next scan catches up; the verdict on every page is already current.
            logger.warning("could not queue the flags check of appointment %s", appointment_id, exc_info=True)
            break
        queued += 1
    return queued


@events.on_screening_recorded
def screening_recorded(screening_id: int) -> int:
    client_id = Screening.objects.filter(pk=screening_id).values_list("client_id", flat=True).first()
    return 0 if client_id is None else queue_flag_checks(client_id=client_id)


@events.on_clearance_changed
def clearance_changed(clearance_id: int) -> int:
    client_id = Clearance.objects.filter(pk=clearance_id).values_list("client_id", flat=True).first()
    return 0 if client_id is None else queue_flag_checks(client_id=client_id)
