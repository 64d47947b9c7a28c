"""The booking locks (sessions.booking.locks): racing bookings queue before the clash check, so a contested
time gives the clash message, never a deadlock. Real threads, each on its own connection."""

import datetime
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction

from sessions.booking import locks
from sessions.booking.services import CourseBookingError, appointment_book, appointment_move, course_book, course_extend
from sessions.models import Appointment, Course
from tests.factories import ClientFactory, MasseurFactory, RoomFactory, WorkingHoursFactory
from tests.races import race
from tests.sessions.conftest import make_world

UTC = datetime.UTC
# Mondays, 10:00 in Kyiv (UTC+2 in March).
TEN = datetime.datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
HOUR = datetime.timedelta(hours=1)
WEEK = datetime.timedelta(weeks=1)
TRY_AGAIN = "Another booking took this time at the same moment; please try again."


def _messages(exc: ValidationError) -> list[str]:
    if isinstance(exc, CourseBookingError):
        return [message for failure in exc.failures for message in failure.messages]
    return exc.messages


# --- the keys -------------------------------------------------------------------------------------


def test_overlapping_times_share_a_key_and_others_do_not(settings):
    settings.TIME_ZONE = "Europe/Kyiv"
    # 23:30-00:25 local, across midnight: both local days.
    late = datetime.datetime(2027, 3, 1, 21, 30, tzinfo=UTC)
    keys = locks.slot_keys(
        masseur_id=1, room_id=2, client_id=3, starts_at=late, blocks_until=late + datetime.timedelta(minutes=55)
    )
    assert len(keys) == 6
    next_morning = datetime.datetime(2027, 3, 1, 22, 10, tzinfo=UTC)
    same_room = locks.slot_keys(
        masseur_id=9, room_id=2, client_id=8, starts_at=next_morning, blocks_until=next_morning + HOUR
    )
    assert keys & same_room
    # A masseur, a room and a client with the same id are three locks.
    apart = locks.slot_keys(masseur_id=5, room_id=6, client_id=7, starts_at=late, blocks_until=late + HOUR)
    alike = locks.slot_keys(masseur_id=7, room_id=5, client_id=6, starts_at=late, blocks_until=late + HOUR)
    assert not apart & alike


@pytest.mark.django_db(transaction=True)
def test_lock_holds_every_key_until_the_transaction_ends():
    keys = locks.slot_keys(masseur_id=1, room_id=2, client_id=3, starts_at=TEN, blocks_until=TEN + HOUR)
    probe = sorted(keys)[-1]
    seen = []

    def try_from_another_connection():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", list(probe))
                seen.append(cursor.fetchone()[0])
        finally:
            connection.close()

    with transaction.atomic():
        locks.lock(keys)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted"
            )
            assert cursor.fetchone()[0] == len(keys)
        thread = threading.Thread(target=try_from_another_connection)
        thread.start()
        thread.join(timeout=30)
    thread = threading.Thread(target=try_from_another_connection)
    thread.start()
    thread.join(timeout=30)

    assert seen == [False, True]


# --- a booking waits for the lock, then its clash check sees the winner ------------------------------


def _waiting_on_advisory_lock() -> bool:
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'"
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.django_db(transaction=True)
def test_a_second_booking_waits_for_the_first_and_gets_the_clash_message(seeded_db, frozen_now):
    world = make_world()
    other = ClientFactory()
    booked, release = threading.Event(), threading.Event()
    outcome = {}

    def first():
        try:
            with transaction.atomic():
                appointment_book(
                    client=world.client,
                    massage_type=world.massage_type,
                    masseur=world.masseur,
                    room=world.room,
                    starts_at=TEN,
                    booked_by=world.user,
                )
                booked.set()
                release.wait(timeout=60)
        finally:
            connection.close()

    def second():
        try:
            appointment_book(
                client=other,
                massage_type=world.massage_type,
                masseur=world.masseur,
                room=world.room,
                starts_at=TEN + datetime.timedelta(minutes=30),
                booked_by=world.user,
            )
        except ValidationError as exc:
            outcome["error"] = exc
        finally:
            connection.close()

    winner = threading.Thread(target=first)
    winner.start()
    assert booked.wait(timeout=60)
    loser = threading.Thread(target=second)
    loser.start()
    # It queues on the booking lock, not on the exclusion constraint's row.
    waited = False
    for _attempt in range(600):
        if _waiting_on_advisory_lock():
            waited = True
            break
        time.sleep(0.05)
    release.set()
    winner.join(timeout=60)
    loser.join(timeout=60)

    assert waited
    error = outcome["error"]
    assert error.message_dict == {
        "masseur": ["Олена already has an appointment at this time."],
        "room": ["Room A is taken at this time."],
    }
    # Found by the clash check, not by the constraint failing an insert.
    assert error.__cause__ is None
    assert Appointment.objects.count() == 1


