"""Moving an appointment (issue 12): the page offers the free times of its day and the next days, its own
masseur first; a picked time is checked before "Move"; a change of a field is checked at once (htmx); the
day view's drag posts the same move, and without JavaScript the form alone still moves it."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from sessions.booking import page_selectors
from sessions.models import Appointment, Reminder
from tests.factories import ClientFactory, MasseurFactory, RoomFactory, WorkingHoursFactory
from tests.sessions.conftest import MONDAY
from tests.sessions.factories import AppointmentFactory

pytestmark = pytest.mark.django_db
KYIV = ZoneInfo("Europe/Kyiv")


@pytest.fixture(autouse=True)
def _frozen(frozen_now):
    # Before the logged-in clients: a session started now must not have expired by the frozen time.
    return frozen_now


HTMX = {"HTTP_HX_REQUEST": "true"}


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    """A local time in Kyiv."""
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=KYIV)


@pytest.fixture
def scene(world):
    """Олена works every day 09:00-13:00; Петро on Mondays 09:00-11:00; two rooms; the client's appointment
    on Monday at 10:00 with Олена in Room A."""
    for weekday in range(1, 7):
        WorkingHoursFactory(masseur=world.masseur, weekday=weekday, starts=datetime.time(9), ends=datetime.time(13))
    petro = MasseurFactory(display_name="Петро", qualifications=[world.massage_type])
    WorkingHoursFactory(masseur=petro, weekday=0, starts=datetime.time(9), ends=datetime.time(11))
    room_b = RoomFactory(name="Room B")
    appointment = AppointmentFactory(
        client=world.client,
        massage_type=world.massage_type,
        masseur=world.masseur,
        room=world.room,
        starts_at=at(MONDAY, 10),
    )
    world.petro, world.room_b, world.appointment = petro, room_b, appointment
    return world


def move_url(appointment) -> str:
    return reverse("sessions:appointment-move", args=[appointment.pk])


def test_suggestions_offer_the_day_and_the_next_days_own_masseur_first(scene):
    days = page_selectors.move_suggestions(appointment=scene.appointment)

    assert [d.day for d in days] == [MONDAY + datetime.timedelta(days=n) for n in range(4)]
    monday = days[0]
    # Its own time is free again (as if it were not booked); every half hour, the 40 minutes inside 09-13.
    assert [o.starts_at for o in monday.own] == [
        at(MONDAY, 9),
        at(MONDAY, 9, 30),
        at(MONDAY, 10),
        at(MONDAY, 10, 30),
        at(MONDAY, 11),
        at(MONDAY, 11, 30),
        at(MONDAY, 12),
    ]
    assert all(o.room == scene.room for o in monday.own)
    ((masseur, options),) = monday.others
    assert masseur == scene.petro
    # Петро's 09:00-11:00 shift ends before 10:40: 09:00, 09:30 and 10:00.
    assert [o.starts_at for o in options] == [at(MONDAY, 9), at(MONDAY, 9, 30), at(MONDAY, 10)]
    assert days[1].others == [] and len(days[1].own) == 7


def test_suggestions_leave_out_times_the_client_is_booked_elsewhere(scene):
    AppointmentFactory(
        client=scene.client,
        massage_type=scene.massage_type,
        masseur=scene.petro,
        room=scene.room_b,
        starts_at=at(MONDAY + datetime.timedelta(days=1), 9),
    )

    tuesday = page_selectors.move_suggestions(appointment=scene.appointment)[1]

    # The client's 09:00-09:55 on Tuesday: 09:00 and 09:30 with Олена go.
    assert tuesday.own[0].starts_at == at(MONDAY + datetime.timedelta(days=1), 10)


def test_the_move_page_lists_the_free_times(reception_client, scene):
    response = reception_client.get(move_url(scene.appointment))

    body = response.content.decode()
    assert response.status_code == 200
    assert body.count('data-testid="move-slot"') == 7 * 4 + 3
    assert f"?starts_at=2027-03-01T09%3A00&amp;masseur={scene.petro.pk}&amp;room={scene.room.pk}" in body


def test_a_picked_time_fills_the_form_and_is_checked(reception_client, scene):
    response = reception_client.get(
        move_url(scene.appointment),
        {"starts_at": "2027-03-02T11:00", "masseur": scene.masseur.pk, "room": scene.room.pk},
    )

    assert response.context["form"]["starts_at"].value() == "2027-03-02T11:00"
    assert response.context["checked"] is True
    assert 'data-testid="move-free"' in response.content.decode()
    scene.appointment.refresh_from_db()
    assert scene.appointment.starts_at == at(MONDAY, 10)  # checking moves nothing


def test_a_field_change_shows_the_room_conflict_before_submitting(reception_client, scene):
    AppointmentFactory(massage_type=scene.massage_type, masseur=scene.petro, room=scene.room_b, starts_at=at(MONDAY, 9))

    response = reception_client.post(
        move_url(scene.appointment),
        {"starts_at": "2027-03-01T09:00", "masseur": scene.masseur.pk, "room": scene.room_b.pk, "action": "check"},
        **HTMX,
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body  # only the check, for the form's live answer
    assert "Room: Room B is taken at this time." in body
    assert "Rooms free then: Room A" in body


def test_the_drag_moves_it_keeping_its_room_and_tells_the_client(
    reception_client, scene, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        response = reception_client.post(
            move_url(scene.appointment),
            {"drag": "1", "starts_at": "2027-03-01T09:00", "masseur": scene.petro.pk, "room": ""},
            **HTMX,
        )

    assert response.status_code == 200
    assert response["HX-Refresh"] == "true"
    scene.appointment.refresh_from_db()
    assert (scene.appointment.starts_at, scene.appointment.masseur, scene.appointment.room) == (
        at(MONDAY, 9),
        scene.petro,
        scene.room,
    )
    assert Reminder.objects.filter(appointment=scene.appointment, kind=Reminder.Kind.MOVED).count() == 1


def test_the_drag_takes_a_free_room_when_its_own_is_taken(reception_client, scene):
    AppointmentFactory(massage_type=scene.massage_type, masseur=scene.petro, room=scene.room, starts_at=at(MONDAY, 12))

    reception_client.post(
        move_url(scene.appointment), {"drag": "1", "starts_at": "2027-03-01T12:00", "masseur": ""}, **HTMX
    )

    scene.appointment.refresh_from_db()
    assert (scene.appointment.starts_at, scene.appointment.masseur, scene.appointment.room) == (
        at(MONDAY, 12),
        scene.masseur,
        scene.room_b,
    )


def test_a_drag_onto_a_time_the_masseur_does_not_work_moves_nothing_and_says_why(reception_client, scene):
    response = reception_client.post(
        move_url(scene.appointment),
        {"drag": "1", "starts_at": "2027-03-01T11:00", "masseur": scene.petro.pk, "room": ""},
        **HTMX,
    )

    body = response.content.decode()
    assert "HX-Refresh" not in response
    assert "Петро does not work at this time." in body
    scene.appointment.refresh_from_db()
    assert (scene.appointment.starts_at, scene.appointment.masseur) == (at(MONDAY, 10), scene.masseur)


def test_without_javascript_the_form_moves_it(reception_client, scene):
    response = reception_client.post(
        move_url(scene.appointment),
        {"starts_at": "2027-03-02T11:00", "masseur": scene.masseur.pk, "room": scene.room.pk, "action": "move"},
    )

    assert response.status_code == 302
    scene.appointment.refresh_from_db()
    assert scene.appointment.starts_at == at(MONDAY + datetime.timedelta(days=1), 11)


def test_a_masseur_may_not_drag(masseur_client, scene):
    response = masseur_client.post(move_url(scene.appointment), {"drag": "1", "starts_at": "2027-03-01T09:00"}, **HTMX)
    assert response.status_code == 403


def test_a_finished_appointment_cannot_be_dragged(reception_client, scene):
    Appointment.objects.filter(pk=scene.appointment.pk).update(status=Appointment.Status.COMPLETED)

    response = reception_client.post(
        move_url(scene.appointment), {"drag": "1", "starts_at": "2027-03-01T09:00"}, **HTMX
    )

    assert "Only an upcoming appointment can be moved." in response.content.decode()


def test_the_day_view_marks_upcoming_entries_draggable_for_those_who_may_move(reception_client, masseur_client, scene):
    url = reverse("sessions:calendar-day", args=[MONDAY.isoformat()])
    desk = reception_client.get(url).content.decode()
    hands = masseur_client.get(url).content.decode()

    assert f'data-move-url="{move_url(scene.appointment)}"' in desk
    assert 'data-drop-starts="2027-03-01T09:00"' in desk
    assert "calendar-drag.js" in desk
    assert "data-move-url" not in hands and "data-drop-starts" not in hands


def test_move_page_query_count_does_not_grow_with_the_days_bookings(
    reception_client, scene, django_assert_max_num_queries
):
    def queries() -> int:
        with django_assert_max_num_queries(40) as captured:
            assert reception_client.get(move_url(scene.appointment)).status_code == 200
        return len(captured.captured_queries)

    few = queries()
    for day in range(4):
        for hour in (9, 11):
            AppointmentFactory(
                client=ClientFactory(),
                massage_type=scene.massage_type,
                masseur=scene.masseur if hour == 11 else scene.petro,
                room=scene.room_b,
                starts_at=at(MONDAY + datetime.timedelta(days=day), hour),
            )
    assert queries() == few
