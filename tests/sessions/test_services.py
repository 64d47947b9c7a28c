import datetime
import uuid

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from parlor import roles
from sessions.booking.services import (
    CourseBookingError,
    SessionChoice,
    appointment_book,
    appointment_cancel,
    appointment_mark_no_show,
    appointment_move,
    course_book,
    course_cancel_rest,
    course_propose,
)
from sessions.models import Appointment, Course
from tests.factories import ClientFactory, MasseurFactory, RoomFactory, TimeOffFactory, UserFactory, WorkingHoursFactory
from tests.sessions.conftest import MONDAY, Status
from tests.sessions.factories import AppointmentFactory

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
TEN = datetime.datetime(2027, 3, 1, 8, 0, tzinfo=UTC)  # Monday 10:00 local


def book(world, **overrides):
    arguments = {
        "client": world.client,
        "massage_type": world.massage_type,
        "masseur": world.masseur,
        "room": world.room,
        "starts_at": TEN,
        "booked_by": world.user,
    }
    return appointment_book(**(arguments | overrides))


def errors_of(call) -> dict:
    with pytest.raises(ValidationError) as error:
        call()
    return error.value.message_dict


def test_appointment_book_happy_path_blocks_until_the_rest_ends(world, verdict):
    appointment = book(world)

    assert appointment.status == Appointment.Status.BOOKED
    assert appointment.ends_at == datetime.datetime(2027, 3, 1, 8, 40, tzinfo=UTC)
    assert appointment.blocks_until == datetime.datetime(2027, 3, 1, 8, 55, tzinfo=UTC)
    assert appointment.booked_by == world.user
    assert verdict.calls[0]["day"] == MONDAY


def test_appointment_book_same_request_key_returns_the_first(world):
    key = uuid.uuid4()

    first = book(world, request_key=key)
    second = book(world, request_key=key)

    assert first.pk == second.pk
    assert Appointment.objects.count() == 1


def test_appointment_book_in_the_past_names_starts_at(world):
    assert errors_of(lambda: book(world, starts_at=datetime.datetime(2027, 1, 4, 8, tzinfo=UTC))) == {
        "starts_at": ["This time has already passed."]
    }


def test_appointment_book_outside_working_hours_names_starts_at(world):
    # 12:30 local: the session would end 13:10, after the 13:00 close.
    assert errors_of(lambda: book(world, starts_at=datetime.datetime(2027, 3, 1, 10, 30, tzinfo=UTC))) == {
        "starts_at": ["Олена does not work at this time."]
    }


def test_appointment_book_on_a_day_off_names_starts_at(world):
    tuesday_ten = TEN + datetime.timedelta(days=1)
    assert errors_of(lambda: book(world, starts_at=tuesday_ten)) == {"starts_at": ["Олена does not work at this time."]}


def test_appointment_book_during_time_off_names_masseur(world):
    TimeOffFactory(masseur=world.masseur, starts_at=TEN, ends_at=TEN + datetime.timedelta(hours=1))

    assert errors_of(lambda: book(world)) == {"masseur": ["Олена is off at this time."]}


def test_appointment_book_unqualified_masseur_names_masseur(world):
    other = MasseurFactory(display_name="Ігор")
    WorkingHoursFactory(masseur=other, weekday=0, starts=datetime.time(9), ends=datetime.time(13))

    assert errors_of(lambda: book(world, masseur=other)) == {
        "masseur": [f"Ігор is not qualified for {world.massage_type.name}."]
    }


def test_appointment_book_busy_masseur_names_masseur(world):
    AppointmentFactory(masseur=world.masseur, massage_type=world.massage_type, starts_at=TEN)

    assert errors_of(lambda: book(world)) == {"masseur": ["Олена already has an appointment at this time."]}


def test_appointment_book_during_the_previous_rest_is_refused(world):
    AppointmentFactory(masseur=world.masseur, massage_type=world.massage_type, starts_at=TEN)

    errors = errors_of(lambda: book(world, starts_at=TEN + datetime.timedelta(minutes=50)))

    assert errors == {"masseur": ["Олена already has an appointment at this time."]}


