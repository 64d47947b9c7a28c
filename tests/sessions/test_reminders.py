"""Planning reminders: which rows an appointment or a course gets, when they fall due, and the booking hooks."""

import datetime
import uuid

import pytest
import time_machine
from django.utils import timezone

from screening import services as screening_services
from sessions.booking import services
from sessions.models import Appointment, Reminder, ReminderPolicy
from sessions.reminders import catch_up, planning
from sessions.reminders import tasks as tasks_reminders
from tests.sessions.conftest import MONDAY
from tests.sessions.factories import AppointmentFactory, CourseFactory

UTC = datetime.UTC
Kind = Reminder.Kind
State = Reminder.State


def at(year, month, day, hour, minute=0):
    return datetime.datetime(year, month, day, hour, minute, tzinfo=UTC)


def fresh_screening(client, taken_at=None):
    return screening_services.screening_record(
        client=client,
        answers={"questions": {}},
        findings=[],
        taken_by=None,
        submission_key=uuid.uuid4(),
        taken_at=taken_at or timezone.now(),
    )


def shift(appointment, starts_at):
    delta = starts_at - appointment.starts_at
    appointment.starts_at += delta
    appointment.ends_at += delta
    appointment.blocks_until += delta
    appointment.save()


def kinds(**filters):
    return sorted(Reminder.objects.filter(**filters).values_list("kind", "state"))


# --- due times ----------------------------------------------------------------------------------


def test_appointment_due_at_day_before_same_local_time_in_winter():
    # 2027-03-01 10:00 Kyiv (UTC+2) = 08:00Z; the day before at 10:00 local is 24 h earlier.
    assert planning.appointment_due_at(at(2027, 3, 1, 8), offset_hours=24) == at(2027, 2, 28, 8)


def test_appointment_due_at_spring_dst_day_keeps_local_time():
    # 2027-03-28 10:00 Kyiv is UTC+3 (07:00Z); 2027-03-27 10:00 is still UTC+2 (08:00Z): 23 h earlier.
    due = planning.appointment_due_at(at(2027, 3, 28, 7), offset_hours=24)
    assert due == at(2027, 3, 27, 8)
    assert due.astimezone(planning.kyiv()).strftime("%Y-%m-%d %H:%M %z") == "2027-03-27 10:00 +0200"


def test_appointment_due_at_autumn_dst_day_keeps_local_time():
    # 2027-10-31 10:00 Kyiv is UTC+2 (08:00Z); 2027-10-30 10:00 is UTC+3 (07:00Z): 25 h earlier.
    due = planning.appointment_due_at(at(2027, 10, 31, 8), offset_hours=24)
    assert due == at(2027, 10, 30, 7)
    assert due.astimezone(planning.kyiv()).strftime("%Y-%m-%d %H:%M %z") == "2027-10-30 10:00 +0300"


def test_appointment_due_at_non_whole_days_counts_hours():
    assert planning.appointment_due_at(at(2027, 3, 28, 7), offset_hours=2) == at(2027, 3, 28, 5)


@pytest.mark.parametrize(
    ("starts_at", "due_at"),
    [(at(2027, 3, 28, 7), at(2027, 3, 27, 8)), (at(2027, 10, 31, 8), at(2027, 10, 30, 7))],
)
def test_plan_appointment_on_dst_day_due_same_local_time_day_before(db, starts_at, due_at):
    with time_machine.travel(at(2027, 3, 1, 9), tick=False):
        appointment = AppointmentFactory(starts_at=starts_at)
        fresh_screening(appointment.client, taken_at=starts_at - datetime.timedelta(days=10))
        planning.plan_appointment(appointment)
    reminder = Reminder.objects.get(kind=Kind.APPOINTMENT)
    assert reminder.due_at == due_at
    assert reminder.state == State.DUE


# --- planning per kind --------------------------------------------------------------------------


def test_plan_appointment_with_fresh_screening_plans_only_the_reminder(world):
    appointment = AppointmentFactory(client=world.client, starts_at=at(2027, 3, 1, 8))
    fresh_screening(world.client)
    planning.plan_appointment(appointment)
    reminder = Reminder.objects.get()
    assert (reminder.kind, reminder.state, reminder.due_at) == (Kind.APPOINTMENT, State.DUE, at(2027, 2, 28, 8))
    assert reminder.key == f"appointment:{appointment.pk}:appointment:2027-03-01T08:00Z"
    assert reminder.client_id == world.client.pk


