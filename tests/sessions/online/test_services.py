"""Online booking's services: the ten-minute hold, the screening's say at confirmation, the limit of
unconfirmed bookings, the front desk's call, and the client's own cancel and move."""

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sessions.booking import freed
from sessions.booking import services as booking
from sessions.models import Appointment, CallRequest, Course, OnlinePolicy, Reminder, ReminderPolicy
from sessions.online import selectors, services
from sessions.reminders import outbox
from tests.factories import ClientFactory
from tests.sessions.factories import AppointmentFactory
from tests.sessions.online.conftest import NINE, NOW, TUESDAY, condition_names, screen

pytestmark = pytest.mark.django_db
HOUR = datetime.timedelta(hours=1)


def taken(parlor, starts_at):
    """Another client's appointment at that time (written straight to the table)."""
    return AppointmentFactory(
        massage_type=parlor.massage_type, masseur=parlor.masseur, room=parlor.room, starts_at=starts_at
    )


def hold(client, parlor, starts_at=NINE, **kwargs):
    return services.reservation_make(client=client, massage_type=parlor.massage_type, starts_at=starts_at, **kwargs)


# --- the hold ---------------------------------------------------------------------------------------


def test_a_hold_is_reserved_for_ten_minutes_online_with_no_reminder(parlor, known):
    appointment = hold(known, parlor)

    assert appointment.status == Appointment.Status.RESERVED
    assert NOW + datetime.timedelta(minutes=10) <= appointment.reserved_until < NOW + datetime.timedelta(minutes=11)
    assert appointment.channel == Appointment.Channel.ONLINE
    assert appointment.booked_by is None
    assert (appointment.masseur, appointment.room) == (parlor.masseur, parlor.room)
    assert Reminder.objects.count() == 0


def test_a_hold_keeps_the_time_from_the_front_desk_too(parlor, known, receptionist):
    hold(known, parlor)

    with pytest.raises(ValidationError) as error:
        booking.appointment_book(
            client=ClientFactory(),
            massage_type=parlor.massage_type,
            masseur=parlor.masseur,
            room=parlor.room,
            starts_at=NINE,
            booked_by=receptionist,
        )

    assert error.value.message_dict["masseur"] == ["Олена already has an appointment at this time."]


def test_the_database_refuses_a_second_live_row_over_a_hold(parlor, known):
    from django.db import IntegrityError, transaction

    first = hold(known, parlor)
    other = ClientFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.create(
            client=other,
            massage_type=first.massage_type,
            masseur=first.masseur,
            room=first.room,
            starts_at=first.starts_at,
            ends_at=first.ends_at,
            blocks_until=first.blocks_until,
        )


def test_free_times_leave_out_a_held_time(parlor, known):
    before = [t.starts_at for t in selectors.free_times(massage_type=parlor.massage_type, day=TUESDAY)]
    hold(known, parlor)
    after = [t.starts_at for t in selectors.free_times(massage_type=parlor.massage_type, day=TUESDAY)]

    assert NINE in before
    assert NINE not in after


def test_holding_another_time_frees_the_first(parlor, known):
    first = hold(known, parlor)
    second = hold(known, parlor, starts_at=NINE + 2 * HOUR)

    assert not Appointment.objects.filter(pk=first.pk).exists()
    assert list(Appointment.objects.values_list("pk", flat=True)) == [second.pk]


def test_holding_a_time_over_the_clients_own_hold_replaces_it(parlor, known):
    # One masseur, one room: the new time is free only once the first hold is gone.
    hold(known, parlor)
    second = hold(known, parlor, starts_at=NINE + datetime.timedelta(minutes=30))

    assert second.starts_at == NINE + datetime.timedelta(minutes=30)
    assert list(Appointment.objects.values_list("pk", flat=True)) == [second.pk]


def test_holding_the_same_time_twice_returns_the_first_hold(parlor, known):
    first = hold(known, parlor)

    assert hold(known, parlor).pk == first.pk
    assert Appointment.objects.count() == 1


def test_a_time_taken_by_another_hold_is_refused_as_taken(parlor, known):
    hold(ClientFactory(), parlor)

    with pytest.raises(ValidationError) as error:
        hold(known, parlor)

    assert error.value.error_dict["__all__"][0].code == services.TAKEN
    assert error.value.messages == ["Someone has just taken this time."]


def test_a_time_less_than_an_hour_ahead_is_not_held(parlor, known):
    with pytest.raises(ValidationError) as error:
        hold(known, parlor, starts_at=NOW + datetime.timedelta(minutes=30))

    assert error.value.error_dict["__all__"][0].code == services.TAKEN


