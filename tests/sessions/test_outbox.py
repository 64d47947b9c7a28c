"""The dispatcher: claiming, skipping, sending, retrying and reaping reminders."""

import datetime
import smtplib
import uuid

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from icalendar import Calendar

from screening import services as screening_services
from screening.models import Contraindication
from sessions.models import Appointment, Reminder
from sessions.reminders import outbox, planning
from sessions.reminders import tasks as tasks_reminders
from tests.sessions.factories import AppointmentFactory, CourseFactory

UTC = datetime.UTC
Kind = Reminder.Kind
State = Reminder.State
# world's frozen clock is 2027-02-01 10:00Z; the appointment is 2027-03-01 10:00 Kyiv (08:00Z).
STARTS = datetime.datetime(2027, 3, 1, 8, 0, tzinfo=UTC)


def record_screening(client, *contraindications, taken_at=None):
    return screening_services.screening_record(
        client=client,
        answers={"questions": {c.code: {"answer": True} for c in contraindications}},
        findings=[screening_services.FindingInput(contraindication=c, note="", details={}) for c in contraindications],
        taken_by=None,
        submission_key=uuid.uuid4(),
        taken_at=taken_at or timezone.now(),
    )


def reminder_for(world, *, kind=Kind.APPOINTMENT, due_at=None, **client_fields):
    for field, value in client_fields.items():
        setattr(world.client, field, value)
    world.client.save()
    appointment = AppointmentFactory(
        client=world.client, masseur=world.masseur, massage_type=world.massage_type, starts_at=STARTS
    )
    return Reminder.objects.create(
        client=world.client,
        appointment=appointment,
        kind=kind,
        key=planning.appointment_key(appointment, kind),
        due_at=due_at or timezone.now() - datetime.timedelta(minutes=1),
    )


def refreshed(reminder):
    reminder.refresh_from_db()
    return reminder


# --- claiming -----------------------------------------------------------------------------------


def test_claim_second_claim_gets_nothing(world):
    reminder = reminder_for(world)
    assert outbox.claim(reminder.pk) is not None
    assert outbox.claim(reminder.pk) is None
    assert refreshed(reminder).state == State.SENDING


def test_send_one_already_claimed_sends_nothing(world):
    reminder = reminder_for(world)
    outbox.claim(reminder.pk)
    assert outbox.send_one(reminder.pk) == "not claimed"
    assert mail.outbox == []


def test_dispatch_sends_due_once(world):
    reminder = reminder_for(world)
    assert outbox.dispatch()["sent"] == 1
    assert outbox.dispatch()["sent"] == 0
    reminder = refreshed(reminder)
    assert (reminder.state, reminder.attempts, reminder.claimed_at is not None) == (State.SENT, 1, True)
    assert reminder.sent_at is not None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [world.client.email]


def test_dispatch_not_yet_due_left_alone(world):
    reminder = reminder_for(world, due_at=timezone.now() + datetime.timedelta(minutes=5))
    assert outbox.dispatch()["sent"] == 0
    assert refreshed(reminder).state == State.DUE


# --- skipping -----------------------------------------------------------------------------------


def test_dispatch_no_consent_skipped_with_reason(world):
    reminder = refreshed(reminder_for(world, reminder_consent=False))
    outbox.dispatch()
    reminder = refreshed(reminder)
    assert (reminder.state, reminder.reason) == (State.SKIPPED, Reminder.Reason.NO_CONSENT)
    assert mail.outbox == []


def test_dispatch_no_email_skipped_with_reason(world):
    reminder = reminder_for(world, email="")
    outbox.dispatch()
    assert (refreshed(reminder).state, refreshed(reminder).reason) == (State.SKIPPED, Reminder.Reason.NO_EMAIL)
    assert mail.outbox == []


def test_dispatch_late_reminder_after_start_skipped_not_sent(world):
    reminder = reminder_for(world)
    with time_machine.travel(STARTS + datetime.timedelta(minutes=5), tick=False):
        outbox.dispatch()
    reminder = refreshed(reminder)
    assert (reminder.state, reminder.reason) == (State.SKIPPED, Reminder.Reason.ALREADY_STARTED)
    assert mail.outbox == []


