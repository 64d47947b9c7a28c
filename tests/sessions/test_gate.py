"""Every path that books or changes an appointment asks the same gate, against the real screening rules:
courses and the stale-screening rule, overrides per block, booking awaiting a clearance, moving, the
client's confirmation and signing the session log."""

import datetime
import uuid

import pytest
from django.core import mail
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.urls import reverse
from django.utils import timezone

from screening import services as screening_services
from screening.models import Contraindication, Screening
from sessions.booking import services
from sessions.booking.services import SessionChoice, appointment_book, appointment_move, course_book
from sessions.flags import scan as flag_scan
from sessions.flags import tasks as tasks_flags
from sessions.models import Appointment, Course, Flag, Hold, Override, Reminder
from sessions.reminders import client_actions, outbox, planning
from sessions.reminders import tasks as tasks_reminders
from tests.factories import ClientFactory, UserFactory, WorkingHoursFactory
from tests.sessions.factories import AppointmentFactory

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
REAL_VERDICT = services._verdict
# world's clock: Monday 2027-02-01 10:00Z. Sessions from Monday 2027-03-01, 10:00 Kyiv (08:00Z).
START = datetime.datetime(2027, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def real_verdict(monkeypatch):
    monkeypatch.setattr("sessions.booking.services._verdict", REAL_VERDICT)


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr(tasks_reminders, "queue_sends", lambda ids: None)
    monkeypatch.setattr(tasks_flags.raise_client_flags, "apply_async", lambda *args, **kwargs: None)


@pytest.fixture
def daily(world):
    """The world's masseur works every day 09:00-13:00 Kyiv."""
    for weekday in range(1, 7):
        WorkingHoursFactory(masseur=world.masseur, weekday=weekday, starts=datetime.time(9), ends=datetime.time(13))
    return world


def screen(client, *codes, taken_at=None, source=Screening.Source.STAFF, details=None):
    catalogue = {c.code: c for c in Contraindication.objects.filter(code__in=codes)}
    details = details or {}
    return screening_services.screening_record(
        client=client,
        answers={"questions": {code: {"answer": True} for code in codes}},
        findings=[
            screening_services.FindingInput(contraindication=catalogue[code], details=details.get(code, {}))
            for code in codes
        ],
        taken_by=None,
        source=source,
        submission_key=uuid.uuid4(),
        taken_at=taken_at or timezone.now(),
    )


def permission(client, code, *, issued_on=datetime.date(2027, 2, 1), valid_until=datetime.date(2027, 6, 1)):
    return screening_services.clearance_add(
        client=client,
        kind="permission",
        doctor_name="Д-р Савченко",
        issued_on=issued_on,
        valid_until=valid_until,
        covers_contraindication=Contraindication.objects.get(code=code),
        created_by=None,
    )


def days(world, count, *, start=START):
    return [SessionChoice(start + datetime.timedelta(days=n), world.masseur, world.room) for n in range(count)]


def book_course(world, sessions, **overrides):
    arguments = {
        "client": world.client,
        "massage_type": world.massage_type,
        "indication": Course.Indication.BACK_PAIN,
        "planned_sessions": len(sessions),
        "cadence": Course.Cadence.DAILY,
        "sessions": sessions,
        "booked_by": world.user,
    }
    return course_book(**(arguments | overrides))


def statuses(course) -> list[str]:
    return list(course.appointments.order_by("starts_at").values_list("status", flat=True))


# --- the stale-screening rule -----------------------------------------------------------------------


def test_a_ten_day_course_on_an_85_day_old_screening_is_booked_whole(daily):
    screen(daily.client, taken_at=START - datetime.timedelta(days=85))

    course = book_course(daily, days(daily, 10))

    assert statuses(course) == ["booked"] * 10


def test_a_course_on_a_screening_older_than_the_limit_is_refused(daily):
    screen(daily.client, taken_at=START - datetime.timedelta(days=91))

    with pytest.raises(services.CourseBookingError) as error:
        book_course(daily, days(daily, 2))

    assert [f.number for f in error.value.failures] == [1, 2]
    assert not Course.objects.exists()


def test_a_single_session_on_day_95_after_the_screening_is_refused(daily):
    screen(daily.client, taken_at=START - datetime.timedelta(days=95))

    with pytest.raises(ValidationError) as error:
        appointment_book(
            client=daily.client,
            massage_type=daily.massage_type,
            masseur=daily.masseur,
            room=daily.room,
            starts_at=START,
            booked_by=daily.user,
        )

    assert error.value.message_dict[NON_FIELD_ERRORS][0].startswith("The client needs an up-to-date screening first")


def test_the_scan_asks_for_a_fresh_screening_only_past_the_limit_by_more_than_a_course_length(daily):
    screen(daily.client, taken_at=START - datetime.timedelta(days=85))
    course = book_course(daily, days(daily, 10))
    in_course = course.appointments.order_by("starts_at").last()  # screening day 94
    # An eleventh session added much later: day 85 + 20, past 90 + 10.
    late = AppointmentFactory(
        client=daily.client,
        massage_type=daily.massage_type,
        masseur=daily.masseur,
        room=daily.room,
        course=course,
        starts_at=START + datetime.timedelta(days=20),
    )

    for appointment in (in_course, late):
        flag_scan.flags_check(appointment=appointment)

    assert not in_course.flags.exists()
    flag = late.flags.get()
    assert flag.kind == Flag.Kind.SCREENING_STALE
    assert flag.what_changed.startswith("The course has run past the 90-day limit of the screening of")
    assert flag.what_changed.endswith("take a fresh screening with the client before this session.")
    assert Appointment.objects.get(pk=late.pk).status == "booked"  # asked for, not held


# --- overrides per block ----------------------------------------------------------------------------


def test_a_move_onto_a_day_with_a_new_block_needs_a_new_override(daily, manager):
    screen(daily.client, "oncology", taken_at=START - datetime.timedelta(days=30))
    appointment = appointment_book(
        client=daily.client,
        massage_type=daily.massage_type,
        masseur=daily.masseur,
        room=daily.room,
        starts_at=START,
        booked_by=manager,
        override_reason="Лист онколога",
    )
    # A first-trimester pregnancy recorded since: the override was written for the oncology only.
    screen(
        daily.client, "oncology", "pregnancy", taken_at=timezone.now(), details={"pregnancy": {"pregnancy_weeks": 5}}
    )

    with pytest.raises(ValidationError) as error:
        appointment_move(appointment=appointment, starts_at=START + datetime.timedelta(days=1), moved_by=manager)
    assert "write the reason for the override" in error.value.messages[0]

    appointment_move(
        appointment=appointment,
        starts_at=START + datetime.timedelta(days=1),
        moved_by=manager,
        override_reason="Гінеколог дозволяє",
    )
    assert list(Override.objects.order_by("at", "pk").values_list("covers", flat=True)) == [
        ["oncology"],
        ["oncology", "pregnancy"],
    ]


def test_a_move_within_what_the_override_covers_needs_no_new_reason(daily, manager):
    screen(daily.client, "oncology", taken_at=START - datetime.timedelta(days=30))
    appointment = appointment_book(
        client=daily.client,
        massage_type=daily.massage_type,
        masseur=daily.masseur,
        room=daily.room,
        starts_at=START,
        booked_by=manager,
        override_reason="Лист онколога",
    )

    moved = appointment_move(appointment=appointment, starts_at=START + datetime.timedelta(days=1), moved_by=manager)

    assert moved.appointment.starts_at == START + datetime.timedelta(days=1)
    assert Override.objects.count() == 1


# --- booking while a clearance is awaited -------------------------------------------------------------


def test_a_course_needing_a_clearance_is_refused_unless_booked_awaiting_it(daily):
    screen(daily.client, "skin-disease", taken_at=timezone.now() - datetime.timedelta(days=3))

    with pytest.raises(services.CourseBookingError) as error:
        book_course(daily, days(daily, 3))
    assert error.value.failures[0].messages[0].startswith("A doctor's clearance must be recorded first")

    course = book_course(daily, days(daily, 3), await_clearance=True)

    assert statuses(course) == ["awaiting_clearance"] * 3


def test_sessions_awaiting_a_clearance_keep_their_slots(daily):
    screen(daily.client, "skin-disease", taken_at=timezone.now() - datetime.timedelta(days=3))
    book_course(daily, days(daily, 2), await_clearance=True)
    other = ClientFactory()
    screen(other)

    with pytest.raises(ValidationError) as error:
        appointment_book(
            client=other,
            massage_type=daily.massage_type,
            masseur=daily.masseur,
            room=daily.room,
            starts_at=START,
            booked_by=daily.user,
        )

    assert error.value.message_dict["masseur"] == ["Олена already has an appointment at this time."]


def test_an_absolute_contraindication_still_refuses_a_booking_awaiting_a_clearance(daily):
    screen(daily.client, "oncology", "skin-disease", taken_at=timezone.now() - datetime.timedelta(days=3))

    with pytest.raises(services.CourseBookingError) as error:
        book_course(daily, days(daily, 2), await_clearance=True)

    assert error.value.failures[0].messages[0].endswith("only a manager may override.")
    assert not Appointment.objects.exists()


def test_the_confirmation_of_a_course_awaiting_a_clearance_asks_for_the_document_without_a_diagnosis(daily):
    screen(daily.client, "skin-disease", taken_at=timezone.now() - datetime.timedelta(days=3))
    course = book_course(daily, days(daily, 2), await_clearance=True)

    reminder = Reminder.objects.get(course=course, kind=Reminder.Kind.COURSE_BOOKED)
    message = outbox.build_message(reminder)

    text = " ".join([message.subject, message.body, message.alternatives[0][0]]).lower()
    daily.client.language = "en"
    assert "шкір" not in text and "skin" not in text
    with_english = outbox.build_message(Reminder.objects.get(pk=reminder.pk))
    assert "/confirm/" not in with_english.body


def test_the_english_confirmation_asks_to_bring_the_doctors_permission(daily):
    daily.client.language = "en"
    daily.client.save()
    screen(daily.client, "skin-disease", taken_at=timezone.now() - datetime.timedelta(days=3))
    course = book_course(daily, days(daily, 2), await_clearance=True)

    message = outbox.build_message(Reminder.objects.get(course=course, kind=Reminder.Kind.COURSE_BOOKED))

    assert "Please bring your doctor's permission for massage with you" in message.body
    assert "skin" not in message.body.lower()


def test_a_clearance_recorded_books_the_awaiting_sessions_by_themselves(daily, django_capture_on_commit_callbacks):
    screen(daily.client, "skin-disease", taken_at=timezone.now() - datetime.timedelta(days=3))
    course = book_course(daily, days(daily, 3), await_clearance=True)

    with django_capture_on_commit_callbacks(execute=True):
        permission(daily.client, "skin-disease", valid_until=datetime.date(2027, 3, 2))

    # Covered through 2 March: the first two are booked, the third still awaits.
    assert statuses(course) == ["booked", "booked", "awaiting_clearance"]
    first = course.appointments.order_by("starts_at").first()
    assert Reminder.objects.filter(appointment=first, kind=Reminder.Kind.APPOINTMENT).exists()


def test_no_reminder_for_a_session_still_awaiting_a_clearance(daily):
    screen(daily.client, "skin-disease", taken_at=timezone.now() - datetime.timedelta(days=3))
    course = book_course(daily, days(daily, 1), await_clearance=True)
    reminder = Reminder.objects.get(appointment__course=course, kind=Reminder.Kind.APPOINTMENT)
    Reminder.objects.filter(pk=reminder.pk).update(due_at=timezone.now())

    assert outbox.send_one(reminder.pk) == "skipped"
    assert Reminder.objects.get(pk=reminder.pk).reason == Reminder.Reason.AWAITING_CLEARANCE


def test_the_scan_flags_the_first_awaiting_session_for_the_front_desk_48_hours_before(daily, time_machine):
    screen(daily.client, "skin-disease", taken_at=timezone.now() - datetime.timedelta(days=3))
    course = book_course(daily, days(daily, 3), await_clearance=True)
    first, second, _third = course.appointments.order_by("starts_at")
    time_machine.move_to(START - datetime.timedelta(hours=47))

    flag_scan.flag_scan(since=START - datetime.timedelta(hours=49))

    flag = Flag.objects.get()
    assert (flag.appointment_id, flag.kind) == (first.pk, "clearance_awaited")
    assert flag.what_changed == (
        "The doctor's clearance is still awaited and the session is in less than 48 hours: call the client."
    )
    assert statuses(course) == ["awaiting_clearance"] * 3


def test_the_dashboard_lists_the_sessions_awaiting_a_clearance_within_two_days(
    daily, client, receptionist, time_machine
):
    screen(daily.client, "skin-disease", taken_at=timezone.now() - datetime.timedelta(days=3))
    book_course(daily, days(daily, 3), await_clearance=True)
    time_machine.move_to(START - datetime.timedelta(hours=20))
    client.force_login(receptionist)

    page = client.get(reverse("parlor:dashboard")).content.decode()

    awaiting = page[page.index('data-testid="awaiting-clearance"') :]
    assert awaiting.count("data-appointment=") == 2  # 1 and 2 March, not 3 March


def test_course_create_offers_booking_awaiting_a_clearance_and_books_it(daily, reception_client):
    from tests.sessions.test_views_booking import CREATE, course_data, rows_data

    screen(daily.client, "skin-disease", taken_at=timezone.now() - datetime.timedelta(days=3))
    proposed = reception_client.post(CREATE, course_data(daily, planned_sessions=2))
    assert proposed.context["any_needs_clearance"] is True
    assert 'name="await_clearance"' in proposed.content.decode()

    data = course_data(daily, planned_sessions=2) | rows_data(proposed) | {"action": "book", "await_clearance": "on"}
    response = reception_client.post(CREATE, data)

    assert response.status_code == 302
    assert statuses(Course.objects.get()) == ["awaiting_clearance"] * 2


# --- the client's confirmation ------------------------------------------------------------------------


def test_a_client_confirming_a_booking_the_screening_no_longer_allows_puts_it_on_hold(
    daily, django_capture_on_commit_callbacks
):
    screen(daily.client, taken_at=timezone.now() - datetime.timedelta(days=3))
    appointment = appointment_book(
        client=daily.client,
        massage_type=daily.massage_type,
        masseur=daily.masseur,
        room=daily.room,
        starts_at=START,
        booked_by=daily.user,
    )
    # Recorded with the broker down: no check ran, so the booking still says "booked".
    screen(daily.client, "thrombosis")

    with django_capture_on_commit_callbacks(execute=True):
        result = client_actions.appointment_confirm_by_client(appointment=appointment)

    assert (result.changed, result.held) == (False, True)
    assert Appointment.objects.get(pk=appointment.pk).status == "on_hold"
    assert Hold.objects.get().source == "confirmation"
    assert len(mail.outbox) == 1


def test_the_confirm_page_says_call_us_when_it_held_the_appointment(daily, client):
    from sessions.reminders import links

    daily.client.language = "en"
    daily.client.save()
    screen(daily.client, taken_at=timezone.now() - datetime.timedelta(days=3))
    appointment = appointment_book(
        client=daily.client,
        massage_type=daily.massage_type,
        masseur=daily.masseur,
        room=daily.room,
        starts_at=START,
        booked_by=daily.user,
    )
    screen(daily.client, "thrombosis")

    response = client.post(reverse("sessions:link-confirm", args=[links.appointment_token(appointment, "confirm")]))

    assert "This appointment needs a call from the parlor first." in response.content.decode()
    assert 'data-testid="link-done"' not in response.content.decode()


def test_a_session_awaiting_a_clearance_cannot_be_confirmed_by_link(daily):
    screen(daily.client, "skin-disease", taken_at=timezone.now() - datetime.timedelta(days=3))
    course = book_course(daily, days(daily, 1), await_clearance=True)

    with pytest.raises(ValidationError) as error:
        client_actions.appointment_confirm_by_client(appointment=course.appointments.get())

    assert error.value.code == "on_hold"


# --- signing the session log ----------------------------------------------------------------------------


def test_signing_a_log_with_an_open_flag_is_refused():
    from sessions.care.logs import LogInput, sessionlog_save
    from tests.sessions.test_masseur_support import make_day

    day = make_day(second_finding=None)
    Appointment.objects.filter(pk=day.appointment.pk).update(status=Appointment.Status.CHECKED_IN)
    Flag.objects.create(appointment=day.appointment, kind="added", what_changed="x", change_key="late")
    data = LogInput(pain_before=5, pain_after=2, duration_minutes=40)

    with pytest.raises(ValidationError) as error:
        sessionlog_save(appointment=day.appointment, data=data, by=day.user, log_id=None, sign=True)

    assert error.value.messages == ["Acknowledge every flag before the session starts (open flags: 1)."]
    assert Appointment.objects.get(pk=day.appointment.pk).status == "checked_in"


def test_planning_the_hold_message_twice_makes_one(daily):
    appointment = AppointmentFactory(client=daily.client, starts_at=START)
    first = planning.plan_on_hold(appointment, key="hold:x")
    second = planning.plan_on_hold(appointment, key="hold:x")
    assert first.pk == second.pk


def test_only_a_manager_overrides(manager):
    desk = UserFactory(username="desk9", role="Receptionist")
    assert manager.has_perm(services.OVERRIDE_PERMISSION) and not desk.has_perm(services.OVERRIDE_PERMISSION)


# --- extending, cancelling ------------------------------------------------------------------------------


def test_extending_a_course_judges_the_new_sessions_as_sessions_of_the_course(daily):
    screen(daily.client, taken_at=START - datetime.timedelta(days=85))
    course = book_course(daily, days(daily, 8))

    # Screening days 93 and 94: too old for a single session, within the course's run.
    services.course_extend(
        course=course, sessions=days(daily, 2, start=START + datetime.timedelta(days=8)), booked_by=daily.user
    )

    assert statuses(course) == ["booked"] * 10


def test_a_session_awaiting_a_clearance_or_on_hold_can_be_cancelled(daily):
    screen(daily.client, "skin-disease", taken_at=timezone.now() - datetime.timedelta(days=3))
    course = book_course(daily, days(daily, 2), await_clearance=True)
    first, second = course.appointments.order_by("starts_at")
    Appointment.objects.filter(pk=second.pk).update(status=Appointment.Status.ON_HOLD)

    for appointment in (first, second):
        services.appointment_cancel(appointment=appointment, reason="Клієнт передумав", by=daily.user)

    assert statuses(course) == ["cancelled", "cancelled"]


def test_a_self_report_saying_no_does_not_open_the_booking_gate(daily):
    screen(daily.client, "oncology", taken_at=timezone.now() - datetime.timedelta(days=20))
    screen(daily.client, taken_at=timezone.now() - datetime.timedelta(days=1), source=Screening.Source.SELF_REPORTED)

    with pytest.raises(ValidationError) as error:
        appointment_book(
            client=daily.client,
            massage_type=daily.massage_type,
            masseur=daily.masseur,
            room=daily.room,
            starts_at=START,
            booked_by=daily.user,
        )

    assert error.value.message_dict[NON_FIELD_ERRORS][0].startswith("Massage is contraindicated")
    assert not Appointment.objects.exists()


# --- a new caller booked awaiting the screening (issue 12) -------------------------------------------


def test_a_new_caller_without_a_screening_is_booked_awaiting_it(daily):
    course = book_course(daily, days(daily, 3), await_clearance=True)

    assert statuses(course) == ["awaiting_clearance"] * 3


def test_without_awaiting_a_new_caller_without_a_screening_is_refused(daily):
    with pytest.raises(services.CourseBookingError) as error:
        book_course(daily, days(daily, 1))

    assert "The client needs an up-to-date screening first" in error.value.failures[0].messages[0]


def test_the_questionnaire_answered_books_the_sessions_awaiting_it(daily, django_capture_on_commit_callbacks):
    course = book_course(daily, days(daily, 3), await_clearance=True)

    with django_capture_on_commit_callbacks(execute=True):
        screen(daily.client, source=Screening.Source.SELF_REPORTED)

    assert statuses(course) == ["booked"] * 3


def test_the_course_email_asks_a_new_caller_for_the_questionnaire_with_its_link(daily, settings):
    settings.PARLOR_BASE_URL = "https://parlor.example"
    daily.client.language = "en"
    daily.client.save()
    course = book_course(daily, days(daily, 2), await_clearance=True)

    message = outbox.build_message(Reminder.objects.get(course=course, kind=Reminder.Kind.COURSE_BOOKED))

    assert "Please answer a few questions about your health before your first visit" in message.body
    assert "https://parlor.example/sessions/s/" in message.body
    assert "doctor's permission" not in message.body


def test_the_fresh_screening_request_still_goes_for_a_session_awaiting_it(daily):
    course = book_course(daily, days(daily, 1), await_clearance=True)
    reminder = Reminder.objects.get(appointment__course=course, kind=Reminder.Kind.FRESH_SCREENING)
    Reminder.objects.filter(pk=reminder.pk).update(due_at=timezone.now())

    assert outbox.send_one(reminder.pk) == "sent"
    assert "/sessions/s/" in mail.outbox[-1].body