def test_any_masseur_takes_the_one_free_then(db, now, known):
    from tests.sessions.online.conftest import make_parlor

    parlor = make_parlor(masseurs=2, rooms=2)
    hold(ClientFactory(), parlor, masseur=parlor.masseur)

    second = hold(known, parlor)

    assert second.masseur != parlor.masseur
    assert second.room != parlor.room


def test_the_unconfirmed_limit_counts_a_course_once(parlor, known):
    OnlinePolicy.objects.update_or_create(pk=1, defaults={"max_unconfirmed": 2})
    screen(known)
    services.course_reservation_make(client=known, massage_type=parlor.massage_type, start_date=TUESDAY)
    assert services.reservation_confirm(client=known).outcome == services.BOOKED
    hold(known, parlor, starts_at=NINE + datetime.timedelta(days=10))
    assert services.reservation_confirm(client=known).outcome == services.BOOKED

    with pytest.raises(ValidationError) as error:
        hold(known, parlor, starts_at=NINE + datetime.timedelta(days=11))

    assert error.value.error_dict["__all__"][0].code == services.TOO_MANY
    assert selectors.unconfirmed_online(client=known) == 2


def test_a_confirmed_booking_does_not_count_towards_the_limit(parlor, known):
    OnlinePolicy.objects.update_or_create(pk=1, defaults={"max_unconfirmed": 1})
    screen(known)
    hold(known, parlor)
    (booked,) = services.reservation_confirm(client=known).appointments
    Appointment.objects.filter(pk=booked.pk).update(status=Appointment.Status.CONFIRMED)

    assert hold(known, parlor, starts_at=NINE + datetime.timedelta(days=1)).status == Appointment.Status.RESERVED


# --- expiry ---------------------------------------------------------------------------------------


def test_expired_holds_are_freed_and_the_others_kept(parlor, known):
    old = hold(known, parlor)
    with time_machine.travel(NOW + datetime.timedelta(minutes=5), tick=False):
        fresh = hold(ClientFactory(), parlor, starts_at=NINE + 2 * HOUR)

    with time_machine.travel(NOW + datetime.timedelta(minutes=11), tick=False):
        assert services.reservations_expire() == 1

    assert not Appointment.objects.filter(pk=old.pk).exists()
    assert Appointment.objects.get(pk=fresh.pk).status == Appointment.Status.RESERVED


def test_an_expired_course_hold_goes_with_its_course(parlor, known):
    services.course_reservation_make(client=known, massage_type=parlor.massage_type, start_date=TUESDAY)
    assert Course.objects.count() == 1

    with time_machine.travel(NOW + datetime.timedelta(minutes=11), tick=False):
        assert services.reservations_expire() == 5

    assert Course.objects.count() == 0
    assert Appointment.objects.count() == 0


def test_the_freed_time_is_told_after_the_commit(parlor, known, django_capture_on_commit_callbacks, monkeypatch):
    heard = []
    monkeypatch.setattr(freed, "_listeners", [heard.append])
    hold(known, parlor)

    later = NOW + datetime.timedelta(minutes=11)
    with time_machine.travel(later, tick=False), django_capture_on_commit_callbacks(execute=True):
        services.reservations_expire()

    assert [(t.masseur_id, t.starts_at, t.why) for t in heard] == [(parlor.masseur.pk, NINE, "hold_expired")]


def test_a_confirmation_after_the_ten_minutes_is_refused_and_frees_the_time(parlor, known):
    screen(known)
    hold(known, parlor)

    with time_machine.travel(NOW + datetime.timedelta(minutes=10, seconds=1), tick=False):
        result = services.reservation_confirm(client=known)

    assert result.outcome == services.EXPIRED
    assert Appointment.objects.count() == 0


# --- the screening's say --------------------------------------------------------------------------


def test_allowed_is_booked_with_a_booked_email_that_names_no_finding(parlor, known, mailoutbox):
    screen(known, "high-blood-pressure")  # adapted: booked, the adaptation is the masseur's
    hold(known, parlor)

    result = services.reservation_confirm(client=known)

    (appointment,) = result.appointments
    appointment.refresh_from_db()
    assert result.outcome == services.BOOKED
    assert (appointment.status, appointment.reserved_until) == (Appointment.Status.BOOKED, None)
    booked = Reminder.objects.get(kind=Reminder.Kind.BOOKED)
    assert Reminder.objects.filter(kind=Reminder.Kind.APPOINTMENT, appointment=appointment).exists()
    assert outbox.send_one(booked.pk) == "sent"
    (email,) = mailoutbox
    body = email.body + email.alternatives[0][0]
    assert email.subject == "Ваш масаж заброньовано: 2 лютого 2027 о 09:00"
    assert "Шановна Оксано Петрівно," in body
    assert not any(name in body for name in condition_names("high-blood-pressure"))
    assert "шиї" not in body and "neck" not in body
    assert email.attachments[0][0] == "appointment.ics"


