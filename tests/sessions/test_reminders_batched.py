"""Reminders as sets (issue 15): planning many appointments in a few statements, the quiet scan, the policy
cached per process, and the dispatcher claiming and sending batches over one mail connection."""

import datetime

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sessions.models import Reminder, ReminderPolicy
from sessions.reminders import catch_up, outbox, planning, policy
from tests.factories import ClientFactory
from tests.sessions.factories import AppointmentFactory, CourseFactory
from tests.sessions.test_outbox import STARTS, record_screening

Kind = Reminder.Kind
State = Reminder.State


@pytest.fixture(autouse=True)
def _policy_forgotten():
    policy.forget_policy()
    yield
    policy.forget_policy()


def appointments(world, count, *, offset=0, course=None, **fields):
    """`count` appointments of as many clients, two hours apart from STARTS (+ `offset` slots)."""
    made = []
    for n in range(offset, offset + count):
        client = course.client if course is not None else ClientFactory(**fields)
        made.append(
            AppointmentFactory(
                client=client,
                masseur=world.masseur,
                massage_type=world.massage_type,
                course=course,
                starts_at=STARTS + datetime.timedelta(hours=2 * n),
            )
        )
    return made


def queries(function, *args, **kwargs):
    with CaptureQueriesContext(connection) as captured:
        result = function(*args, **kwargs)
    return result, len(captured)


# --- planning -----------------------------------------------------------------------------------


def test_plan_many_statements_do_not_grow_with_the_appointments(world):
    policy.current_policy()
    few = appointments(world, 3)
    many = appointments(world, 30, offset=3)
    created_few, few_queries = queries(planning.plan_many, few)
    created_many, many_queries = queries(planning.plan_many, many)
    # Never screened: the reminder and the request for a fresh screening each.
    assert (created_few, created_many) == (6, 60)
    assert few_queries == many_queries == 1


def test_plan_many_with_courses_statements_do_not_grow(world):
    policy.current_policy()
    small = CourseFactory(client=world.client, massage_type=world.massage_type, planned_sessions=3)
    large = CourseFactory(client=ClientFactory(), massage_type=world.massage_type, planned_sessions=30)
    _, few_queries = queries(planning.plan_many, appointments(world, 3, course=small))
    _, many_queries = queries(planning.plan_many, appointments(world, 30, offset=3, course=large))
    # The INSERT, and the courses' last sessions with the UPDATE voiding stale invitations.
    assert few_queries == many_queries == 2
    assert Reminder.objects.filter(kind=Kind.COURSE_ENDING).count() == 2


def test_plan_many_run_again_creates_nothing(world):
    course = CourseFactory(client=world.client, massage_type=world.massage_type, planned_sessions=3)
    planned = appointments(world, 3, course=course) + appointments(world, 3, offset=3)
    first = planning.plan_many(planned)
    keys = set(Reminder.objects.values_list("key", flat=True))
    assert first == len(keys) == 3 * 2 + 3 * 2 + 1
    assert planning.plan_many(planned) == 0
    assert set(Reminder.objects.values_list("key", flat=True)) == keys


def test_plan_many_plans_what_plan_appointment_plans(world):
    record_screening(world.client)
    fresh, never = appointments(world, 1)[0], appointments(world, 1, offset=1)[0]
    fresh.client = world.client
    fresh.save()
    planning.plan_many([fresh, never])
    by_many = sorted(Reminder.objects.values_list("key", "kind", "due_at", "state"))
    Reminder.objects.all().delete()
    for appointment in (fresh, never):
        planning.plan_appointment(appointment)
    assert sorted(Reminder.objects.values_list("key", "kind", "due_at", "state")) == by_many
    assert [k for _, k, _, _ in by_many].count(Kind.FRESH_SCREENING) == 1


@pytest.mark.parametrize(("days_before", "stale"), [(90, False), (91, True)])
def test_fresh_screening_decided_in_the_insert_by_the_verdicts_rule(world, days_before, stale):
    appointment = appointments(world, 1)[0]
    day = STARTS.astimezone(planning.kyiv()).date()
    # The first instant of the local day `days_before` before the appointment's day.
    taken_at = datetime.datetime.combine(day - datetime.timedelta(days=days_before), datetime.time.min, planning.kyiv())
    record_screening(appointment.client, taken_at=taken_at)
    assert planning.is_stale(taken_at, day=day) is stale
    planning.plan_appointment(appointment)
    assert Reminder.objects.filter(kind=Kind.FRESH_SCREENING).exists() is stale


