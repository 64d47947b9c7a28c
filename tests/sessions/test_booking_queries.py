"""How many statements a booking sends: fixed for one session, and for a course whatever its length (the
sessions are checked and inserted as a set). The reminder planning has its own counts (its module's
tests); here it is replaced by a stub, and the screening verdict is the suite's fake."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sessions.booking import services
from sessions.models import Appointment, Course
from tests.factories import WorkingHoursFactory
from tests.sessions.test_services_courses import book as book_course

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
# Monday 2027-03-01 10:00 in Kyiv; "now" is frozen at 2027-02-01.
TEN = datetime.datetime(2027, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def world(world, monkeypatch):
    """The masseur works every day 09:00-18:00; planning the reminders is stubbed out."""
    world.masseur.working_hours.all().delete()
    for weekday in range(7):
        WorkingHoursFactory(masseur=world.masseur, weekday=weekday, starts=datetime.time(9), ends=datetime.time(18))
    from sessions.reminders import planning

    monkeypatch.setattr(planning, "plan_course_booked", lambda course, now=None: [])
    monkeypatch.setattr(planning, "plan_booked", lambda appointment, now=None: [])
    # The user's permissions, read once per user object, are read before counting.
    world.user.has_perm("treatments.override_block")
    return world


def _course_statements(world, sessions: int) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        book_course(world, sessions)
    return [query["sql"] for query in captured.captured_queries]


def test_course_book_sends_the_same_statements_for_two_sessions_or_ten(world):
    two = _course_statements(world, 2)
    Appointment.objects.all().delete()
    Course.objects.all().delete()
    ten = _course_statements(world, 10)

    # The course (savepoint, insert), the locks, the masseur's facts, the closed days, the clashes, the sessions
    # (savepoint, one insert), the course again.
    assert len(ten) == len(two) == 11
    assert sum(sql.startswith('INSERT INTO "treatments_appointment"') for sql in ten) == 1
    assert sum("pg_advisory_xact_lock" in sql for sql in ten) == 1


def test_appointment_book_sends_seven_statements_besides_the_verdict_and_reminders(world):
    with CaptureQueriesContext(connection) as captured:
        services.appointment_book(
            client=world.client,
            massage_type=world.massage_type,
            masseur=world.masseur,
            room=world.room,
            starts_at=TEN,
            booked_by=world.user,
        )
    # A savepoint around it, the locks, the masseur's facts, the closed day, the clashes, the insert.
    assert len(captured.captured_queries) == 7
