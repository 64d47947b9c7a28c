"""Online holds under the booking locks (sessions.booking.locks): a new hold frees the one the client held
before, so it takes every booking lock it may need before it row-locks or deletes that one, in one
sorted request, and never asks for a key below one it already asked for. The races use real threads,
each on its own connection."""

import datetime
import re
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from parlor import roles
from parlor.models import Masseur, Room
from sessions.booking import availability, gate, locks
from sessions.booking import services as booking
from sessions.models import Appointment, Course
from sessions.online import services
from tests.factories import ClientFactory, MasseurFactory, UserFactory, WorkingHoursFactory
from tests.races import race
from tests.sessions.factories import AppointmentFactory
from tests.sessions.online.conftest import NINE, make_parlor, screen

DAY = datetime.timedelta(days=1)
HOUR = datetime.timedelta(hours=1)
TRY_AGAIN = "Another booking took this time at the same moment; please try again."
_APPOINTMENTS = Appointment._meta.db_table
_ROW_LOCK = re.compile(r"\bFOR (NO KEY )?UPDATE\b")


# --- what one transaction asks for, in order ---------------------------------------------------------


def _recorded(work):
    """work()'s result and every statement it sent, in order."""
    statements = []

    def record(execute, sql, params, many, context):
        statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        result = work()
    return result, statements


def _is_lock(sql: str) -> bool:
    return "pg_advisory_xact_lock" in sql


def _holds_or_writes_appointments(sql: str) -> bool:
    # A row lock on appointments, or an UPDATE or DELETE of them: what makes another booking's insert (its
    # exclusion check) or row lock wait for this transaction.
    return (
        (f'"{_APPOINTMENTS}"' in sql and _ROW_LOCK.search(sql) is not None)
        or sql.startswith(f'UPDATE "{_APPOINTMENTS}"')
        or sql.startswith(f'DELETE FROM "{_APPOINTMENTS}"')
    )


def _lock_requests(statements) -> list[list[locks.Key]]:
    return [list(zip(params[0], params[1], strict=True)) for sql, params in statements if _is_lock(sql)]


def _assert_locks_first(statements) -> None:
    first_lock = next(i for i, (sql, _params) in enumerate(statements) if _is_lock(sql))
    touching = [i for i, (sql, _params) in enumerate(statements) if _holds_or_writes_appointments(sql)]
    assert touching, "the earlier hold was neither row-locked nor deleted"
    assert first_lock < touching[0], statements[touching[0]][0]


def _assert_monotone(requests: list[list[locks.Key]]) -> None:
    """Every key a request adds is above every key asked for before: then two transactions can never each
    hold a key the other waits for. Asking again for a key already held never waits (re-entrant)."""
    asked: set[locks.Key] = set()
    for number, keys in enumerate(requests):
        assert keys == sorted(keys), number
        new = [key for key in keys if key not in asked]
        if asked and new:
            assert min(new) > max(asked), (number, min(new), max(asked))
        asked |= set(keys)


def _keys_of(appointment: Appointment) -> set[locks.Key]:
    return locks.slot_keys(
        masseur_id=appointment.masseur_id,
        room_id=appointment.room_id,
        client_id=appointment.client_id,
        starts_at=appointment.starts_at,
        blocks_until=appointment.blocks_until,
    )


def _client_keys(appointment: Appointment) -> set[locks.Key]:
    return locks.client_keys(
        client_id=appointment.client_id, starts_at=appointment.starts_at, blocks_until=appointment.blocks_until
    )


