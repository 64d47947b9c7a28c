import datetime

import pytest
import time_machine

from sessions.demo import reminders as demo_reminders
from sessions.models import Reminder
from tests.sessions.factories import AppointmentFactory

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
NOW = datetime.datetime(2027, 3, 10, 10, 0, tzinfo=UTC)


def test_seed_makes_reminders_in_every_listed_state_and_is_idempotent():
    for days in (-5, -4, -3, -2, 2, 3, 4):
        AppointmentFactory(starts_at=NOW + datetime.timedelta(days=days))
    with time_machine.travel(NOW, tick=False):
        demo_reminders.seed()
        count = Reminder.objects.count()
        demo_reminders.seed()
    assert Reminder.objects.count() == count == 6
    states = set(Reminder.objects.values_list("state", flat=True))
    assert states == {"due", "sent", "failed", "skipped", "void"}
    assert Reminder.objects.exclude(state__in=["due", "sent"]).filter(reason="").count() == 0
    due = Reminder.objects.get(state="due")
    assert not due.key.startswith("demo:")
    assert due.due_at == due.appointment.starts_at - datetime.timedelta(days=1)


def test_seed_without_appointments_makes_nothing():
    demo_reminders.seed()
    assert Reminder.objects.count() == 0
