"""A masseur's time off that clashes with bookings (issue 12): listed when it is saved, reassigned in one
screen (another qualified masseur at the same time, or the next free time) through the move service so the
clients get the "moved" email, and warned about on the dashboard while any stays booked."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from parlor.models import TimeOff
from sessions.booking import absence
from sessions.models import Reminder
from tests.factories import ClientFactory, MasseurFactory, RoomFactory, TimeOffFactory, WorkingHoursFactory
from tests.sessions.conftest import MONDAY
from tests.sessions.factories import AppointmentFactory

pytestmark = pytest.mark.django_db
KYIV = ZoneInfo("Europe/Kyiv")


@pytest.fixture(autouse=True)
def _frozen(frozen_now):
    # Before the logged-in clients: a session started now must not have expired by the frozen time.
    return frozen_now


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    """A local time in Kyiv."""
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=KYIV)


TUESDAY = MONDAY + datetime.timedelta(days=1)


@pytest.fixture
def scene(world):
    """Олена (every day 09:00-13:00) is booked Monday 10:00 and 12:00; Петро works Mondays 09:00-11:00."""
    world.masseur.working_hours.all().delete()
    for weekday in range(7):
        WorkingHoursFactory(masseur=world.masseur, weekday=weekday, starts=datetime.time(9), ends=datetime.time(13))
    petro = MasseurFactory(display_name="Петро", qualifications=[world.massage_type])
    WorkingHoursFactory(masseur=petro, weekday=0, starts=datetime.time(9), ends=datetime.time(11))
    RoomFactory(name="Room B")
    ten = AppointmentFactory(
        client=world.client,
        massage_type=world.massage_type,
        masseur=world.masseur,
        room=world.room,
        starts_at=at(MONDAY, 10),
    )
    noon = AppointmentFactory(
        client=ClientFactory(),
        massage_type=world.massage_type,
        masseur=world.masseur,
        room=world.room,
        starts_at=at(MONDAY, 12),
    )
    world.petro, world.ten, world.noon = petro, ten, noon
    return world


def monday_off(scene) -> TimeOff:
    return TimeOffFactory(masseur=scene.masseur, starts_at=at(MONDAY, 0), ends_at=at(TUESDAY, 0))


def test_the_clashing_appointments_are_found(scene):
    off = monday_off(scene)
    AppointmentFactory(massage_type=scene.massage_type, masseur=scene.masseur, starts_at=at(TUESDAY, 10))

    found = absence.absent_masseur_appointments(time_off=off)

    assert [a.pk for a in found] == [scene.ten.pk, scene.noon.pk]
    assert {a.time_off_id for a in found} == {off.pk}


def test_options_are_another_masseur_at_the_same_time_then_the_next_free_time(scene):
    monday_off(scene)

    ten, noon = absence.reassignment_options(absence.absent_masseur_appointments())

    assert [(o.masseur, o.starts_at, o.same_time) for o in ten.options] == [
        (scene.petro, at(MONDAY, 10), True),
        (scene.masseur, at(TUESDAY, 9), False),
        (scene.petro, at(MONDAY, 10, 15), False),
    ]
    # Петро does not work at 12:00; Олена's first free time after her day off; anybody else's: Петро works
    # only on Mondays, and this one's shift ends at 11:00, so the next Monday.
    assert [(o.masseur, o.starts_at, o.same_time) for o in noon.options] == [
        (scene.masseur, at(TUESDAY, 9), False),
        (scene.petro, at(MONDAY + datetime.timedelta(days=7), 9), False),
    ]


def test_saving_a_time_off_that_clashes_lists_them_and_goes_to_the_reassignment(manager_client, scene):
    response = manager_client.post(
        reverse("parlor:resource-add", args=["time-off"]),
        {"masseur": scene.masseur.pk, "starts_at": "2027-03-01T00:00", "ends_at": "2027-03-02T00:00", "reason": ""},
        follow=True,
    )

    off = TimeOff.objects.get()
    assert response.redirect_chain[-1][0] == reverse("sessions:time-off-reassign", args=[off.pk])
    assert "2 appointments are booked with Олена during this time off: reassign them." in [
        str(m) for m in response.context["messages"]
    ]
    assert response.content.decode().count('data-testid="clash"') == 2


def test_a_time_off_without_clashes_goes_back_to_the_list(manager_client, scene):
    response = manager_client.post(
        reverse("parlor:resource-add", args=["time-off"]),
        {"masseur": scene.masseur.pk, "starts_at": "2027-03-05T00:00", "ends_at": "2027-03-06T00:00", "reason": ""},
    )

    assert response.url == reverse("parlor:resource-list", args=["time-off"])


def test_the_chosen_reassignments_move_through_the_move_service(reception_client, scene):
    off = monday_off(scene)
    page = reception_client.get(reverse("sessions:time-off-reassign", args=[off.pk]))
    ten, noon = page.context["clashes"]

    response = reception_client.post(
        reverse("sessions:time-off-reassign", args=[off.pk]),
        {f"choice-{scene.ten.pk}": ten.options[0].value, f"choice-{scene.noon.pk}": "keep"},
        follow=True,
    )

    scene.ten.refresh_from_db()
    scene.noon.refresh_from_db()
    assert (scene.ten.masseur, scene.ten.starts_at) == (scene.petro, at(MONDAY, 10))
    assert (scene.noon.masseur, scene.noon.starts_at) == (scene.masseur, at(MONDAY, 12))
    assert Reminder.objects.filter(appointment=scene.ten, kind=Reminder.Kind.MOVED).count() == 1
    assert "1 appointment moved; the client is told by email." in [str(m) for m in response.context["messages"]]
    assert [c.appointment.pk for c in response.context["clashes"]] == [scene.noon.pk]


def test_a_forged_choice_moves_nothing_and_says_so(reception_client, scene):
    off = monday_off(scene)

    response = reception_client.post(
        reverse("sessions:time-off-reassign", args=[off.pk]), {f"choice-{scene.ten.pk}": "nonsense"}, follow=True
    )

    scene.ten.refresh_from_db()
    assert scene.ten.masseur == scene.masseur
    assert any("This choice is not one the page offered" in str(m) for m in response.context["messages"])


def test_a_choice_taken_meanwhile_is_refused_with_the_reason(reception_client, scene):
    off = monday_off(scene)
    ten = absence.reassignment_options(absence.absent_masseur_appointments(time_off=off))[0]
    AppointmentFactory(massage_type=scene.massage_type, masseur=scene.petro, starts_at=at(MONDAY, 10))

    response = reception_client.post(
        reverse("sessions:time-off-reassign", args=[off.pk]),
        {f"choice-{scene.ten.pk}": ten.options[0].value},
        follow=True,
    )

    scene.ten.refresh_from_db()
    assert scene.ten.masseur == scene.masseur
    assert any("Петро already has an appointment at this time." in str(m) for m in response.context["messages"])


def test_the_dashboard_warns_while_an_appointment_stays_with_an_absent_masseur(reception_client, scene):
    off = monday_off(scene)

    body = reception_client.get(reverse("parlor:dashboard")).content.decode()

    assert 'data-testid="absent-masseur-warning"' in body
    assert "Олена is off from 1 March 2027, 00:00: 2 appointments still booked." in body
    assert f'href="{reverse("sessions:time-off-reassign", args=[off.pk])}"' in body


def test_no_warning_when_nobody_is_booked_with_an_absent_masseur(reception_client, scene):
    TimeOffFactory(masseur=scene.masseur, starts_at=at(MONDAY, 13), ends_at=at(TUESDAY, 0))

    body = reception_client.get(reverse("parlor:dashboard")).content.decode()

    assert 'data-testid="absent-masseur-warning"' not in body


def test_a_masseur_may_not_reassign(masseur_client, scene):
    off = monday_off(scene)
    assert masseur_client.get(reverse("sessions:time-off-reassign", args=[off.pk])).status_code == 403


def test_reassignment_page_query_count_does_not_grow_with_the_clashes(
    reception_client, scene, django_assert_max_num_queries
):
    off = TimeOffFactory(
        masseur=scene.masseur, starts_at=at(MONDAY, 0), ends_at=at(MONDAY + datetime.timedelta(days=7), 0)
    )

    def queries() -> int:
        with django_assert_max_num_queries(30) as captured:
            assert reception_client.get(reverse("sessions:time-off-reassign", args=[off.pk])).status_code == 200
        return len(captured.captured_queries)

    few = queries()
    for day in range(1, 6):
        for hour in (9, 11):
            AppointmentFactory(
                client=ClientFactory(),
                massage_type=scene.massage_type,
                masseur=scene.masseur,
                room=scene.room,
                starts_at=at(MONDAY + datetime.timedelta(days=day), hour),
            )
    assert queries() == few


def test_the_dashboard_warning_query_count_does_not_grow(reception_client, scene, django_assert_max_num_queries):
    def queries() -> int:
        with django_assert_max_num_queries(40) as captured:
            assert reception_client.get(reverse("parlor:dashboard")).status_code == 200
        return len(captured.captured_queries)

    monday_off(scene)
    few = queries()
    petro_off = TimeOffFactory(masseur=scene.petro, starts_at=at(TUESDAY, 0), ends_at=at(TUESDAY, 23))
    for hour in (9, 10, 11, 12):
        AppointmentFactory(
            client=ClientFactory(),
            massage_type=scene.massage_type,
            masseur=petro_off.masseur,
            starts_at=at(TUESDAY, hour),
        )
    assert queries() == few