def test_dispatch_cancelled_appointment_skipped(world):
    reminder = reminder_for(world)
    Appointment.objects.filter(pk=reminder.appointment_id).update(status=Appointment.Status.CANCELLED)
    outbox.dispatch()
    assert (refreshed(reminder).state, refreshed(reminder).reason) == (
        State.SKIPPED,
        Reminder.Reason.APPOINTMENT_CANCELLED,
    )


def test_dispatch_moved_appointment_old_reminder_voided(world):
    reminder = reminder_for(world)
    delta = datetime.timedelta(days=7)
    appointment = reminder.appointment
    Appointment.objects.filter(pk=appointment.pk).update(
        starts_at=appointment.starts_at + delta,
        ends_at=appointment.ends_at + delta,
        blocks_until=appointment.blocks_until + delta,
    )
    outbox.dispatch()
    assert (refreshed(reminder).state, refreshed(reminder).reason) == (State.VOID, Reminder.Reason.APPOINTMENT_MOVED)
    assert mail.outbox == []


def test_dispatch_fresh_screening_already_taken_skipped(world):
    reminder = reminder_for(world, kind=Kind.FRESH_SCREENING)
    record_screening(world.client)
    outbox.dispatch()
    assert (refreshed(reminder).state, refreshed(reminder).reason) == (
        State.SKIPPED,
        Reminder.Reason.SCREENING_UP_TO_DATE,
    )


# --- failures -----------------------------------------------------------------------------------


def failing(monkeypatch, exc):
    def _send(self, fail_silently=False):
        raise exc

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", _send)


@pytest.mark.parametrize(
    "exc",
    [
        smtplib.SMTPServerDisconnected("gone"),
        smtplib.SMTPConnectError(421, b"busy"),
        smtplib.SMTPResponseException(451, b"try later"),
        TimeoutError("timed out"),
    ],
)
def test_send_transient_error_back_to_due_with_backoff(world, monkeypatch, exc):
    reminder = reminder_for(world)
    failing(monkeypatch, exc)
    # Frozen, so "a minute after the failure" is exact however slowly this machine runs the send.
    with time_machine.travel(timezone.now(), tick=False):
        failed_at = timezone.now()
        assert outbox.send_one(reminder.pk) == State.DUE
    reminder = refreshed(reminder)
    assert (reminder.state, reminder.attempts, reminder.claimed_at) == (State.DUE, 1, None)
    assert reminder.retry_at == failed_at + datetime.timedelta(minutes=1)
    assert type(exc).__name__ in reminder.reason
    # Not retried before its time.
    assert outbox.due_ids() == []


def test_send_transient_retries_double_the_wait(world, monkeypatch):
    reminder = reminder_for(world)
    failing(monkeypatch, smtplib.SMTPServerDisconnected("gone"))
    outbox.send_one(reminder.pk)
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=1, seconds=1), tick=False):
        assert outbox.due_ids() == [reminder.pk]
        outbox.dispatch()
        reminder = refreshed(reminder)
        assert reminder.attempts == 2
        assert reminder.retry_at - timezone.now() == datetime.timedelta(minutes=2)


def test_backoff_doubles_and_caps_at_an_hour():
    minutes = [outbox.backoff(n).total_seconds() / 60 for n in range(1, 10)]
    assert minutes == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_send_transient_gives_up_after_max_attempts(world, monkeypatch):
    reminder = reminder_for(world)
    Reminder.objects.filter(pk=reminder.pk).update(attempts=outbox.MAX_ATTEMPTS - 1)
    failing(monkeypatch, smtplib.SMTPServerDisconnected("gone"))
    assert outbox.send_one(reminder.pk) == State.FAILED
    reminder = refreshed(reminder)
    assert reminder.state == State.FAILED
    assert reminder.reason == "gave_up:SMTPServerDisconnected: gone"
    assert reminder.reason_text == f"gave up after {outbox.MAX_ATTEMPTS} attempts: SMTPServerDisconnected: gone"


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (smtplib.SMTPRecipientsRefused({"x@example.com": (550, b"no such user")}), "SMTPRecipientsRefused"),
        (smtplib.SMTPResponseException(554, b"rejected"), "SMTPResponseException: (554, b'rejected')"),
        (smtplib.SMTPNotSupportedError("STARTTLS extension not supported"), "SMTPNotSupportedError"),
    ],
)
def test_send_permanent_error_failed_with_reason(world, monkeypatch, exc, reason):
    reminder = reminder_for(world)
    failing(monkeypatch, exc)
    assert outbox.send_one(reminder.pk) == State.FAILED
    reminder = refreshed(reminder)
    assert (reminder.state, reminder.attempts, reminder.retry_at) == (State.FAILED, 1, None)
    assert reminder.reason.startswith(reason)


