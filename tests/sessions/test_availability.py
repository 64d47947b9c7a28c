import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from parlor.models import WorkingHours
from sessions.booking.availability import free_slots, working_intervals
from sessions.models import Appointment
from tests.factories import (
    ClientFactory,
    MassageTypeFactory,
    MasseurFactory,
    RoomFactory,
    TimeOffFactory,
    UserFactory,
    WorkingHoursFactory,
)
from tests.sessions.conftest import MONDAY, make_world
from tests.sessions.factories import AppointmentFactory

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
KYIV = ZoneInfo("Europe/Kyiv")
LONG_AGO = datetime.datetime(2027, 1, 1, tzinfo=UTC)
SPRING_FORWARD = datetime.date(2027, 3, 28)  # 02:59 -> 04:00, a Sunday
FALL_BACK = datetime.date(2027, 10, 31)  # 03:59 -> 03:00, a Sunday


def z(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=UTC)


def starts(slots) -> list[datetime.datetime]:
    return [slot.starts_at for slot in slots]


def night_shift_world():
    """A 60-minute type without rest, a masseur working Sundays 00:00-08:00 local: the clocks move inside."""
    massage_type = MassageTypeFactory(duration_minutes=60, buffer_minutes=0)
    masseur = MasseurFactory(qualifications=[massage_type])
    WorkingHoursFactory(masseur=masseur, weekday=6, starts=datetime.time(0), ends=datetime.time(8))
    RoomFactory()
    return massage_type, masseur


def test_working_intervals_spring_forward_day_is_seven_hours():
    assert working_intervals(SPRING_FORWARD, [(datetime.time(0), datetime.time(8))], KYIV) == [
        (z(2027, 3, 27, 22), z(2027, 3, 28, 5))
    ]


def test_working_intervals_fall_back_day_is_nine_hours():
    assert working_intervals(FALL_BACK, [(datetime.time(0), datetime.time(8))], KYIV) == [
        (z(2027, 10, 30, 21), z(2027, 10, 31, 6))
    ]


def test_working_intervals_starting_inside_the_spring_gap_begin_when_the_clock_jumps():
    # 03:15 never shows on the clock that night: work starts at 04:00 local (01:00Z).
    assert working_intervals(SPRING_FORWARD, [(datetime.time(3, 15), datetime.time(6))], KYIV) == [
        (z(2027, 3, 28, 1), z(2027, 3, 28, 3))
    ]


def test_free_slots_on_spring_forward_day_skip_the_missing_hour():
    massage_type, masseur = night_shift_world()

    slots = free_slots(
        massage_type=massage_type, start_date=SPRING_FORWARD, end_date=SPRING_FORWARD, step_minutes=60, now=LONG_AGO
    )

    assert starts(slots) == [
        z(2027, 3, 27, 22),  # 00:00 +02
        z(2027, 3, 27, 23),  # 01:00 +02
        z(2027, 3, 28, 0),  # 02:00 +02
        z(2027, 3, 28, 1),  # 04:00 +03: 03:00 does not exist
        z(2027, 3, 28, 2),
        z(2027, 3, 28, 3),
        z(2027, 3, 28, 4),  # 07:00 +03, ends at 08:00
    ]
    assert [slot.starts_at.astimezone(KYIV).hour for slot in slots] == [0, 1, 2, 4, 5, 6, 7]


def test_free_slots_on_spring_forward_day_never_offer_a_nonexistent_local_time():
    massage_type, masseur = night_shift_world()

    slots = free_slots(massage_type=massage_type, start_date=SPRING_FORWARD, end_date=SPRING_FORWARD, now=LONG_AGO)

    # 22:00Z to 04:00Z every 15 minutes; the wall clock goes 02:45 -> 04:00.
    assert len(slots) == 25
    assert [s.astimezone(KYIV).strftime("%H:%M") for s in starts(slots)[10:14]] == ["02:30", "02:45", "04:00", "04:15"]
    assert all(slot.starts_at.astimezone(KYIV).hour != 3 for slot in slots)


def test_free_slots_on_fall_back_day_offer_the_repeated_hour_twice_as_distinct_instants():
    massage_type, masseur = night_shift_world()

    slots = free_slots(
        massage_type=massage_type, start_date=FALL_BACK, end_date=FALL_BACK, step_minutes=60, now=LONG_AGO
    )

    assert starts(slots) == [
        z(2027, 10, 30, 21),  # 00:00 +03
        z(2027, 10, 30, 22),
        z(2027, 10, 30, 23),
        z(2027, 10, 31, 0),  # 03:00 +03, the first time
        z(2027, 10, 31, 1),  # 03:00 +02, the second time
        z(2027, 10, 31, 2),
        z(2027, 10, 31, 3),
        z(2027, 10, 31, 4),
        z(2027, 10, 31, 5),  # 07:00 +02, ends at 08:00
    ]
    threes = [s.astimezone(KYIV) for s in starts(slots) if s.astimezone(KYIV).hour == 3]
    assert [local.utcoffset() for local in threes] == [datetime.timedelta(hours=3), datetime.timedelta(hours=2)]
    assert [local.fold for local in threes] == [0, 1]