def test_plan_booked_one_appointment_is_one_statement_with_the_policy_cached(world):
    policy.current_policy()
    appointment = appointments(world, 1)[0]
    _, count = queries(planning.plan_booked, appointment)
    assert count == 1
    assert Reminder.objects.filter(appointment=appointment).count() == 2


def test_plan_booked_a_course_session_is_two_statements(world):
    policy.current_policy()
    course = CourseFactory(client=world.client, massage_type=world.massage_type, planned_sessions=2)
    first = appointments(world, 1, course=course)[0]
    planning.plan_booked(first)
    second = appointments(world, 1, offset=1, course=course)[0]
    _, count = queries(planning.plan_booked, second)
    assert count == 2
    # The invitation moved to the new last session; the one of the first is void.
    assert sorted(Reminder.objects.filter(kind=Kind.COURSE_ENDING).values_list("appointment_id", "state")) == [
        (first.pk, State.VOID),
        (second.pk, State.DUE),
    ]


def test_plan_booked_the_screenings_time_given_needs_no_check(world):
    policy.current_policy()
    appointment = appointments(world, 1)[0]
    planning.plan_booked(appointment, screening_taken_at=timezone.now())
    assert list(Reminder.objects.values_list("kind", flat=True)) == [Kind.APPOINTMENT]


def test_current_policy_read_once_then_cached(world):
    _, first = queries(policy.current_policy)
    _, second = queries(policy.current_policy)
    assert (first >= 1, second) == (True, 0)


def test_current_policy_a_saved_change_is_seen_at_once(world):
    policy.current_policy()
    ReminderPolicy.objects.update_or_create(pk=1, defaults={"appointment_offset_hours": 48})
    assert policy.current_policy().appointment_offset_hours == 48


def test_current_policy_not_cached_while_a_change_is_uncommitted(world):
    ReminderPolicy.objects.update_or_create(pk=1, defaults={"appointment_offset_hours": 48})
    policy.current_policy()
    # Still in the test's transaction: the change may yet roll back, so the row is read each time.
    _, count = queries(policy.current_policy)
    assert count == 1


def test_plan_upcoming_quiet_creates_nothing_in_a_few_queries(world):
    now = timezone.now()
    near = STARTS - datetime.timedelta(days=27)  # within the scan's horizon
    few = [
        AppointmentFactory(client=ClientFactory(), masseur=world.masseur, starts_at=near + datetime.timedelta(hours=h))
        for h in range(3)
    ]
    course = CourseFactory(client=world.client, massage_type=world.massage_type, planned_sessions=30)
    many = [
        AppointmentFactory(
            client=world.client, masseur=world.masseur, course=course, starts_at=near + datetime.timedelta(hours=4 + h)
        )
        for h in range(30)
    ]
    planning.plan_course_booked(course, now=now)
    planning.plan_many(few, now=now)
    policy.current_policy()
    created, quiet = queries(catch_up.plan_upcoming, now=now)
    assert created == 0
    # What is missing (appointments, courses' invitations), courses booked lately without their schedule.
    assert quiet == 3
    assert len(few) + len(many) == 33


def test_plan_upcoming_finds_a_missing_course_ending(world):
    course = CourseFactory(client=world.client, massage_type=world.massage_type, planned_sessions=2)
    near = timezone.now() + datetime.timedelta(days=2)
    first = AppointmentFactory(client=world.client, masseur=world.masseur, course=course, starts_at=near)
    planning.plan_course_booked(course)
    last = AppointmentFactory(
        client=world.client, masseur=world.masseur, course=course, starts_at=near + datetime.timedelta(days=1)
    )
    assert catch_up.plan_upcoming() >= 1
    assert sorted(Reminder.objects.filter(kind=Kind.COURSE_ENDING).values_list("appointment_id", "state")) == [
        (first.pk, State.VOID),
        (last.pk, State.DUE),
    ]
    assert catch_up.plan_upcoming() == 0


# --- sending ------------------------------------------------------------------------------------


class CountingBackend(LocmemBackend):
    """locmem, counting the connections opened (an SMTP backend's sessions)."""

    opened = 0

    def open(self):
        CountingBackend.opened += 1
        return super().open()


@pytest.fixture
def counting(settings):
    settings.EMAIL_BACKEND = f"{__name__}.CountingBackend"
    CountingBackend.opened = 0
    return CountingBackend