@pytest.mark.django_db
def test_a_new_hold_takes_every_lock_it_may_need_before_freeing_the_old_one(now, monkeypatch):
    parlor = make_parlor(rooms=2)
    # Created second, so her lock key is above Олена's; sorted by name she is tried first.
    iryna = MasseurFactory(display_name="Ірина", qualifications=[parlor.massage_type])
    for weekday in range(7):
        WorkingHoursFactory(masseur=iryna, weekday=weekday, starts=datetime.time(9), ends=datetime.time(13))
    client = ClientFactory()
    earlier = services.reservation_make(
        client=client, massage_type=parlor.massage_type, starts_at=NINE + DAY, masseur=parlor.masseur
    )
    real = availability.free_slots

    def iryna_booked_meanwhile(**kwargs):
        # After the free times were read: the first masseur tried is taken, so the hold goes to the next one.
        slots = real(**kwargs)
        AppointmentFactory(
            massage_type=parlor.massage_type,
            masseur=iryna,
            room=[slot for slot in slots if slot.masseur == iryna][0].rooms[-1],
            starts_at=NINE,
        )
        return slots

    monkeypatch.setattr(availability, "free_slots", iryna_booked_meanwhile)

    held, statements = _recorded(
        lambda: services.reservation_make(client=client, massage_type=parlor.massage_type, starts_at=NINE)
    )

    assert (held.masseur, held.starts_at) == (parlor.masseur, NINE)
    assert not Appointment.objects.filter(pk=earlier.pk).exists()
    _assert_locks_first(statements)
    requests = _lock_requests(statements)
    # One request for everything, then Ірина's attempt and Олена's (each asks again for its own keys).
    assert len(requests) == 3
    rooms = list(Room.objects.order_by("name"))
    candidates = set()
    for masseur in (iryna, parlor.masseur):
        for room in rooms:
            candidates |= locks.slot_keys(
                masseur_id=masseur.pk,
                room_id=room.pk,
                client_id=client.pk,
                starts_at=NINE,
                blocks_until=held.blocks_until,
            )
    assert set(requests[0]) == candidates | _client_keys(earlier)
    assert set(requests[2]) == _keys_of(held)
    _assert_monotone(requests)


@pytest.mark.django_db
def test_a_course_hold_takes_every_lock_it_needs_before_freeing_the_old_hold(now):
    parlor = make_parlor()
    client = ClientFactory()
    # The day before the course starts: that day's client key is below every key of the course.
    earlier = services.reservation_make(client=client, massage_type=parlor.massage_type, starts_at=NINE + 3 * HOUR)

    course, statements = _recorded(
        lambda: services.course_reservation_make(
            client=client, massage_type=parlor.massage_type, start_date=(NINE + DAY).date()
        )
    )

    sessions = list(course.appointments.order_by("starts_at"))
    assert len(sessions) == 5
    assert not Appointment.objects.filter(pk=earlier.pk).exists()
    _assert_locks_first(statements)
    requests = _lock_requests(statements)
    expected = _client_keys(earlier)
    for session in sessions:
        expected |= _keys_of(session)
    assert set(requests[0]) == expected
    _assert_monotone(requests)


# --- races --------------------------------------------------------------------------------------------


def _deadlocks() -> int:
    """Deadlocks PostgreSQL has broken in the test database, once the racers' connections have gone (a
    backend reports its count when it ends)."""
    with connection.cursor() as cursor:
        for _attempt in range(100):
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] == 0:
                break
            time.sleep(0.05)
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def _code(exc: ValidationError) -> str | None:
    return exc.error_dict["__all__"][0].code if "__all__" in getattr(exc, "error_dict", {}) else None


@pytest.mark.django_db(transaction=True)
def test_holding_online_again_while_the_desk_books_the_client_never_deadlocks(seeded_db, now):
    """Rounds on one day each: the client holds 09:00 (Олена, room A); released together, the client holds
    11:00 instead online while the front desk books them with the other masseur in room B, over the old
    hold in even rounds and over the new time in odd ones. A guard: the old order (the hold deleted before
    the locks) did not deadlock here either, since the desk's clash check still sees the hold and refuses
    before inserting over it."""
    parlor = make_parlor(masseurs=2, rooms=2)
    other_masseur = Masseur.objects.exclude(pk=parlor.masseur.pk).get()
    room_b = Room.objects.exclude(pk=parlor.room.pk).get()
    desk = UserFactory(username="desk", role=roles.RECEPTIONIST)
    before = _deadlocks()
    for round_ in range(8):
        day = NINE + round_ * DAY
        client = ClientFactory()
        screen(client)
        services.reservation_make(
            client=client, massage_type=parlor.massage_type, starts_at=day, masseur=parlor.masseur
        )

        def online(client=client, day=day):
            return services.reservation_make(client=client, massage_type=parlor.massage_type, starts_at=day + 2 * HOUR)

        def at_the_desk(client=client, at=day + (2 * HOUR if round_ % 2 else datetime.timedelta())):
            return booking.appointment_book(
                client=client,
                massage_type=parlor.massage_type,
                masseur=other_masseur,
                room=room_b,
                starts_at=at,
                booked_by=desk,
            )

        results, refusals, crashes = race([online, at_the_desk])

        assert crashes == [], (round_, crashes)
        assert len(results) + len(refusals) == 2
        for refusal in refusals:
            assert TRY_AGAIN not in refusal.messages, round_
            code = _code(refusal)
            if code is not None:
                # The online one: the time went to someone else, or the client is booked then.
                assert code in {services.TAKEN, "busy"}, (round_, refusal)
            else:
                assert refusal.message_dict == {"client": ["The client already has an appointment at this time."]}
        assert Appointment.objects.filter(client=client, status=Appointment.Status.RESERVED).count() == 1, round_
    assert _deadlocks() == before


