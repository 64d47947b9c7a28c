"""The calendar files of the client's emails stay true: applied in the order they were sent to an empty
calendar, they leave exactly the client's bookings (RFC 5546: UID, SEQUENCE, METHOD)."""

import datetime
import uuid
from dataclasses import dataclass

import pytest
from django.core import mail
from django.utils import timezone
from icalendar import Calendar

from screening import services as screening_services
from sessions.booking import services
from sessions.models import Appointment, Course, Reminder
from sessions.reminders import outbox
from sessions.reminders.calendar_files import event_uid
from tests.factories import WorkingHoursFactory

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
# Monday 2027-03-01 10:00 in Kyiv (UTC+2); "now" is frozen at 2027-02-01.
TEN = datetime.datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
DAY = datetime.timedelta(days=1)
HOUR = datetime.timedelta(hours=1)


@dataclass
class HeldEvent:
    sequence: int
    start: datetime.datetime
    end: datetime.datetime


@pytest.fixture
def world(world):
    """The sessions world with the masseur working every day 09:00-18:00 and a fresh screening."""
    world.masseur.working_hours.all().delete()
    for weekday in range(7):
        WorkingHoursFactory(masseur=world.masseur, weekday=weekday, starts=datetime.time(9), ends=datetime.time(18))
    screening_services.screening_record(
        client=world.client, answers={}, findings=[], taken_by=None, submission_key=uuid.uuid4()
    )
    return world


def sent_calendars() -> list[Calendar]:
    """Every calendar file the client was sent, in the order the emails went out."""
    return [
        Calendar.from_ical(content)
        for message in mail.outbox
        for _name, content, mimetype in message.attachments
        if mimetype.startswith("text/calendar")
    ]


def apply(calendars: list[Calendar], held: dict | None = None) -> dict[str, HeldEvent]:
    """What a calendar program does with iTIP files: REQUEST adds or replaces an event unless it holds a
    newer SEQUENCE; CANCEL removes it."""
    held = {} if held is None else held
    for calendar in calendars:
        method = str(calendar["METHOD"])
        for event in calendar.walk("VEVENT"):
            uid, sequence = str(event["UID"]), int(event.get("SEQUENCE", 0))
            if uid in held and held[uid].sequence > sequence:
                continue
            if method == "CANCEL":
                held.pop(uid, None)
            else:
                held[uid] = HeldEvent(sequence, event.decoded("DTSTART"), event.decoded("DTEND"))
    return held


def bookings(client) -> dict[str, tuple[datetime.datetime, datetime.datetime]]:
    """The client's live upcoming appointments as a calendar should show them."""
    return {
        event_uid(a.pk): (a.starts_at, a.ends_at)
        for a in Appointment.objects.filter(client=client, starts_at__gt=timezone.now()).exclude(
            status__in=Appointment.NOT_LIVE
        )
    }


def calendar_now(client) -> dict[str, tuple[datetime.datetime, datetime.datetime]]:
    outbox.dispatch()
    return {uid: (event.start, event.end) for uid, event in apply(sent_calendars()).items()}


