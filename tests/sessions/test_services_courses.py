"""course_extend and course_shorten: every exit path, with the screening faked to ALLOWED."""

import datetime
import uuid

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from sessions.booking import services
from sessions.models import Appointment, Course
from tests.factories import WorkingHoursFactory
from tests.sessions.factories import AppointmentFactory, CourseFactory

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
# Monday 2027-03-01 10:00 in Kyiv (UTC+2); "now" is frozen at 2027-02-01.
TEN = datetime.datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
DAY = datetime.timedelta(days=1)
CHANGED = "The course changed meanwhile; check its sessions and try again."


@pytest.fixture
def world(world):
    """The sessions world with the masseur working every day 09:00-18:00."""
    world.masseur.working_hours.all().delete()
    for weekday in range(7):
        WorkingHoursFactory(masseur=world.masseur, weekday=weekday, starts=datetime.time(9), ends=datetime.time(18))
    return world


def book(world, sessions: int) -> Course:
    return services.course_book(
        client=world.client,
        massage_type=world.massage_type,
        indication=Course.Indication.BACK_PAIN,
        planned_sessions=sessions,
        cadence=Course.Cadence.DAILY,
        sessions=[(TEN + n * DAY, world.masseur, world.room) for n in range(sessions)],
        booked_by=world.user,
    )


def extend(world, course, *days: int, **kwargs) -> Course:
    """Add sessions at 10:00 on the given days after 2027-03-01."""
    return services.course_extend(
        course=course,
        sessions=[(TEN + n * DAY, world.masseur, world.room) for n in days],
        booked_by=world.user,
        **kwargs,
    )


def course_with(world, *, planned: int, completed: int = 0, upcoming: int = 0, status=Course.Status.ACTIVE):
    """A course written straight to the tables: `completed` sessions in January, `upcoming` from 2027-03-01."""
    course = CourseFactory(
        client=world.client, massage_type=world.massage_type, planned_sessions=planned, status=status
    )
    common = {
        "course": course,
        "client": world.client,
        "massage_type": world.massage_type,
        "masseur": world.masseur,
        "room": world.room,
    }
    for n in range(completed):
        start = datetime.datetime(2027, 1, 4, 8, 0, tzinfo=UTC) + n * DAY
        AppointmentFactory(starts_at=start, status=Appointment.Status.COMPLETED, **common)
    for n in range(upcoming):
        AppointmentFactory(starts_at=TEN + n * DAY, **common)
    return course


def statuses(course) -> list[str]:
    return list(course.appointments.order_by("starts_at").values_list("status", flat=True))


# --- course_extend ------------------------------------------------------------------------------


def test_course_extend_books_all_and_raises_planned_sessions(world):
    course = book(world, 3)
    result = extend(world, course, 3, 4)
    assert result.pk == course.pk
    course.refresh_from_db()
    assert course.planned_sessions == 5
    assert course.status == Course.Status.PLANNED
    assert list(course.appointments.order_by("starts_at").values_list("starts_at", flat=True)) == [
        TEN + n * DAY for n in range(5)
    ]


def test_course_extend_with_one_failing_session_books_nothing(world):
    course = book(world, 3)
    # Another client's session holds the room on the second new day.
    AppointmentFactory(room=world.room, massage_type=world.massage_type, starts_at=TEN + 4 * DAY)
    with pytest.raises(services.CourseBookingError) as caught:
        extend(world, course, 5, 4, 3)  # given out of order: numbered in time order
    assert [(f.number, f.starts_at) for f in caught.value.failures] == [(2, TEN + 4 * DAY)]
    assert caught.value.failures[0].messages == ["Room A is taken at this time."]
    course.refresh_from_db()
    assert course.planned_sessions == 3
    assert course.appointments.count() == 3


def test_course_extend_a_screening_refusal_books_nothing(world, verdict):
    course = book(world, 2)
    verdict.status = type(verdict.status).NEEDS_CLEARANCE
    with pytest.raises(services.CourseBookingError) as caught:
        extend(world, course, 2, 3)
    assert [f.number for f in caught.value.failures] == [1, 2]
    course.refresh_from_db()
    assert (course.planned_sessions, course.appointments.count()) == (2, 2)