@pytest.mark.django_db(transaction=True)
def test_two_presses_for_other_times_at_once_leave_one_hold(seeded_db, now):
    """The client holds 09:00 and, in two tabs at once, holds 11:00 on the next day and 12:00 on the day
    after: each replaces what the client held, so one hold is left, whichever came second."""
    parlor = make_parlor(masseurs=2, rooms=2)
    before = _deadlocks()
    for round_ in range(6):
        day = NINE + 3 * round_ * DAY
        client = ClientFactory()
        services.reservation_make(client=client, massage_type=parlor.massage_type, starts_at=day)
        times = [day + DAY + 2 * HOUR, day + 2 * DAY + 3 * HOUR]

        results, refusals, crashes = race(
            [
                lambda client=client, at=at: services.reservation_make(
                    client=client, massage_type=parlor.massage_type, starts_at=at
                )
                for at in times
            ]
        )

        assert crashes == [] and refusals == [], round_
        held = list(Appointment.objects.filter(client=client).values_list("status", "starts_at"))
        assert len(held) == 1, (round_, held)
        assert held[0][0] == Appointment.Status.RESERVED
        assert held[0][1] in times
    assert _deadlocks() == before


@pytest.mark.django_db(transaction=True)
def test_extending_a_held_course_while_the_client_holds_another_time_never_deadlocks(seeded_db, now, monkeypatch):
    """The front desk adds a session after the last one of a course the client holds online, while the
    client holds a single time on that day instead (which frees the course, its row too). With the hold's
    locks taken first but the extension's only after it locked the course's row, PostgreSQL broke a
    deadlock here: the hold's DELETE of the course waited for that row lock, the extension for its locks."""
    parlor = make_parlor()
    desk = UserFactory(username="desk", role=roles.RECEPTIONIST)
    real = gate.facts_of_course

    def slow_facts(*args, **kwargs):
        # Asked by the extension after it has locked the course's row: long enough for the new hold to take
        # its booking locks and reach that row meanwhile.
        time.sleep(0.3)
        return real(*args, **kwargs)

    monkeypatch.setattr(gate, "facts_of_course", slow_facts)
    before = _deadlocks()
    for round_ in range(3):
        client = ClientFactory()
        screen(client)
        course = services.course_reservation_make(
            client=client, massage_type=parlor.massage_type, start_date=(NINE + 7 * round_ * DAY).date()
        )
        after_last = course.appointments.order_by("starts_at").last().starts_at + DAY

        def extend(course=course, at=after_last):
            return booking.course_extend(course=course, sessions=[(at, parlor.masseur, parlor.room)], booked_by=desk)

        def online(client=client, at=after_last + 2 * HOUR):
            return services.reservation_make(client=client, massage_type=parlor.massage_type, starts_at=at)

        results, refusals, crashes = race([extend, online])

        # The course freed before the extension locked it: gone, as when the hold runs out.
        assert all(isinstance(crash, Course.DoesNotExist) for crash in crashes), (round_, crashes)
        for refusal in refusals:
            assert TRY_AGAIN not in refusal.messages, round_
        assert Appointment.objects.filter(client=client, status=Appointment.Status.RESERVED).count() == 1, round_
    assert _deadlocks() == before