def test_plan_appointment_stale_screening_asks_for_fresh_one_days_ahead(world):
    # Screening taken 2026-11-01: 120 days before 2027-03-01, stale after 90.
    fresh_screening(world.client, taken_at=at(2026, 11, 1, 9))
    appointment = AppointmentFactory(client=world.client, starts_at=at(2027, 3, 1, 8))
    planning.plan_appointment(appointment)
    ask = Reminder.objects.get(kind=Kind.FRESH_SCREENING)
    # Three (policy) days ahead at the same local time.
    assert ask.due_at == at(2027, 2, 26, 8)


def test_plan_appointment_twice_creates_nothing_new(world):
    appointment = AppointmentFactory(client=world.client, starts_at=at(2027, 3, 1, 8))
    first = planning.plan_appointment(appointment)
    second = planning.plan_appointment(appointment)
    assert [r.pk for r in first] == [r.pk for r in second]
    assert Reminder.objects.count() == 2  # the reminder and the fresh-screening request (no screening)


def test_plan_appointment_policy_offset_used(world):
    policy = ReminderPolicy.current()
    policy.appointment_offset_hours = 3
    policy.save()
    fresh_screening(world.client)
    appointment = AppointmentFactory(client=world.client, starts_at=at(2027, 3, 1, 8))
    planning.plan_appointment(appointment)
    assert Reminder.objects.get().due_at == at(2027, 3, 1, 5)


def test_plan_appointment_booked_after_reminder_point_recorded_skipped(world):
    fresh_screening(world.client)
    appointment = AppointmentFactory(client=world.client, starts_at=timezone.now() + datetime.timedelta(hours=5))
    planning.plan_appointment(appointment)
    reminder = Reminder.objects.get()
    assert (reminder.state, reminder.reason) == (State.SKIPPED, Reminder.Reason.BOOKED_LATE)


def test_plan_appointment_past_or_cancelled_plans_nothing(world):
    past = AppointmentFactory(client=world.client, starts_at=at(2027, 1, 10, 8))
    cancelled = AppointmentFactory(
        client=world.client, starts_at=at(2027, 3, 1, 8), status=Appointment.Status.CANCELLED
    )
    assert planning.plan_appointment(past) == []
    assert planning.plan_appointment(cancelled) == []
    assert Reminder.objects.count() == 0


def test_plan_course_booked_schedule_now_and_ending_with_last_session(world):
    fresh_screening(world.client)
    course = CourseFactory(client=world.client, massage_type=world.massage_type, planned_sessions=3)
    sessions = [
        AppointmentFactory(course=course, client=world.client, massage_type=world.massage_type, starts_at=start)
        for start in (at(2027, 3, 1, 8), at(2027, 3, 8, 8), at(2027, 3, 15, 8))
    ]
    now_due = planning.plan_course_booked(course)
    assert [r.kind for r in now_due] == [Kind.COURSE_BOOKED]
    assert now_due[0].due_at <= timezone.now()
    assert kinds() == sorted(
        [(Kind.COURSE_BOOKED, State.DUE), (Kind.COURSE_ENDING, State.DUE)] + [(Kind.APPOINTMENT, State.DUE)] * 3
    )
    ending = Reminder.objects.get(kind=Kind.COURSE_ENDING)
    assert ending.appointment_id == sessions[-1].pk
    assert ending.due_at == at(2027, 3, 14, 8)
    planning.plan_course_booked(course)
    assert Reminder.objects.count() == 5


def test_plan_moved_voids_old_and_plans_new_and_moved_now(world):
    fresh_screening(world.client)
    appointment = AppointmentFactory(client=world.client, starts_at=at(2027, 3, 1, 8))
    planning.plan_appointment(appointment)
    old = Reminder.objects.get()
    shift(appointment, at(2027, 3, 8, 9))
    now_due = planning.plan_moved(appointment)
    old.refresh_from_db()
    assert (old.state, old.reason) == (State.VOID, Reminder.Reason.APPOINTMENT_MOVED)
    new = Reminder.objects.get(kind=Kind.APPOINTMENT, state=State.DUE)
    assert new.due_at == at(2027, 3, 7, 9)
    assert [r.kind for r in now_due] == [Kind.MOVED]
    # Planning the same move again changes nothing.
    planning.plan_moved(appointment)
    assert Reminder.objects.count() == 3