def test_needing_a_clearance_is_booked_awaiting_it_and_the_email_asks_for_the_note(parlor, known, mailoutbox):
    screen(known, "skin-disease")
    hold(known, parlor)

    result = services.reservation_confirm(client=known)

    assert result.outcome == services.AWAITING
    assert Appointment.objects.get().status == Appointment.Status.AWAITING_CLEARANCE
    outbox.send_one(Reminder.objects.get(kind=Reminder.Kind.BOOKED).pk)
    body = mailoutbox[0].body
    assert "принесіть з собою дозвіл лікаря" in body
    assert not any(name in body for name in condition_names("skin-disease"))


def test_needing_a_screening_changes_nothing(parlor, known):
    held = hold(known, parlor)

    result = services.reservation_confirm(client=known)

    assert result.outcome == services.NEEDS_SCREENING
    held.refresh_from_db()
    assert held.status == Appointment.Status.RESERVED


def test_a_stale_screening_needs_the_questionnaire(parlor, known):
    screen(known, taken_at=NOW - datetime.timedelta(days=120))
    hold(known, parlor)

    assert services.reservation_confirm(client=known).outcome == services.NEEDS_SCREENING


def test_a_self_report_after_the_hold_lets_it_be_booked(parlor, known):
    from screening.models import Screening

    hold(known, parlor)
    screen(known, source=Screening.Source.SELF_REPORTED)

    assert services.reservation_confirm(client=known).outcome == services.BOOKED


def test_blocked_books_nothing_and_the_front_desk_gets_a_call_without_health_detail(
    parlor, known, mailoutbox, django_capture_on_commit_callbacks
):
    screen(known, "oncology")
    hold(known, parlor)

    with django_capture_on_commit_callbacks(execute=True):
        result = services.reservation_confirm(client=known)

    assert result.outcome == services.BLOCKED
    assert Appointment.objects.count() == 0
    call = CallRequest.objects.get()
    assert (call.client, call.reason, call.wanted_at) == (known, CallRequest.Reason.SCREENING_BLOCKS, NINE)
    assert call.notified_at is not None
    (notice,) = mailoutbox
    text = notice.subject + notice.body + notice.alternatives[0][0]
    # The front desk reads the parlor's language (the tests' is English).
    assert notice.subject == "Please call Оксана Петрівна Коваленко"
    assert str(known.phone) in text
    assert not any(name in text for name in condition_names("oncology"))


def test_the_call_notice_goes_once(parlor, known, mailoutbox):
    call = services.call_request_create(
        client=known, reason=CallRequest.Reason.SCREENING_BLOCKS, massage_type=parlor.massage_type, wanted_at=NINE
    )

    assert services.call_notice_send(call_id=call.pk) is True
    assert services.call_notice_send(call_id=call.pk) is False
    assert len(mailoutbox) == 1


def test_trying_again_before_the_call_adds_no_second_call(
    parlor, known, mailoutbox, django_capture_on_commit_callbacks
):
    screen(known, "oncology")
    for starts_at in (NINE, NINE + HOUR):
        hold(known, parlor, starts_at=starts_at)
        with django_capture_on_commit_callbacks(execute=True):
            assert services.reservation_confirm(client=known).outcome == services.BLOCKED

    assert CallRequest.objects.count() == 1
    assert len(mailoutbox) == 1


def test_marking_a_call_made_needs_the_permission(parlor, known, receptionist, masseur_user):
    call = CallRequest.objects.create(
        client=known, reason=CallRequest.Reason.SCREENING_BLOCKS, massage_type=parlor.massage_type, wanted_at=NINE
    )
    with pytest.raises(PermissionDenied):
        services.call_request_done(call=call, by=masseur_user)

    services.call_request_done(call=call, by=receptionist)

    call.refresh_from_db()
    assert call.done_by == receptionist


# --- courses --------------------------------------------------------------------------------------


def test_a_course_is_held_whole_from_the_types_defaults(parlor, known):
    course = services.course_reservation_make(client=known, massage_type=parlor.massage_type, start_date=TUESDAY)

    assert (course.planned_sessions, course.cadence, course.created_by) == (5, "daily", None)
    assert list(course.appointments.values_list("status", flat=True)) == ["reserved"] * 5
    assert [a.starts_at.date() for a in course.appointments.order_by("starts_at")] == [
        TUESDAY + datetime.timedelta(days=n) for n in range(5)
    ]