def test_calendar_files_applied_in_order_equal_the_bookings_after_every_change(world):
    course = services.course_book(
        client=world.client,
        massage_type=world.massage_type,
        indication=Course.Indication.BACK_PAIN,
        planned_sessions=3,
        cadence=Course.Cadence.DAILY,
        sessions=[(TEN + n * DAY, world.masseur, world.room) for n in range(3)],
        booked_by=world.user,
    )
    assert calendar_now(world.client) == bookings(world.client)
    assert len(bookings(world.client)) == 3
    first, second, third = course.appointments.order_by("starts_at")

    # A session moved twice: each move's file carries a higher SEQUENCE.
    services.appointment_move(appointment=second, starts_at=TEN + DAY + HOUR, moved_by=world.user)
    assert calendar_now(world.client) == bookings(world.client)
    services.appointment_move(appointment=second, starts_at=TEN + DAY + 2 * HOUR, moved_by=world.user)
    assert calendar_now(world.client) == bookings(world.client)
    assert apply(sent_calendars())[event_uid(second.pk)].sequence == 2

    # A cancellation removes its event, by UID.
    services.appointment_cancel(appointment=third, reason="ill", by=world.user)
    assert calendar_now(world.client) == bookings(world.client)
    assert event_uid(third.pk) not in calendar_now(world.client)

    # The course grows: the whole updated course comes again.
    services.course_extend(course=course, sessions=[(TEN + 3 * DAY, world.masseur, world.room)], booked_by=world.user)
    assert calendar_now(world.client) == bookings(world.client)
    changed = Reminder.objects.get(kind=Reminder.Kind.COURSE_CHANGED)
    assert changed.state == Reminder.State.SENT
    course_file = Calendar.from_ical(mail.outbox[-1].attachments[0][1])
    assert sorted(str(e["UID"]) for e in course_file.walk("VEVENT")) == sorted(bookings(world.client))

    # It shrinks again: the dropped session is cancelled in the calendar too.
    services.course_shorten(course=course, count=1, reason="doctor's advice", by=world.user)
    assert calendar_now(world.client) == bookings(world.client)

    # A single appointment booked and then moved: the move's file brings it into the calendar.
    single = services.appointment_book(
        client=world.client,
        massage_type=world.massage_type,
        masseur=world.masseur,
        room=world.room,
        starts_at=TEN + 10 * DAY,
        booked_by=world.user,
    )
    services.appointment_move(appointment=single, starts_at=TEN + 11 * DAY, moved_by=world.user)
    assert calendar_now(world.client) == bookings(world.client)
    assert set(calendar_now(world.client)) == {event_uid(first.pk), event_uid(second.pk), event_uid(single.pk)}


def test_calendar_file_sent_again_late_does_not_undo_a_move(world):
    course = services.course_book(
        client=world.client,
        massage_type=world.massage_type,
        indication=Course.Indication.BACK_PAIN,
        planned_sessions=2,
        cadence=Course.Cadence.DAILY,
        sessions=[(TEN + n * DAY, world.masseur, world.room) for n in range(2)],
        booked_by=world.user,
    )
    outbox.dispatch()
    first_file = sent_calendars()[0]
    moved = course.appointments.order_by("starts_at").last()
    services.appointment_move(appointment=moved, starts_at=TEN + DAY + HOUR, moved_by=world.user)
    outbox.dispatch()

    # The course's first file arrives again (a mail client re-imports it): its SEQUENCE is older.
    held = apply([first_file], apply(sent_calendars()))

    assert held[event_uid(moved.pk)].start == TEN + DAY + HOUR


def test_calendar_files_keep_one_uid_per_appointment_and_carry_no_health_detail(world):
    appointment = services.appointment_book(
        client=world.client,
        massage_type=world.massage_type,
        masseur=world.masseur,
        room=world.room,
        starts_at=TEN,
        booked_by=world.user,
    )
    services.appointment_move(appointment=appointment, starts_at=TEN + HOUR, moved_by=world.user)
    outbox.dispatch()
    services.appointment_cancel(appointment=appointment, reason="ill", by=world.user)
    outbox.dispatch()

    moved_file, cancel_file = sent_calendars()
    assert [str(c["METHOD"]) for c in (moved_file, cancel_file)] == ["REQUEST", "CANCEL"]
    (moved_event,) = moved_file.walk("VEVENT")
    (cancel_event,) = cancel_file.walk("VEVENT")
    assert str(moved_event["UID"]) == str(cancel_event["UID"]) == f"appointment-{appointment.pk}@parlor"
    assert (int(moved_event["SEQUENCE"]), int(cancel_event["SEQUENCE"])) == (1, 2)
    assert str(cancel_event["STATUS"]) == "CANCELLED"
    assert mail.outbox[1].attachments[0][2] == "text/calendar; method=CANCEL"
    # Ukrainian client: the summary and place in Ukrainian; never the cancellation's reason.
    assert str(moved_event["SUMMARY"]) == f"{world.massage_type.name_uk} · Parlor"
    assert str(moved_event["LOCATION"]) == "Київ, Печерський район"
    assert "ill" not in cancel_file.to_ical().decode()
