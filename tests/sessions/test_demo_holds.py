"""The demo's holds: each kind, made by the product's own services, with its reason; idempotent."""

import datetime

import pytest
import time_machine

import sessions.demo as sessions_demo
from parlor import demo as parlor_demo
from sessions.booking import services
from sessions.demo import holds as demo
from sessions.models import Appointment, Hold

REAL_VERDICT = services._verdict

pytestmark = pytest.mark.django_db

# A Tuesday morning in Kyiv: the demo masseurs work today and in the next days.
MORNING = datetime.datetime(2027, 3, 2, 7, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _morning(monkeypatch):
    # No broker in unit tests: what the seeder queues for the worker is dropped.
    from sessions.flags import tasks as tasks_flags
    from sessions.reminders import tasks as tasks_reminders

    monkeypatch.setattr("sessions.booking.services._verdict", REAL_VERDICT)  # the real screening rules
    monkeypatch.setattr(tasks_reminders, "queue_sends", lambda ids: None)
    monkeypatch.setattr(tasks_flags.raise_client_flags, "apply_async", lambda *args, **kwargs: None)
    with time_machine.travel(MORNING, tick=False):
        yield


def test_demo_holds_show_each_kind_with_its_reason_once(django_capture_on_commit_callbacks):
    parlor_demo.seed()

    with django_capture_on_commit_callbacks(execute=True):
        demo.seed()

    open_holds = {h.appointment.client.full_name: h for h in Hold.objects.filter(released_at__isnull=True)}
    by_client = {name: (h.cause, h.advice, h.source) for name, h in open_holds.items()}
    assert by_client == {
        "Богдан Захарчук": ("health", "override", "screening"),
        "Дарина Лисенко": ("health", "override", "self-report"),
        "Юлія Гончаренко": ("health", "clearance", "self-report"),
        "Тарас Білик": ("day_of", "rebook", "check-in"),
    }
    assert open_holds["Богдан Захарчук"].concern_names == ["Thrombosis"]
    assert Hold.objects.filter(appointment__client__full_name="Дарина Лисенко").count() == 2
    released = Hold.objects.get(released_at__isnull=False)
    assert (released.appointment.client.full_name, released.appointment.status) == ("Світлана Дячук", "booked")
    awaiting = Appointment.objects.filter(status=Appointment.Status.AWAITING_CLEARANCE)
    assert set(awaiting.values_list("client__full_name", flat=True)) == {"Степан Костенко"}
    assert awaiting.count() == 3

    before = (Appointment.objects.count(), Hold.objects.count())
    demo.seed()
    assert (Appointment.objects.count(), Hold.objects.count()) == before


def test_demo_holds_without_the_staff_do_nothing():
    demo.seed()
    assert not Hold.objects.exists()


def test_demo_holds_come_last():
    assert sessions_demo.PARTS[-1] is demo.seed