def test_course_extend_up_to_thirty_sessions(world):
    course = course_with(world, planned=28, status=Course.Status.PLANNED)
    extend(world, course, 0, 1)
    course.refresh_from_db()
    assert course.planned_sessions == 30


def test_course_extend_beyond_thirty_is_refused_and_books_nothing(world):
    course = course_with(world, planned=29, status=Course.Status.PLANNED)
    with pytest.raises(ValidationError) as caught:
        extend(world, course, 0, 1)
    assert caught.value.message_dict == {"count": ["Sessions that can still be added: 1 (a course has at most 30)."]}
    course.refresh_from_db()
    assert (course.planned_sessions, course.appointments.count()) == (29, 0)


def test_course_extend_counts_sessions_booked_past_the_plan(world):
    # An extension made before course_extend existed left more sessions booked than planned.
    course = course_with(world, planned=2, upcoming=3)
    extend(world, course, 5)
    course.refresh_from_db()
    assert course.planned_sessions == 4


def test_course_extend_reactivates_a_completed_course(world):
    course = course_with(world, planned=2, completed=2, status=Course.Status.COMPLETED)
    extend(world, course, 0)
    course.refresh_from_db()
    assert (course.status, course.planned_sessions) == (Course.Status.ACTIVE, 3)


def test_course_extend_a_cancelled_course_is_refused(world):
    course = course_with(world, planned=3, status=Course.Status.CANCELLED)
    with pytest.raises(ValidationError) as caught:
        extend(world, course, 0)
    assert caught.value.message_dict == {NON_FIELD_ERRORS: ["The course is cancelled."]}
    assert course.appointments.count() == 0


def test_course_extend_without_sessions_is_refused(world):
    course = book(world, 2)
    with pytest.raises(ValidationError) as caught:
        extend(world, course)
    assert caught.value.message_dict == {"sessions": ["Choose at least one session to add."]}


def test_course_extend_twice_with_the_same_request_key_books_and_plans_once(world):
    course = book(world, 3)
    key = uuid.uuid4()
    extend(world, course, 3, 4, request_key=key)
    again = extend(world, course, 3, 4, request_key=key)
    assert (again.pk, again.planned_sessions) == (course.pk, 5)
    course.refresh_from_db()
    assert (course.planned_sessions, course.appointments.count()) == (5, 5)


def test_course_extend_a_request_key_used_for_another_course_is_refused(world):
    first = book(world, 1)
    second = course_with(world, planned=2, status=Course.Status.PLANNED)
    key = uuid.uuid4()
    extend(world, first, 1, request_key=key)
    with pytest.raises(ValidationError) as caught:
        extend(world, second, 5, request_key=key)
    assert caught.value.message_dict == {NON_FIELD_ERRORS: ["This form was already used for another booking."]}
    assert second.appointments.count() == 0


# --- course_shorten -----------------------------------------------------------------------------


def shorten(world, course, count, **kwargs) -> int:
    return services.course_shorten(course=course, count=count, reason="doctor's advice", by=world.user, **kwargs)


def test_course_shorten_cancels_the_last_sessions_and_lowers_planned_sessions(world):
    course = book(world, 5)
    last = course.appointments.order_by("-starts_at").first()
    assert shorten(world, course, 2, expect_last_pk=last.pk) == 2
    assert statuses(course) == ["booked"] * 3 + ["cancelled"] * 2
    cancelled = course.appointments.filter(status=Appointment.Status.CANCELLED)
    assert set(cancelled.values_list("cancellation_reason", "cancelled_by")) == {("doctor's advice", world.user.pk)}
    course.refresh_from_db()
    assert (course.planned_sessions, course.status) == (3, Course.Status.PLANNED)


def test_course_shorten_more_than_upcoming_is_refused_and_cancels_nothing(world):
    course = book(world, 2)
    with pytest.raises(ValidationError) as caught:
        shorten(world, course, 3)
    assert caught.value.message_dict == {"count": ["Upcoming sessions that can be cancelled: 2."]}
    assert statuses(course) == ["booked"] * 2
    course.refresh_from_db()
    assert course.planned_sessions == 2