def test_reap_returns_stale_claims_only(world):
    stale = reminder_for(world)
    fresh = Reminder.objects.create(
        client=world.client, appointment=stale.appointment, kind=Kind.MOVED, key="other", due_at=timezone.now()
    )
    now = timezone.now()
    Reminder.objects.filter(pk=stale.pk).update(state=State.SENDING, claimed_at=now - datetime.timedelta(minutes=11))
    Reminder.objects.filter(pk=fresh.pk).update(state=State.SENDING, claimed_at=now - datetime.timedelta(minutes=5))
    assert outbox.reap() == 1
    assert (refreshed(stale).state, refreshed(stale).claimed_at) == (State.DUE, None)
    assert refreshed(fresh).state == State.SENDING


# --- content ------------------------------------------------------------------------------------


def test_email_english_local_time_phone_and_no_health_details(world, settings):
    settings.PARLOR_PHONE = "+380 44 123 45 67"
    contraindication = Contraindication.objects.order_by("pk").first()
    record_screening(world.client, contraindication)
    reminder = reminder_for(world, language="en")
    outbox.dispatch()
    message = mail.outbox[0]
    html = message.alternatives[0][0]
    assert message.subject == "Reminder: your massage on 1 March 2027 at 10:00"
    assert "Monday, 1 March 2027 at 10:00" in message.body
    assert world.masseur.display_name in message.body
    assert "+380 44 123 45 67" in message.body
    assert "+380 44 123 45 67" in html
    assert settings.PARLOR_ADDRESS_EN in message.body
    assert settings.PARLOR_ADDRESS_UK not in message.body
    assert "10:00" in html
    for text in (message.subject, message.body, html):
        assert contraindication.name_en not in text
        assert contraindication.name_uk not in text
    assert reminder.key == message.extra_headers["X-Parlor-Reminder"]


def test_email_ukrainian_local_time_and_weekday(world, settings):
    reminder_for(world, language="uk")
    outbox.dispatch()
    message = mail.outbox[0]
    assert "1 березня 2027" in message.subject
    assert "10:00" in message.subject
    assert "Понеділок, 1 березня 2027" in message.body
    assert world.massage_type.name_uk in message.body
    assert settings.PARLOR_PHONE in message.body


def test_email_dst_day_shows_local_time(db):
    with time_machine.travel(datetime.datetime(2027, 3, 27, 8, 0, 30, tzinfo=UTC), tick=False):
        appointment = AppointmentFactory(starts_at=datetime.datetime(2027, 3, 28, 7, 0, tzinfo=UTC))
        record_screening(appointment.client)
        Reminder.objects.create(
            client=appointment.client,
            appointment=appointment,
            kind=Kind.APPOINTMENT,
            key=planning.appointment_key(appointment, Kind.APPOINTMENT),
            due_at=planning.appointment_due_at(appointment.starts_at, offset_hours=24),
        )
        outbox.dispatch()
    assert "28 березня 2027" in mail.outbox[0].subject
    assert "10:00" in mail.outbox[0].subject


def test_course_booked_email_has_schedule_and_ics(world):
    record_screening(world.client)
    course = CourseFactory(client=world.client, massage_type=world.massage_type, planned_sessions=2)
    starts = [STARTS, STARTS + datetime.timedelta(days=7)]
    for start in starts:
        AppointmentFactory(
            course=course, client=world.client, masseur=world.masseur, massage_type=world.massage_type, starts_at=start
        )
    planning.plan_course_booked(course)
    outbox.dispatch()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert "2" in message.subject
    assert "1 березня 2027" in message.body and "8 березня 2027" in message.body
    assert "back pain" not in message.body.lower()
    (name, content, mimetype) = message.attachments[0]
    assert (name, mimetype) == ("course.ics", "text/calendar; method=REQUEST")
    events = Calendar.from_ical(content).walk("VEVENT")
    assert [event.decoded("dtstart") for event in events] == starts