def test_appointment_book_when_the_previous_rest_ends_is_allowed(world):
    AppointmentFactory(masseur=world.masseur, room=world.room, massage_type=world.massage_type, starts_at=TEN)

    appointment = book(world, starts_at=TEN + datetime.timedelta(minutes=55))

    assert appointment.starts_at == datetime.datetime(2027, 3, 1, 8, 55, tzinfo=UTC)


def test_appointment_book_room_taken_names_room(world):
    AppointmentFactory(room=world.room, massage_type=world.massage_type, starts_at=TEN)

    assert errors_of(lambda: book(world)) == {"room": ["Room A is taken at this time."]}


def test_appointment_book_client_elsewhere_names_client(world):
    AppointmentFactory(client=world.client, massage_type=world.massage_type, starts_at=TEN)

    assert errors_of(lambda: book(world)) == {"client": ["The client already has an appointment at this time."]}


def test_appointment_book_over_a_cancelled_one_is_allowed(world):
    AppointmentFactory(masseur=world.masseur, room=world.room, starts_at=TEN, status=Appointment.Status.CANCELLED)

    assert book(world).status == Appointment.Status.BOOKED


def test_appointment_book_constraint_race_becomes_the_same_message(world, monkeypatch):
    # As if the check ran before a concurrent booking committed: only the constraint sees it.
    monkeypatch.setattr("sessions.booking.services.appointment_conflicts", lambda **kwargs: {})
    AppointmentFactory(masseur=world.masseur, massage_type=world.massage_type, starts_at=TEN)

    assert errors_of(lambda: book(world)) == {"masseur": ["Олена already has an appointment at this time."]}


@pytest.mark.parametrize("status", [Status.ALLOWED, Status.ADAPTED])
def test_appointment_book_allowed_or_adapted_verdict_books(world, verdict, status):
    verdict.status = status

    appointment = book(world)

    assert (appointment.status, appointment.overrides.count()) == ("booked", 0)


@pytest.mark.parametrize(
    ("status", "message"),
    [
        # Issue 11: the reasons name findings, so a receptionist's message leaves them out.
        (Status.NEEDS_CLEARANCE, "A doctor's clearance must be recorded first."),
        (Status.NEEDS_SCREENING, "The client needs an up-to-date screening first."),
    ],
)
def test_appointment_book_verdict_needing_paperwork_refuses(world, verdict, status, message):
    verdict.status = status
    verdict.reasons = ["high blood pressure"]

    assert errors_of(lambda: book(world, override_reason="please")) == {NON_FIELD_ERRORS: [message]}
    assert not Appointment.objects.exists()


def test_appointment_book_refusal_names_the_reasons_to_a_manager(world, verdict, manager):
    verdict.status = Status.NEEDS_CLEARANCE
    verdict.reasons = ["high blood pressure"]

    assert errors_of(lambda: book(world, booked_by=manager)) == {
        NON_FIELD_ERRORS: ["A doctor's clearance must be recorded first (high blood pressure)."]
    }


def test_appointment_book_blocked_verdict_refuses_a_receptionist_even_with_a_reason(world, verdict):
    verdict.status = Status.BLOCKED
    verdict.reasons = ["fever"]

    assert errors_of(lambda: book(world, override_reason="she insists")) == {
        NON_FIELD_ERRORS: ["Massage is contraindicated; only a manager may override."]
    }


def test_appointment_book_blocked_verdict_refuses_a_manager_without_a_reason(world, verdict, manager):
    verdict.status = Status.BLOCKED
    verdict.reasons = ["fever"]

    assert errors_of(lambda: book(world, booked_by=manager, override_reason="  ")) == {
        NON_FIELD_ERRORS: ["Massage is contraindicated (fever); write the reason for the override."]
    }


def test_appointment_book_blocked_verdict_overridden_by_a_manager_with_a_reason(world, verdict, manager):
    verdict.status = Status.BLOCKED

    appointment = book(world, booked_by=manager, override_reason=" Doctor phoned: fever is gone ")

    override = appointment.overrides.get()
    assert (override.reason, override.by) == ("Doctor phoned: fever is gone", manager)


