"""The waiting list with real parts: a cancellation's commit queues the scan on the real Redis, a real
Celery worker runs it and mails the offer through a real SMTP server; with the broker down at the
cancellation, beat's scan sends the same offer once when it runs."""

import datetime
import uuid

import pytest
from django.utils import timezone

from parlor import roles
from parlor.tasks import ping
from screening import services as screening_services
from sessions.booking import freed
from sessions.booking import services as booking
from sessions.models import WaitlistMessage, WaitlistOffer
from sessions.waitlist import services as waitlist
from sessions.waitlist import tasks as tasks_waitlist
from tests.factories import (
    ClientFactory,
    MassageTypeFactory,
    MasseurFactory,
    RoomFactory,
    UserFactory,
    WorkingHoursFactory,
)
from tests.integration.test_reminders import DEAD_BROKER, point_broker, smtp_sink, smtp_worker  # noqa: F401
from tests.sessions.factories import AppointmentFactory

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def listening(monkeypatch):
    """The waiting list hears freed times, as in production (tests/conftest.py silences it elsewhere)."""
    monkeypatch.setattr(freed, "_listeners", [tasks_waitlist.scan_when_freed])


def _full_morning():
    """Tomorrow 09:00-13:00 Kyiv fully booked, and a screened client waiting for any time of it."""
    massage_type = MassageTypeFactory(duration_minutes=40, buffer_minutes=15)
    masseur = MasseurFactory(display_name="Олена", qualifications=[massage_type])
    for weekday in range(7):
        WorkingHoursFactory(masseur=masseur, weekday=weekday, starts=datetime.time(9), ends=datetime.time(13))
    room = RoomFactory()
    day = timezone.localdate() + datetime.timedelta(days=1)
    booked = [
        AppointmentFactory(
            massage_type=massage_type,
            masseur=masseur,
            room=room,
            starts_at=datetime.datetime.combine(day, datetime.time(hour), tzinfo=timezone.get_current_timezone()),
        )
        for hour in range(9, 13)
    ]
    client = ClientFactory(language="en", full_name="Emily Waiting", email="emily.waiting@example.com")
    screening_services.screening_record(
        client=client, answers={}, findings=[], taken_by=None, submission_key=uuid.uuid4()
    )
    waitlist.entry_add(client=client, massage_type=massage_type, until=day, weekdays=[day.weekday()])
    return booked, UserFactory(username="desk-wl", role=roles.RECEPTIONIST)


def test_a_cancellation_reaches_the_waiting_client_through_the_real_worker(smtp_worker, smtp_sink):  # noqa: F811
    booked, desk = _full_morning()

    booking.appointment_cancel(appointment=booked[1], reason="ill", by=desk)  # on commit: the scan is queued

    # Two emails: the cancelled client's "cancelled", and the offer.
    (message,) = [m for m in smtp_sink.wait_for(2) if m["To"] == "emily.waiting@example.com"]
    assert message["To"] == "emily.waiting@example.com"
    assert message["Subject"].startswith("A time has become free:")
    assert "/book/offer/" in message.get_body(("plain",)).get_content()
    offer = WaitlistOffer.objects.get()
    assert offer.slot.starts_at == booked[1].starts_at


def test_with_the_broker_down_beats_scan_sends_the_offer_once(smtp_worker, smtp_sink, settings):  # noqa: F811
    booked, desk = _full_morning()
    settings.CELERY_BROKER_URL = DEAD_BROKER
    point_broker(DEAD_BROKER)
    try:
        booking.appointment_cancel(appointment=booked[1], reason="ill", by=desk)  # nothing can be queued
    finally:
        settings.CELERY_BROKER_URL = settings.REDIS_URL
        point_broker(settings.REDIS_URL)
    assert not WaitlistOffer.objects.exists()

    # Beat's minute, twice: one offer, one email. The worker takes its queue in order, so the ping's
    # answer comes once both scans are done.
    tasks_waitlist.waitlist_scan.delay()
    tasks_waitlist.waitlist_scan.delay()
    assert ping.delay("after").get(timeout=60) == "pong:after"

    (message,) = smtp_sink.wait_for(1)
    # The cancelled client's email was not queued either (it waits for the reminders' scan).
    assert len(smtp_sink.messages) == 1
    assert message["To"] == "emily.waiting@example.com"
    assert WaitlistOffer.objects.count() == 1
    assert WaitlistMessage.objects.get().state == WaitlistMessage.State.SENT