def test_course_cancelled_email_lists_the_cancelled_sessions(world):
    course = CourseFactory(client=world.client, massage_type=world.massage_type, planned_sessions=2)
    appointments = [
        AppointmentFactory(
            course=course,
            client=world.client,
            masseur=world.masseur,
            massage_type=world.massage_type,
            starts_at=start,
            status=Appointment.Status.CANCELLED,
        )
        for start in (STARTS, STARTS + datetime.timedelta(days=7))
    ]
    world.client.language = "en"
    world.client.save()
    planning.plan_course_cancelled(course, appointments)
    outbox.dispatch()
    body = mail.outbox[0].body
    assert mail.outbox[0].subject == "Your course is cancelled"
    assert "1 March 2027 at 10:00" in body and "8 March 2027 at 10:00" in body


# --- tasks and command --------------------------------------------------------------------------


def test_dispatch_task_plans_and_sends(world):
    record_screening(world.client)
    appointment = AppointmentFactory(client=world.client, starts_at=timezone.now() + datetime.timedelta(hours=23))
    # Booked two days ago, its planning lost: the scan plans it and sends it at once (due an hour ago).
    Appointment.objects.filter(pk=appointment.pk).update(booked_at=timezone.now() - datetime.timedelta(days=2))
    result = tasks_reminders.dispatch_reminders()
    assert result["planned"] == 1
    assert result["sent"] == 1
    assert len(mail.outbox) == 1


def test_send_reminder_task_sends_by_id(world):
    reminder = reminder_for(world)
    assert tasks_reminders.send_reminder(reminder.pk) == State.SENT
    assert tasks_reminders.send_reminder(reminder.pk) == "not claimed"
    assert len(mail.outbox) == 1


def test_run_scan_command_reports(world, capsys):
    reminder_for(world)
    call_command("run_scan")
    assert "planned=" in capsys.readouterr().out
    assert len(mail.outbox) == 1


# --- links --------------------------------------------------------------------------------------


def test_appointment_email_has_its_own_confirm_and_cancel_links(world, settings):
    from sessions.reminders import links

    settings.PARLOR_BASE_URL = "https://parlor.example"
    reminder = reminder_for(world, language="en")
    outbox.dispatch()
    message = mail.outbox[0]
    html = message.alternatives[0][0]
    confirm, cancel = links.confirm_url(reminder.appointment), links.cancel_url(reminder.appointment)
    assert confirm.startswith("https://parlor.example/")
    assert confirm in message.body and cancel in message.body
    assert confirm in html and cancel in html
    assert links.appointment_from_token(confirm.rstrip("/").split("/")[-2], links.CONFIRM) == reminder.appointment


def test_fresh_screening_email_has_questionnaire_link(world):
    from sessions.reminders import links

    reminder = reminder_for(world, kind=Kind.FRESH_SCREENING)
    outbox.dispatch()
    assert refreshed(reminder).state == State.SENT
    assert links.screening_url(world.client) in mail.outbox[0].body


def test_moved_email_links_carry_the_new_time(world, monkeypatch):
    from sessions.reminders import links

    reminder = reminder_for(world, kind=Kind.MOVED)
    outbox.dispatch()
    assert links.confirm_url(reminder.appointment) in mail.outbox[0].body


def test_send_reminder_task_not_due_or_backing_off_not_sent(world):
    early = reminder_for(world, due_at=timezone.now() + datetime.timedelta(hours=1))
    assert tasks_reminders.send_reminder(early.pk) == "not claimed"
    Reminder.objects.filter(pk=early.pk).update(
        due_at=timezone.now(), retry_at=timezone.now() + datetime.timedelta(minutes=2)
    )
    assert tasks_reminders.send_reminder(early.pk) == "not claimed"
    assert refreshed(early).state == State.DUE
    assert mail.outbox == []