# --- the race -------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_many_bookings_racing_for_a_few_times_get_one_winner_each_and_no_deadlock(seeded_db, frozen_now):
    """Three rounds; in each, three times of one masseur contested by single bookings in two rooms, a
    two-session course and a move, all released at once."""
    world = make_world()
    room_b = RoomFactory(name="Room B")
    other_masseur = MasseurFactory(display_name="Ірина", qualifications=[world.massage_type])
    WorkingHoursFactory(masseur=other_masseur, weekday=0, starts=datetime.time(9), ends=datetime.time(13))
    clash = {
        "Олена already has an appointment at this time.",
        "Room A is taken at this time.",
        "Room B is taken at this time.",
        "The client already has an appointment at this time.",
    }
    for round_ in range(3):
        monday = TEN + round_ * WEEK
        times = [monday, monday + HOUR, monday + 2 * HOUR]
        mover = ClientFactory()
        # Booked with the other masseur at 13:00 local; the race moves it to the second time.
        moved = appointment_book(
            client=mover,
            massage_type=world.massage_type,
            masseur=other_masseur,
            room=room_b,
            starts_at=monday + 3 * HOUR - datetime.timedelta(minutes=5) - HOUR,
            booked_by=world.user,
        )
        works = []
        for index, starts_at in enumerate(times):
            for contender in range(3):
                client = ClientFactory()
                room = world.room if (index + contender) % 2 else room_b

                def book(client=client, room=room, starts_at=starts_at):
                    return appointment_book(
                        client=client,
                        massage_type=world.massage_type,
                        masseur=world.masseur,
                        room=room,
                        starts_at=starts_at,
                        booked_by=world.user,
                    )

                works.append(book)
        course_client = ClientFactory()

        def book_course(course_client=course_client, times=times):
            return course_book(
                client=course_client,
                massage_type=world.massage_type,
                indication=Course.Indication.BACK_PAIN,
                planned_sessions=2,
                cadence=Course.Cadence.DAILY,
                sessions=[(times[2], world.masseur, world.room), (times[0], world.masseur, room_b)],
                booked_by=world.user,
            )

        def move(moved=moved, times=times):
            return appointment_move(appointment=moved, starts_at=times[1], masseur=world.masseur, moved_by=world.user)

        works += [book_course, move]

        results, refusals, crashes = race(works)

        assert crashes == []
        assert len(results) + len(refusals) == len(works)
        for starts_at in times:
            live = Appointment.objects.filter(masseur=world.masseur, starts_at=starts_at).exclude(
                status__in=Appointment.NOT_LIVE
            )
            assert live.count() == 1, (round_, starts_at)
        for refusal in refusals:
            messages = _messages(refusal)
            assert messages, refusal
            assert TRY_AGAIN not in messages
            assert set(messages) <= clash, messages


@pytest.mark.django_db
def test_extending_a_course_takes_the_booking_locks_before_the_courses_row(world):
    # An online hold frees a held course, deleting its row, while holding the booking locks: an extension
    # holding that row while waiting for them would deadlock with it.
    course = course_book(
        client=world.client,
        massage_type=world.massage_type,
        indication=Course.Indication.BACK_PAIN,
        planned_sessions=1,
        cadence=Course.Cadence.DAILY,
        sessions=[(TEN, world.masseur, world.room)],
        booked_by=world.user,
    )
    statements = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        course_extend(course=course, sessions=[(TEN + WEEK, world.masseur, world.room)], booked_by=world.user)

    locked = [i for i, sql in enumerate(statements) if "pg_advisory_xact_lock" in sql]
    row = next(
        i for i, sql in enumerate(statements) if f'FROM "{Course._meta.db_table}"' in sql and "FOR NO KEY UPDATE" in sql
    )
    assert locked[0] < row
    assert course.appointments.count() == 2