def test_appointment_book_override_reason_is_not_kept_when_not_needed(world, manager):
    appointment = book(world, booked_by=manager, override_reason="just in case")

    assert appointment.overrides.count() == 0


def test_appointment_move_to_a_free_time_returns_no_warning(world):
    appointment = book(world)

    moved, warnings = appointment_move(
        appointment=appointment, starts_at=TEN + datetime.timedelta(hours=1), moved_by=world.user
    )

    assert moved.starts_at == datetime.datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    assert moved.blocks_until == datetime.datetime(2027, 3, 1, 9, 55, tzinfo=UTC)
    assert warnings == []


def test_appointment_move_overlapping_itself_is_allowed(world):
    appointment = book(world)

    moved, _ = appointment_move(
        appointment=appointment, starts_at=TEN + datetime.timedelta(minutes=15), moved_by=world.user
    )

    assert moved.starts_at == datetime.datetime(2027, 3, 1, 8, 15, tzinfo=UTC)


def test_appointment_move_onto_another_appointment_names_masseur(world):
    appointment = book(world)
    AppointmentFactory(
        masseur=world.masseur, massage_type=world.massage_type, starts_at=TEN + datetime.timedelta(hours=2)
    )

    assert errors_of(
        lambda: appointment_move(
            appointment=appointment, starts_at=TEN + datetime.timedelta(hours=2), moved_by=world.user
        )
    ) == {"masseur": ["Олена already has an appointment at this time."]}


def test_appointment_move_of_a_cancelled_appointment_is_refused(world):
    appointment = book(world)
    appointment_cancel(appointment=appointment, reason="ill", by=world.user)

    assert errors_of(lambda: appointment_move(appointment=appointment, starts_at=TEN, moved_by=world.user)) == {
        "status": ["Only an upcoming appointment can be moved."]
    }


def test_appointment_move_leaving_a_long_gap_in_the_course_warns(world):
    WorkingHoursFactory(masseur=world.masseur, weekday=4, starts=datetime.time(9), ends=datetime.time(13))
    course = course_book(
        client=world.client,
        massage_type=world.massage_type,
        indication=Course.Indication.BACK_PAIN,
        planned_sessions=2,
        cadence=Course.Cadence.DAILY,
        sessions=[(TEN, world.masseur, world.room), (TEN + datetime.timedelta(days=7), world.masseur, world.room)],
        booked_by=world.user,
    )
    second = course.appointments.order_by("starts_at").last()

    _, warnings = appointment_move(appointment=second, starts_at=TEN + datetime.timedelta(days=4), moved_by=world.user)

    assert warnings == ["4 days since the previous session: a course works best with gaps of at most 2 days."]


def test_appointment_cancel_frees_the_slot(world):
    appointment = book(world)

    appointment_cancel(appointment=appointment, reason="Client is ill", by=world.user)
    again = book(world, client=ClientFactory())

    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancellation_reason) == (Appointment.Status.CANCELLED, "Client is ill")
    assert again.starts_at == TEN


def test_appointment_cancel_without_a_reason_names_reason(world):
    appointment = book(world)

    assert errors_of(lambda: appointment_cancel(appointment=appointment, reason=" ", by=world.user)) == {
        "reason": ["Say why the appointment is cancelled."]
    }


def test_appointment_cancel_twice_is_a_no_op(world):
    appointment = book(world)
    first = appointment_cancel(appointment=appointment, reason="ill", by=world.user)

    second = appointment_cancel(appointment=appointment, reason="other", by=world.user)

    assert (second.cancelled_at, second.cancellation_reason) == (first.cancelled_at, "ill")


def test_appointment_mark_no_show_before_the_start_is_refused(world):
    appointment = book(world)

    assert errors_of(lambda: appointment_mark_no_show(appointment=appointment, by=world.user)) == {
        "status": ["The appointment has not started yet."]
    }


