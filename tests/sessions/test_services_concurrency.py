"""Races the exclusion constraints decide: real threads, each on its own connection."""

import datetime
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from sessions.booking.services import CourseBookingError, appointment_book, course_book
from sessions.models import Appointment, Course
from tests.factories import ClientFactory
from tests.sessions.conftest import make_world

UTC = datetime.UTC
TEN = datetime.datetime(2027, 3, 1, 8, 0, tzinfo=UTC)


def _race(count, work):
    """Run work(i) in `count` threads released together; returns (results, errors, other exceptions)."""
    barrier = threading.Barrier(count)
    results, refusals, crashes = [], [], []
    lock = threading.Lock()

    def run(index):
        try:
            barrier.wait(timeout=30)
            outcome = work(index)
            with lock:
                results.append(outcome)
        except ValidationError as exc:
            with lock:
                refusals.append(exc)
        except Exception as exc:  # noqa: BLE001 - the test asserts there are none
            with lock:
                crashes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, refusals, crashes


@pytest.mark.django_db(transaction=True)
def test_appointment_book_twenty_at_once_for_one_slot_books_exactly_one(seeded_db, frozen_now):
    world = make_world()
    clients = ClientFactory.create_batch(20)

    def work(index):
        return appointment_book(
            client=clients[index],
            massage_type=world.massage_type,
            masseur=world.masseur,
            room=world.room,
            starts_at=TEN,
            booked_by=world.user,
        )

    results, refusals, crashes = _race(20, work)

    assert crashes == []
    assert len(results) == 1
    assert len(refusals) == 19
    expected = {"Олена already has an appointment at this time.", "Room A is taken at this time."}
    assert all(set(exc.messages) <= expected and exc.messages for exc in refusals)
    assert Appointment.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_course_book_two_courses_sharing_a_session_one_gets_all_the_other_none(seeded_db, frozen_now):
    world = make_world()
    other_client = ClientFactory()
    week = datetime.timedelta(weeks=1)
    # Course 0: Mondays 1, 8, 15; course 1: Mondays 8, 15 (shared), 22.
    plans = [
        [TEN, TEN + week, TEN + 2 * week],
        [TEN + week, TEN + 2 * week, TEN + 3 * week],
    ]
    clients = [world.client, other_client]

    def work(index):
        return course_book(
            client=clients[index],
            massage_type=world.massage_type,
            indication=Course.Indication.BACK_PAIN,
            planned_sessions=3,
            cadence=Course.Cadence.WEEKDAYS,
            weekdays=[0],
            sessions=[(when, world.masseur, world.room) for when in plans[index]],
            booked_by=world.user,
        )

    results, refusals, crashes = _race(2, work)

    assert crashes == []
    assert len(results) == 1
    assert len(refusals) == 1
    assert isinstance(refusals[0], CourseBookingError)
    assert refusals[0].failures
    (course,) = Course.objects.all()
    assert course.appointments.count() == 3
    assert Appointment.objects.count() == 3