def test_plan_cancelled_voids_pending_and_cancelled_now(world):
    appointment = AppointmentFactory(client=world.client, starts_at=at(2027, 3, 1, 8))
    planning.plan_appointment(appointment)
    appointment.status = Appointment.Status.CANCELLED
    appointment.save()
    now_due = planning.plan_cancelled(appointment)
    assert [r.kind for r in now_due] == [Kind.CANCELLED]
    assert kinds(state=State.VOID) == [(Kind.APPOINTMENT, State.VOID), (Kind.FRESH_SCREENING, State.VOID)]


def test_plan_course_ending_moves_to_new_last_session_when_last_cancelled(world):
    fresh_screening(world.client)
    course = CourseFactory(client=world.client, massage_type=world.massage_type, planned_sessions=2)
    first = AppointmentFactory(course=course, client=world.client, starts_at=at(2027, 3, 1, 8))
    last = AppointmentFactory(course=course, client=world.client, starts_at=at(2027, 3, 8, 8))
    planning.plan_course_booked(course)
    last.status = Appointment.Status.CANCELLED
    last.save()
    planning.plan_cancelled(last)
    ending = Reminder.objects.get(kind=Kind.COURSE_ENDING, state=State.DUE)
    assert ending.appointment_id == first.pk
    assert Reminder.objects.get(kind=Kind.COURSE_ENDING, state=State.VOID).appointment_id == last.pk


def test_plan_upcoming_plans_missing_within_horizon_only(world):
    fresh_screening(world.client)
    near = AppointmentFactory(client=world.client, starts_at=timezone.now() + datetime.timedelta(days=2))
    AppointmentFactory(client=world.client, starts_at=timezone.now() + datetime.timedelta(days=20))
    assert catch_up.plan_upcoming() == 1
    assert Reminder.objects.get().appointment_id == near.pk
    assert catch_up.plan_upcoming() == 0


def test_plan_upcoming_plans_schedule_of_course_never_planned(world):
    fresh_screening(world.client)
    course = CourseFactory(client=world.client, massage_type=world.massage_type, planned_sessions=1)
    AppointmentFactory(course=course, client=world.client, starts_at=at(2027, 3, 1, 8))
    catch_up.plan_upcoming()
    assert kinds() == [(Kind.APPOINTMENT, State.DUE), (Kind.COURSE_BOOKED, State.DUE), (Kind.COURSE_ENDING, State.DUE)]


# --- hooks in the booking services --------------------------------------------------------------


def _book(world, starts_at=None):
    return services.appointment_book(
        client=world.client,
        massage_type=world.massage_type,
        masseur=world.masseur,
        room=world.room,
        starts_at=starts_at or datetime.datetime.combine(MONDAY, datetime.time(10), tzinfo=planning.kyiv()),
        booked_by=world.user,
    )


def test_appointment_book_plans_reminders_nothing_queued(world, django_capture_on_commit_callbacks):
    fresh_screening(world.client)
    with django_capture_on_commit_callbacks() as callbacks:
        appointment = _book(world)
    assert kinds(appointment=appointment) == [(Kind.APPOINTMENT, State.DUE)]
    assert callbacks == []


def test_appointment_move_queues_moved_send_on_commit(world, django_capture_on_commit_callbacks, monkeypatch):
    fresh_screening(world.client)
    appointment = _book(world)
    sent = []
    monkeypatch.setattr(tasks_reminders.send_reminder, "apply_async", lambda args, **kw: sent.append(args[0]))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.appointment_move(
            appointment=appointment,
            starts_at=datetime.datetime.combine(MONDAY, datetime.time(11), tzinfo=planning.kyiv()),
            moved_by=world.user,
        )
    moved = Reminder.objects.get(kind=Kind.MOVED)
    assert len(callbacks) == 1
    assert sent == [moved.pk]
    assert kinds(kind=Kind.APPOINTMENT) == [(Kind.APPOINTMENT, State.DUE), (Kind.APPOINTMENT, State.VOID)]


