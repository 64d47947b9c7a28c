"""Reminders with real parts: a real Celery worker on the real Redis and the test database, and a real
SMTP server on loopback (aiosmtpd) that receives what the worker sends."""

import datetime
import email
import email.policy
import smtplib
import socket
import threading
import time
import uuid
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings as django_settings
from django.db import connections
from django.utils import timezone
from icalendar import Calendar
from kombu import Connection

from parlor.celery import app
from screening import services as screening_services
from sessions.booking import services
from sessions.localtime import kyiv
from sessions.models import Reminder
from sessions.reminders import outbox
from sessions.reminders import tasks as tasks_reminders
from tests.integration.conftest import running_worker, worker_env
from tests.sessions.conftest import make_world
from tests.sessions.factories import AppointmentFactory

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DEAD_BROKER = "redis://127.0.0.1:1/0"
Kind = Reminder.Kind
State = Reminder.State


def point_broker(url: str) -> None:
    """Point the Celery app at another broker, dropping pooled connections that would keep the old one."""
    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None


# --- the SMTP sink ------------------------------------------------------------------------------


class Sink:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 OK"

    def keys(self) -> list[str]:
        with self.lock:
            return [m["X-Parlor-Reminder"] for m in self.messages]

    def wait_for(self, count: int, timeout: float = 30) -> list:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.2)
        pytest.fail(f"the SMTP sink got {len(self.messages)} messages, expected {count}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_sink(settings):
    sink = Sink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    # The test process sends through it too (the concurrent dispatch test).
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    sink.port = port
    yield sink
    controller.stop()


@pytest.fixture
def smtp_worker(seeded_db, smtp_sink):
    """A real `celery worker` on this run's queue and the test database that mails through the sink."""
    env = worker_env(
        PARLOR_TEST_EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_sink.port),
        EMAIL_USE_TLS="false",
        EMAIL_TIMEOUT="10",
    )
    with running_worker(env) as process:
        yield process


# --- helpers ------------------------------------------------------------------------------------


def _mondays(count: int) -> list[datetime.datetime]:
    """The next Mondays from a week ahead, 10:00 Kyiv: inside the screening's 90 days, the masseur's hours."""
    today = timezone.localdate()
    first = today + datetime.timedelta(days=7 + (7 - today.weekday()) % 7)
    return [
        datetime.datetime.combine(first + datetime.timedelta(weeks=n), datetime.time(10), tzinfo=kyiv())
        for n in range(count)
    ]


def _world_with_screening(username="desk-int"):
    world = make_world(username=username)
    screening_services.screening_record(
        client=world.client,
        answers={"questions": {}},
        findings=[],
        taken_by=None,
        submission_key=uuid.uuid4(),
    )
    return world


def _book_course(world, starts):
    return services.course_book(
        client=world.client,
        massage_type=world.massage_type,
        indication="back_pain",
        planned_sessions=len(starts),
        cadence="weekdays",
        weekdays=[0],
        sessions=[(start, world.masseur, world.room) for start in starts],
        booked_by=world.user,
    )


# --- the tests ----------------------------------------------------------------------------------


def test_course_booked_mail_reaches_real_smtp_through_real_worker(smtp_worker, smtp_sink):
    world = _world_with_screening()
    world.client.language = "en"
    world.client.save()
    starts = _mondays(3)
    course = _book_course(world, starts)  # on commit: send_reminder queued to the real broker

    (message,) = smtp_sink.wait_for(1)
    assert message["To"] == world.client.email
    assert message["Subject"] == "Your course of 3 sessions is booked"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for start in starts:
        # "14 December 2026 at 10:00": a date as people write it.
        assert f"{start.day} {start:%B %Y} at 10:00" in text
        assert f"{start.day} {start:%B %Y} at 10:00" in html
    assert django_settings.PARLOR_PHONE in text
    assert "back pain" not in text.lower()
    (attachment,) = [part for part in message.iter_attachments() if part.get_filename() == "course.ics"]
    events = Calendar.from_ical(attachment.get_content()).walk("VEVENT")
    assert [event.decoded("dtstart") for event in events] == [s.astimezone(datetime.UTC) for s in starts]
    assert [event.decoded("dtstart").tzinfo.utcoffset(None) for event in events] == [datetime.timedelta(0)] * 3

    deadline = time.monotonic() + 30
    reminder = Reminder.objects.get(course=course, kind=Kind.COURSE_BOOKED)
    while reminder.state != State.SENT and time.monotonic() < deadline:
        time.sleep(0.2)
        reminder.refresh_from_db()
    assert reminder.state == State.SENT