def test_course_shorten_submitted_twice_cancels_once(world):
    course = book(world, 5)
    last = course.appointments.order_by("-starts_at").first()
    shorten(world, course, 2, expect_last_pk=last.pk)
    with pytest.raises(ValidationError) as caught:
        shorten(world, course, 2, expect_last_pk=last.pk)
    assert caught.value.message_dict == {NON_FIELD_ERRORS: [CHANGED]}
    assert statuses(course) == ["booked"] * 3 + ["cancelled"] * 2
    course.refresh_from_db()
    assert course.planned_sessions == 3


def test_course_shorten_with_nothing_upcoming_and_an_expected_last_is_refused(world):
    course = course_with(world, planned=2, completed=2)
    with pytest.raises(ValidationError) as caught:
        shorten(world, course, 1, expect_last_pk=123)
    assert caught.value.message_dict == {NON_FIELD_ERRORS: [CHANGED]}


def test_course_shorten_never_plans_fewer_than_the_completed_sessions(world):
    # Planned below what is booked (an older extension): the plan keeps the completed two.
    course = course_with(world, planned=3, completed=2, upcoming=2)
    shorten(world, course, 2)
    course.refresh_from_db()
    assert course.planned_sessions == 2
    # Nothing is left to do: complete, as the last session log would have made it.
    assert course.status == Course.Status.COMPLETED


def test_course_shorten_keeps_the_course_active_while_sessions_remain(world):
    course = course_with(world, planned=10, completed=2, upcoming=5)
    shorten(world, course, 3)
    course.refresh_from_db()
    assert (course.planned_sessions, course.status) == (7, Course.Status.ACTIVE)


def test_course_shorten_never_plans_fewer_than_one(world):
    course = course_with(world, planned=1, upcoming=1, status=Course.Status.PLANNED)
    assert shorten(world, course, 1) == 1
    course.refresh_from_db()
    assert (course.planned_sessions, course.status) == (1, Course.Status.PLANNED)
    assert statuses(course) == ["cancelled"]


def test_course_shorten_leaves_past_sessions_alone(world, time_machine):
    course = book(world, 3)
    time_machine.move_to(TEN + DAY + datetime.timedelta(minutes=1), tick=False)  # the first two have started
    with pytest.raises(ValidationError) as caught:
        shorten(world, course, 2)
    assert caught.value.message_dict == {"count": ["Upcoming sessions that can be cancelled: 1."]}


@pytest.mark.parametrize(
    ("count", "reason", "errors"),
    [
        (1, "  ", {"reason": ["Say why the course is shortened."]}),
        (0, "x", {"count": ["Cancel at least one session."]}),
    ],
)
def test_course_shorten_bad_input_is_refused(world, count, reason, errors):
    course = book(world, 2)
    with pytest.raises(ValidationError) as caught:
        services.course_shorten(course=course, count=count, reason=reason, by=world.user)
    assert caught.value.message_dict == errors
    assert statuses(course) == ["booked"] * 2


# --- reminders follow the change ----------------------------------------------------------------


def test_course_extend_plans_reminders_and_moves_the_course_ending_invitation(world):
    from sessions.models import Reminder

    course = book(world, 2)
    extend(world, course, 2, 3)
    new = list(course.appointments.order_by("starts_at")[2:])
    planned = Reminder.objects.filter(kind=Reminder.Kind.APPOINTMENT, state=Reminder.State.DUE)
    assert set(planned.filter(appointment__in=new).values_list("appointment_id", flat=True)) == {a.pk for a in new}
    ending = Reminder.objects.filter(course=course, kind=Reminder.Kind.COURSE_ENDING).exclude(state=Reminder.State.VOID)
    assert list(ending.values_list("appointment_id", flat=True)) == [new[-1].pk]


def test_course_shorten_voids_the_reminders_of_the_cancelled_and_tells_the_client(world):
    from sessions.models import Reminder

    course = book(world, 3)
    services.course_extend(course=course, sessions=[(TEN + 3 * DAY, world.masseur, world.room)], booked_by=world.user)
    last = course.appointments.order_by("-starts_at").first()
    shorten(world, course, 1)
    states = dict(Reminder.objects.filter(appointment=last).values_list("kind", "state"))
    assert states.pop(Reminder.Kind.CANCELLED) == Reminder.State.DUE
    assert states[Reminder.Kind.APPOINTMENT] == Reminder.State.VOID
    assert set(states.values()) == {Reminder.State.VOID}