def test_appointment_cancel_queues_cancelled_send_on_commit(world, django_capture_on_commit_callbacks, monkeypatch):
    appointment = _book(world)
    sent = []
    monkeypatch.setattr(tasks_reminders.send_reminder, "apply_async", lambda args, **kw: sent.append(args[0]))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.appointment_cancel(appointment=appointment, reason="ill", by=world.user)
    assert len(callbacks) == 1
    assert sent == [Reminder.objects.get(kind=Kind.CANCELLED).pk]


def test_course_book_queues_schedule_send_on_commit(world, django_capture_on_commit_callbacks, monkeypatch):
    fresh_screening(world.client)
    sent = []
    monkeypatch.setattr(tasks_reminders.send_reminder, "apply_async", lambda args, **kw: sent.append(args[0]))
    kyiv = planning.kyiv()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        course = services.course_book(
            client=world.client,
            massage_type=world.massage_type,
            indication="back_pain",
            planned_sessions=2,
            cadence="weekdays",
            weekdays=[0],
            sessions=[
                (datetime.datetime.combine(MONDAY, datetime.time(10), tzinfo=kyiv), world.masseur, world.room),
                (datetime.datetime(2027, 3, 8, 10, tzinfo=kyiv), world.masseur, world.room),
            ],
            booked_by=world.user,
        )
    assert len(callbacks) == 1
    assert sent == [Reminder.objects.get(kind=Kind.COURSE_BOOKED, course=course).pk]
    assert Reminder.objects.filter(kind=Kind.APPOINTMENT).count() == 2
    assert Reminder.objects.filter(kind=Kind.COURSE_ENDING).count() == 1


def test_course_cancel_rest_one_cancelled_email_and_voids_all(world, django_capture_on_commit_callbacks, monkeypatch):
    fresh_screening(world.client)
    monkeypatch.setattr(tasks_reminders.send_reminder, "apply_async", lambda args, **kw: None)
    kyiv = planning.kyiv()
    course = services.course_book(
        client=world.client,
        massage_type=world.massage_type,
        indication="back_pain",
        planned_sessions=2,
        cadence="weekdays",
        weekdays=[0],
        sessions=[
            (datetime.datetime.combine(MONDAY, datetime.time(10), tzinfo=kyiv), world.masseur, world.room),
            (datetime.datetime(2027, 3, 8, 10, tzinfo=kyiv), world.masseur, world.room),
        ],
        booked_by=world.user,
    )
    with django_capture_on_commit_callbacks() as callbacks:
        assert services.course_cancel_rest(course=course, reason="moved away", by=world.user) == 2
    assert len(callbacks) == 1
    assert kinds(kind=Kind.CANCELLED) == [(Kind.CANCELLED, State.DUE)]
    assert Reminder.objects.filter(kind__in=[Kind.APPOINTMENT, Kind.COURSE_ENDING], state=State.VOID).count() == 3


def point_broker(url: str) -> None:
    """Point the Celery app at another broker, dropping pooled connections that would keep the old one."""
    from parlor.celery import app

    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None


def test_booking_succeeds_when_broker_unreachable(seeded_db, settings, frozen_now, caplog):
    from tests.sessions.conftest import make_world

    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    point_broker("redis://127.0.0.1:1/0")
    world = make_world()
    try:
        appointment = _book(world)
        moved = services.appointment_move(
            appointment=appointment,
            starts_at=datetime.datetime.combine(MONDAY, datetime.time(11), tzinfo=planning.kyiv()),
            moved_by=world.user,
        ).appointment
    finally:
        settings.CELERY_BROKER_URL = settings.REDIS_URL
        point_broker(settings.REDIS_URL)
    assert Appointment.objects.get(pk=moved.pk).starts_at == datetime.datetime(2027, 3, 1, 9, tzinfo=UTC)
    # The "moved" email is due in the database: the next scan sends it.
    moved_reminder = Reminder.objects.get(kind=Kind.MOVED)
    assert moved_reminder.state == State.DUE
    assert f"reminders [{moved_reminder.pk}] not queued" in caplog.text