def test_appointment_mark_no_show_after_the_start(world, time_machine):
    appointment = book(world)
    time_machine.move_to(TEN + datetime.timedelta(minutes=20))

    marked = appointment_mark_no_show(appointment=appointment, by=world.user)

    assert marked.status == Appointment.Status.NO_SHOW


def _course(world, sessions, **overrides):
    arguments = {
        "client": world.client,
        "massage_type": world.massage_type,
        "indication": Course.Indication.BACK_PAIN,
        "planned_sessions": len(sessions) or 1,
        "cadence": Course.Cadence.DAILY,
        "sessions": sessions,
        "booked_by": world.user,
    }
    return course_book(**(arguments | overrides))


def _mondays(world, count, hour_utc=8):
    return [
        SessionChoice(
            datetime.datetime(2027, 3, 1, hour_utc, tzinfo=UTC) + datetime.timedelta(weeks=n), world.masseur, world.room
        )
        for n in range(count)
    ]


def test_course_book_books_every_session(world):
    course = _course(world, _mondays(world, 3), cadence=Course.Cadence.WEEKDAYS, weekdays=[0])

    assert course.status == Course.Status.PLANNED
    assert list(course.appointments.values_list("starts_at", flat=True)) == [s.starts_at for s in _mondays(world, 3)]


def test_course_book_with_one_failing_session_books_nothing_and_says_which(world):
    AppointmentFactory(
        masseur=world.masseur, massage_type=world.massage_type, starts_at=_mondays(world, 2)[1].starts_at
    )

    with pytest.raises(CourseBookingError) as error:
        _course(world, _mondays(world, 3), cadence=Course.Cadence.WEEKDAYS, weekdays=[0])

    assert [(f.number, f.messages) for f in error.value.failures] == [
        (2, ["Олена already has an appointment at this time."])
    ]
    assert error.value.message_dict == {
        "sessions": ["Session 2 at 8 March 2027, 10:00: Олена already has an appointment at this time."]
    }
    assert not Course.objects.exists()
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize("planned", [0, 500])
def test_course_book_with_an_absurd_length_names_planned_sessions(world, planned):
    assert errors_of(lambda: _course(world, _mondays(world, 1), planned_sessions=planned)) == {
        "planned_sessions": ["A course has from 1 to 30 sessions."]
    }


def test_course_book_same_request_key_returns_the_first(world):
    key = uuid.uuid4()

    first = _course(world, _mondays(world, 2), request_key=key)
    second = _course(world, _mondays(world, 2), request_key=key)

    assert first.pk == second.pk
    assert Appointment.objects.count() == 2


def test_course_cancel_rest_cancels_only_upcoming_sessions(world, time_machine):
    course = _course(world, _mondays(world, 3))
    time_machine.move_to(datetime.datetime(2027, 3, 2, 8, tzinfo=UTC))

    cancelled = course_cancel_rest(course=course, reason="moved abroad", by=world.user)

    course.refresh_from_db()
    assert cancelled == 2
    assert course.status == Course.Status.CANCELLED
    assert list(course.appointments.order_by("starts_at").values_list("status", flat=True)) == [
        "booked",
        "cancelled",
        "cancelled",
    ]


def test_course_propose_daily_skips_days_the_masseur_does_not_work(world):
    WorkingHoursFactory(masseur=world.masseur, weekday=1, starts=datetime.time(9), ends=datetime.time(13))
    WorkingHoursFactory(masseur=world.masseur, weekday=3, starts=datetime.time(9), ends=datetime.time(13))

    proposals = course_propose(
        client=world.client,
        massage_type=world.massage_type,
        start_date=MONDAY,
        planned_sessions=4,
        cadence=Course.Cadence.DAILY,
        weekdays=[],
        masseur=world.masseur,
        preferred_time=datetime.time(10),
    )

    # Mon, Tue, Thu, then the next Monday: 10:00 local = 08:00Z.
    assert [p.starts_at for p in proposals] == [datetime.datetime(2027, 3, day, 8, tzinfo=UTC) for day in (1, 2, 4, 8)]
    assert [p.warnings for p in proposals] == [
        [],
        [],
        [],
        ["4 days since the previous session: a course works best with gaps of at most 2 days."],
    ]
    assert all(p.is_bookable and p.masseur == world.masseur and p.room == world.room for p in proposals)


