"""A worker killed mid-send loses nothing and sends nothing twice: the broker redelivers the task (late
acknowledgement), the redelivered task leaves the row alone while the dead worker's claim stands, and the
scan's reaper makes the row due again once the claim is older than outbox.CLAIM_LIMIT."""

import asyncio
import contextlib
import datetime
import email
import email.policy
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings as django_settings
from django.utils import timezone

from sessions.models import Reminder
from sessions.reminders import outbox
from sessions.reminders import tasks as tasks_reminders
from tests.integration.conftest import ROOT, running_worker, worker_env
from tests.integration.test_reminders import _free_port, _world_with_screening
from tests.sessions.factories import AppointmentFactory

pytestmark = pytest.mark.integration

State = Reminder.State
STALL_SECONDS = 20


class StallingSink:
    """An SMTP server on loopback that hangs on the first message's DATA (the worker is killed meanwhile) and
    then refuses it, so it never counts as delivered; every later message is accepted and kept."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.stalled = threading.Event()
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        if not self.stalled.is_set():
            self.stalled.set()
            await asyncio.sleep(STALL_SECONDS)
            return "451 4.3.0 stalled on purpose; try again"
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    def keys(self) -> list[str]:
        with self.lock:
            return [m["X-Parlor-Reminder"] for m in self.messages]


@pytest.fixture
def stalling_sink(settings):
    sink = StallingSink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    # The test process runs the scan through it too.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 10
    sink.port = port
    yield sink
    controller.stop()


def _env(sink: StallingSink) -> dict[str, str]:
    return worker_env(
        PARLOR_TEST_EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(sink.port),
        EMAIL_USE_TLS="false",
        # Longer than the stall: the worker is waiting on the server, not timing out, when it is killed.
        EMAIL_TIMEOUT=str(STALL_SECONDS + 10),
    )


# The second worker's broker checks unacknowledged messages at start-up and treats any older than a second as
# lost (the default is an hour), so the redelivery shows within the test; set in this worker only.
FAST_REDELIVERY = """
import sys
from parlor.celery import app
app.conf.broker_transport_options = {
    "visibility_timeout": 1,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
app.worker_main(sys.argv[1:])
"""


@contextlib.contextmanager
def fast_redelivery_worker(env: dict[str, str]):
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            FAST_REDELIVERY,
            "worker",
            "--pool=solo",
            "--loglevel=warning",
            "-Q",
            django_settings.CELERY_TASK_DEFAULT_QUEUE,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    time.sleep(0.5)
    if process.poll() is not None:
        pytest.fail(f"celery worker exited at once:\n{process.stdout.read()}")
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def _poll(check, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def _due_reminder() -> Reminder:
    world = _world_with_screening(username="killed-int")
    appointment = AppointmentFactory(
        client=world.client,
        masseur=world.masseur,
        massage_type=world.massage_type,
        room=world.room,
        starts_at=timezone.now() + datetime.timedelta(days=2),
    )
    return Reminder.objects.create(
        client=world.client,
        appointment=appointment,
        kind=Reminder.Kind.APPOINTMENT,
        key=f"appointment:{appointment.pk}:appointment:{appointment.starts_at:%Y-%m-%dT%H:%MZ}",
        due_at=timezone.now() - datetime.timedelta(minutes=1),
    )


def test_worker_killed_mid_send_redelivered_then_reaped_and_sent_once(seeded_db, stalling_sink):
    reminder = _due_reminder()

    # 1. A worker takes the task, claims the row and hangs in the SMTP DATA; it is killed there.
    with running_worker(_env(stalling_sink)) as first:
        result = tasks_reminders.send_reminder.delay(reminder.pk)
        assert stalling_sink.stalled.wait(timeout=30), "the worker never reached the SMTP server"
        reminder.refresh_from_db()
        assert reminder.state == State.SENDING
        claimed_at = reminder.claimed_at
        os.kill(first.pid, signal.SIGKILL)  # --pool=solo: the task runs in this very process
        first.wait(timeout=10)
    assert first.returncode == -signal.SIGKILL
    assert stalling_sink.keys() == []

    # 2. Late acknowledgement: the task was never acknowledged, so the broker hands it to the next worker.
    #    The dead worker's claim is young, so the redelivered task leaves the row alone: no double send
    #    while a slow (not dead) worker might still be finishing it.
    with fast_redelivery_worker(_env(stalling_sink)):
        assert result.get(timeout=30) == "not claimed"
    reminder.refresh_from_db()
    assert (reminder.state, reminder.claimed_at) == (State.SENDING, claimed_at)

    # 3. A scan now reaps nothing yet; the scan after the claim limit finds the stale claim, frees it and
    #    sends the reminder, exactly once.
    assert outbox.dispatch()["reaped"] == 0
    later = claimed_at + outbox.CLAIM_LIMIT + datetime.timedelta(seconds=1)
    outcome = outbox.dispatch(now=later)
    assert (outcome["reaped"], outcome["sent"]) == (1, 1)
    assert outbox.dispatch(now=later).get("sent", 0) == 0

    reminder.refresh_from_db()
    assert (reminder.state, reminder.attempts) == (State.SENT, 1)
    assert stalling_sink.keys() == [reminder.key]
