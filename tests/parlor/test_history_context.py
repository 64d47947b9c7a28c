"""Writes from Celery tasks and management commands go into the change history under their name, and a
bulk update of n tracked rows records n events (parlor/history_context.py)."""

import datetime

import pghistory.runtime
import pytest
from celery.signals import task_postrun, task_prerun
from django.apps import apps

from parlor.history_context import command_context
from parlor.tasks import heartbeat
from sessions.management.commands.run_scan import Command as RunScan
from sessions.models import Appointment
from tests.sessions.factories import AppointmentFactory

pytestmark = pytest.mark.django_db
ROWS = 25


def _appointments() -> list[int]:
    first = AppointmentFactory()
    ids = [first.pk]
    for number in range(1, ROWS):
        ids.append(
            AppointmentFactory(
                client=first.client,
                massage_type=first.massage_type,
                masseur=first.masseur,
                room=first.room,
                starts_at=first.starts_at + datetime.timedelta(hours=2 * number),
            ).pk
        )
    return ids


def _update_events(ids):
    return apps.get_model("treatments", "AppointmentEvent").objects.filter(pgh_obj_id__in=ids, pgh_label="update")


def test_a_tasks_bulk_update_records_every_row_under_the_tasks_name():
    ids = _appointments()

    task_prerun.send(sender=heartbeat, task_id="task-1", task=heartbeat, args=(), kwargs={})
    try:
        Appointment.objects.filter(pk__in=ids).update(cancellation_reason="bulk")
    finally:
        task_postrun.send(
            sender=heartbeat, task_id="task-1", task=heartbeat, args=(), kwargs={}, retval=None, state="SUCCESS"
        )

    events = list(_update_events(ids).select_related("pgh_context"))
    assert len(events) == ROWS
    assert {(e.pgh_context.metadata["task"], e.pgh_context.metadata["task_id"]) for e in events} == {
        ("parlor.heartbeat", "task-1")
    }
    # The task's context ends with it: the next writes of this thread are not the task's.
    assert not hasattr(pghistory.runtime._tracker, "value")


def test_a_commands_writes_carry_the_commands_name():
    ids = _appointments()

    with command_context(RunScan()):
        Appointment.objects.filter(pk__in=ids).update(cancellation_reason="bulk")

    assert {e.pgh_context.metadata["command"] for e in _update_events(ids).select_related("pgh_context")} == {
        "run_scan"
    }
