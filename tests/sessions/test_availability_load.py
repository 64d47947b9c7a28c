"""What availability.load hands the arithmetic (busy time merged by PostgreSQL), and how much of it
course_propose asks for (the chosen masseur's slots, one room a slot)."""

import datetime

import pytest

from sessions.booking import availability
from sessions.booking.services import course_propose
from sessions.models import Course
from tests.factories import MasseurFactory, RoomFactory, WorkingHoursFactory
from tests.sessions.conftest import MONDAY
from tests.sessions.factories import AppointmentFactory

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
# 10:00 local on Monday 2027-03-01.
TEN = datetime.datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
MINUTES = datetime.timedelta(minutes=1)


def test_load_merges_back_to_back_appointments_into_one_busy_interval(world):
    # 40 + 15 minutes each: 10:00-10:55, then 10:55-11:50 in the same room; a third with another masseur.
    other = MasseurFactory(qualifications=[world.massage_type])
    for starts_at, masseur in ((TEN, world.masseur), (TEN + 55 * MINUTES, world.masseur), (TEN, other)):
        AppointmentFactory(
            masseur=masseur,
            room=world.room if masseur == world.masseur else RoomFactory(name="Room B"),
            massage_type=world.massage_type,
            starts_at=starts_at,
        )
    cancelled = AppointmentFactory(
        masseur=world.masseur,
        room=world.room,
        massage_type=world.massage_type,
        starts_at=TEN + 200 * MINUTES,
        status="cancelled",
    )

    data = availability.load(massage_type=world.massage_type, days=[MONDAY], masseur=world.masseur)

    assert data.room_busy[world.room.pk] == [(TEN, TEN + 110 * MINUTES)]
    assert data.masseur_busy == {world.masseur.pk: [(TEN, TEN + 110 * MINUTES)]}
    assert all(lo.tzinfo is not None for busy in data.room_busy.values() for lo, _hi in busy)
    assert cancelled.pk  # not busy: its time is free
    moving = availability.load(
        massage_type=world.massage_type,
        days=[MONDAY],
        masseur=world.masseur,
        exclude_appointment_pk=world.masseur.appointments.order_by("starts_at").first().pk,
    )
    assert moving.room_busy[world.room.pk] == [(TEN + 55 * MINUTES, TEN + 110 * MINUTES)]


def test_one_room_slots_name_the_preferred_room_when_free_else_the_first(world):
    room_b = RoomFactory(name="Room B")
    AppointmentFactory(masseur=MasseurFactory(), room=world.room, massage_type=world.massage_type, starts_at=TEN)
    data = availability.load(massage_type=world.massage_type, days=[MONDAY], masseur=world.masseur)
    common = {
        "duration": 40 * MINUTES,
        "buffer": 15 * MINUTES,
        "step": 60 * MINUTES,
        "now": TEN - datetime.timedelta(days=30),
    }

    every = availability.slots_for_day(data, MONDAY, **common)
    first = availability.slots_for_day(data, MONDAY, one_room=True, **common)
    preferred = availability.slots_for_day(data, MONDAY, one_room=True, prefer_room_id=room_b.pk, **common)

    assert [s.rooms for s in every] == [(world.room, room_b), (room_b,), (world.room, room_b), (world.room, room_b)]
    assert [s.rooms for s in first] == [(world.room,), (room_b,), (world.room,), (world.room,)]
    assert [s.rooms for s in preferred] == [(room_b,)] * 4


def test_course_propose_with_a_chosen_masseur_asks_only_for_their_slots_while_they_are_free(world, monkeypatch):
    other = MasseurFactory(display_name="Ірина", qualifications=[world.massage_type])
    WorkingHoursFactory(masseur=other, weekday=0, starts=datetime.time(9), ends=datetime.time(13))
    asked = []
    real = availability.slots_for_day

    def spy(data, day, **kwargs):
        asked.append((day, kwargs.get("masseur_ids"), kwargs.get("one_room")))
        return real(data, day, **kwargs)

    monkeypatch.setattr(availability, "slots_for_day", spy)

    proposals = course_propose(
        client=world.client,
        massage_type=world.massage_type,
        start_date=MONDAY,
        planned_sessions=2,
        cadence=Course.Cadence.WEEKDAYS,
        weekdays=[0],
        masseur=world.masseur,
        preferred_time=datetime.time(10),
    )

    assert [p.masseur for p in proposals] == [world.masseur, world.masseur]
    assert asked == [
        (MONDAY, [world.masseur.pk], True),
        (MONDAY + datetime.timedelta(days=7), [world.masseur.pk], True),
    ]


def test_course_propose_asks_for_the_others_on_a_day_the_chosen_masseur_is_full(world, monkeypatch):
    other = MasseurFactory(display_name="Ірина", qualifications=[world.massage_type])
    WorkingHoursFactory(masseur=other, weekday=0, starts=datetime.time(9), ends=datetime.time(13))
    # Олена is booked 09:00-13:00 on the first Monday.
    for hour in range(4):
        AppointmentFactory(
            masseur=world.masseur,
            room=RoomFactory(),
            massage_type=world.massage_type,
            starts_at=TEN + (hour - 1) * 60 * MINUTES,
        )

    (proposal,) = course_propose(
        client=world.client,
        massage_type=world.massage_type,
        start_date=MONDAY,
        planned_sessions=1,
        cadence=Course.Cadence.DAILY,
        masseur=world.masseur,
        preferred_time=datetime.time(10),
    )

    assert proposal.masseur == other
    assert proposal.starts_at == TEN
    assert proposal.warnings == ["Олена is fully booked that day; Ірина is free."]