def due_reminders(world, count, *, offset=0, **client_fields):
    reminders = []
    for appointment in appointments(world, count, offset=offset, **client_fields):
        reminders.append(
            Reminder.objects.create(
                client=appointment.client,
                appointment=appointment,
                kind=Kind.APPOINTMENT,
                key=planning.appointment_key(appointment, Kind.APPOINTMENT),
                due_at=timezone.now() - datetime.timedelta(minutes=1),
            )
        )
    return reminders


def test_dispatch_one_mail_connection_per_batch(world, counting, monkeypatch):
    monkeypatch.setattr(outbox, "BATCH", 4)
    due_reminders(world, 10)
    assert outbox.dispatch(batch=4)["sent"] == 10
    assert len(mail.outbox) == 10
    assert counting.opened == 3


def test_dispatch_sends_every_batch_in_one_run(world):
    due_reminders(world, 7)
    assert outbox.dispatch(batch=3)["sent"] == 7
    assert Reminder.objects.filter(state=State.SENT).count() == 7


def test_dispatch_stops_after_max_batches(world):
    due_reminders(world, 7)
    assert outbox.dispatch(batch=2, max_batches=2)["sent"] == 4
    assert Reminder.objects.filter(state=State.DUE).count() == 3


def test_dispatch_queries_same_for_3_and_30_reminders_with_skips(world):
    record_screening(world.client)
    due_reminders(world, 2)
    due_reminders(world, 1, offset=2, reminder_consent=False)
    _, few = queries(outbox.dispatch)
    due_reminders(world, 25, offset=3)
    due_reminders(world, 5, offset=28, email="")
    outcome, many = queries(outbox.dispatch)
    assert (outcome["sent"], outcome["skipped"]) == (25, 5)
    # Reap, claim, load, finish the sent, finish the skipped (one UPDATE per reason).
    assert few == many == 5


def test_dispatch_a_failure_drops_the_connection_and_the_next_opens_another(world, counting, monkeypatch):
    import smtplib

    first, second = due_reminders(world, 2)
    real_send = outbox.EmailMultiAlternatives.send

    def send(message, fail_silently=False):
        if message.extra_headers["X-Parlor-Reminder"] == first.key:
            raise smtplib.SMTPServerDisconnected("gone")
        return real_send(message, fail_silently)

    monkeypatch.setattr(outbox.EmailMultiAlternatives, "send", send)
    outcome = outbox.dispatch()
    assert (outcome[State.DUE], outcome[State.SENT]) == (1, 1)
    assert counting.opened == 2
    first.refresh_from_db()
    assert (first.state, first.attempts, first.reason) == (State.DUE, 1, "SMTPServerDisconnected: gone")
    assert first.retry_at is not None


def test_dispatch_a_batch_running_too_long_gives_back_what_it_did_not_try(world, monkeypatch):
    due_reminders(world, 3)
    monkeypatch.setattr(outbox, "BATCH_TIME_LIMIT", datetime.timedelta(seconds=-1))
    outcome = outbox.dispatch(max_batches=1)
    assert outcome["released"] == 3
    assert sorted(Reminder.objects.values_list("state", "claimed_at")) == [(State.DUE, None)] * 3
    assert mail.outbox == []


def test_claim_batch_takes_only_due_rows_oldest_first(world):
    later, earlier = due_reminders(world, 2)
    Reminder.objects.filter(pk=earlier.pk).update(due_at=timezone.now() - datetime.timedelta(hours=1))
    backing_off = due_reminders(world, 1, offset=2)[0]
    Reminder.objects.filter(pk=backing_off.pk).update(retry_at=timezone.now() + datetime.timedelta(minutes=1))
    assert outbox.claim_batch(limit=1) == [earlier.pk]
    assert outbox.claim_batch() == [later.pk]
    assert outbox.claim_batch() == []


def test_claim_batch_never_takes_more_than_its_limit_whatever_the_plan(world):
    due_reminders(world, 6)
    with connection.cursor() as cursor:
        # A nested loop, whose inner side is rescanned per row: the batch must still be chosen once. (A whole
        # run's statistics once gave the IN (subquery) form a plan that claimed past its LIMIT.)
        for setting in ("enable_hashjoin", "enable_mergejoin", "enable_material", "enable_seqscan"):
            cursor.execute(f"SET LOCAL {setting} = off")
    assert len(outbox.claim_batch(limit=2)) == 2
    assert Reminder.objects.filter(state=State.SENDING).count() == 2
