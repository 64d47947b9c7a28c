"""Races the exclusion constraints decide: real threads, each on its own connection."""

import datetime

import pytest

from sessions.booking.services import CourseBookingError, appointment_book, course_book
from sessions.models import Appointment, Course
from tests.factories import ClientFactory
from tests.races import race_each
from tests.sessions.conftest import make_world

UTC = datetime.UTC
TEN = datetime.datetime(2027, 3, 1, 8, 0, tzinfo=UTC)


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

    results, refusals, crashes = race_each(20, work)

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

    results, refusals, crashes = race_each(2, work)

    assert crashes == []
    assert len(results) == 1
    assert len(refusals) == 1
    assert isinstance(refusals[0], CourseBookingError)
    assert refusals[0].failures
    (course,) = Course.objects.all()
    assert course.appointments.count() == 3
    assert Appointment.objects.count() == 3