def test_holding_the_course_again_keeps_its_times(parlor, known):
    # Proposed as if the held course were free already: not around its own sessions.
    first = services.course_reservation_make(client=known, massage_type=parlor.massage_type, start_date=TUESDAY)
    times = list(first.appointments.order_by("starts_at").values_list("starts_at", flat=True))

    second = services.course_reservation_make(client=known, massage_type=parlor.massage_type, start_date=TUESDAY)

    assert second.pk != first.pk
    assert list(second.appointments.order_by("starts_at").values_list("starts_at", flat=True)) == times
    assert list(Course.objects.values_list("pk", flat=True)) == [second.pk]


def test_a_confirmed_course_is_booked_whole_with_its_schedule_email(parlor, known):
    screen(known)
    services.course_reservation_make(client=known, massage_type=parlor.massage_type, start_date=TUESDAY)

    result = services.reservation_confirm(client=known)

    assert result.outcome == services.BOOKED
    assert list(result.course.appointments.values_list("status", flat=True)) == ["booked"] * 5
    assert Reminder.objects.filter(kind=Reminder.Kind.COURSE_BOOKED, course=result.course).count() == 1


def test_a_course_with_a_taken_session_holds_nothing(parlor, known, monkeypatch):
    # Another client books the third morning between the proposal and the hold.
    real = services.course_proposal

    def racing(**kwargs):
        proposal = real(**kwargs)
        third = proposal[2]
        taken(parlor, third.starts_at)
        return proposal

    monkeypatch.setattr(services, "course_proposal", racing)

    with pytest.raises(ValidationError) as error:
        services.course_reservation_make(client=known, massage_type=parlor.massage_type, start_date=TUESDAY)

    assert error.value.error_dict["__all__"][0].code == services.TAKEN
    assert not Course.objects.filter(client=known).exists()


def test_a_blocked_course_books_none_of_it(parlor, known):
    screen(known, "oncology")
    services.course_reservation_make(client=known, massage_type=parlor.massage_type, start_date=TUESDAY)

    assert services.reservation_confirm(client=known).outcome == services.BLOCKED
    assert not Course.objects.exists()
    assert CallRequest.objects.count() == 1


# --- the client's own appointments ----------------------------------------------------------------


@pytest.fixture
def booked(parlor, known):
    screen(known)
    hold(known, parlor)
    (appointment,) = services.reservation_confirm(client=known).appointments
    return appointment


def test_the_client_cancels_online_before_the_cutoff(booked, known, django_capture_on_commit_callbacks, monkeypatch):
    heard = []
    monkeypatch.setattr(freed, "_listeners", [heard.append])

    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_cancel_online(client=known, appointment=booked)

    booked.refresh_from_db()
    assert (booked.status, booked.cancellation_reason_text) == ("cancelled", "Cancelled by the client online.")
    assert [t.why for t in heard] == ["cancelled"]


def test_cancelling_after_the_cutoff_is_too_late(booked, known):
    ReminderPolicy.objects.update_or_create(pk=1, defaults={"cancel_cutoff_hours": 24})

    with pytest.raises(ValidationError) as error:
        services.appointment_cancel_online(client=known, appointment=booked)

    assert error.value.code == services.TOO_LATE


def test_nobody_cancels_or_moves_another_clients_appointment(booked):
    stranger = ClientFactory()
    with pytest.raises(PermissionDenied):
        services.appointment_cancel_online(client=stranger, appointment=booked)
    with pytest.raises(PermissionDenied):
        services.appointment_move_online(client=stranger, appointment=booked, starts_at=NINE + HOUR)


def test_the_client_moves_online_to_a_free_time(booked, known):
    moved = services.appointment_move_online(client=known, appointment=booked, starts_at=NINE + 2 * HOUR)

    assert moved.starts_at == NINE + 2 * HOUR
    assert moved.status == Appointment.Status.BOOKED
    assert Reminder.objects.filter(kind=Reminder.Kind.MOVED, appointment=moved).count() == 1


def test_moving_to_a_taken_time_says_taken(booked, known, parlor):
    taken(parlor, NINE + 2 * HOUR)

    with pytest.raises(ValidationError) as error:
        services.appointment_move_online(client=known, appointment=booked, starts_at=NINE + 2 * HOUR)

    assert error.value.error_dict["__all__"][0].code == services.TAKEN


# --- reads ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("masseurs", [1, 8])
def test_free_times_take_one_query_whatever_the_staff(db, now, masseurs):
    from tests.sessions.online.conftest import make_parlor

    parlor = make_parlor(masseurs=masseurs)
    with CaptureQueriesContext(connection) as queries:
        times = selectors.free_times(massage_type=parlor.massage_type, day=TUESDAY)

    assert len(queries) == 1  # availability with the closed days (issue 12), in one statement
    # 09:00-13:00, 40 + 15 minutes, every 30 minutes: 09:00 ... 12:00 (the 12:30 start would end at 13:10).
    assert [t.local.strftime("%H:%M") for t in times] == ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "12:00"]
    assert len(times[0].masseurs) == masseurs