def test_free_slots_on_a_normal_day_go_around_an_appointment_and_its_rest():
    world = make_world()
    # 10:00-10:40 local plus 15 minutes' rest: busy 08:00Z-08:55Z.
    AppointmentFactory(
        masseur=world.masseur, room=world.room, massage_type=world.massage_type, starts_at=z(2027, 3, 1, 8)
    )

    slots = free_slots(massage_type=world.massage_type, start_date=MONDAY, end_date=MONDAY, now=LONG_AGO)

    assert starts(slots) == [
        z(2027, 3, 1, 7, 0),  # 09:00 local, its rest ends 07:55Z
        z(2027, 3, 1, 9, 0),
        z(2027, 3, 1, 9, 15),
        z(2027, 3, 1, 9, 30),
        z(2027, 3, 1, 9, 45),
        z(2027, 3, 1, 10, 0),
        z(2027, 3, 1, 10, 15),  # 12:15-12:55 local, the last that ends by 13:00
    ]
    assert {slot.masseur for slot in slots} == {world.masseur}
    assert {slot.room for slot in slots} == {world.room}


def test_free_slots_may_start_exactly_when_the_previous_rest_ends():
    world = make_world()
    AppointmentFactory(
        masseur=world.masseur, room=world.room, massage_type=world.massage_type, starts_at=z(2027, 3, 1, 8)
    )

    offered = starts(
        free_slots(massage_type=world.massage_type, start_date=MONDAY, end_date=MONDAY, step_minutes=5, now=LONG_AGO)
    )

    assert z(2027, 3, 1, 8, 55) in offered
    assert z(2027, 3, 1, 8, 50) not in offered
    assert z(2027, 3, 1, 7, 5) in offered  # its rest ends at 08:00Z, when the next one starts
    assert z(2027, 3, 1, 7, 10) not in offered


def test_free_slots_ignore_cancelled_appointments():
    world = make_world()
    AppointmentFactory(
        masseur=world.masseur,
        room=world.room,
        massage_type=world.massage_type,
        starts_at=z(2027, 3, 1, 8),
        status=Appointment.Status.CANCELLED,
    )

    slots = free_slots(massage_type=world.massage_type, start_date=MONDAY, end_date=MONDAY, now=LONG_AGO)

    assert len(slots) == 14  # 07:00Z .. 10:15Z every 15 minutes


def test_free_slots_leave_out_time_off():
    world = make_world()
    TimeOffFactory(masseur=world.masseur, starts_at=z(2027, 3, 1, 7, 30), ends_at=z(2027, 3, 1, 9))

    slots = free_slots(massage_type=world.massage_type, start_date=MONDAY, end_date=MONDAY, now=LONG_AGO)

    assert starts(slots) == [z(2027, 3, 1, 9, 0), z(2027, 3, 1, 9, 15), z(2027, 3, 1, 9, 30)] + [
        z(2027, 3, 1, 9, 45),
        z(2027, 3, 1, 10, 0),
        z(2027, 3, 1, 10, 15),
    ]


def test_free_slots_never_offer_an_unqualified_masseur():
    world = make_world()
    other = MasseurFactory(display_name="Unqualified")
    WorkingHoursFactory(masseur=other, weekday=0, starts=datetime.time(8), ends=datetime.time(20))

    slots = free_slots(massage_type=world.massage_type, start_date=MONDAY, end_date=MONDAY, now=LONG_AGO)
    only_other = free_slots(
        massage_type=world.massage_type, start_date=MONDAY, end_date=MONDAY, masseur=other, now=LONG_AGO
    )

    assert {slot.masseur for slot in slots} == {world.masseur}
    assert only_other == []


def test_free_slots_never_offer_an_inactive_masseur():
    world = make_world()
    world.masseur.is_active = False
    world.masseur.save()

    assert free_slots(massage_type=world.massage_type, start_date=MONDAY, end_date=MONDAY, now=LONG_AGO) == []


def test_free_slots_need_a_free_room():
    world = make_world()
    RoomFactory(name="Closed", is_active=False)
    colleague = MasseurFactory(qualifications=[world.massage_type])
    # The colleague holds the only room in use 08:00Z-08:55Z.
    AppointmentFactory(masseur=colleague, room=world.room, massage_type=world.massage_type, starts_at=z(2027, 3, 1, 8))

    slots = free_slots(
        massage_type=world.massage_type, start_date=MONDAY, end_date=MONDAY, masseur=world.masseur, now=LONG_AGO
    )

    assert starts(slots) == [z(2027, 3, 1, 7, 0)] + [z(2027, 3, 1, 9, m) for m in (0, 15, 30, 45)] + [
        z(2027, 3, 1, 10, 0),
        z(2027, 3, 1, 10, 15),
    ]


