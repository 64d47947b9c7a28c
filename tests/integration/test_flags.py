"""A real worker raises the flag and holds the appointment after a new screening is recorded."""

import datetime
import time
import uuid

import pytest
from django.utils import timezone

from screening import services
from screening.models import Contraindication
from sessions.models import Appointment, Flag
from tests.factories import ClientFactory, MassageTypeFactory, MasseurFactory, RoomFactory
from tests.sessions.factories import AppointmentFactory

pytestmark = pytest.mark.integration


def _record(client, *codes, taken_at=None):
    return services.screening_record(
        client=client,
        answers={"questions": {code: {"answer": True} for code in codes}},
        findings=[services.FindingInput(contraindication=Contraindication.objects.get(code=code)) for code in codes],
        taken_by=None,
        submission_key=uuid.uuid4(),
        taken_at=taken_at,
    )


def _wait_for(predicate, *, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


def test_a_new_absolute_contraindication_is_flagged_and_held_by_the_real_worker(celery_worker_process):
    now = timezone.now()
    client = ClientFactory()
    massage_type = MassageTypeFactory()
    _record(client, taken_at=now - datetime.timedelta(days=3))
    appointment = AppointmentFactory(
        client=client,
        massage_type=massage_type,
        masseur=MasseurFactory(qualifications=[massage_type]),
        room=RoomFactory(),
        starts_at=now + datetime.timedelta(days=1),
    )
    Appointment.objects.filter(pk=appointment.pk).update(booked_at=now - datetime.timedelta(days=2))

    # Autocommit: the screening commits here and its on_commit queues the check for the worker.
    screening = _record(client, "oncology")

    assert _wait_for(lambda: Appointment.objects.get(pk=appointment.pk).status == "on_hold"), (
        "the worker did not hold the appointment within 30 s"
    )
    assert Flag.objects.filter(appointment=appointment, change_key=f"added:oncology@{screening.pk}").count() == 1
    assert Flag.objects.get(appointment=appointment, kind="added").severity == "critical"


def test_the_scan_task_on_the_real_worker_raises_each_flag_once(celery_worker_process):
    from sessions.flags.tasks import scan_flags

    now = timezone.now()
    client = ClientFactory()
    massage_type = MassageTypeFactory()
    _record(client, taken_at=now - datetime.timedelta(days=3))
    appointment = AppointmentFactory(
        client=client,
        massage_type=massage_type,
        masseur=MasseurFactory(qualifications=[massage_type]),
        room=RoomFactory(),
        starts_at=now + datetime.timedelta(hours=3),
    )
    Appointment.objects.filter(pk=appointment.pk).update(booked_at=now - datetime.timedelta(days=2))
    # The screening's own check and two scans all reach the worker; the first scan of a fresh worker
    # sweeps every appointment within 24 hours. The unique key keeps one flag per change.
    _record(client, "fever")
    scan_flags.delay()
    scan_flags.delay()

    assert _wait_for(lambda: Appointment.objects.get(pk=appointment.pk).status == "on_hold")
    time.sleep(1)  # let the second scan finish
    keys = list(Flag.objects.filter(appointment=appointment).values_list("change_key", flat=True))
    assert len(keys) == len(set(keys)) == 2