def test_redis_down_while_booking_every_reminder_sent_once_when_back(smtp_worker, smtp_sink, settings, monkeypatch):
    world = _world_with_screening()
    starts = _mondays(3)
    # How long a booking waits on the dead broker is the retry policy's doing: watch the policy used,
    # not the seconds it took on this machine.
    tries = []
    real_ensure = Connection.ensure_connection

    def watched_ensure(self, *args, **kwargs):
        tries.append(kwargs)
        return real_ensure(self, *args, **kwargs)

    monkeypatch.setattr(Connection, "ensure_connection", watched_ensure)
    settings.CELERY_BROKER_URL = DEAD_BROKER
    point_broker(DEAD_BROKER)
    try:
        course = _book_course(world, starts)
        single = services.appointment_book(
            client=world.client,
            massage_type=world.massage_type,
            masseur=world.masseur,
            room=world.room,
            starts_at=starts[0] + datetime.timedelta(hours=1, minutes=30),
            booked_by=world.user,
        )
        services.appointment_move(
            appointment=single, starts_at=starts[1] + datetime.timedelta(hours=1, minutes=30), moved_by=world.user
        )
        services.appointment_cancel(
            appointment=course.appointments.order_by("starts_at").last(), reason="ill", by=world.user
        )
    finally:
        settings.CELERY_BROKER_URL = django_settings.REDIS_URL
        point_broker(django_settings.REDIS_URL)
        monkeypatch.undo()
    # One quick connection attempt per commit that had something to send (booked, moved, cancelled).
    assert tries == [tasks_reminders.QUEUE_RETRY] * 3
    due = set(Reminder.objects.filter(state=State.DUE, due_at__lte=timezone.now()).values_list("key", flat=True))
    assert len(due) == 3  # course booked, moved, cancelled
    time.sleep(1)
    assert smtp_sink.keys() == []  # nothing reached the broker, nothing was sent

    result = tasks_reminders.dispatch_reminders.delay()
    assert result.get(timeout=30)["sent"] == 3
    smtp_sink.wait_for(3)
    # A second scan (beat's next minute) sends nothing again.
    assert tasks_reminders.dispatch_reminders.delay().get(timeout=30).get("sent", 0) == 0
    time.sleep(0.5)
    assert sorted(smtp_sink.keys()) == sorted(due)
    assert set(Reminder.objects.filter(key__in=due).values_list("state", flat=True)) == {State.SENT}


def test_two_concurrent_dispatches_send_no_duplicates(seeded_db, smtp_sink):
    world = _world_with_screening()
    now = timezone.now()
    count = 24
    for n in range(count):
        appointment = AppointmentFactory(
            client=world.client,
            masseur=world.masseur,
            massage_type=world.massage_type,
            room=world.room,
            starts_at=now + datetime.timedelta(days=2, hours=2 * n),
        )
        Reminder.objects.create(
            client=world.client,
            appointment=appointment,
            kind=Kind.APPOINTMENT,
            key=f"appointment:{appointment.pk}:appointment:{appointment.starts_at:%Y-%m-%dT%H:%MZ}",
            due_at=now - datetime.timedelta(minutes=1),
        )
    # Both dispatchers must find every row due before either finishes.
    barrier = threading.Barrier(2)
    outcomes, errors = [], []

    def run():
        try:
            barrier.wait(timeout=10)
            outcomes.append(outbox.dispatch())
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    smtp_sink.wait_for(count)
    time.sleep(0.5)
    keys = smtp_sink.keys()
    assert len(keys) == count
    assert len(set(keys)) == count
    assert sum(outcome["sent"] for outcome in outcomes) == count
    assert Reminder.objects.filter(state=State.SENT).count() == count


def test_smtp_server_that_never_answers_times_out_and_retries_later(seeded_db, settings, monkeypatch):
    """A server that accepts the connection and says nothing must not hang the worker: EMAIL_TIMEOUT."""
    world = _world_with_screening()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = silent.getsockname()
    settings.EMAIL_TIMEOUT = 1
    appointment = AppointmentFactory(
        client=world.client,
        masseur=world.masseur,
        massage_type=world.massage_type,
        room=world.room,
        starts_at=timezone.now() + datetime.timedelta(days=1),
    )
    reminder = Reminder.objects.create(
        client=world.client,
        appointment=appointment,
        kind=Kind.MOVED,
        key=f"appointment:{appointment.pk}:moved:{appointment.starts_at:%Y-%m-%dT%H:%MZ}",
        due_at=timezone.now(),
    )
    # The give-up is the socket timeout's doing: check the connection was opened with EMAIL_TIMEOUT
    # and ended in a timeout, rather than timing the test on a machine that may be busy.
    timeouts = []
    real_init = smtplib.SMTP.__init__

    def watched_init(self, *args, **kwargs):
        timeouts.append(kwargs.get("timeout"))
        return real_init(self, *args, **kwargs)

    monkeypatch.setattr(smtplib.SMTP, "__init__", watched_init)
    try:
        assert outbox.send_one(reminder.pk) == State.DUE
    finally:
        silent.close()
    reminder.refresh_from_db()
    assert timeouts == [1]
    assert (reminder.attempts, reminder.claimed_at) == (1, None)
    assert "timed out" in reminder.reason
    assert reminder.retry_at > timezone.now()