def test_dispatch_queries_per_reminder_do_not_grow(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    record_screening(world.client)

    def queries_for(count, offset):
        for n in range(offset, offset + count):
            appointment = AppointmentFactory(
                client=world.client, masseur=world.masseur, starts_at=STARTS + datetime.timedelta(hours=2 * n)
            )
            Reminder.objects.create(
                client=world.client,
                appointment=appointment,
                kind=Kind.APPOINTMENT,
                key=planning.appointment_key(appointment, Kind.APPOINTMENT),
                due_at=timezone.now() - datetime.timedelta(minutes=1),
            )
        with CaptureQueriesContext(connection) as captured:
            assert outbox.dispatch()["sent"] == count
        return len(captured)

    one, ten = queries_for(1, 0), queries_for(10, 1)
    # Reap, claim the batch, load it, finish the sent: the same four whatever the count.
    assert ten == one == 4


@pytest.mark.parametrize(
    ("sex", "full_name", "greeting"),
    [
        ("female", "Олена Петренко", "Шановна Олено,"),
        ("male", "Андрій Петренко", "Шановний Андрію,"),
        ("female", "Коваленко Оксана Петрівна", "Шановна Оксано Петрівно,"),
        ("male", "Микола Іванович Петренко", "Шановний Миколо Івановичу,"),
    ],
)
def test_email_ukrainian_greeting_is_in_the_vocative_and_agrees_with_the_clients_sex(world, sex, full_name, greeting):
    reminder_for(world, language="uk", sex=sex, full_name=full_name)
    outbox.dispatch()
    assert mail.outbox[0].body.startswith(f"{greeting}\n")
    assert f"<p>{greeting}</p>" in mail.outbox[0].alternatives[0][0]


def test_email_english_greeting_uses_the_given_name(world):
    reminder_for(world, language="en", sex="female", full_name="Oksana Kovalenko")
    outbox.dispatch()
    assert mail.outbox[0].body.startswith("Dear Oksana,\n")


def test_email_names_the_masseur_in_ukrainian_without_a_generic_title(world):
    reminder_for(world, language="uk")
    outbox.dispatch()
    body = mail.outbox[0].body
    assert f"вас прийме {world.masseur.display_name}" in body
    assert "масажист(ка)" not in body


@pytest.mark.parametrize(("language", "address"), [("uk", "Київ, Печерський район"), ("en", "Kyiv, Pechersk district")])
def test_email_footer_gives_the_parlors_address_in_the_clients_language(world, settings, language, address):
    settings.PARLOR_NAME_UK, settings.PARLOR_NAME_EN = "Салон «Спина»", "Spyna parlor"
    reminder_for(world, language=language)
    outbox.dispatch()
    message = mail.outbox[0]
    name = settings.PARLOR_NAME_EN if language == "en" else settings.PARLOR_NAME_UK
    assert f"{name}, {address}." in message.body
    other = "Kyiv, Pechersk district" if language == "uk" else "Київ, Печерський район"
    assert other not in message.body and other not in message.alternatives[0][0]


def test_course_changed_email_lists_the_whole_updated_course_with_its_calendar_file(world):
    record_screening(world.client)
    course = CourseFactory(client=world.client, massage_type=world.massage_type, planned_sessions=3)
    for start in (STARTS, STARTS + datetime.timedelta(days=7), STARTS + datetime.timedelta(days=14)):
        AppointmentFactory(
            course=course, client=world.client, masseur=world.masseur, massage_type=world.massage_type, starts_at=start
        )
    world.client.language = "en"
    world.client.save()
    planning.plan_course_changed(course)
    outbox.dispatch()
    message = mail.outbox[0]
    assert message.subject == "Your course has changed: 3 sessions"
    assert "1 March 2027 at 10:00" in message.body and "15 March 2027 at 10:00" in message.body
    (name, content, mimetype) = message.attachments[0]
    assert (name, mimetype) == ("course.ics", "text/calendar; method=REQUEST")
    assert len(Calendar.from_ical(content).walk("VEVENT")) == 3


def test_course_changed_email_of_a_cancelled_course_is_skipped(world):
    course = CourseFactory(client=world.client, massage_type=world.massage_type, planned_sessions=1)
    (reminder,) = planning.plan_course_changed(course)
    course.status = course.Status.CANCELLED
    course.save()
    outbox.dispatch()
    assert (refreshed(reminder).state, refreshed(reminder).reason) == (State.SKIPPED, Reminder.Reason.COURSE_CANCELLED)
    assert mail.outbox == []
