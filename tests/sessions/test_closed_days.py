"""The parlor's calendar in booking: closed days are never offered by availability or course proposals,
booking on one needs a manager, "every other day" keeps its 2-day step and says why a gap is longer, and a
proposal for "10:00 with anybody" keeps 10:00."""

import datetime

import pytest

from parlor import roles
from parlor.models import ClosedDay
from sessions.booking.availability import free_slots
from sessions.booking.services import appointment_book, appointment_move, course_propose
from sessions.models import Appointment, Course
from tests.factories import MasseurFactory, RoomFactory, UserFactory, WorkingHoursFactory
from tests.sessions.conftest import MONDAY, UTC
from tests.sessions.factories import AppointmentFactory

pytestmark = pytest.mark.django_db

LONG_AGO = datetime.datetime(2027, 1, 1, tzinfo=UTC)
# 2027-08-24, Independence Day, is a Tuesday; 10:00 in Kyiv (summer) is 07:00Z.
INDEPENDENCE_DAY = datetime.date(2027, 8, 24)


def every_day(masseur, starts=datetime.time(9), ends=datetime.time(13)):
    masseur.working_hours.all().delete()
    for weekday in range(7):
        WorkingHoursFactory(masseur=masseur, weekday=weekday, starts=starts, ends=ends)


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    # March 2027 is winter time in Kyiv (UTC+2).
    return datetime.datetime(day.year, day.month, day.day, hour - 2, minute, tzinfo=UTC)


def close(day, reason=""):
    return ClosedDay.objects.create(day=day, reason=reason)


# --- availability ----------------------------------------------------------------------------------


def test_free_slots_never_offer_a_closed_day(world):
    close(MONDAY, "inventory")

    slots = free_slots(
        massage_type=world.massage_type,
        start_date=MONDAY,
        end_date=MONDAY + datetime.timedelta(days=7),
        now=LONG_AGO,
    )

    assert {slot.starts_at.date() for slot in slots} == {MONDAY + datetime.timedelta(days=7)}


def test_free_slots_offer_a_public_holiday_the_manager_did_not_close(world):
    WorkingHoursFactory(masseur=world.masseur, weekday=1, starts=datetime.time(9), ends=datetime.time(13))

    slots = free_slots(
        massage_type=world.massage_type, start_date=INDEPENDENCE_DAY, end_date=INDEPENDENCE_DAY, now=LONG_AGO
    )

    # Under martial law a public holiday is a working day: nothing is closed by default.
    assert slots[0].starts_at == datetime.datetime(2027, 8, 24, 6, 0, tzinfo=UTC)
    assert len(slots) == 14


# --- booking on a closed day -----------------------------------------------------------------------


def test_reception_cannot_book_on_a_closed_day(world):
    close(MONDAY, "inventory")

    with pytest.raises(Exception) as error:
        appointment_book(
            client=world.client,
            massage_type=world.massage_type,
            masseur=world.masseur,
            room=world.room,
            starts_at=at(MONDAY, 10),
            booked_by=world.user,
        )

    assert error.value.message_dict == {
        "starts_at": ["The parlor is closed on 1 March 2027 (inventory); only a manager may book on a closed day."]
    }
    assert Appointment.objects.count() == 0


def test_a_manager_may_book_on_a_closed_day(world):
    close(MONDAY)
    manager = UserFactory(username="boss", role=roles.MANAGER)

    appointment = appointment_book(
        client=world.client,
        massage_type=world.massage_type,
        masseur=world.masseur,
        room=world.room,
        starts_at=at(MONDAY, 10),
        booked_by=manager,
    )

    assert appointment.status == Appointment.Status.BOOKED


def test_reception_cannot_move_an_appointment_onto_a_closed_day(world):
    appointment = AppointmentFactory(
        client=world.client,
        massage_type=world.massage_type,
        masseur=world.masseur,
        room=world.room,
        starts_at=at(MONDAY, 10),
    )
    next_monday = MONDAY + datetime.timedelta(days=7)
    close(next_monday, "inventory")

    with pytest.raises(Exception) as error:
        appointment_move(appointment=appointment, starts_at=at(next_monday, 10), moved_by=world.user)

    assert list(error.value.message_dict) == ["starts_at"]
    appointment.refresh_from_db()
    assert appointment.starts_at == at(MONDAY, 10)


# --- course proposals ------------------------------------------------------------------------------


def propose(world, **kwargs):
    defaults = {
        "client": world.client,
        "massage_type": world.massage_type,
        "start_date": MONDAY,
        "planned_sessions": 4,
        "cadence": Course.Cadence.EVERY_OTHER_DAY,
        "weekdays": [],
        "masseur": world.masseur,
        "preferred_time": datetime.time(10),
    }
    return course_propose(**(defaults | kwargs))


def test_every_other_day_steps_two_days(world):
    every_day(world.masseur)

    proposals = propose(world)

    assert [p.starts_at.date() for p in proposals] == [MONDAY + datetime.timedelta(days=n) for n in (0, 2, 4, 6)]
    assert all(p.warnings == [] for p in proposals)


