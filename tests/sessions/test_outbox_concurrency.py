"""Two dispatchers at once, each on its own database connection: every reminder sent once."""

import datetime
import time
from collections import Counter

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.utils import timezone

from sessions.models import Reminder
from sessions.reminders import outbox, planning
from tests.factories import ClientFactory
from tests.races import race
from tests.sessions.conftest import make_world
from tests.sessions.factories import AppointmentFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded_db")]

STARTS = datetime.datetime(2027, 3, 1, 8, 0, tzinfo=datetime.UTC)


class SlowBackend(LocmemBackend):
    """locmem, a little slow per message, so that the two dispatchers' batches overlap."""

    def send_messages(self, messages):
        time.sleep(0.01)
        return super().send_messages(messages)


def test_two_dispatchers_at_once_send_every_reminder_once(settings):
    settings.EMAIL_BACKEND = f"{__name__}.SlowBackend"
    world = make_world()
    for n in range(40):
        appointment = AppointmentFactory(
            client=ClientFactory(),
            masseur=world.masseur,
            massage_type=world.massage_type,
            starts_at=STARTS + datetime.timedelta(hours=n),
        )
        Reminder.objects.create(
            client=appointment.client,
            appointment=appointment,
            kind=Reminder.Kind.APPOINTMENT,
            key=planning.appointment_key(appointment, Reminder.Kind.APPOINTMENT),
            due_at=timezone.now() - datetime.timedelta(minutes=1),
        )
    outcomes, refusals, crashes = race([lambda: outbox.dispatch(batch=5)] * 2)
    errors = refusals + crashes

    assert errors == []
    sent = Counter(message.extra_headers["X-Parlor-Reminder"] for message in mail.outbox)
    assert len(sent) == 40
    assert set(sent.values()) == {1}
    assert sum(o["sent"] for o in outcomes) == 40
    assert Reminder.objects.filter(state=Reminder.State.SENT, attempts=1).count() == 40