def test_free_slots_offer_every_free_room():
    world = make_world()
    second = RoomFactory(name="Room B")

    slots = free_slots(massage_type=world.massage_type, start_date=MONDAY, end_date=MONDAY, now=LONG_AGO)

    assert slots[0].rooms == (world.room, second)


def test_free_slots_are_not_in_the_past():
    world = make_world()

    slots = free_slots(massage_type=world.massage_type, start_date=MONDAY, end_date=MONDAY, now=z(2027, 3, 1, 9, 40))

    assert starts(slots) == [z(2027, 3, 1, 9, 45), z(2027, 3, 1, 10, 0), z(2027, 3, 1, 10, 15)]


def test_free_slots_cover_morning_and_afternoon_shifts():
    world = make_world()
    WorkingHoursFactory(masseur=world.masseur, weekday=0, starts=datetime.time(15), ends=datetime.time(16))

    slots = free_slots(
        massage_type=world.massage_type, start_date=MONDAY, end_date=MONDAY, step_minutes=60, now=LONG_AGO
    )

    assert [s.astimezone(KYIV).strftime("%H:%M") for s in starts(slots)] == [
        "09:00",
        "10:00",
        "11:00",
        "12:00",
        "15:00",
    ]


def test_free_slots_span_several_days_and_skip_days_off():
    world = make_world()

    slots = free_slots(
        massage_type=world.massage_type,
        start_date=MONDAY,
        end_date=MONDAY + datetime.timedelta(days=7),
        step_minutes=60,
        now=LONG_AGO,
    )

    assert sorted({slot.starts_at.astimezone(KYIV).date() for slot in slots}) == [
        MONDAY,
        MONDAY + datetime.timedelta(days=7),
    ]


def test_free_slots_refuse_an_end_before_the_start():
    world = make_world()

    with pytest.raises(ValidationError) as error:
        free_slots(massage_type=world.massage_type, start_date=MONDAY, end_date=MONDAY - datetime.timedelta(days=1))

    assert error.value.message_dict == {"end_date": ["The end date must not be before the start date."]}


def _year_of_appointments(masseur_count: int):
    """masseur_count masseurs, each with a room and Monday-to-Sunday hours, two sessions a day for a year."""
    massage_type = MassageTypeFactory(duration_minutes=40, buffer_minutes=15)
    # One client per masseur: a client cannot be in two rooms at once.
    clients = ClientFactory.create_batch(masseur_count)
    user = UserFactory()
    masseurs = [MasseurFactory(qualifications=[massage_type]) for _ in range(masseur_count)]
    rooms = [RoomFactory() for _ in range(masseur_count)]
    WorkingHours.objects.bulk_create(
        WorkingHours(masseur=m, weekday=d, starts=datetime.time(9), ends=datetime.time(18))
        for m in masseurs
        for d in range(7)
    )
    first = datetime.date(2027, 1, 1)
    rows = []
    for n in range(365):
        day = first + datetime.timedelta(days=n)
        for hour in (10, 14):
            starts_at = datetime.datetime.combine(day, datetime.time(hour), tzinfo=KYIV)
            for masseur, room, client in zip(masseurs, rooms, clients, strict=True):
                rows.append(
                    Appointment(
                        client=client,
                        massage_type=massage_type,
                        masseur=masseur,
                        room=room,
                        starts_at=starts_at,
                        ends_at=starts_at + datetime.timedelta(minutes=40),
                        blocks_until=starts_at + datetime.timedelta(minutes=55),
                        booked_by=user,
                    )
                )
    return massage_type, masseurs, rows


def test_free_slots_of_a_day_take_one_query_for_one_masseur_or_thirty(django_assert_max_num_queries):
    massage_type, masseurs, rows = _year_of_appointments(30)
    Appointment.objects.bulk_create(rows, batch_size=2000)
    assert Appointment.objects.count() == 30 * 365 * 2
    day = datetime.date(2027, 6, 14)

    with CaptureQueriesContext(connection) as one:
        one_slots = free_slots(
            massage_type=massage_type, start_date=day, end_date=day, masseur=masseurs[0], now=LONG_AGO
        )
    with django_assert_max_num_queries(1), CaptureQueriesContext(connection) as all_:
        all_slots = free_slots(massage_type=massage_type, start_date=day, end_date=day, now=LONG_AGO)

    # Hours, time off, rooms, appointments and the parlor's closed days in one statement.
    assert len(one.captured_queries) == len(all_.captured_queries) == 1
    # 09:00-18:00 less 10:00-10:55 and 14:00-14:55 (the 55 minutes of each new one must fit too):
    # 09:00; 11:00-13:00; 15:00-17:15 (its session ends 17:55): 1 + 9 + 10, every 15 minutes.
    assert len(one_slots) == 20
    assert len(all_slots) == 20 * 30