def test_a_closed_day_moves_the_session_to_the_next_open_day_and_the_gap_warning_says_why(world):
    every_day(world.masseur)
    close(MONDAY + datetime.timedelta(days=2), "staff training")

    proposals = propose(world)

    # Mon; Wed is closed, so Thu; then every other day from there: Sat, Mon.
    assert [p.starts_at.date() for p in proposals] == [MONDAY + datetime.timedelta(days=n) for n in (0, 3, 5, 7)]
    assert proposals[1].warnings == [
        "3 days since the previous session: a course works best with gaps of at most 2 days.",
        "The parlor is closed on Wednesday, 3 March 2027 (staff training).",
    ]
    assert [p.warnings for p in proposals[2:]] == [[], []]


def test_a_closed_public_holiday_is_named_in_the_gap_warning(world):
    every_day(world.masseur)
    close(INDEPENDENCE_DAY)

    # From Sunday 22 August every other day: the Tuesday is closed, so Wednesday.
    proposals = propose(world, start_date=datetime.date(2027, 8, 22), planned_sessions=3)

    assert [p.starts_at.date() for p in proposals] == [datetime.date(2027, 8, d) for d in (22, 25, 27)]
    assert proposals[1].warnings == [
        "3 days since the previous session: a course works best with gaps of at most 2 days.",
        "The parlor is closed on Tuesday, 24 August 2027 (Independence Day).",
    ]


def test_a_proposal_never_offers_a_closed_day_in_a_daily_course(world):
    every_day(world.masseur)
    close(MONDAY + datetime.timedelta(days=1))

    proposals = propose(world, cadence=Course.Cadence.DAILY, planned_sessions=3)

    assert [p.starts_at.date() for p in proposals] == [MONDAY + datetime.timedelta(days=n) for n in (0, 2, 3)]


def test_ten_with_anybody_takes_whoever_is_free_at_ten_rather_than_another_time(world):
    every_day(world.masseur)
    other = MasseurFactory(display_name="Петро", qualifications=[world.massage_type])
    every_day(other)
    RoomFactory(name="Room B")
    # Олена, first by name, is busy at 10:00 the first day: Петро at 10:00, not Олена at 09:00.
    AppointmentFactory(masseur=world.masseur, massage_type=world.massage_type, starts_at=at(MONDAY, 10))

    proposals = propose(world, masseur=None, planned_sessions=3, cadence=Course.Cadence.DAILY)

    assert [timezone_hour(p.starts_at) for p in proposals] == [10, 10, 10]
    assert [p.masseur.display_name for p in proposals] == ["Петро", "Петро", "Петро"]
    assert [p.warnings for p in proposals] == [[], [], []]


def test_ten_with_anybody_keeps_the_course_masseur_and_names_the_stand_in(world):
    every_day(world.masseur)
    other = MasseurFactory(display_name="Петро", qualifications=[world.massage_type])
    every_day(other)
    second = MONDAY + datetime.timedelta(days=1)
    # Олена (first by name) takes the course; the second day she is busy at 10:00, Петро is not.
    AppointmentFactory(masseur=world.masseur, massage_type=world.massage_type, starts_at=at(second, 10))

    proposals = propose(world, masseur=None, planned_sessions=3, cadence=Course.Cadence.DAILY)

    assert [timezone_hour(p.starts_at) for p in proposals] == [10, 10, 10]
    assert [p.masseur.display_name for p in proposals] == ["Олена", "Петро", "Олена"]
    assert proposals[1].warnings == ["Олена is not free at 10:00; Петро is."]
    assert proposals[0].warnings == proposals[2].warnings == []


def test_ten_with_a_chosen_masseur_says_who_else_is_free_at_ten(world):
    every_day(world.masseur)
    other = MasseurFactory(display_name="Петро", qualifications=[world.massage_type])
    every_day(other)
    AppointmentFactory(masseur=world.masseur, massage_type=world.massage_type, starts_at=at(MONDAY, 10))

    (proposal,) = propose(world, planned_sessions=1)

    assert proposal.masseur == world.masseur
    assert proposal.warnings == ["10:00 is taken; the nearest free time is 09:00.", "At 10:00 Петро is free."]


def test_nobody_free_at_ten_moves_the_time_and_says_so(world):
    every_day(world.masseur)
    AppointmentFactory(masseur=world.masseur, massage_type=world.massage_type, starts_at=at(MONDAY, 10))

    (proposal,) = propose(world, masseur=None, planned_sessions=1)

    assert timezone_hour(proposal.starts_at) == 9
    assert proposal.warnings == ["Nobody qualified is free at 10:00 that day; the nearest free time is 09:00."]


def timezone_hour(instant: datetime.datetime) -> int:
    from sessions.localtime import kyiv

    return instant.astimezone(kyiv()).hour