def test_course_propose_takes_the_nearest_free_time_when_the_preferred_one_is_taken(world):
    AppointmentFactory(masseur=world.masseur, massage_type=world.massage_type, starts_at=TEN)

    (proposal,) = course_propose(
        client=world.client,
        massage_type=world.massage_type,
        start_date=MONDAY,
        planned_sessions=1,
        cadence=Course.Cadence.DAILY,
        weekdays=[],
        masseur=world.masseur,
        preferred_time=datetime.time(10),
    )

    # The other one blocks 10:00-10:55; 09:00 is an hour early, 11:00 an hour late: the earlier wins.
    assert proposal.starts_at == datetime.datetime(2027, 3, 1, 7, 0, tzinfo=UTC)
    assert proposal.warnings == ["10:00 is taken; the nearest free time is 09:00."]


def test_course_propose_a_full_day_is_a_conflict(world):
    RoomFactory._meta.model.objects.update(is_active=False)

    (proposal,) = course_propose(
        client=world.client,
        massage_type=world.massage_type,
        start_date=MONDAY,
        planned_sessions=1,
        cadence=Course.Cadence.DAILY,
        weekdays=[],
        masseur=world.masseur,
        preferred_time=datetime.time(10),
    )

    assert (proposal.starts_at, proposal.room, proposal.conflicts) == (TEN, None, ["No free time on this day."])
    assert not proposal.is_bookable


def test_course_propose_starting_in_the_past_names_start_date(world):
    assert errors_of(
        lambda: course_propose(
            client=world.client,
            massage_type=world.massage_type,
            start_date=datetime.date(2027, 1, 1),
            planned_sessions=3,
            cadence=Course.Cadence.DAILY,
            weekdays=[],
            masseur=world.masseur,
            preferred_time=None,
        )
    ) == {"start_date": ["The course cannot start in the past."]}


def test_course_propose_chosen_weekdays_without_any_names_weekdays(world):
    assert errors_of(
        lambda: course_propose(
            client=world.client,
            massage_type=world.massage_type,
            start_date=MONDAY,
            planned_sessions=3,
            cadence=Course.Cadence.WEEKDAYS,
            weekdays=[],
            masseur=world.masseur,
            preferred_time=None,
        )
    ) == {"weekdays": ["Choose at least one weekday."]}


def test_course_propose_unqualified_masseur_names_masseur(world):
    other = MasseurFactory(display_name="Ігор")

    errors = errors_of(
        lambda: course_propose(
            client=world.client,
            massage_type=world.massage_type,
            start_date=MONDAY,
            planned_sessions=3,
            cadence=Course.Cadence.DAILY,
            weekdays=[],
            masseur=other,
            preferred_time=None,
        )
    )

    assert errors == {"masseur": [f"Ігор is not qualified for {world.massage_type.name}."]}


def test_course_propose_query_count_does_not_grow_with_the_course(world, django_assert_num_queries):
    for weekday in range(1, 7):
        WorkingHoursFactory(masseur=world.masseur, weekday=weekday, starts=datetime.time(9), ends=datetime.time(13))

    # The masseur's qualification, hours, time off, closed days, availability.load's one, the client's.
    with django_assert_num_queries(6):
        proposals = course_propose(
            client=world.client,
            massage_type=world.massage_type,
            start_date=MONDAY,
            planned_sessions=30,
            cadence=Course.Cadence.EVERY_OTHER_DAY,
            weekdays=[],
            masseur=world.masseur,
            preferred_time=datetime.time(11),
        )

    assert len(proposals) == 30
    assert proposals[-1].starts_at == datetime.datetime(2027, 4, 28, 8, tzinfo=UTC)  # summer time: 11:00 = 08:00Z


def test_manager_role_may_override_and_receptionist_may_not(manager):
    receptionist = UserFactory(username="desk9", role=roles.RECEPTIONIST)

    assert manager.has_perm("treatments.override_block")
    assert not receptionist.has_perm("treatments.override_block")
